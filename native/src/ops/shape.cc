// Shape (ai.onnx 1-25): the input's shape as a 1-D int64 tensor, optionally the
// dims [start, end) (attributes since opset 15; negatives count from the back,
// both clamped to [0, rank]). Depends only on the input's shape, so its value is
// known at plan time.
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace shape_detail {

class ShapeOp final : public OpKernel {
 public:
  ShapeOp(int64_t start, int64_t end, bool has_end) : start_(start), end_(end), has_end_(has_end) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    int64_t b, e;
    range(x.shape.size(), b, e);
    ctx.set_output(0, DType::Int64, {e - b});
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    int64_t b, e;
    range(x.shape.size(), b, e);
    int64_t* out = ctx.out(0).ptr<int64_t>();
    for (int64_t i = b; i < e; ++i) out[i - b] = x.shape[size_t(i)];
  }
  bool shape_only() const override { return true; }

 private:
  void range(size_t rank, int64_t& b, int64_t& e) const {
    const int64_t r = int64_t(rank);
    b = start_ < 0 ? start_ + r : start_;
    e = has_end_ ? (end_ < 0 ? end_ + r : end_) : r;
    b = b < 0 ? 0 : (b > r ? r : b);
    e = e < 0 ? 0 : (e > r ? r : e);
    if (e < b) e = b;
  }
  int64_t start_, end_;
  bool has_end_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (node.opset < 15) return std::make_unique<ShapeOp>(0, 0, false);
  return std::make_unique<ShapeOp>(node.attr_int("start", 0), node.attr_int("end", 0), node.has_attr("end"));
}

}  // namespace shape_detail

extern const OpDef kOp_Shape = {"Shape", "", 1, 25, "any type; start/end since 15; value known at plan time",
                                shape_detail::create};

}  // namespace ops
}  // namespace netlite
