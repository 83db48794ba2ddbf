// Add (ai.onnx 7-25): numpy-broadcast sum of two tensors of the same type
// (float32, int32, int64, uint8, int8; integers wrap around like numpy).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace add_detail {

struct Fn {
  template <typename T>
  T operator()(T a, T b) const { return Wrap<T>::add(a, b); }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<BinaryArithmetic<Fn>>(
      std::initializer_list<DType>{DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
}

}  // namespace add_detail

extern const OpDef kOp_Add = {"Add", "", 7, 25, "float32, int32, int64, uint8, int8; numpy broadcasting", add_detail::create};

}  // namespace ops
}  // namespace netlite
