// GlobalMaxPool (ai.onnx 1-22): max over all spatial dims of an
// [N, C, D1...Dn] float32 tensor -> [N, C, 1...1].
#include "../kernels/pool.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace global_max_pool_detail {

class GlobalMaxPool final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() < 3)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input X must have rank >= 3 (N, C, spatial...), got ",
           shape_str(xs));
    Shape ys(xs.size(), 1);
    ys[0] = xs[0];
    ys[1] = xs[1];
    ctx.set_output(0, DType::Float32, ys);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t size = planes == 0 ? 0 : x.numel() / planes;
    const float* xp = x.ptr<float>();
    float* yp = ctx.out(0).ptr<float>();
    ctx.pool->parallel_for(planes, [&](int64_t b, int64_t e) {
      kernels::global_max_pool(xp + b * size, e - b, size, yp + b);
    }, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, size)));
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<GlobalMaxPool>(); }

}  // namespace global_max_pool_detail

extern const OpDef kOp_GlobalMaxPool = {"GlobalMaxPool", "", 1, 22, "float32; any number of spatial dims",
                                            global_max_pool_detail::create};

}  // namespace ops
}  // namespace netlite
