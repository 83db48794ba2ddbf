// Clip (ai.onnx 6-25): y = min(max(x, min), max). Opsets 6-10 take min/max as
// float attributes (defaults: the float range); from 11 they are optional
// scalar inputs of x's type (absent: no bound), read at run time so they may be
// computed. Float32; int32, int64, uint8, int8 since opset 12. When min > max
// every element becomes max (as the spec says); NaN stays NaN.
#include <limits>

#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace clip_detail {

class Clip final : public OpKernel {
 public:
  Clip(bool attrs, float lo, float hi) : attrs_(attrs), lo_(lo), hi_(hi) {}

  void infer(InferContext& ctx) const override {
    if (ctx.node.opset >= 12)
      ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
    else
      ctx.expect_dtype(0, {DType::Float32});
    if (!attrs_) {
      for (size_t i = 1; i < 3; ++i) {
        if (!ctx.has_input(i)) continue;
        expect_same_dtype(ctx, 0, i);
        const Shape& s = ctx.input(i).shape;
        if (shape_numel(s) != 1 || s.size() > 1)
          fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": ", i == 1 ? "min" : "max",
               " must be a scalar, got shape ", shape_str(s));
      }
    } else if (ctx.num_inputs() > 1) {
      fail(StatusCode::InvalidModel, ctx.node.describe(), ": opset ", ctx.node.opset,
           " Clip takes min/max as attributes, not inputs");
    }
    ctx.set_output(0, ctx.input(0).dtype, ctx.input(0).shape);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const int64_t n = x.numel();
    if (n == 0) return;
    if (x.dtype == DType::Float32) {
      kernels::ActivationParams p;
      p.alpha = attrs_ ? lo_ : bound<float>(ctx, 1, -std::numeric_limits<float>::infinity());
      p.beta = attrs_ ? hi_ : bound<float>(ctx, 2, std::numeric_limits<float>::infinity());
      const float* px = x.ptr<float>();
      float* py = y.ptr<float>();
      ctx.pool->parallel_for(n, [&](int64_t b, int64_t e) { kernels::clip_f32(px + b, py + b, e - b, p); }, kCheapGrain);
      return;
    }
    dispatch_numeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T lo = bound<T>(ctx, 1, std::numeric_limits<T>::lowest());
      const T hi = bound<T>(ctx, 2, std::numeric_limits<T>::max());
      unary_map(x.ptr<T>(), y.ptr<T>(), n, [lo, hi](T v) {
        v = v < lo ? lo : v;
        return hi < v ? hi : v;
      }, ctx.pool);
    });
  }

 private:
  template <typename T>
  static T bound(const RunContext& ctx, size_t i, T def) {
    if (i >= ctx.inputs.size() || !ctx.inputs[i]) return def;
    return ctx.in(i).ptr<T>()[0];
  }
  bool attrs_;
  float lo_, hi_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  const bool attrs = node.opset < 11;
  // Opset 6 defaults: the float range (spec: -3.402823e+38 / 3.402823e+38).
  const float lo = node.attr_float("min", std::numeric_limits<float>::lowest());
  const float hi = node.attr_float("max", std::numeric_limits<float>::max());
  return std::make_unique<Clip>(attrs, lo, hi);
}

}  // namespace clip_detail

extern const OpDef kOp_Clip = {"Clip", "", 6, 25,
                               "float32 (int32, int64, uint8, int8 since 12); min/max attributes before 11, inputs after",
                               clip_detail::create};

}  // namespace ops
}  // namespace netlite
