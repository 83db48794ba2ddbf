// Erf (ai.onnx 9-25): y = erf(x). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace erf_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::erf_f32, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace erf_detail

extern const OpDef kOp_Erf = {"Erf", "", 9, 25, "float32", erf_detail::create};

}  // namespace ops
}  // namespace netlite
