// Unsqueeze (ai.onnx 1-25): inserts size-1 dims at the listed axes of the output
// (any order, negative counting from the output's back). Axes from the attribute
// before opset 13, from input 1 since. Aliases its input.
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace unsqueeze_detail {

class Unsqueeze final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    bool given = false;
    std::vector<int64_t> axes = attr_or_input_ints(ctx, "axes", 13, 1, &given);
    if (!given) fail(StatusCode::InvalidModel, ctx.node.describe(), ": axes are required");
    const size_t rank = x.shape.size() + axes.size();
    std::vector<bool> ins(rank, false);
    for (int a : node_axes(ctx.node, axes, rank)) ins[size_t(a)] = true;
    Shape out(rank);
    size_t k = 0;
    for (size_t d = 0; d < rank; ++d) out[d] = ins[d] ? 1 : x.shape[k++];
    ctx.set_output(0, x.dtype, out);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
  }
  bool aliases_input() const override { return true; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Unsqueeze>(); }

}  // namespace unsqueeze_detail

extern const OpDef kOp_Unsqueeze = {"Unsqueeze", "", 1, 25, "any type; axes input since 13; aliases its input",
                                    unsqueeze_detail::create};

}  // namespace ops
}  // namespace netlite
