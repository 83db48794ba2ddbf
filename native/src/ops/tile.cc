// Tile (ai.onnx 6-25): repeats input 0 `repeats[d]` times along each dim d
// (input 1, int64, known at plan time). One strided copy over a rank-2r view
// [rep0, d0, rep1, d1, ...] whose repeat dims have source stride 0.
#include <cstring>

#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace tile_detail {

class Tile final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    std::vector<int64_t> rep = input_ints(ctx, 1, "repeats");
    if (rep.size() != x.shape.size())
      fail(StatusCode::InvalidModel, ctx.node.describe(), ": repeats has ", rep.size(), " values for an input of shape ",
           shape_str(x.shape));
    if (2 * x.shape.size() > size_t(kernels::kMaxCopyRank))
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", x.shape.size(), " is above the supported ",
           kernels::kMaxCopyRank / 2);
    Shape out(x.shape.size());
    for (size_t d = 0; d < out.size(); ++d) {
      if (rep[d] < 0) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": repeats has a negative value ", rep[d]);
      if (x.shape[d] != 0 && rep[d] > kMaxElements / x.shape[d])
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": repeats ", shape_str(rep), " make the output too large");
      out[d] = x.shape[d] * rep[d];
    }
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const int r = int(x.rank());
    if (r == 0) {
      std::memcpy(y.data, x.data, dtype_size(x.dtype));
      return;
    }
    int64_t shape[kernels::kMaxCopyRank], ss[kernels::kMaxCopyRank], ds[kernels::kMaxCopyRank];
    int64_t is = 1, os = 1;
    for (int d = r - 1; d >= 0; --d) {
      const int64_t n = x.shape[size_t(d)], total = y.shape[size_t(d)];
      const int64_t rep = n == 0 ? 0 : total / n;
      shape[2 * d] = rep;
      shape[2 * d + 1] = n;
      ss[2 * d] = 0;
      ss[2 * d + 1] = is;
      ds[2 * d] = n * os;
      ds[2 * d + 1] = os;
      is *= n;
      os *= total;
    }
    kernels::strided_copy(dtype_size(x.dtype), 2 * r, shape, x.data, ss, y.data, ds, ctx.pool);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Tile>(); }

}  // namespace tile_detail

extern const OpDef kOp_Tile = {"Tile", "", 6, 25, "any type", tile_detail::create};

}  // namespace ops
}  // namespace netlite
