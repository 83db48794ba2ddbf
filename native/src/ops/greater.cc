// Greater (ai.onnx 7-25): elementwise a > b with numpy broadcasting; bool output.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace greater_detail {

struct Fn {
  template <typename T>
  bool operator()(T a, T b) const { return a > b; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<BinaryComparison<Fn>>(false); }

}  // namespace greater_detail

extern const OpDef kOp_Greater = {"Greater", "", 7, 25, "float32, int32, int64, uint8, int8; bool output, numpy broadcasting", greater_detail::create};

}  // namespace ops
}  // namespace netlite
