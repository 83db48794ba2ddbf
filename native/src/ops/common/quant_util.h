// Shared by the integer ops of the "netlite" domain (netlite.QConv, QAdd, ...),
// which passes/fuse_qdq.cc creates from QDQ patterns. Their quantization
// parameters are attributes (known at load, so kernels can prepack):
//   <p>_scale (float or floats), <p>_zero_point (int or ints) for p in x, w, a, b, y;
//   y_type    ONNX dtype of the output (2 = uint8, 3 = int8);
//   y_min, y_max  clamp bounds in the output's quantized domain (one value, or
//             one per output channel), from fused Relu/Clip/Min/Max.
// ONNX QuantizeLinear is the reference: y = saturate(round_half_even(v / y_scale) + y_zero_point).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../../kernels/qgemm.h"
#include "../op.h"

namespace netlite {
namespace ops {

inline int32_t qtype_min(DType t) { return t == DType::Int8 ? -128 : 0; }
inline int32_t qtype_max(DType t) { return t == DType::Int8 ? 127 : 255; }
inline bool is_qtype(DType t) { return t == DType::Int8 || t == DType::UInt8; }

// A positive, finite float attribute (scales).
inline float q_scale_attr(const Node& node, const std::string& name) {
  if (!node.has_attr(name)) fail(StatusCode::InvalidModel, node.describe(), ": attribute '", name, "' is required");
  const float s = node.attr_float(name, 0.0f);
  if (!(s > 0.0f) || !std::isfinite(s))
    fail(StatusCode::InvalidModel, node.describe(), ": attribute '", name, "' must be a positive finite scale, got ", s);
  return s;
}

// One value per channel from an attribute holding 1 or `channels` floats (default `def`).
inline std::vector<float> q_per_channel_floats(const Node& node, const std::string& name, int64_t channels, float def,
                                               bool positive) {
  std::vector<float> v = node.attr_floats(name, {def});
  if (v.size() == 1) v.assign(size_t(channels), v[0]);
  if (int64_t(v.size()) != channels)
    fail(StatusCode::InvalidModel, node.describe(), ": attribute '", name, "' has ", v.size(), " values, expected 1 or ",
         channels);
  for (float s : v)
    if (!std::isfinite(s) || (positive && !(s > 0.0f)))
      fail(StatusCode::InvalidModel, node.describe(), ": attribute '", name, "' has an invalid value ", s);
  return v;
}

inline std::vector<int64_t> q_per_channel_ints(const Node& node, const std::string& name, int64_t channels, int64_t def) {
  std::vector<int64_t> v = node.attr_ints(name, {def});
  if (v.size() == 1) v.assign(size_t(channels), v[0]);
  if (int64_t(v.size()) != channels)
    fail(StatusCode::InvalidModel, node.describe(), ": attribute '", name, "' has ", v.size(), " values, expected 1 or ",
         channels);
  return v;
}

// The output side: scale, zero point, type and per-channel clamp bounds.
struct QOutput {
  float scale = 1.0f;
  int32_t zero_point = 0;
  DType type = DType::UInt8;
  std::vector<float> lo, hi;  // per channel, minus the zero point (QRequant's convention)
};

inline QOutput parse_q_output(const Node& node, int64_t channels) {
  QOutput o;
  o.scale = q_scale_attr(node, "y_scale");
  o.type = DType(node.attr_int("y_type", int64_t(DType::UInt8)));
  if (!is_qtype(o.type))
    fail(StatusCode::InvalidModel, node.describe(), ": y_type must be 2 (uint8) or 3 (int8), got ", int(o.type));
  const int64_t zp = node.attr_int("y_zero_point", 0);
  const int32_t qmin = qtype_min(o.type), qmax = qtype_max(o.type);
  if (zp < qmin || zp > qmax)
    fail(StatusCode::InvalidModel, node.describe(), ": y_zero_point ", zp, " is out of range for ", dtype_name(o.type));
  o.zero_point = int32_t(zp);
  const std::vector<int64_t> lo = q_per_channel_ints(node, "y_min", channels, qmin);
  const std::vector<int64_t> hi = q_per_channel_ints(node, "y_max", channels, qmax);
  o.lo.resize(size_t(channels));
  o.hi.resize(size_t(channels));
  for (size_t c = 0; c < size_t(channels); ++c) {
    const int64_t l = std::max<int64_t>(lo[c], qmin), h = std::min<int64_t>(hi[c], qmax);
    // An empty range (min above max) clamps everything to max, as Clip does.
    o.lo[c] = float(std::min(l, h) - zp);
    o.hi[c] = float(h - zp);
  }
  return o;
}

// Zero point of an 8-bit input in the u8 domain the kernels use (+128 for int8);
// throws when the attribute value does not fit the input's type.
inline int32_t q_input_zero_u8(const Node& node, const char* what, int64_t zp, DType t) {
  if (zp < qtype_min(t) || zp > qtype_max(t))
    fail(StatusCode::TypeMismatch, node.describe(), ": ", what, " zero point ", zp, " is out of range for ",
         dtype_name(t), " input");
  return int32_t(zp) + (t == DType::Int8 ? 128 : 0);
}

// Longest reduction the integer kernels take: the accumulator starts at
// -zx_u8 * sum(w) and adds up to K products of at most 255 * 128, so
// 2 * K * 32640 must stay below 2^31.
constexpr int64_t kQMaxReduction = 32768;

inline void expect_qtype(const InferContext& ctx, size_t i) { ctx.expect_dtype(i, {DType::UInt8, DType::Int8}); }

}  // namespace ops
}  // namespace netlite
