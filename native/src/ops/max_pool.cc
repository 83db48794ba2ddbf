// MaxPool (ai.onnx 1-22): N-d max pooling with pads / auto_pad, strides,
// dilations, ceil_mode, and the optional int64 Indices output (flat index into
// the input tensor, [0, N*C*D1*...*Dn), spatial part column-major when
// storage_order=1). float32, int8, uint8.
#include "../kernels/pool.h"
#include "common/conv_util.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace max_pool_detail {

class MaxPool final : public OpKernel {
 public:
  explicit MaxPool(const Node& node) {
    attrs_ = parse_window_attrs(node, true);
    const int64_t so = node.attr_int("storage_order", 0);
    if (so != 0 && so != 1)
      fail(StatusCode::InvalidModel, node.describe(), ": storage_order must be 0 or 1, got ", so);
    col_major_ = so == 1;
  }

  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32, DType::Int8, DType::UInt8});
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
    ctx.set_output(0, ctx.input(0).dtype, ys);
    if (ctx.has_output(1)) ctx.set_output(1, DType::Int64, ys);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int nd = int(x.rank()) - 2;
    const WindowGeometry g = forward_geometry(ctx.node, attrs_, nd, x.shape.data() + 2, attrs_.kernel_shape.data());
    Tensor* indices = ctx.outputs.size() > 1 ? ctx.outputs[1] : nullptr;
    switch (x.dtype) {
      case DType::Float32: apply<float>(ctx, g, indices); break;
      case DType::Int8: apply<int8_t>(ctx, g, indices); break;
      case DType::UInt8: apply<uint8_t>(ctx, g, indices); break;
      default: break;  // excluded by infer()
    }
  }

 private:
  template <typename T>
  void apply(RunContext& ctx, const kernels::ConvShape& g, Tensor* indices) const {
    const Tensor& x = ctx.in(0);
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t in_size = g.in_size(), out_size = g.out_size();
    const T* xp = x.ptr<T>();
    T* yp = ctx.out(0).ptr<T>();
    int64_t* ip = indices ? indices->ptr<int64_t>() : nullptr;
    const bool col_major = col_major_;
    if (out_size == 0) return;
    ctx.pool->parallel_for(planes, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p)
        kernels::max_pool_plane(g, xp + p * in_size, yp + p * out_size, ip ? ip + p * out_size : nullptr,
                                p * in_size, col_major);
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, out_size * g.kernel_size())));
  }

  WindowAttrs attrs_;
  bool col_major_ = false;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<MaxPool>(node); }

}  // namespace max_pool_detail

extern const OpDef kOp_MaxPool = {
    "MaxPool", "", 1, 22,
    "float32, int8, uint8; N-d, pads/auto_pad, dilations, ceil_mode, Indices output with storage_order",
    max_pool_detail::create};

}  // namespace ops
}  // namespace netlite
