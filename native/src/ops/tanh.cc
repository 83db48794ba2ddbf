// Tanh (ai.onnx 1-25): y = tanh(x). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace tanh_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::tanh_f32, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace tanh_detail

extern const OpDef kOp_Tanh = {"Tanh", "", 1, 25, "float32", tanh_detail::create};

}  // namespace ops
}  // namespace netlite
