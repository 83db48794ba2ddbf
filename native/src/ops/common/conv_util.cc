// Window geometry for Conv, ConvTranspose and the pooling ops (ONNX operator spec rules).
#include "conv_util.h"

#include <algorithm>

namespace netlite {
namespace ops {
namespace conv_util_detail {

inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
inline int64_t ceil_div(int64_t a, int64_t b) {  // b > 0
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

void check_all(const Node& node, const char* name, const std::vector<int64_t>& v, int64_t min_value) {
  for (int64_t x : v)
    if (x < min_value)
      fail(StatusCode::InvalidModel, node.describe(), ": attribute '", name, "' has value ", x, ", must be >= ",
           min_value);
}

void check_len(const Node& node, const char* name, const std::vector<int64_t>& v, size_t want) {
  if (!v.empty() && v.size() != want)
    fail(StatusCode::ShapeMismatch, node.describe(), ": attribute '", name, "' has ", v.size(),
         " values, expected ", want, " for ", want / (std::string(name) == "pads" ? 2 : 1), " spatial dims");
}

}  // namespace conv_util_detail

FusedActivation parse_fused_activation(const Node& node, const std::string& prefix) {
  FusedActivation a;
  const std::string attr = prefix + kFusedActivationAttr;
  if (!node.has_attr(attr)) return a;
  const std::string kind = node.attr_string(attr, "");
  if (kind == "Relu") {
    a.kind = Activation::Relu;
    a.min = 0.0f;
  } else if (kind == "Clip") {
    a.kind = Activation::Clip;
    a.min = node.attr_float(prefix + kFusedActivationMinAttr, a.min);
    a.max = node.attr_float(prefix + kFusedActivationMaxAttr, a.max);
  } else if (!kind.empty() && kind != "None") {
    fail(StatusCode::InvalidModel, node.describe(), ": unknown fused activation '", kind, "'");
  }
  return a;
}

Node prefixed_attrs_node(const Node& node, const std::string& prefix) {
  Node sub;
  sub.name = node.name;
  sub.op_type = node.op_type;
  sub.domain = node.domain;
  for (const auto& kv : node.attrs)
    if (kv.first.compare(0, prefix.size(), prefix) == 0) sub.attrs[kv.first.substr(prefix.size())] = kv.second;
  return sub;
}

WindowAttrs parse_window_attrs(const Node& node, bool kernel_required) {
  using conv_util_detail::check_all;
  WindowAttrs a;
  const std::string ap = node.attr_string("auto_pad", "NOTSET");
  if (ap == "NOTSET" || ap.empty()) a.auto_pad = AutoPad::NotSet;
  else if (ap == "SAME_UPPER") a.auto_pad = AutoPad::SameUpper;
  else if (ap == "SAME_LOWER") a.auto_pad = AutoPad::SameLower;
  else if (ap == "VALID") a.auto_pad = AutoPad::Valid;
  else fail(StatusCode::InvalidModel, node.describe(), ": unknown auto_pad '", ap, "'");
  a.kernel_shape = node.attr_ints("kernel_shape");
  if (kernel_required && a.kernel_shape.empty())
    fail(StatusCode::InvalidModel, node.describe(), ": attribute 'kernel_shape' is required");
  a.strides = node.attr_ints("strides");
  a.dilations = node.attr_ints("dilations");
  a.pads = node.attr_ints("pads");
  a.ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  a.output_padding = node.attr_ints("output_padding");
  a.output_shape = node.attr_ints("output_shape");
  check_all(node, "kernel_shape", a.kernel_shape, 1);
  check_all(node, "strides", a.strides, 1);
  check_all(node, "dilations", a.dilations, 1);
  check_all(node, "pads", a.pads, 0);
  check_all(node, "output_padding", a.output_padding, 0);
  check_all(node, "output_shape", a.output_shape, 0);
  if (a.pads.size() % 2 != 0)
    fail(StatusCode::InvalidModel, node.describe(), ": attribute 'pads' must have an even number of values");
  return a;
}

bool WindowGeometry::is_pointwise() const {
  for (int i = 0; i < nd; ++i)
    if (kernel[i] != 1 || stride[i] != 1 || pad[i] != 0 || pad_end[i] != 0) return false;
  return true;
}

WindowGeometry forward_geometry(const Node& node, const WindowAttrs& a, int nd, const int64_t* in_spatial,
                                const int64_t* kernel) {
  using conv_util_detail::check_len;
  if (nd <= 0 || nd > kernels::kMaxConvDims)
    fail(StatusCode::ShapeMismatch, node.describe(), ": expected 1 to ", kernels::kMaxConvDims,
         " spatial dims, got ", nd);
  const size_t und = size_t(nd);
  check_len(node, "strides", a.strides, und);
  check_len(node, "dilations", a.dilations, und);
  check_len(node, "pads", a.pads, 2 * und);
  WindowGeometry g;
  g.nd = nd;
  for (int i = 0; i < nd; ++i) {
    const size_t u = size_t(i);
    const int64_t in = in_spatial[i];
    const int64_t s = a.strides.empty() ? 1 : a.strides[u];
    g.in[i] = in;
    g.kernel[i] = kernel[i];
    g.stride[i] = s;
    g.dilation[i] = a.dilations.empty() ? 1 : a.dilations[u];
    const int64_t eff = (kernel[i] - 1) * g.dilation[i] + 1;  // extent of one window
    int64_t out = 0;
    switch (a.auto_pad) {
      case AutoPad::SameUpper:
      case AutoPad::SameLower: {
        out = conv_util_detail::ceil_div(in, s);
        const int64_t total = std::max<int64_t>(0, (out - 1) * s + eff - in);
        const int64_t small = total / 2, large = total - total / 2;
        g.pad[i] = a.auto_pad == AutoPad::SameUpper ? small : large;
        g.pad_end[i] = a.auto_pad == AutoPad::SameUpper ? large : small;
        break;
      }
      case AutoPad::Valid:
        out = in >= eff ? (in - eff) / s + 1 : 0;
        break;
      case AutoPad::NotSet: {
        const int64_t pb = a.pads.empty() ? 0 : a.pads[u];
        const int64_t pe = a.pads.empty() ? 0 : a.pads[u + und];
        g.pad[i] = pb;
        g.pad_end[i] = pe;
        const int64_t span = in + pb + pe - eff;
        if (a.ceil_mode) {
          out = conv_util_detail::ceil_div(span, s) + 1;
          // The last window must start inside the input or the left padding.
          if (out > 0 && (out - 1) * s >= in + pb) --out;
        } else {
          out = conv_util_detail::floor_div(span, s) + 1;
        }
        break;
      }
    }
    if (in > 0 && out <= 0)
      fail(StatusCode::ShapeMismatch, node.describe(), ": window of extent ", eff, " (kernel ", kernel[i],
           ", dilation ", g.dilation[i], ") does not fit spatial dim ", i, " of size ", in, " with its padding");
    g.out[i] = std::max<int64_t>(out, 0);
  }
  return g;
}

WindowGeometry transpose_geometry(const Node& node, const WindowAttrs& a, int nd, const int64_t* in_spatial,
                                  const int64_t* kernel) {
  using conv_util_detail::check_len;
  if (nd <= 0 || nd > kernels::kMaxConvDims)
    fail(StatusCode::ShapeMismatch, node.describe(), ": expected 1 to ", kernels::kMaxConvDims,
         " spatial dims, got ", nd);
  const size_t und = size_t(nd);
  check_len(node, "strides", a.strides, und);
  check_len(node, "dilations", a.dilations, und);
  check_len(node, "pads", a.pads, 2 * und);
  check_len(node, "output_padding", a.output_padding, und);
  // output_shape may list the spatial dims only, or N and C too.
  size_t os_skip = 0;
  if (!a.output_shape.empty()) {
    if (a.output_shape.size() == und + 2) os_skip = 2;
    else if (a.output_shape.size() != und)
      fail(StatusCode::ShapeMismatch, node.describe(), ": attribute 'output_shape' has ", a.output_shape.size(),
           " values, expected ", und);
  }
  const bool same = a.auto_pad == AutoPad::SameUpper || a.auto_pad == AutoPad::SameLower;
  WindowGeometry g;
  g.nd = nd;
  for (int i = 0; i < nd; ++i) {
    const size_t u = size_t(i);
    const int64_t tin = in_spatial[i];
    const int64_t s = a.strides.empty() ? 1 : a.strides[u];
    g.out[i] = tin;
    g.kernel[i] = kernel[i];
    g.stride[i] = s;
    g.dilation[i] = a.dilations.empty() ? 1 : a.dilations[u];
    const int64_t eff = (kernel[i] - 1) * g.dilation[i] + 1;
    const int64_t op = a.output_padding.empty() ? 0 : a.output_padding[u];
    if (op >= s && op >= g.dilation[i])
      fail(StatusCode::InvalidModel, node.describe(), ": output_padding ", op,
           " must be smaller than the stride or the dilation");
    const int64_t full = s * (tin - 1) + op + eff;  // output size with no padding
    int64_t tout = 0;
    if (!a.output_shape.empty() || same) {
      tout = !a.output_shape.empty() ? a.output_shape[u + os_skip] : tin * s;
      const int64_t total = full - tout;
      if (total < 0) {
        // More than the full output asked for: the extra positions at the end get only the bias.
        g.pad[i] = 0;
        g.pad_end[i] = total;
      } else if (a.auto_pad == AutoPad::SameUpper) {
        g.pad[i] = total / 2;
        g.pad_end[i] = total - total / 2;
      } else {
        g.pad[i] = total - total / 2;
        g.pad_end[i] = total / 2;
      }
    } else {
      if (a.auto_pad == AutoPad::NotSet && !a.pads.empty()) {
        g.pad[i] = a.pads[u];
        g.pad_end[i] = a.pads[u + und];
      }
      tout = full - g.pad[i] - g.pad_end[i];
    }
    if (tin > 0 && tout < 0)
      fail(StatusCode::ShapeMismatch, node.describe(), ": pads make spatial dim ", i, " of the output negative");
    g.in[i] = std::max<int64_t>(tout, 0);
  }
  return g;
}

}  // namespace ops
}  // namespace netlite
