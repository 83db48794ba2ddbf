// netlite.QMatMul: the integer form of Q(act(MatMul(DQ(A), DQ(W)) [+ DQ(B)]))
// (and of a Gemm without transA, alpha = beta = 1) that passes/fuse_qdq.cc
// rewrites: A 8-bit [..., K] (per-tensor a_scale, a_zero_point), W a constant
// int8 [K, N] ([N, K] with w_transposed = 1; w_scale / w_zero_point per tensor or
// per output column), optional constant bias [N] (int32 with b_scale, or
// float32), and the y_* attributes of ops/common/quant_util.h (bounds per tensor
// or per column).
//   y[r, n] = clamp(round_half_even(sum_k (A[r,k] - za)(W[k,n] - zw) * sa*sw/sy + b*sb/sy) + zy)
// W is packed at create() for kernels::qgemm_rows (output columns in vector
// lanes), the form that suits the few rows of a classifier head.
#include <algorithm>
#include <cstring>

#include "../kernels/qgemm.h"
#include "common/packed_weights.h"
#include "common/quant_util.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace q_mat_mul_detail {

class QMatMul final : public OpKernel {
 public:
  QMatMul(const Node& node, const Graph& graph) {
    const Tensor* w = constant_input(node, graph, 1);
    if (!w || w->rank() != 2 || (w->dtype != DType::Int8 && w->dtype != DType::UInt8))
      fail(StatusCode::Unsupported, node.describe(), ": W must be a constant 2-D int8/uint8 tensor");
    const bool trans = node.attr_int("w_transposed", 0) != 0;  // W is [N, K] (from a Gemm with transB)
    K_ = w->shape[trans ? 1 : 0];
    N_ = w->shape[trans ? 0 : 1];
    if (K_ > kQMaxReduction) fail(StatusCode::Unsupported, node.describe(), ": reduction length ", K_, " is too long");
    a_scale_ = q_scale_attr(node, "a_scale");
    a_zero_ = node.attr_int("a_zero_point", 0);
    const std::vector<float> w_scale = q_per_channel_floats(node, "w_scale", N_, 0.0f, true);
    const std::vector<int64_t> w_zero = q_per_channel_ints(node, "w_zero_point", N_, 0);
    out_ = parse_q_output(node, N_);
    // W minus its zero point packed straight from W's bytes: row n of the packed
    // matrix is column n of W, element (k, n) at k * ks + n * ns.
    const int64_t ks = trans ? 1 : N_, ns = trans ? K_ : 1;
    std::vector<int32_t> zero32(static_cast<size_t>(N_));
    for (int64_t n = 0; n < N_; ++n) zero32[size_t(n)] = int32_t(std::max<int64_t>(-512, std::min<int64_t>(512, w_zero[size_t(n)])));
    if (!kernels::qpack_quantized_weights(w->data, w->dtype == DType::UInt8, zero32.data(), N_, K_, ns, ks, &packed_))
      fail(StatusCode::Unsupported, node.describe(), ": a weight minus its zero point does not fit int8");
    scale_.resize(size_t(N_));
    offset_.assign(size_t(N_), 0.0f);
    for (int64_t n = 0; n < N_; ++n) scale_[size_t(n)] = a_scale_ * w_scale[size_t(n)] / out_.scale;
    if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
      const Tensor* b = constant_input(node, graph, 2);
      if (!b || b->numel() != N_)
        fail(StatusCode::Unsupported, node.describe(), ": bias must be a constant with ", N_, " values");
      if (b->dtype == DType::Int32) {
        const std::vector<float> b_scale = q_per_channel_floats(node, "b_scale", N_, 1.0f, false);
        for (int64_t n = 0; n < N_; ++n) offset_[size_t(n)] = float(b->ptr<int32_t>()[n]) * b_scale[size_t(n)] / out_.scale;
      } else if (b->dtype == DType::Float32) {
        for (int64_t n = 0; n < N_; ++n) offset_[size_t(n)] = b->ptr<float>()[n] / out_.scale;
      } else {
        fail(StatusCode::TypeMismatch, node.describe(), ": bias must be int32 or float32");
      }
    }
    for (int s = 0; s < 2; ++s) {
      const int64_t za_u8 = a_zero_ + (s ? 128 : 0);
      acc_init_[s].resize(size_t(N_));
      for (int64_t n = 0; n < N_; ++n)
        acc_init_[s][size_t(n)] = int32_t(-za_u8 * packed_.row_sums[size_t(n)]);
    }
    // The kernel reads its own copies only: the original W and bias go back when the model's own.
    released_ = release_copied_constant(node, graph, 1) + release_copied_constant(node, graph, 2);
  }

  void infer(InferContext& ctx) const override {
    expect_qtype(ctx, 0);
    q_input_zero_u8(ctx.node, "A", a_zero_, ctx.input(0).dtype);
    const Shape& as = ctx.input(0).shape;
    if (as.empty() || as.back() != K_)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": A ", shape_str(as), " must have last dim ", K_);
    Shape ys(as.begin(), as.end() - 1);
    ys.push_back(N_);
    ctx.set_output(0, out_.type, ys);
    ctx.scratch_bytes = size_t(shape_numel(as) / std::max<int64_t>(K_, 1)) * size_t(packed_.Kp);
  }

  size_t held_bytes() const override {
    const size_t n = packed_.bytes() + packed_.row_sums.size() * sizeof(int32_t) +
                     (scale_.size() + offset_.size()) * sizeof(float) +
                     (acc_init_[0].size() + acc_init_[1].size()) * sizeof(int32_t);
    return n - std::min(n, released_);  // the originals' pages given back (counted in the weights slab)
  }

  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const int64_t rows = K_ > 0 ? a.numel() / K_ : 0;
    if (rows == 0 || N_ == 0) return;
    const bool is_signed = a.dtype == DType::Int8;
    const uint8_t* pa = static_cast<const uint8_t*>(a.data);
    uint8_t* x = static_cast<uint8_t*>(ctx.scratch);
    uint8_t* py = static_cast<uint8_t*>(ctx.out(0).data);
    kernels::QRequant rq;
    rq.scale = scale_.data();
    rq.offset = offset_.data();
    rq.lo = out_.lo.data();
    rq.hi = out_.hi.data();
    rq.zero_point = out_.zero_point;
    const int32_t* init = acc_init_[is_signed ? 1 : 0].data();
    const int64_t kp = packed_.Kp;
    const int64_t strips = (N_ + kernels::kQRows - 1) / kernels::kQRows, strip_bytes = kp * kernels::kQRows;
    if (ctx.pool->threads() > 1 && rows < 16 && strips * strip_bytes >= kSplitColumnsFrom) {
      // Few rows, many weights (a classifier head): the rows on this thread, then
      // the output columns shared out, each thread streaming its part of W - the
      // same part every run, so it stays in that core's L2.
      for (int64_t r = 0; r < rows; ++r) pack_row(pa + r * K_, is_signed, x + r * kp);
      ctx.pool->parallel_for(strips, [&](int64_t b, int64_t e) {
        kernels::qgemm_rows_part(packed_, b * kernels::kQRows, std::min(N_, e * kernels::kQRows), x, rows, init, rq, py,
                                 N_);
      }, std::max<int64_t>(1, (int64_t(1) << 16) / strip_bytes));
      return;
    }
    ctx.pool->parallel_for(rows, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) pack_row(pa + r * K_, is_signed, x + r * kp);
      kernels::qgemm_rows(packed_, x + b * kp, e - b, init, rq, py + b * N_, N_);
    }, std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(1, K_ * N_)));
  }

 private:
  static constexpr int64_t kSplitColumnsFrom = int64_t(1) << 18;  // bytes of packed W

  // One row of A in the u8 domain, zero-padded to Kp.
  void pack_row(const uint8_t* ar, bool is_signed, uint8_t* xr) const {
    if (is_signed) for (int64_t k = 0; k < K_; ++k) xr[k] = uint8_t(ar[k] ^ 0x80);
    else std::memcpy(xr, ar, size_t(K_));
    std::memset(xr + K_, 0, size_t(packed_.Kp - K_));
  }

  int64_t K_ = 0, N_ = 0;
  float a_scale_ = 1.0f;
  int64_t a_zero_ = 0;
  QOutput out_;
  kernels::QPackedWeights packed_;
  size_t released_ = 0;  // bytes of the original W and bias given back
  std::vector<float> scale_, offset_;
  std::vector<int32_t> acc_init_[2];
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph& graph) {
  return std::make_unique<QMatMul>(node, graph);
}

}  // namespace q_mat_mul_detail

extern const OpDef kOp_QMatMul = {
    "QMatMul", "netlite", 1, 1,
    "fused QDQ MatMul (+bias) (from passes/fuse_qdq): u8/s8 A, constant s8 W [K,N] per-tensor/per-column, requantized output",
    q_mat_mul_detail::create};

}  // namespace ops
}  // namespace netlite
