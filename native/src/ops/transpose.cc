// Transpose (ai.onnx 1-25): output dim d is input dim perm[d]; the default perm
// reverses the dims. Any dtype (moves bytes). The copy kernel coalesces dims and
// tiles the 2-D case, which covers NCHW<->NHWC and matrix transposes.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace transpose_detail {

class Transpose final : public OpKernel {
 public:
  explicit Transpose(std::vector<int64_t> perm) : perm_(std::move(perm)) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    const size_t r = x.shape.size();
    if (r > size_t(kernels::kMaxCopyRank))
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", r, " is above the supported ", kernels::kMaxCopyRank);
    std::vector<int64_t> perm = resolve(r);
    if (perm.size() != r)
      fail(StatusCode::InvalidModel, ctx.node.describe(), ": perm has ", perm.size(), " values for an input of rank ", r);
    std::vector<bool> seen(r, false);
    Shape out(r);
    for (size_t d = 0; d < r; ++d) {
      int64_t p = perm[d];
      if (p < 0 || p >= int64_t(r) || seen[size_t(p)])
        fail(StatusCode::InvalidModel, ctx.node.describe(), ": perm ", shape_str(perm), " is not a permutation of 0..", r - 1);
      seen[size_t(p)] = true;
      out[d] = x.shape[size_t(p)];
    }
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int r = int(x.rank());
    int64_t perm[kernels::kMaxCopyRank];
    for (int d = 0; d < r; ++d) perm[d] = perm_.empty() ? r - 1 - d : perm_[size_t(d)];
    kernels::transpose(dtype_size(x.dtype), r, x.shape.data(), perm, x.data, ctx.out(0).data, ctx.pool);
  }

 private:
  std::vector<int64_t> resolve(size_t r) const {
    if (!perm_.empty()) return perm_;
    std::vector<int64_t> p(r);
    for (size_t d = 0; d < r; ++d) p[d] = int64_t(r - 1 - d);
    return p;
  }
  std::vector<int64_t> perm_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<Transpose>(node.attr_ints("perm"));
}

}  // namespace transpose_detail

extern const OpDef kOp_Transpose = {"Transpose", "", 1, 25, "any type; tiled 2-D fast path", transpose_detail::create};

}  // namespace ops
}  // namespace netlite
