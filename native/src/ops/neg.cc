// Neg (ai.onnx 6-25): y = -x. Float32 and the signed integers int32, int64, int8
// (integer minimum wraps to itself, like numpy).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace neg_detail {

struct Fn {
  template <typename T>
  T operator()(T x) const { return Wrap<T>::sub(T(0), x); }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<NumericUnary<Fn>>(
      std::initializer_list<DType>{DType::Float32, DType::Int32, DType::Int64, DType::Int8}, kernels::neg_f32);
}

}  // namespace neg_detail

extern const OpDef kOp_Neg = {"Neg", "", 6, 25, "float32, int32, int64, int8", neg_detail::create};

}  // namespace ops
}  // namespace netlite
