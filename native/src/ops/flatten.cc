// Flatten (ai.onnx 1-25): [d0..d(a-1), da..dn] -> [d0*..*d(a-1), da*..*dn];
// axis in [-r, r] (negative since opset 11). Aliases its input.
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace flatten_detail {

class Flatten final : public OpKernel {
 public:
  explicit Flatten(int64_t axis) : axis_(axis) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    int a = node_axis(ctx.node, axis_, x.shape.size(), "axis", true);
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < x.shape.size(); ++d) (int(d) < a ? outer : inner) *= x.shape[d];
    ctx.set_output(0, x.dtype, {outer, inner});
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
  }
  bool aliases_input() const override { return true; }

 private:
  int64_t axis_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<Flatten>(node.attr_int("axis", 1));
}

}  // namespace flatten_detail

extern const OpDef kOp_Flatten = {"Flatten", "", 1, 25, "any type; aliases its input", flatten_detail::create};

}  // namespace ops
}  // namespace netlite
