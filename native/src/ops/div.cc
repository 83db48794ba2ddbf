// Div (ai.onnx 7-25): numpy-broadcast quotient of two tensors of the same type
// (float32, int32, int64, uint8, int8). Integer division truncates toward zero
// (C semantics, as ONNX specifies); an integer division by zero yields 0 and
// INT_MIN / -1 wraps to INT_MIN instead of trapping.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace div_detail {

struct Fn {
  float operator()(float a, float b) const { return a / b; }
  template <typename T>
  T operator()(T a, T b) const {
    if (b == T(0)) return T(0);
    if (std::is_signed<T>::value && b == T(-1)) return Wrap<T>::sub(T(0), a);
    return T(a / b);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<BinaryArithmetic<Fn>>(
      std::initializer_list<DType>{DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
}

}  // namespace div_detail

extern const OpDef kOp_Div = {"Div", "", 7, 25,
                              "float32, int32, int64, uint8, int8; numpy broadcasting; integer division truncates",
                              div_detail::create};

}  // namespace ops
}  // namespace netlite
