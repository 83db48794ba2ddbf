// InstanceNormalization (ai.onnx 6-22): per (n, c) plane,
//   y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c]
// with the plane's mean and (population) variance, accumulated in double. float32.
#include <algorithm>
#include <cmath>

#include "op.h"

namespace netlite {
namespace ops {
namespace instance_normalization_detail {

class InstanceNormalization final : public OpKernel {
 public:
  explicit InstanceNormalization(const Node& node) { epsilon_ = node.attr_float("epsilon", 1e-5f); }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    for (size_t i = 0; i < 3; ++i) ctx.expect_dtype(i, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() < 3)
      fail(StatusCode::ShapeMismatch, node.describe(), ": input must have rank >= 3 (N, C, spatial...), got ",
           shape_str(xs));
    for (size_t i = 1; i < 3; ++i) {
      const Shape& s = ctx.input(i).shape;
      if (s.size() != 1 || s[0] != xs[1])
        fail(StatusCode::ShapeMismatch, node.describe(), ": ", i == 1 ? "scale" : "B", " has shape ", shape_str(s),
             ", expected [", xs[1], "]");
    }
    ctx.set_output(0, DType::Float32, xs);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const float* xp = x.ptr<float>();
    const float* scale = ctx.in(1).ptr<float>();
    const float* bias = ctx.in(2).ptr<float>();
    float* yp = ctx.out(0).ptr<float>();
    const int64_t N = x.shape[0], C = x.shape[1];
    const int64_t inner = (N == 0 || C == 0) ? 0 : x.numel() / (N * C);
    const double eps = epsilon_;
    ctx.pool->parallel_for(N * C, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const int64_t c = p % C;
        const float* xr = xp + p * inner;
        float* yr = yp + p * inner;
        double sum = 0.0;
        for (int64_t i = 0; i < inner; ++i) sum += xr[i];
        const double mean = inner ? sum / double(inner) : 0.0;
        double sq = 0.0;
        for (int64_t i = 0; i < inner; ++i) {
          const double d = xr[i] - mean;
          sq += d * d;
        }
        const double var = inner ? sq / double(inner) : 0.0;
        const float a = float(double(scale[c]) / std::sqrt(var + eps));
        const float s = float(double(bias[c]) - mean * double(a));
        for (int64_t i = 0; i < inner; ++i) yr[i] = xr[i] * a + s;
      }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
  }

 private:
  float epsilon_ = 1e-5f;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<InstanceNormalization>(node);
}

}  // namespace instance_normalization_detail

extern const OpDef kOp_InstanceNormalization = {"InstanceNormalization", "", 6, 22, "float32",
                                                instance_normalization_detail::create};

}  // namespace ops
}  // namespace netlite
