// Gemm (ai.onnx 7-22): Y = alpha * op(A) * op(B) + beta * C, float32, with
// transA/transB and C broadcast unidirectionally to [M, N] (scalar, [N], [1, N],
// [M, 1], [M, N]); C optional since opset 11. The product goes to kernels::sgemm,
// which packs B itself, so a constant B needs no prepacking here.
#include <algorithm>

#include "op.h"

namespace netlite {
namespace ops {
namespace gemm_detail {

class Gemm final : public OpKernel {
 public:
  explicit Gemm(const Node& node) {
    alpha_ = node.attr_float("alpha", 1.0f);
    beta_ = node.attr_float("beta", 1.0f);
    trans_a_ = node.attr_int("transA", 0) != 0;
    trans_b_ = node.attr_int("transB", 0) != 0;
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    ctx.expect_dtype(1, {DType::Float32});
    const Shape& as = ctx.input(0).shape;
    const Shape& bs = ctx.input(1).shape;
    if (as.size() != 2 || bs.size() != 2)
      fail(StatusCode::ShapeMismatch, node.describe(), ": A ", shape_str(as), " and B ", shape_str(bs),
           " must both be 2-D");
    const int64_t M = trans_a_ ? as[1] : as[0], K = trans_a_ ? as[0] : as[1];
    const int64_t Kb = trans_b_ ? bs[1] : bs[0], N = trans_b_ ? bs[0] : bs[1];
    if (K != Kb)
      fail(StatusCode::ShapeMismatch, node.describe(), ": inner dims differ: op(A) is [", M, ",", K, "], op(B) is [",
           Kb, ",", N, "]");
    if (ctx.has_input(2)) {
      ctx.expect_dtype(2, {DType::Float32});
      const Shape& cs = ctx.input(2).shape;
      bool ok = cs.size() <= 2;
      if (ok && cs.size() >= 1) ok = cs.back() == N || cs.back() == 1;
      if (ok && cs.size() == 2) ok = cs[0] == M || cs[0] == 1;
      if (!ok)
        fail(StatusCode::ShapeMismatch, node.describe(), ": C ", shape_str(cs), " cannot be broadcast to [", M, ",",
             N, "]");
    } else if (node.opset < 11) {
      fail(StatusCode::InvalidModel, node.describe(), ": input C is required before opset 11");
    }
    ctx.set_output(0, DType::Float32, {M, N});
  }

  bool uses_sgemm() const override { return true; }

  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(1);
    Tensor& y = ctx.out(0);
    const int64_t M = y.shape[0], N = y.shape[1];
    const int64_t K = trans_a_ ? a.shape[0] : a.shape[1];
    float* yp = y.ptr<float>();
    if (M == 0 || N == 0) return;
    const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    const bool use_c = c && beta_ != 0.0f && c->numel() > 0;
    if (use_c) {
      // Y = broadcast(C), then the GEMM accumulates with beta.
      const float* cp = c->ptr<float>();
      const Shape& cs = c->shape;
      const int64_t cr = cs.size() == 2 ? cs[0] : 1, cc = cs.empty() ? 1 : cs.back();
      ctx.pool->parallel_for(M, [&](int64_t r0, int64_t r1) {
        for (int64_t i = r0; i < r1; ++i) {
          const float* crow = cp + (cr == 1 ? 0 : i) * cc;
          float* yr = yp + i * N;
          if (cc == 1) std::fill(yr, yr + N, crow[0]);
          else std::copy(crow, crow + N, yr);
        }
      }, std::max<int64_t>(1, 16384 / N));
    }
    if (K == 0 || alpha_ == 0.0f) {
      if (!use_c) std::fill(yp, yp + M * N, 0.0f);
      else if (beta_ != 1.0f)
        for (int64_t i = 0; i < M * N; ++i) yp[i] *= beta_;
      return;
    }
    kernels::GemmArgs g;
    g.trans_a = trans_a_;
    g.trans_b = trans_b_;
    g.M = M;
    g.N = N;
    g.K = K;
    g.alpha = alpha_;
    g.A = a.ptr<float>();
    g.lda = a.shape[1];
    g.B = b.ptr<float>();
    g.ldb = b.shape[1];
    g.beta = use_c ? beta_ : 0.0f;
    g.C = yp;
    g.ldc = N;
    kernels::sgemm(g, ctx.pool, ctx.gemm);
  }

 private:
  float alpha_ = 1.0f, beta_ = 1.0f;
  bool trans_a_ = false, trans_b_ = false;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<Gemm>(node); }

}  // namespace gemm_detail

extern const OpDef kOp_Gemm = {"Gemm", "", 7, 22, "float32; transA/transB, alpha/beta, C broadcast to [M,N]",
                               gemm_detail::create};

}  // namespace ops
}  // namespace netlite
