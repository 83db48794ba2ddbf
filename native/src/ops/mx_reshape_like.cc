// ReshapeLike (netlite.mxnet 1): MXNet's reshape_like - input 0's elements
// under the shape of input 1 (whose values are never read). With the optional
// int attributes lhs_begin/lhs_end/rhs_begin/rhs_end, only the dims
// lhs[lhs_begin:lhs_end] are replaced by rhs[rhs_begin:rhs_end] (negative
// indices count from the back). The importer also uses it to restore a shape
// after viewing a tensor as 2-D or (N, C, -1). Aliases its input.
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace mx_reshape_like_detail {

constexpr int64_t kUnset = INT64_MIN;

class MxReshapeLike final : public OpKernel {
 public:
  MxReshapeLike(int64_t lb, int64_t le, int64_t rb, int64_t re) : lb_(lb), le_(le), rb_(rb), re_(re) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    const TensorMeta& like = ctx.input(1);
    expect_sized_dtype(ctx.node, x.dtype);
    auto range = [&](int64_t b, int64_t e, size_t rank, const char* what, size_t* ob, size_t* oe) {
      int64_t r = int64_t(rank);
      int64_t bb = b == kUnset ? 0 : (b < 0 ? b + r : b);
      int64_t ee = e == kUnset ? r : (e < 0 ? e + r : e);
      if (bb < 0 || ee > r || bb > ee)
        fail(StatusCode::InvalidArgument, ctx.node.describe(), ": ", what, " range [", b == kUnset ? 0 : b, ", ",
             e == kUnset ? r : e, ") is out of range for rank ", rank);
      *ob = size_t(bb);
      *oe = size_t(ee);
    };
    size_t lb, le, rb, re;
    range(lb_, le_, x.shape.size(), "lhs", &lb, &le);
    range(rb_, re_, like.shape.size(), "rhs", &rb, &re);
    Shape out(x.shape.begin(), x.shape.begin() + long(lb));
    out.insert(out.end(), like.shape.begin() + long(rb), like.shape.begin() + long(re));
    out.insert(out.end(), x.shape.begin() + long(le), x.shape.end());
    if (shape_numel(out) != shape_numel(x.shape))
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot reshape ", shape_str(x.shape), " to ", shape_str(out),
           " (the shape of input 1 is ", shape_str(like.shape), ")");
    ctx.set_output(0, x.dtype, out);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
  }
  bool aliases_input() const override { return true; }

 private:
  int64_t lb_, le_, rb_, re_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<MxReshapeLike>(node.attr_int("lhs_begin", kUnset), node.attr_int("lhs_end", kUnset),
                                         node.attr_int("rhs_begin", kUnset), node.attr_int("rhs_end", kUnset));
}

}  // namespace mx_reshape_like_detail

extern const OpDef kOp_MxReshapeLike = {"ReshapeLike", "netlite.mxnet", 1, 1,
                                        "any type; MXNet reshape_like (input 0 under input 1's shape); aliases its input",
                                        mx_reshape_like_detail::create};

}  // namespace ops
}  // namespace netlite
