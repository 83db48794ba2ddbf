// Elu (ai.onnx 1-25): y = x < 0 ? alpha * (exp(x) - 1) : x (alpha default 1). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace elu_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  kernels::ActivationParams p;
  p.alpha = node.attr_float("alpha", 1.0f);
  return std::make_unique<FloatActivation>(kernels::elu_f32, p, kCostlyGrain);
}

}  // namespace elu_detail

extern const OpDef kOp_Elu = {"Elu", "", 1, 25, "float32", elu_detail::create};

}  // namespace ops
}  // namespace netlite
