// LogSoftmax (ai.onnx 1-25): y = x - max - log(sum(exp(x - max))), float32.
// Opsets 1-12 coerce the input to 2-D at `axis` (default 1) and normalise each
// row; from 13 the normalisation runs along `axis` alone (default -1).
#include "common/reduce.h"

namespace netlite {
namespace ops {
namespace log_softmax_detail {

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<SoftmaxKernel>(node, true); }

}  // namespace log_softmax_detail

extern const OpDef kOp_LogSoftmax = {"LogSoftmax", "", 1, 25, "float32; 2-D coercion before opset 13", log_softmax_detail::create};

}  // namespace ops
}  // namespace netlite
