// Reshape (ai.onnx 1-25): output 0 views input 0's bytes under a new shape.
// Shape from the `shape` attribute before opset 5, from input 1 (known at plan
// time) since. A 0 copies the input dim unless allowzero=1 (opset 14+); one -1
// is inferred from the element count.
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace reshape_detail {

class Reshape final : public OpKernel {
 public:
  explicit Reshape(bool allowzero) : allowzero_(allowzero) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    std::vector<int64_t> spec =
        ctx.node.opset >= 5 ? input_ints(ctx, 1, "shape") : ctx.node.attr_ints("shape");
    Shape out(spec.size());
    int infer_at = -1;
    bool has_zero = false;
    int64_t known = 1;
    for (size_t i = 0; i < spec.size(); ++i) {
      int64_t v = spec[i];
      if (v == -1) {
        if (infer_at >= 0) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": shape ", shape_str(spec), " has more than one -1");
        infer_at = int(i);
        continue;
      }
      if (v < -1) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": shape has invalid dim ", v);
      if (v == 0 && !allowzero_) {
        if (i >= x.shape.size())
          fail(StatusCode::InvalidArgument, ctx.node.describe(), ": shape dim ", i, " is 0 (copy the input dim) but the input ",
               shape_str(x.shape), " has only ", x.shape.size(), " dims");
        v = x.shape[i];
      }
      if (v == 0) has_zero = true;
      out[i] = v;
      if (v != 0) {
        if (known > kMaxElements / v) fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": shape ", shape_str(spec), " is too large");
        known *= v;
      }
    }
    const int64_t n = shape_numel(x.shape);
    if (infer_at >= 0) {
      if (has_zero) {
        if (n != 0)
          fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot infer the -1 in shape ", shape_str(spec),
               " for an input of shape ", shape_str(x.shape));
        out[size_t(infer_at)] = 0;  // ambiguous; 0 keeps the element count
        if (allowzero_)
          fail(StatusCode::InvalidArgument, ctx.node.describe(), ": with allowzero=1 the shape must not hold both 0 and -1");
      } else {
        if (n % known != 0)
          fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot reshape ", shape_str(x.shape), " (", n,
               " elements) to ", shape_str(spec));
        out[size_t(infer_at)] = n / known;
      }
    }
    if (shape_numel(out) != n)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot reshape ", shape_str(x.shape), " (", n,
           " elements) to ", shape_str(out));
    ctx.set_output(0, x.dtype, out);
  }

  // Normally not called (the planner aliases the output); kept correct for direct use.
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
  }
  bool aliases_input() const override { return true; }

 private:
  bool allowzero_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  bool allowzero = node.opset >= 14 && node.attr_int("allowzero", 0) != 0;
  return std::make_unique<Reshape>(allowzero);
}

}  // namespace reshape_detail

extern const OpDef kOp_Reshape = {"Reshape", "", 1, 25, "any type; aliases its input; allowzero since 14",
                                  reshape_detail::create};

}  // namespace ops
}  // namespace netlite
