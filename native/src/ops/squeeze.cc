// Squeeze (ai.onnx 1-25): removes the listed size-1 dims (every size-1 dim when
// no axes are given). Axes from the attribute before opset 13, from input 1 since.
// Aliases its input.
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace squeeze_detail {

class Squeeze final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    bool given = false;
    std::vector<int64_t> axes = attr_or_input_ints(ctx, "axes", 13, 1, &given);
    std::vector<bool> drop(x.shape.size(), false);
    if (given && !axes.empty()) {
      for (int a : node_axes(ctx.node, axes, x.shape.size())) {
        if (x.shape[size_t(a)] != 1)
          fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot squeeze axis ", a, " of size ", x.shape[size_t(a)],
               " (input shape ", shape_str(x.shape), ")");
        drop[size_t(a)] = true;
      }
    } else {
      for (size_t d = 0; d < x.shape.size(); ++d) drop[d] = x.shape[d] == 1;
    }
    Shape out;
    for (size_t d = 0; d < x.shape.size(); ++d)
      if (!drop[d]) out.push_back(x.shape[d]);
    ctx.set_output(0, x.dtype, out);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
  }
  bool aliases_input() const override { return true; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Squeeze>(); }

}  // namespace squeeze_detail

extern const OpDef kOp_Squeeze = {"Squeeze", "", 1, 25, "any type; axes input since 13; aliases its input",
                                  squeeze_detail::create};

}  // namespace ops
}  // namespace netlite
