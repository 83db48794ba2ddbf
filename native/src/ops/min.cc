// Min (ai.onnx 6-25): elementwise minimum of 1..N inputs (NaN propagates); integer types since opset 12,
// with numpy broadcasting (opset 8+; opsets 6-7 required equal shapes, a subset).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace min_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<VariadicElementwise<MinFn>>(12, false);
}

}  // namespace min_detail

extern const OpDef kOp_Min = {"Min", "", 6, 25, "float32 (int32, int64, uint8, int8 since 12); 1..N inputs, numpy broadcasting", min_detail::create};

}  // namespace ops
}  // namespace netlite
