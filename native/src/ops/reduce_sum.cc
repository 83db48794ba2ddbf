// ReduceSum (ai.onnx 1-25): sum over the given axes (float32, int32, int64).
// axes is an attribute before opset 13 and an optional int64 input from 13
// (with noop_with_empty_axes); empty axes means all axes; keepdims defaults to 1.
#include "common/reduce.h"

namespace netlite {
namespace ops {
namespace reduce_sum_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<ReduceKernel>(node, ReduceKind::Sum, 13);
}

}  // namespace reduce_sum_detail

extern const OpDef kOp_ReduceSum = {"ReduceSum", "", 1, 25, "float32, int32, int64; axes attribute before 13, input from 13", reduce_sum_detail::create};

}  // namespace ops
}  // namespace netlite
