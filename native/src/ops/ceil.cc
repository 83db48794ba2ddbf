// Ceil (ai.onnx 1-25): y = ceil(x). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace ceil_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::ceil_f32, kernels::ActivationParams{}, kCheapGrain);
}

}  // namespace ceil_detail

extern const OpDef kOp_Ceil = {"Ceil", "", 1, 25, "float32", ceil_detail::create};

}  // namespace ops
}  // namespace netlite
