// Not (ai.onnx 1-25): elementwise logical negation of a bool tensor.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace not_detail {

class Not final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Bool});
    ctx.set_output(0, DType::Bool, ctx.input(0).shape);
  }
  void run(RunContext& ctx) const override {
    unary_map(ctx.in(0).ptr<uint8_t>(), ctx.out(0).ptr<uint8_t>(), ctx.in(0).numel(),
              [](uint8_t v) { return uint8_t(v ? 0 : 1); }, ctx.pool);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Not>(); }

}  // namespace not_detail

extern const OpDef kOp_Not = {"Not", "", 1, 25, "bool", not_detail::create};

}  // namespace ops
}  // namespace netlite
