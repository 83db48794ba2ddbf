// ReduceMax (ai.onnx 1-25): maximum over the given axes (float32, int32, int64, uint8, int8).
// axes is an attribute before opset 18 and an optional int64 input from 18
// (with noop_with_empty_axes); empty axes means all axes; keepdims defaults to 1.
#include "common/reduce.h"

namespace netlite {
namespace ops {
namespace reduce_max_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<ReduceKernel>(node, ReduceKind::Max, 18);
}

}  // namespace reduce_max_detail

extern const OpDef kOp_ReduceMax = {"ReduceMax", "", 1, 25, "float32, int32, int64, uint8, int8; axes attribute before 18, input from 18", reduce_max_detail::create};

}  // namespace ops
}  // namespace netlite
