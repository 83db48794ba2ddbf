// HardSigmoid (ai.onnx 1-25): y = max(0, min(1, alpha * x + beta)) (alpha 0.2, beta 0.5). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace hard_sigmoid_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  kernels::ActivationParams p;
  p.alpha = node.attr_float("alpha", 0.2f);
  p.beta = node.attr_float("beta", 0.5f);
  return std::make_unique<FloatActivation>(kernels::hard_sigmoid_f32, p, kCheapGrain);
}

}  // namespace hard_sigmoid_detail

extern const OpDef kOp_HardSigmoid = {"HardSigmoid", "", 1, 25, "float32", hard_sigmoid_detail::create};

}  // namespace ops
}  // namespace netlite
