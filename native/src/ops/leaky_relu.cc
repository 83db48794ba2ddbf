// LeakyRelu (ai.onnx 1-25): y = x < 0 ? alpha * x : x (alpha default 0.01). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace leaky_relu_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  kernels::ActivationParams p;
  p.alpha = node.attr_float("alpha", 0.01f);
  return std::make_unique<FloatActivation>(kernels::leaky_relu_f32, p, kCheapGrain);
}

}  // namespace leaky_relu_detail

extern const OpDef kOp_LeakyRelu = {"LeakyRelu", "", 1, 25, "float32", leaky_relu_detail::create};

}  // namespace ops
}  // namespace netlite
