// Gelu (ai.onnx 20-25): y = 0.5 x (1 + erf(x / sqrt 2)), or with
// approximate = "tanh": 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace gelu_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  const std::string approx = node.attr_string("approximate", "none");
  kernels::ActivationFn fn = nullptr;
  if (approx == "none") fn = kernels::gelu_f32;
  else if (approx == "tanh") fn = kernels::gelu_tanh_f32;
  else
    fail(StatusCode::InvalidModel, node.describe(), ": attribute 'approximate' is '", approx,
         "', expected 'none' or 'tanh'");
  return std::make_unique<FloatActivation>(fn, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace gelu_detail

extern const OpDef kOp_Gelu = {"Gelu", "", 20, 25, "float32; approximate none or tanh", gelu_detail::create};

}  // namespace ops
}  // namespace netlite
