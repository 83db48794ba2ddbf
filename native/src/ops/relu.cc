// Relu (ai.onnx 1-25): y = max(x, 0). Float32; int8/int32/int64 as opset 14
// allows (accepted at every opset). NaN stays NaN.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace relu_detail {

struct Fn {
  template <typename T>
  T operator()(T x) const { return x < T(0) ? T(0) : x; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<NumericUnary<Fn>>(
      std::initializer_list<DType>{DType::Float32, DType::Int32, DType::Int64, DType::Int8}, kernels::relu_f32);
}

}  // namespace relu_detail

extern const OpDef kOp_Relu = {"Relu", "", 1, 25, "float32; int8/int32/int64 since opset 14", relu_detail::create};

}  // namespace ops
}  // namespace netlite
