// BatchNormalization (ai.onnx 7-22), inference form:
//   y = (x - mean) / sqrt(var + epsilon) * scale + B   per channel (dim 1),
// float32, input rank >= 2. Opset 7-8 `spatial=0` takes per-activation
// statistics of shape [C, D1, ..., Dn]. training_mode=1 (opset 14+) is
// Unsupported; the optional running-mean/var outputs of older opsets, when
// requested, receive the input statistics unchanged (inference leaves them so).
#include <algorithm>
#include <cmath>

#include "op.h"

namespace netlite {
namespace ops {
namespace batch_normalization_detail {

class BatchNormalization final : public OpKernel {
 public:
  explicit BatchNormalization(const Node& node) {
    epsilon_ = node.attr_float("epsilon", 1e-5f);
    if (node.attr_int("training_mode", 0) != 0)
      fail(StatusCode::Unsupported, node.describe(), ": training_mode=1 is not supported (inference only)");
    spatial_ = node.opset < 9 ? node.attr_int("spatial", 1) != 0 : true;
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    for (size_t i = 0; i < 5; ++i) ctx.expect_dtype(i, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() < 2)
      fail(StatusCode::ShapeMismatch, node.describe(), ": input X must have rank >= 2, got ", shape_str(xs));
    Shape stat = {xs[1]};
    if (!spatial_) stat.assign(xs.begin() + 1, xs.end());
    static const char* const names[] = {"X", "scale", "B", "input_mean", "input_var"};
    for (size_t i = 1; i < 5; ++i) {
      const Shape& s = ctx.input(i).shape;
      if (shape_numel(s) != shape_numel(stat) || (spatial_ && s.size() != 1))
        fail(StatusCode::ShapeMismatch, node.describe(), ": ", names[i], " has shape ", shape_str(s), ", expected ",
             shape_str(stat), " for X ", shape_str(xs));
    }
    ctx.set_output(0, DType::Float32, xs);
    for (size_t i = 1; i < ctx.outputs.size(); ++i) {
      if (!ctx.has_output(i)) continue;
      if (i > 2)
        fail(StatusCode::Unsupported, node.describe(), ": output ", i,
             " (saved statistics) exists only in training mode, which is not supported");
      ctx.set_output(i, DType::Float32, ctx.input(i + 2).shape);
    }
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const float* xp = x.ptr<float>();
    const float* scale = ctx.in(1).ptr<float>();
    const float* bias = ctx.in(2).ptr<float>();
    const float* mean = ctx.in(3).ptr<float>();
    const float* var = ctx.in(4).ptr<float>();
    float* yp = ctx.out(0).ptr<float>();
    const int64_t N = x.shape[0], C = x.shape[1];
    const int64_t inner = (N == 0 || C == 0) ? 0 : x.numel() / (N * C);
    const float eps = epsilon_;
    if (spatial_) {
      ctx.pool->parallel_for(N * C, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          const int64_t c = p % C;
          const float a = scale[c] / std::sqrt(var[c] + eps);
          const float s = bias[c] - mean[c] * a;
          const float* xr = xp + p * inner;
          float* yr = yp + p * inner;
          for (int64_t i = 0; i < inner; ++i) yr[i] = xr[i] * a + s;
        }
      }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
    } else {
      const int64_t per = C * inner;  // statistics per activation
      ctx.pool->parallel_for(N, [&](int64_t b, int64_t e) {
        for (int64_t n = b; n < e; ++n)
          for (int64_t i = 0; i < per; ++i) {
            const float a = scale[i] / std::sqrt(var[i] + eps);
            yp[n * per + i] = xp[n * per + i] * a + (bias[i] - mean[i] * a);
          }
      }, 1);
    }
    for (size_t i = 1; i < 3 && i < ctx.outputs.size(); ++i) {
      if (!ctx.outputs[i]) continue;
      const Tensor& src = ctx.in(i + 2);
      std::copy(src.ptr<float>(), src.ptr<float>() + src.numel(), ctx.outputs[i]->ptr<float>());
    }
  }

 private:
  float epsilon_ = 1e-5f;
  bool spatial_ = true;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<BatchNormalization>(node);
}

}  // namespace batch_normalization_detail

extern const OpDef kOp_BatchNormalization = {
    "BatchNormalization", "", 7, 22, "float32, inference only (training_mode=1 unsupported); spatial=0 of opset 7-8",
    batch_normalization_detail::create};

}  // namespace ops
}  // namespace netlite
