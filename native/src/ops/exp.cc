// Exp (ai.onnx 1-25): y = exp(x). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace exp_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::exp_f32, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace exp_detail

extern const OpDef kOp_Exp = {"Exp", "", 1, 25, "float32", exp_detail::create};

}  // namespace ops
}  // namespace netlite
