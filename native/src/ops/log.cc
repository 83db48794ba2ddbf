// Log (ai.onnx 1-25): y = ln(x) (NaN for x < 0, -inf at 0). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace log_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::log_f32, kernels::ActivationParams{}, kCostlyGrain);
}

}  // namespace log_detail

extern const OpDef kOp_Log = {"Log", "", 1, 25, "float32", log_detail::create};

}  // namespace ops
}  // namespace netlite
