// Sub (ai.onnx 7-25): numpy-broadcast difference of two tensors of the same type
// (float32, int32, int64, uint8, int8; integers wrap around like numpy).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace sub_detail {

struct Fn {
  template <typename T>
  T operator()(T a, T b) const { return Wrap<T>::sub(a, b); }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<BinaryArithmetic<Fn>>(
      std::initializer_list<DType>{DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
}

}  // namespace sub_detail

extern const OpDef kOp_Sub = {"Sub", "", 7, 25, "float32, int32, int64, uint8, int8; numpy broadcasting", sub_detail::create};

}  // namespace ops
}  // namespace netlite
