// Abs (ai.onnx 6-25): y = |x|. Float32, int32, int64, uint8, int8
// (integer minimum wraps to itself, like numpy).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace abs_detail {

struct Fn {
  template <typename T>
  T operator()(T x) const { return x < T(0) ? Wrap<T>::sub(T(0), x) : x; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<NumericUnary<Fn>>(
      std::initializer_list<DType>{DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8},
      kernels::abs_f32);
}

}  // namespace abs_detail

extern const OpDef kOp_Abs = {"Abs", "", 6, 25, "float32, int32, int64, uint8, int8", abs_detail::create};

}  // namespace ops
}  // namespace netlite
