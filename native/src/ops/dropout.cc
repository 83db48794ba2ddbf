// Dropout (ai.onnx 7-25), inference only: y = x. The optional mask output is
// all true (bool; of x's type, all ones, before opset 10). Without a mask the
// output aliases the input; with one, run() copies x and fills the mask.
// Opset 12 moved ratio to an input and added training_mode: a training_mode
// known at plan time to be true (with a non-zero ratio) is rejected as
// Unsupported; a run-time training_mode is ignored (netlite only infers).
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace dropout_detail {

class Dropout final : public OpKernel {
 public:
  explicit Dropout(bool mask) : mask_(mask) {}

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    if (node.opset >= 12 && ctx.has_input(2) && ctx.input(2).value) {
      const Tensor& tm = *ctx.input(2).value;
      if (tm.numel() != 1)
        fail(StatusCode::InvalidModel, node.describe(), ": training_mode must be a scalar, got shape ",
             shape_str(tm.shape));
      bool training = read_scalar(tm) != 0.0;
      float ratio = 0.5f;
      if (ctx.has_input(1) && ctx.input(1).value) ratio = float(read_scalar(*ctx.input(1).value));
      else if (ctx.has_input(1)) ratio = 1.0f;  // unknown: assume it matters
      if (training && ratio != 0.0f)
        fail(StatusCode::Unsupported, node.describe(), ": training_mode = true is not supported (inference only)");
    }
    const TensorMeta& x = ctx.input(0);
    ctx.set_output(0, x.dtype, x.shape);
    if (ctx.has_output(1)) ctx.set_output(1, node.opset >= 10 ? DType::Bool : x.dtype, x.shape);
  }

  void run(RunContext& ctx) const override {
    copy_tensor(ctx.in(0), ctx.out(0), ctx.pool);
    if (ctx.outputs.size() > 1 && ctx.outputs[1]) {
      Tensor& m = ctx.out(1);
      const int64_t n = m.numel();
      if (m.dtype == DType::Float32) {
        float* p = m.ptr<float>();
        ctx.pool->parallel_for(n, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) p[i] = 1.0f; }, kCheapGrain);
      } else if (n > 0) {
        uint8_t* p = m.ptr<uint8_t>();
        ctx.pool->parallel_for(n, [&](int64_t b, int64_t e) { std::memset(p + b, 1, size_t(e - b)); }, kCheapGrain);
      }
    }
  }

  bool aliases_input() const override { return !mask_; }

 private:
  bool mask_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  const bool mask = node.outputs.size() > 1 && node.outputs[1] >= 0;
  return std::make_unique<Dropout>(mask);
}

}  // namespace dropout_detail

extern const OpDef kOp_Dropout = {"Dropout", "", 7, 25, "float32; inference only (y = x, mask all true)",
                                  dropout_detail::create};

}  // namespace ops
}  // namespace netlite
