// DepthToSpace (ai.onnx 1-25): [N, C, H, W] -> [N, C/(b*b), H*b, W*b]. Mode DCR
// (default; attribute since opset 11) reads channels as [b, b, C/(b*b)], CRD as
// [C/(b*b), b, b]. One 6-D transpose; any dtype.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace depth_to_space_detail {

class DepthToSpace final : public OpKernel {
 public:
  DepthToSpace(int64_t block, bool crd) : b_(block), crd_(crd) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    if (x.shape.size() != 4)
      fail(StatusCode::InvalidModel, ctx.node.describe(), ": input must be 4-D [N,C,H,W], got ", shape_str(x.shape));
    if (x.shape[1] % (b_ * b_) != 0)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": channels ", x.shape[1], " are not divisible by blocksize^2 = ",
           b_ * b_);
    ctx.set_output(0, x.dtype, {x.shape[0], x.shape[1] / (b_ * b_), x.shape[2] * b_, x.shape[3] * b_});
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int64_t N = x.shape[0], C = x.shape[1] / (b_ * b_), H = x.shape[2], W = x.shape[3];
    if (crd_) {
      const int64_t shape[6] = {N, C, b_, b_, H, W};
      const int64_t perm[6] = {0, 1, 4, 2, 5, 3};
      kernels::transpose(dtype_size(x.dtype), 6, shape, perm, x.data, ctx.out(0).data, ctx.pool);
    } else {
      const int64_t shape[6] = {N, b_, b_, C, H, W};
      const int64_t perm[6] = {0, 3, 4, 1, 5, 2};
      kernels::transpose(dtype_size(x.dtype), 6, shape, perm, x.data, ctx.out(0).data, ctx.pool);
    }
  }

 private:
  int64_t b_;
  bool crd_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (!node.has_attr("blocksize")) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'blocksize' is required");
  int64_t b = node.attr_int("blocksize", 1);
  if (b < 1 || b > 65536) fail(StatusCode::InvalidModel, node.describe(), ": invalid blocksize ", b);
  std::string mode = node.opset >= 11 ? node.attr_string("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD") fail(StatusCode::InvalidModel, node.describe(), ": unknown mode '", mode, "'");
  return std::make_unique<DepthToSpace>(b, mode == "CRD");
}

}  // namespace depth_to_space_detail

extern const OpDef kOp_DepthToSpace = {"DepthToSpace", "", 1, 25, "any type; DCR and CRD modes",
                                       depth_to_space_detail::create};

}  // namespace ops
}  // namespace netlite
