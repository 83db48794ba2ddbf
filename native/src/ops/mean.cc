// Mean (ai.onnx 6-25): elementwise mean of 1..N float32 inputs,
// with numpy broadcasting (opset 8+; opsets 6-7 required equal shapes, a subset).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace mean_detail {

struct Fn {
  template <typename T>
  T operator()(T a, T b) const { return Wrap<T>::add(a, b); }
};
std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<VariadicElementwise<Fn>>(0, true);
}

}  // namespace mean_detail

extern const OpDef kOp_Mean = {"Mean", "", 6, 25, "float32; 1..N inputs, numpy broadcasting", mean_detail::create};

}  // namespace ops
}  // namespace netlite
