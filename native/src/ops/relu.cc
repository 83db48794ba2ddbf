// Relu (ai.onnx 1-14): y = max(x, 0). Float32 in place of the wider 14 type set
// (int8/int32/int64 too, since opset 14).
#include "op.h"

namespace netlite {
namespace ops {
namespace relu_detail {

class Relu final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::Int8});
    ctx.set_output(0, ctx.input(0).dtype, ctx.input(0).shape);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    switch (x.dtype) {
      case DType::Float32: apply<float>(x, y, ctx.pool); break;
      case DType::Int32: apply<int32_t>(x, y, ctx.pool); break;
      case DType::Int64: apply<int64_t>(x, y, ctx.pool); break;
      case DType::Int8: apply<int8_t>(x, y, ctx.pool); break;
      default: break;  // excluded by infer()
    }
  }

 private:
  template <typename T>
  static void apply(const Tensor& x, Tensor& y, ThreadPool* pool) {
    const T* a = x.ptr<T>();
    T* b = y.ptr<T>();
    pool->parallel_for(x.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) b[i] = a[i] > T(0) ? a[i] : T(0);
    }, 16384);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Relu>(); }

}  // namespace relu_detail

extern const OpDef kOp_Relu = {"Relu", "", 1, 22, "float32; int8/int32/int64 since opset 14", relu_detail::create};

}  // namespace ops
}  // namespace netlite
