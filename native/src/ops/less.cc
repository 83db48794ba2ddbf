// Less (ai.onnx 7-25): elementwise a < b with numpy broadcasting; bool output.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace less_detail {

struct Fn {
  template <typename T>
  bool operator()(T a, T b) const { return a < b; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<BinaryComparison<Fn>>(false); }

}  // namespace less_detail

extern const OpDef kOp_Less = {"Less", "", 7, 25, "float32, int32, int64, uint8, int8; bool output, numpy broadcasting", less_detail::create};

}  // namespace ops
}  // namespace netlite
