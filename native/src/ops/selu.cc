// Selu (ai.onnx 1-25): y = gamma * (x > 0 ? x : alpha * exp(x) - alpha). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace selu_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  kernels::ActivationParams p;
  p.alpha = node.attr_float("alpha", 1.67326319217681884765625f);
  p.gamma = node.attr_float("gamma", 1.05070102214813232421875f);
  return std::make_unique<FloatActivation>(kernels::selu_f32, p, kCostlyGrain);
}

}  // namespace selu_detail

extern const OpDef kOp_Selu = {"Selu", "", 1, 25, "float32", selu_detail::create};

}  // namespace ops
}  // namespace netlite
