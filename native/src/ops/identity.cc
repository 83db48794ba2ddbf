// Identity (ai.onnx 1-25): y = x for tensors of any supported type. The
// planner makes the output a view of the input (aliases_input), so run() is
// normally not called; it copies when it is.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace identity_detail {

class Identity final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    if (!dtype_supported(x.dtype))
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": input 0 has unsupported type ", dtype_name(x.dtype));
    ctx.set_output(0, x.dtype, x.shape);
  }
  void run(RunContext& ctx) const override { copy_tensor(ctx.in(0), ctx.out(0), ctx.pool); }
  bool aliases_input() const override { return true; }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Identity>(); }

}  // namespace identity_detail

extern const OpDef kOp_Identity = {"Identity", "", 1, 25, "any supported tensor type; output aliases the input",
                                   identity_detail::create};

}  // namespace ops
}  // namespace netlite
