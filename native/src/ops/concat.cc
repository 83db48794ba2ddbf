// Concat (ai.onnx 1-25): joins inputs of one dtype and rank along `axis`
// (negative since opset 11; default 1 in opset 1, required since 4). Inputs may
// be empty along the axis.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace concat_detail {

class Concat final : public OpKernel {
 public:
  explicit Concat(int64_t axis) : axis_(axis) {}

  void infer(InferContext& ctx) const override {
    if (ctx.num_inputs() == 0) fail(StatusCode::InvalidModel, ctx.node.describe(), ": needs at least one input");
    const TensorMeta& first = ctx.input(0);
    expect_sized_dtype(ctx.node, first.dtype);
    if (first.shape.empty()) fail(StatusCode::InvalidModel, ctx.node.describe(), ": cannot concatenate scalars");
    const int a = node_axis(ctx.node, axis_, first.shape.size());
    Shape out = first.shape;
    out[size_t(a)] = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const TensorMeta& m = ctx.input(i);
      if (m.dtype != first.dtype)
        fail(StatusCode::TypeMismatch, ctx.node.describe(), ": input ", i, " has type ", dtype_name(m.dtype),
             " but input 0 has type ", dtype_name(first.dtype));
      if (m.shape.size() != first.shape.size())
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input ", i, " has shape ", shape_str(m.shape),
             ", incompatible with input 0 of shape ", shape_str(first.shape));
      for (size_t d = 0; d < m.shape.size(); ++d)
        if (int(d) != a && m.shape[d] != first.shape[d])
          fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input ", i, " has shape ", shape_str(m.shape),
               ", incompatible with input 0 of shape ", shape_str(first.shape), " outside axis ", a);
      out[size_t(a)] += m.shape[size_t(a)];
    }
    ctx.set_output(0, first.dtype, out);
  }

  std::optional<int64_t> joins_inputs_along() const override { return axis_; }

  void run(RunContext& ctx) const override {
    Tensor& y = ctx.out(0);
    const size_t es = dtype_size(y.dtype);
    const int a = int(axis_ < 0 ? axis_ + int64_t(y.rank()) : axis_);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < a; ++d) outer *= y.shape[size_t(d)];
    for (size_t d = size_t(a) + 1; d < y.rank(); ++d) inner *= y.shape[d];
    const int64_t row = y.shape[size_t(a)] * inner;
    uint8_t* dst = static_cast<uint8_t*>(y.data);
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      const Tensor& x = ctx.in(i);
      const int64_t len = x.shape[size_t(a)] * inner;
      const int64_t shape[2] = {outer, len};
      const int64_t ss[2] = {len, 1};
      const int64_t ds[2] = {row, 1};
      kernels::strided_copy(es, 2, shape, x.data, ss, dst, ds, ctx.pool);
      dst += size_t(len) * es;
    }
  }

 private:
  int64_t axis_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (node.opset >= 4 && !node.has_attr("axis"))
    fail(StatusCode::InvalidModel, node.describe(), ": attribute 'axis' is required");
  return std::make_unique<Concat>(node.attr_int("axis", 1));
}

}  // namespace concat_detail

extern const OpDef kOp_Concat = {"Concat", "", 1, 25, "any type", concat_detail::create};

}  // namespace ops
}  // namespace netlite
