// LRN (ai.onnx 1-22): local response normalisation across channels, float32:
//   square_sum[n, c, ...] = sum of x[n, i, ...]^2 for i in
//       [max(0, c - floor((size-1)/2)), min(C-1, c + ceil((size-1)/2))]
//   y = x / (bias + alpha / size * square_sum) ^ beta
#include <algorithm>
#include <cmath>

#include "op.h"

namespace netlite {
namespace ops {
namespace lrn_detail {

class LRN final : public OpKernel {
 public:
  explicit LRN(const Node& node) {
    if (!node.has_attr("size")) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'size' is required");
    size_ = node.attr_int("size", 1);
    if (size_ < 1) fail(StatusCode::InvalidModel, node.describe(), ": size must be >= 1, got ", size_);
    alpha_ = node.attr_float("alpha", 1e-4f);
    beta_ = node.attr_float("beta", 0.75f);
    bias_ = node.attr_float("bias", 1.0f);
  }

  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() < 2)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input must have rank >= 2 (N, C, ...), got ",
           shape_str(xs));
    ctx.set_output(0, DType::Float32, xs);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const float* xp = x.ptr<float>();
    float* yp = ctx.out(0).ptr<float>();
    const int64_t N = x.shape[0], C = x.shape[1];
    const int64_t inner = (N == 0 || C == 0) ? 0 : x.numel() / (N * C);
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    const double k = double(alpha_) / double(size_);
    const double beta = beta_, bias = bias_;
    ctx.pool->parallel_for(N * C, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const int64_t n = p / C, c = p % C;
        const int64_t c0 = std::max<int64_t>(0, c - before), c1 = std::min<int64_t>(C - 1, c + after);
        const float* xn = xp + n * C * inner;
        for (int64_t i = 0; i < inner; ++i) {
          double sq = 0.0;
          for (int64_t j = c0; j <= c1; ++j) {
            const double v = xn[j * inner + i];
            sq += v * v;
          }
          yp[p * inner + i] = float(double(xn[c * inner + i]) / std::pow(bias + k * sq, beta));
        }
      }
    }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, inner * size_)));
  }

 private:
  int64_t size_ = 1;
  float alpha_ = 1e-4f, beta_ = 0.75f, bias_ = 1.0f;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<LRN>(node); }

}  // namespace lrn_detail

extern const OpDef kOp_LRN = {"LRN", "", 1, 22, "float32; across channels", lrn_detail::create};

}  // namespace ops
}  // namespace netlite
