// Softplus (ai.onnx 1-25): y = log(1 + exp(x)), evaluated without overflow. Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace softplus_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::softplus_f32, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace softplus_detail

extern const OpDef kOp_Softplus = {"Softplus", "", 1, 25, "float32", softplus_detail::create};

}  // namespace ops
}  // namespace netlite
