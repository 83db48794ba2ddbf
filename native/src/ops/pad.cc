// Pad (ai.onnx 2-25): modes constant / reflect / edge / wrap (wrap: opset 19).
// Before opset 11 `pads` and `value` are attributes; since 11 `pads` is input 1
// (known at plan time) and the constant an optional scalar input 2 of the data's
// type (read at run time); since 18 input 3 names the padded axes. Negative pads
// crop. Any dtype: the kernel moves elements of 1/2/4/8 bytes.
#include <cstring>

#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace pad_detail {

enum class Mode { Constant, Reflect, Edge, Wrap };

// Source index along one dim for output index o, for the index-mapping modes.
inline int64_t source_index(Mode m, int64_t o, int64_t before, int64_t n) {
  int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  switch (m) {
    case Mode::Edge: return i < 0 ? 0 : n - 1;
    case Mode::Wrap: { int64_t w = i % n; return w < 0 ? w + n : w; }
    case Mode::Reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t w = i % period;
      if (w < 0) w += period;
      return w < n ? w : period - w;
    }
    default: return 0;
  }
}

template <typename T>
void pad_mapped(Mode mode, int r, const int64_t* in_shape, const int64_t* out_shape, const int64_t* before, const T* src,
                T* dst, ThreadPool* pool) {
  // Rows: every dim but the last; the last dim's middle part is one memcpy.
  int64_t in_strides[kernels::kMaxCopyRank];
  int64_t st = 1;
  for (int d = r - 1; d >= 0; --d) { in_strides[d] = st; st *= in_shape[d]; }
  const int last = r - 1;
  const int64_t W = out_shape[last], n = in_shape[last], b = before[last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= out_shape[d];
  // Output columns [lo, hi) read input columns [lo - b, hi - b) directly.
  int64_t lo = b < 0 ? 0 : b, hi = b + n < W ? b + n : W;
  if (hi < lo) hi = lo;
  pool->parallel_for(rows, [&](int64_t rb, int64_t re) {
    for (int64_t row = rb; row < re; ++row) {
      int64_t rem = row, off = 0;
      for (int d = last - 1; d >= 0; --d) {
        int64_t o = rem % out_shape[d];
        rem /= out_shape[d];
        off += source_index(mode, o, before[d], in_shape[d]) * in_strides[d];
      }
      const T* s = src + off;
      T* dp = dst + row * W;
      for (int64_t x = 0; x < lo; ++x) dp[x] = s[source_index(mode, x, b, n)];
      if (hi > lo) std::memcpy(dp + lo, s + (lo - b), size_t(hi - lo) * sizeof(T));
      for (int64_t x = hi; x < W; ++x) dp[x] = s[source_index(mode, x, b, n)];
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(W, 1)));
}

class Pad final : public OpKernel {
 public:
  Pad(Mode mode, float value) : mode_(mode), value_(value) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    if (x.shape.size() > size_t(kernels::kMaxCopyRank))
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", x.shape.size(), " is above the supported ",
           kernels::kMaxCopyRank);
    PadAmounts p = amounts(ctx);
    Shape out(x.shape.size());
    for (size_t d = 0; d < out.size(); ++d) {
      out[d] = x.shape[d] + p.before[d] + p.after[d];
      if (mode_ != Mode::Constant && x.shape[d] == 0 && out[d] > 0)
        fail(StatusCode::InvalidArgument, ctx.node.describe(), ": cannot pad the empty dim ", d, " in this mode");
    }
    if (ctx.node.opset >= 11 && ctx.has_input(2)) {
      const TensorMeta& cv = ctx.input(2);
      if (cv.dtype != x.dtype)
        fail(StatusCode::TypeMismatch, ctx.node.describe(), ": constant_value has type ", dtype_name(cv.dtype),
             " but the data has type ", dtype_name(x.dtype));
      if (shape_numel(cv.shape) > 1)
        fail(StatusCode::InvalidModel, ctx.node.describe(), ": constant_value must be a scalar, got shape ", shape_str(cv.shape));
    }
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const int r = int(x.rank());
    const size_t es = dtype_size(x.dtype);
    int64_t before[kernels::kMaxCopyRank] = {0};
    recover_before(ctx, before);
    if (y.numel() == 0) return;
    if (r == 0) {
      std::memcpy(y.data, x.data, es);
      return;
    }
    if (mode_ == Mode::Constant || x.numel() == 0) {
      uint8_t value[8] = {0};
      constant(ctx, value);
      bool interior_only = true;  // no padding anywhere: the copy covers the whole output
      for (int d = 0; d < r; ++d)
        if (before[d] > 0 || y.shape[size_t(d)] - before[d] > x.shape[size_t(d)]) interior_only = false;
      if (!interior_only) kernels::fill_elements(es, y.data, y.numel(), value, ctx.pool);
      // Interior: input [max(0,-b), ...) -> output [max(0,b), ...).
      int64_t shape[kernels::kMaxCopyRank], ss[kernels::kMaxCopyRank], ds[kernels::kMaxCopyRank];
      int64_t is = 1, os = 1, src_off = 0, dst_off = 0;
      for (int d = r - 1; d >= 0; --d) {
        const int64_t n = x.shape[size_t(d)], W = y.shape[size_t(d)], b = before[d];
        int64_t in0 = b < 0 ? -b : 0, out0 = b > 0 ? b : 0;
        int64_t cnt = std::min(n - in0, W - out0);
        if (cnt < 0) cnt = 0;
        shape[d] = cnt;
        ss[d] = is;
        ds[d] = os;
        src_off += in0 * is;
        dst_off += out0 * os;
        is *= n;
        os *= W;
      }
      kernels::strided_copy(es, r, shape, static_cast<const uint8_t*>(x.data) + size_t(src_off) * es, ss,
                            static_cast<uint8_t*>(y.data) + size_t(dst_off) * es, ds, ctx.pool);
      return;
    }
    const int64_t* in_shape = x.shape.data();
    const int64_t* out_shape = y.shape.data();
    switch (es) {
      case 1: pad_mapped<uint8_t>(mode_, r, in_shape, out_shape, before, x.ptr<uint8_t>(), y.ptr<uint8_t>(), ctx.pool); break;
      case 2: pad_mapped<uint16_t>(mode_, r, in_shape, out_shape, before, x.ptr<uint16_t>(), y.ptr<uint16_t>(), ctx.pool); break;
      case 4: pad_mapped<uint32_t>(mode_, r, in_shape, out_shape, before, x.ptr<uint32_t>(), y.ptr<uint32_t>(), ctx.pool); break;
      case 8: pad_mapped<uint64_t>(mode_, r, in_shape, out_shape, before, x.ptr<uint64_t>(), y.ptr<uint64_t>(), ctx.pool); break;
      default: break;
    }
  }

 private:
  PadAmounts amounts(const InferContext& ctx) const {
    const Shape& in = ctx.input(0).shape;
    if (ctx.node.opset < 11) {
      if (!ctx.node.has_attr("pads")) fail(StatusCode::InvalidModel, ctx.node.describe(), ": attribute 'pads' is required");
      return pad_amounts(ctx.node, in, ctx.node.attr_ints("pads"), {});
    }
    std::vector<int64_t> pads = input_ints(ctx, 1, "pads");
    std::vector<int64_t> axes;
    if (ctx.node.opset >= 18 && ctx.has_input(3)) axes = input_ints(ctx, 3, "axes");
    return pad_amounts(ctx.node, in, pads, axes);
  }

  // The per-dim "before" amounts, read without allocating (validated by infer()).
  void recover_before(const RunContext& ctx, int64_t* before) const {
    const int r = int(ctx.in(0).rank());
    if (ctx.node.opset < 11) {
      const std::vector<int64_t>& pads = ctx.node.attrs.at("pads").ints;
      for (int d = 0; d < r; ++d) before[d] = pads[size_t(d)];
      return;
    }
    const Tensor& pads = ctx.in(1);
    const Tensor* axes = ctx.node.opset >= 18 && ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
    if (axes && axes->numel() > 0) {
      const int64_t k = axes->numel();
      for (int64_t i = 0; i < k; ++i) {
        int64_t a = read_int(*axes, i);
        if (a < 0) a += r;
        before[a] = read_int(pads, i);
      }
    } else {
      for (int d = 0; d < r; ++d) before[d] = read_int(pads, d);
    }
  }

  // The padding constant as `es` bytes of the data's type.
  void constant(const RunContext& ctx, uint8_t* out) const {
    const DType dt = ctx.in(0).dtype;
    if (ctx.node.opset >= 11) {
      const Tensor* cv = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
      if (cv && cv->numel() == 1) std::memcpy(out, cv->data, dtype_size(dt));
      return;  // else zero
    }
    const float v = value_;
    switch (dt) {
      case DType::Float32: std::memcpy(out, &v, 4); break;
      case DType::Float64: { double d = v; std::memcpy(out, &d, 8); break; }
      case DType::Int64: { int64_t i = int64_t(v); std::memcpy(out, &i, 8); break; }
      case DType::Int32: { int32_t i = int32_t(v); std::memcpy(out, &i, 4); break; }
      case DType::Int8: { int8_t i = int8_t(v); std::memcpy(out, &i, 1); break; }
      case DType::UInt8: { uint8_t i = uint8_t(v); std::memcpy(out, &i, 1); break; }
      case DType::Bool: out[0] = v != 0.0f; break;
      default: break;  // zero
    }
  }

  Mode mode_;
  float value_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  std::string m = node.attr_string("mode", "constant");
  Mode mode;
  if (m == "constant") mode = Mode::Constant;
  else if (m == "reflect") mode = Mode::Reflect;
  else if (m == "edge") mode = Mode::Edge;
  else if (m == "wrap") mode = Mode::Wrap;
  else fail(StatusCode::InvalidModel, node.describe(), ": unknown mode '", m, "'");
  return std::make_unique<Pad>(mode, node.opset < 11 ? node.attr_float("value", 0.0f) : 0.0f);
}

}  // namespace pad_detail

extern const OpDef kOp_Pad = {"Pad", "", 2, 25, "any type; constant/reflect/edge/wrap; negative pads crop",
                              pad_detail::create};

}  // namespace ops
}  // namespace netlite
