// Where (ai.onnx 9-25): y = condition ? x : y elementwise, with numpy
// broadcasting of all three inputs. condition is bool; x and y share any
// supported type (the selection just moves elements, so it works on their bytes).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace where_detail {

class Where final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Bool});
    ctx.expect_dtype(1, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8, DType::Bool});
    expect_same_dtype(ctx, 1, 2);
    ctx.set_output(0, ctx.input(1).dtype, infer_broadcast_shape(ctx, 0, 3));
  }
  void run(RunContext& ctx) const override {
    const Tensor& c = ctx.in(0);
    const Tensor& a = ctx.in(1);
    const Tensor& b = ctx.in(2);
    Tensor& y = ctx.out(0);
    Broadcast bc;
    const Shape* shapes[3] = {&c.shape, &a.shape, &b.shape};
    make_broadcast(bc, y.shape, shapes, 3);
    switch (dtype_size(y.dtype)) {
      case 1: select<uint8_t>(bc, c, a, b, y, ctx.pool); break;
      case 4: select<uint32_t>(bc, c, a, b, y, ctx.pool); break;
      case 8: select<uint64_t>(bc, c, a, b, y, ctx.pool); break;
      default: break;  // excluded by infer()
    }
  }

 private:
  template <typename T>
  static void select(const Broadcast& bc, const Tensor& c, const Tensor& a, const Tensor& b, Tensor& y, ThreadPool* pool) {
    ternary_broadcast(bc, c.ptr<uint8_t>(), a.ptr<T>(), b.ptr<T>(), y.ptr<T>(),
                      [](uint8_t k, T u, T v) { return k ? u : v; }, pool);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Where>(); }

}  // namespace where_detail

extern const OpDef kOp_Where = {"Where", "", 9, 25, "any supported type for x/y, bool condition; numpy broadcasting",
                                where_detail::create};

}  // namespace ops
}  // namespace netlite
