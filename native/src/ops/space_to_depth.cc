// SpaceToDepth (ai.onnx 1-25): [N, C, H, W] -> [N, C*b*b, H/b, W/b], the
// inverse of DepthToSpace in DCR mode. One 6-D transpose; any dtype.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace space_to_depth_detail {

class SpaceToDepth final : public OpKernel {
 public:
  explicit SpaceToDepth(int64_t block) : b_(block) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    if (x.shape.size() != 4)
      fail(StatusCode::InvalidModel, ctx.node.describe(), ": input must be 4-D [N,C,H,W], got ", shape_str(x.shape));
    if (x.shape[2] % b_ != 0 || x.shape[3] % b_ != 0)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": spatial dims of ", shape_str(x.shape),
           " are not divisible by blocksize ", b_);
    ctx.set_output(0, x.dtype, {x.shape[0], x.shape[1] * b_ * b_, x.shape[2] / b_, x.shape[3] / b_});
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2] / b_, W = x.shape[3] / b_;
    const int64_t shape[6] = {N, C, H, b_, W, b_};
    const int64_t perm[6] = {0, 3, 5, 1, 2, 4};
    kernels::transpose(dtype_size(x.dtype), 6, shape, perm, x.data, ctx.out(0).data, ctx.pool);
  }

 private:
  int64_t b_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (!node.has_attr("blocksize")) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'blocksize' is required");
  int64_t b = node.attr_int("blocksize", 1);
  if (b < 1 || b > 65536) fail(StatusCode::InvalidModel, node.describe(), ": invalid blocksize ", b);
  return std::make_unique<SpaceToDepth>(b);
}

}  // namespace space_to_depth_detail

extern const OpDef kOp_SpaceToDepth = {"SpaceToDepth", "", 1, 25, "any type", space_to_depth_detail::create};

}  // namespace ops
}  // namespace netlite
