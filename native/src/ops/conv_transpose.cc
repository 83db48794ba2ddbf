// ConvTranspose (ai.onnx 1-22): the adjoint of Conv, float32, N-d, with group,
// strides, dilations, pads, output_padding, output_shape and auto_pad.
// Per (image, group): col[Mg*prod(k), HWin] = W_g^T * X_g by GEMM, then col2im
// scatter-adds col into the output, which starts at the bias.
#include <algorithm>

#include "../kernels/conv.h"
#include "common/conv_util.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace conv_transpose_detail {

class ConvTranspose final : public OpKernel {
 public:
  explicit ConvTranspose(const Node& node) {
    attrs_ = parse_window_attrs(node, false);
    group_ = node.attr_int("group", 1);
    if (group_ < 1) fail(StatusCode::InvalidModel, node.describe(), ": group must be >= 1, got ", group_);
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    ctx.expect_dtype(1, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    const Shape& ws = ctx.input(1).shape;
    if (xs.size() < 3)
      fail(StatusCode::ShapeMismatch, node.describe(), ": input X must have rank >= 3 (N, C, spatial...), got ",
           shape_str(xs));
    if (ws.size() != xs.size())
      fail(StatusCode::ShapeMismatch, node.describe(), ": weight W ", shape_str(ws), " must have the rank of X ",
           shape_str(xs));
    const int nd = int(xs.size()) - 2;
    if (nd > kernels::kMaxConvDims)
      fail(StatusCode::Unsupported, node.describe(), ": at most ", kernels::kMaxConvDims, " spatial dims");
    if (ws[0] != xs[1] || xs[1] % group_ != 0)
      fail(StatusCode::ShapeMismatch, node.describe(), ": W ", shape_str(ws), " must have X's ", xs[1],
           " input channels first, divisible by group ", group_);
    if (!attrs_.kernel_shape.empty()) {
      if (attrs_.kernel_shape.size() != size_t(nd))
        fail(StatusCode::ShapeMismatch, node.describe(), ": kernel_shape has ", attrs_.kernel_shape.size(),
             " dims, input has ", nd, " spatial dims");
      for (int i = 0; i < nd; ++i)
        if (attrs_.kernel_shape[size_t(i)] != ws[size_t(i) + 2])
          fail(StatusCode::ShapeMismatch, node.describe(), ": kernel_shape ", shape_str(attrs_.kernel_shape),
               " does not match W ", shape_str(ws));
    }
    for (int i = 0; i < nd; ++i)
      if (ws[size_t(i) + 2] < 1)
        fail(StatusCode::ShapeMismatch, node.describe(), ": W ", shape_str(ws), " has an empty kernel dim");
    const int64_t M = ws[1] * group_;
    if (ctx.has_input(2)) {
      ctx.expect_dtype(2, {DType::Float32});
      const Shape& bs = ctx.input(2).shape;
      if (bs.size() != 1 || bs[0] != M)
        fail(StatusCode::ShapeMismatch, node.describe(), ": bias B ", shape_str(bs), " must have shape [", M, "]");
    }
    const WindowGeometry g = transpose_geometry(node, attrs_, nd, xs.data() + 2, ws.data() + 2);
    Shape ys = {xs[0], M};
    for (int i = 0; i < nd; ++i) ys.push_back(g.in[i]);
    ctx.set_output(0, DType::Float32, ys);
    ctx.scratch_bytes = size_t(ws[1] * g.kernel_size() * g.out_size()) * sizeof(float);
  }

  bool uses_sgemm() const override { return true; }

  void run(RunContext& ctx) const override {
    const Tensor& xt = ctx.in(0);
    const Shape& xs = xt.shape;
    const Shape& ws = ctx.in(1).shape;
    const int nd = int(xs.size()) - 2;
    const WindowGeometry g = transpose_geometry(ctx.node, attrs_, nd, xs.data() + 2, ws.data() + 2);
    const int64_t N = xs[0], C = xs[1], G = group_, Cg = C / G, Mg = ws[1], M = Mg * G;
    const int64_t ks = g.kernel_size(), in_sz = g.out_size(), out_sz = g.in_size();
    const float* x = xt.ptr<float>();
    const float* w = ctx.in(1).ptr<float>();
    const float* bias = ctx.inputs.size() > 2 && ctx.inputs[2] ? ctx.in(2).ptr<float>() : nullptr;
    float* y = ctx.out(0).ptr<float>();
    float* col = static_cast<float*>(ctx.scratch);
    if (N == 0 || M == 0 || out_sz == 0) return;
    ctx.pool->parallel_for(N * M, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) std::fill(y + p * out_sz, y + (p + 1) * out_sz, bias ? bias[p % M] : 0.0f);
    }, std::max<int64_t>(1, 16384 / out_sz));
    if (Cg == 0 || in_sz == 0) return;
    for (int64_t ng = 0; ng < N * G; ++ng) {
      const int64_t grp = ng % G;
      kernels::GemmArgs a;
      a.trans_a = true;
      a.M = Mg * ks;
      a.N = in_sz;
      a.K = Cg;
      a.A = w + grp * Cg * Mg * ks;
      a.lda = Mg * ks;
      a.B = x + ng * Cg * in_sz;
      a.ldb = in_sz;
      a.C = col;
      a.ldc = in_sz;
      kernels::sgemm(a, ctx.pool, ctx.gemm);
      float* yg = y + ng * Mg * out_sz;
      ctx.pool->parallel_for(Mg, [&](int64_t b, int64_t e) {
        kernels::col2im_add(g, col + b * ks * in_sz, e - b, yg + b * out_sz);
      }, 1);
    }
  }

 private:
  WindowAttrs attrs_;
  int64_t group_ = 1;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<ConvTranspose>(node); }

}  // namespace conv_transpose_detail

extern const OpDef kOp_ConvTranspose = {
    "ConvTranspose", "", 1, 22,
    "float32; N-d, group, dilations, pads, output_padding, output_shape, auto_pad (GEMM + col2im)",
    conv_transpose_detail::create};

}  // namespace ops
}  // namespace netlite
