// Floor (ai.onnx 1-25): y = floor(x). Float32.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace floor_detail {

std::unique_ptr<OpKernel> create(const Node&, const Graph&) {
  return std::make_unique<FloatActivation>(kernels::floor_f32, kernels::ActivationParams{}, kCheapGrain);
}

}  // namespace floor_detail

extern const OpDef kOp_Floor = {"Floor", "", 1, 25, "float32", floor_detail::create};

}  // namespace ops
}  // namespace netlite
