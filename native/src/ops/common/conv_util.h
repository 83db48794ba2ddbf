// Window geometry shared by Conv, ConvTranspose, MaxPool and AveragePool:
// attribute parsing (kernel_shape, strides, dilations, pads, auto_pad,
// ceil_mode, output_padding, output_shape) and output-size rules of the ONNX
// operator specs, plus the fused-activation epilogue a Conv can carry.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../../graph/graph.h"
#include "../../kernels/conv.h"
#include "../op.h"

namespace netlite {
namespace ops {

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };

// An activation applied to a Conv's output while it is still in cache. A fusion
// pass sets it either on the node (attributes below, read by Conv's create()) or
// on the created kernel through FusableConv::set_activation (before the kernel is
// shared by runs). Bias is always part of the Conv epilogue.
enum class Activation { None, Relu, Clip };

struct FusedActivation {
  Activation kind = Activation::None;
  float min = -std::numeric_limits<float>::infinity();  // Clip bounds (Relu: min 0)
  float max = std::numeric_limits<float>::infinity();
};

// Attribute names a fusion pass may put on a Conv node ("Relu" or "Clip", and the Clip bounds).
constexpr const char* kFusedActivationAttr = "netlite_fused_activation";
constexpr const char* kFusedActivationMinAttr = "netlite_fused_activation_min";
constexpr const char* kFusedActivationMaxAttr = "netlite_fused_activation_max";

// Reads the fused-activation attributes above (None when absent); throws InvalidModel on bad values.
// A fused node holding several convs' activations names them "<prefix><attribute>".
FusedActivation parse_fused_activation(const Node& node, const std::string& prefix = "");

// The Conv kernel's public face for graph passes.
class FusableConv : public OpKernel {
 public:
  // Only before the kernel is used by any run (kernels are immutable afterwards).
  void set_activation(const FusedActivation& act) { activation_ = act; }
  const FusedActivation& activation() const { return activation_; }

 protected:
  FusedActivation activation_;
};

// Converts a FusedActivation into the kernel-level epilogue bounds.
inline kernels::Epilogue make_epilogue(const FusedActivation& act, const float* bias) {
  kernels::Epilogue e;
  e.bias = bias;
  if (act.kind == Activation::Relu) {
    e.clamp = true;
    e.lo = 0.0f;
    e.hi = std::numeric_limits<float>::infinity();
  } else if (act.kind == Activation::Clip) {
    e.clamp = true;
    e.lo = act.min;
    e.hi = act.max;
  }
  return e;
}

// Window attributes as written on the node; empty vectors mean "default".
struct WindowAttrs {
  AutoPad auto_pad = AutoPad::NotSet;
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;            // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
  bool ceil_mode = false;
  std::vector<int64_t> output_padding;  // ConvTranspose only
  std::vector<int64_t> output_shape;    // ConvTranspose only (spatial dims, or with N and C)
};

// Reads and validates the window attributes (positive kernel/strides/dilations,
// non-negative pads, known auto_pad). Throws InvalidModel naming the node.
WindowAttrs parse_window_attrs(const Node& node, bool kernel_required);

// A fused node's attributes under `prefix` ("pool.", "stem."), unprefixed, on a
// node of their own with the fused node's name, so that parse_window_attrs and
// forward_geometry on it name the fused node in their errors.
Node prefixed_attrs_node(const Node& node, const std::string& prefix);

// Resolved geometry for one input shape: the kernel-level ConvShape (pad = leading
// padding) plus the trailing padding. Plain arrays, so run() can recompute it
// without allocating.
struct WindowGeometry : kernels::ConvShape {
  int64_t pad_end[kernels::kMaxConvDims] = {};
  bool is_pointwise() const;  // 1x..x1 kernel, stride 1, no padding
};

// Forward (Conv / pooling) geometry: output size per the spec's rules for
// explicit pads (floor, or ceil with the last window starting inside the input
// or the left padding), SAME_UPPER/SAME_LOWER (out = ceil(in / stride), extra
// padding at the end / at the beginning) and VALID. Throws naming the node
// (only for inputs that infer() has not validated yet).
WindowGeometry forward_geometry(const Node& node, const WindowAttrs& a, int nd, const int64_t* in_spatial,
                                const int64_t* kernel);

// ConvTranspose geometry. Returned in the orientation of the forward conv whose
// adjoint it is: `in` is the ConvTranspose OUTPUT, `out` is its input, so
// kernels::col2im_add can scatter into it directly:
//   T_out = stride*(T_in-1) + output_padding + (kernel-1)*dilation + 1 - pad_begin - pad_end
// with pads from output_shape or auto_pad as the spec says.
WindowGeometry transpose_geometry(const Node& node, const WindowAttrs& a, int nd, const int64_t* in_spatial,
                                  const int64_t* kernel);

}  // namespace ops
}  // namespace netlite
