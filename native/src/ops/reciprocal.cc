// Reciprocal (ai.onnx 1-25): y = 1 / x. Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace reciprocal_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::reciprocal_f32, kernels::ActivationParams{}, kCheapGrain);
}

}  // namespace reciprocal_detail

extern const OpDef kOp_Reciprocal = {"Reciprocal", "", 1, 25, "float32", reciprocal_detail::create};

}  // namespace ops
}  // namespace netlite
