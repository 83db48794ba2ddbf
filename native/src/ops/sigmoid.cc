// Sigmoid (ai.onnx 1-25): y = 1 / (1 + exp(-x)), evaluated without overflow. Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace sigmoid_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::sigmoid_f32, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace sigmoid_detail

extern const OpDef kOp_Sigmoid = {"Sigmoid", "", 1, 25, "float32", sigmoid_detail::create};

}  // namespace ops
}  // namespace netlite
