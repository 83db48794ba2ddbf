// HardSwish (ai.onnx 14-25): y = x * max(0, min(1, x / 6 + 1/2)). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace hard_swish_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::hard_swish_f32, kernels::ActivationParams{}, kCheapGrain);
}

}  // namespace hard_swish_detail

extern const OpDef kOp_HardSwish = {"HardSwish", "", 14, 25, "float32", hard_swish_detail::create};

}  // namespace ops
}  // namespace netlite
