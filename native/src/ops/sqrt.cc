// Sqrt (ai.onnx 1-25): y = sqrt(x) (NaN for x < 0). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace sqrt_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::sqrt_f32, kernels::ActivationParams{}, kCheapGrain);
}

}  // namespace sqrt_detail

extern const OpDef kOp_Sqrt = {"Sqrt", "", 1, 25, "float32", sqrt_detail::create};

}  // namespace ops
}  // namespace netlite
