// Expand (ai.onnx 8-25): broadcasts input 0 with the shape in input 1 (known at
// plan time), numpy style in both directions: the output shape is
// broadcast(input shape, shape), so a 1 in `shape` keeps the input dim.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace expand_detail {

class Expand final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    std::vector<int64_t> shape = input_ints(ctx, 1, "shape");
    for (int64_t d : shape)
      if (d < 0) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": shape ", shape_str(shape), " has a negative dim");
    const size_t r = std::max(x.shape.size(), shape.size());
    if (r > size_t(kernels::kMaxCopyRank))
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", r, " is above the supported ", kernels::kMaxCopyRank);
    Shape out(r);
    for (size_t i = 0; i < r; ++i) {
      int64_t a = i < r - x.shape.size() ? 1 : x.shape[i - (r - x.shape.size())];
      int64_t b = i < r - shape.size() ? 1 : shape[i - (r - shape.size())];
      if (a == b || b == 1) out[i] = a;
      else if (a == 1) out[i] = b;
      else
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot expand ", shape_str(x.shape), " to ", shape_str(shape));
    }
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const int r = int(y.rank()), xr = int(x.rank());
    int64_t ss[kernels::kMaxCopyRank], ds[kernels::kMaxCopyRank];
    int64_t is = 1, os = 1;
    for (int d = r - 1; d >= 0; --d) {
      int xd = d - (r - xr);
      int64_t in_dim = xd >= 0 ? x.shape[size_t(xd)] : 1;
      ss[d] = in_dim == 1 ? 0 : is;
      ds[d] = os;
      is *= in_dim;
      os *= y.shape[size_t(d)];
    }
    kernels::strided_copy(dtype_size(x.dtype), r, y.shape.data(), x.data, ss, y.data, ds, ctx.pool);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Expand>(); }

}  // namespace expand_detail

extern const OpDef kOp_Expand = {"Expand", "", 8, 25, "any type; bidirectional broadcast", expand_detail::create};

}  // namespace ops
}  // namespace netlite
