// AveragePool (ai.onnx 1-22): N-d average pooling, float32, with pads / auto_pad,
// strides, count_include_pad, ceil_mode and (opset 19) dilations. Padded taps
// count in the divisor only with count_include_pad, and never the positions a
// ceil_mode window reaches past the trailing padding.
#include "../kernels/pool.h"
#include "common/conv_util.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace average_pool_detail {

class AveragePool final : public OpKernel {
 public:
  explicit AveragePool(const Node& node) {
    attrs_ = parse_window_attrs(node, true);
    count_include_pad_ = node.attr_int("count_include_pad", 0) != 0;
  }

  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() < 3)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input X must have rank >= 3 (N, C, spatial...), got ",
           shape_str(xs));
    const int nd = int(xs.size()) - 2;
    if (attrs_.kernel_shape.size() != size_t(nd))
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": kernel_shape has ", attrs_.kernel_shape.size(),
           " dims, input ", shape_str(xs), " has ", nd, " spatial dims");
    const WindowGeometry g = forward_geometry(ctx.node, attrs_, nd, xs.data() + 2, attrs_.kernel_shape.data());
    Shape ys = {xs[0], xs[1]};
    for (int i = 0; i < nd; ++i) ys.push_back(g.out[i]);
    ctx.set_output(0, DType::Float32, ys);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int nd = int(x.rank()) - 2;
    const WindowGeometry g = forward_geometry(ctx.node, attrs_, nd, x.shape.data() + 2, attrs_.kernel_shape.data());
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t in_size = g.in_size(), out_size = g.out_size();
    if (out_size == 0) return;
    const float* xp = x.ptr<float>();
    float* yp = ctx.out(0).ptr<float>();
    const bool include_pad = count_include_pad_;
    ctx.pool->parallel_for(planes, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p)
        kernels::avg_pool_plane(g, g.pad_end, include_pad, xp + p * in_size, yp + p * out_size);
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, out_size * g.kernel_size())));
  }

 private:
  WindowAttrs attrs_;
  bool count_include_pad_ = false;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<AveragePool>(node); }

}  // namespace average_pool_detail

extern const OpDef kOp_AveragePool = {
    "AveragePool", "", 1, 22,
    "float32; N-d, pads/auto_pad, count_include_pad, ceil_mode, dilations (opset 19)",
    average_pool_detail::create};

}  // namespace ops
}  // namespace netlite
