// PRelu (ai.onnx 7-25): y = x < 0 ? slope * x : x, with `slope` broadcast
// unidirectionally to x's shape (e.g. slope [C,1,1] for NCHW x). Float32;
// int32/int64 as opset 9 allows.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace prelu_detail {

class PRelu final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64});
    expect_same_dtype(ctx, 0, 1);
    const Shape& xs = ctx.input(0).shape;
    const Shape& ss = ctx.input(1).shape;
    Shape out = infer_broadcast_shape(ctx, 0, 2);
    if (out != xs)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": slope shape ", shape_str(ss),
           " does not broadcast unidirectionally to input shape ", shape_str(xs));
    ctx.set_output(0, ctx.input(0).dtype, xs);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const Tensor& s = ctx.in(1);
    Tensor& y = ctx.out(0);
    Broadcast bc;
    const Shape* shapes[2] = {&x.shape, &s.shape};
    make_broadcast(bc, y.shape, shapes, 2);
    dispatch_numeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      binary_broadcast(bc, x.ptr<T>(), s.ptr<T>(), y.ptr<T>(),
                       [](T v, T a) { return v < T(0) ? Wrap<T>::mul(v, a) : v; }, ctx.pool);
    });
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<PRelu>(); }

}  // namespace prelu_detail

extern const OpDef kOp_PRelu = {"PRelu", "", 7, 25, "float32, int32, int64; slope broadcast to the input",
                                prelu_detail::create};

}  // namespace ops
}  // namespace netlite
