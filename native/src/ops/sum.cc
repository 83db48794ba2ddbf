// Sum (ai.onnx 6-25): elementwise sum of 1..N float32 inputs,
// with numpy broadcasting (opset 8+; opsets 6-7 required equal shapes, a subset).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace sum_detail {

struct Fn {
  template <typename T>
  T operator()(T a, T b) const { return Wrap<T>::add(a, b); }
};
std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<VariadicElementwise<Fn>>(0, false);
}

}  // namespace sum_detail

extern const OpDef kOp_Sum = {"Sum", "", 6, 25, "float32; 1..N inputs, numpy broadcasting", sum_detail::create};

}  // namespace ops
}  // namespace netlite
