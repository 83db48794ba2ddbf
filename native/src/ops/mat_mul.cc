// MatMul (ai.onnx 1-22): numpy matmul on float32. A 1-D operand is promoted
// ([K] -> [1, K] for A, [K, 1] for B) and the added dim removed from the result;
// leading (batch) dims broadcast. A B without batch dims folds A's batch into M
// (one GEMM); otherwise one sgemm per batch entry, spread over the pool when
// there are many small products.
#include <algorithm>

#include "op.h"

namespace netlite {
namespace ops {
namespace mat_mul_detail {

constexpr int kMaxBatchRank = 16;

struct Dims {
  int64_t M = 0, K = 0, N = 0, batch = 1;
  int rank = 0;  // batch rank (after broadcasting)
  int64_t out_batch[kMaxBatchRank] = {}, a_stride[kMaxBatchRank] = {}, b_stride[kMaxBatchRank] = {};
  bool b_shared = true;  // every batch entry uses the same B matrix
  bool a_shared = true;
};

// Batch dims of `s` (all but the last two, after 1-D promotion) right-aligned to `rank`,
// as element strides of whole matrices (0 where broadcast).
inline void batch_strides(const Shape& s, int64_t mat_size, int rank, const int64_t* out_batch, int64_t* stride) {
  const int own = s.size() > 2 ? int(s.size()) - 2 : 0;
  int64_t st = mat_size;
  for (int i = rank - 1; i >= 0; --i) {
    const int j = i - (rank - own);
    const int64_t d = j >= 0 ? s[size_t(j)] : 1;
    stride[i] = (d == 1 && out_batch[i] != 1) ? 0 : st;
    if (j >= 0) st *= d;
  }
}

inline Dims dims_of(const Shape& as, const Shape& bs) {
  Dims d;
  d.M = as.size() == 1 ? 1 : as[as.size() - 2];
  d.K = as.back();
  d.N = bs.size() == 1 ? 1 : bs.back();
  const int ra = as.size() > 2 ? int(as.size()) - 2 : 0, rb = bs.size() > 2 ? int(bs.size()) - 2 : 0;
  d.rank = std::max(ra, rb);
  for (int i = 0; i < d.rank; ++i) {
    const int ia = i - (d.rank - ra), ib = i - (d.rank - rb);
    const int64_t da = ia >= 0 ? as[size_t(ia)] : 1, db = ib >= 0 ? bs[size_t(ib)] : 1;
    d.out_batch[i] = da == 1 ? db : da;
    d.batch *= d.out_batch[i];
  }
  batch_strides(as, d.M * d.K, d.rank, d.out_batch, d.a_stride);
  batch_strides(bs, d.K * d.N, d.rank, d.out_batch, d.b_stride);
  for (int i = 0; i < d.rank; ++i) {
    if (d.b_stride[i] != 0 && d.out_batch[i] != 1) d.b_shared = false;
    if (d.a_stride[i] != 0 && d.out_batch[i] != 1) d.a_shared = false;
  }
  return d;
}

class MatMul final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    ctx.expect_dtype(1, {DType::Float32});
    const Shape& as = ctx.input(0).shape;
    const Shape& bs = ctx.input(1).shape;
    if (as.empty() || bs.empty())
      fail(StatusCode::ShapeMismatch, node.describe(), ": operands must have rank >= 1, got ", shape_str(as), " and ",
           shape_str(bs));
    const int64_t ka = as.back(), kb = bs.size() == 1 ? bs[0] : bs[bs.size() - 2];
    if (ka != kb)
      fail(StatusCode::ShapeMismatch, node.describe(), ": inner dims differ: ", shape_str(as), " x ", shape_str(bs));
    const Shape ba(as.begin(), as.size() > 2 ? as.end() - 2 : as.begin());
    const Shape bb(bs.begin(), bs.size() > 2 ? bs.end() - 2 : bs.begin());
    Shape out;
    try {
      out = broadcast_shapes(ba, bb);
    } catch (const Error& e) {
      fail(StatusCode::ShapeMismatch, node.describe(), ": batch dims of ", shape_str(as), " and ", shape_str(bs),
           " cannot be broadcast");
    }
    if (out.size() > size_t(kMaxBatchRank))
      fail(StatusCode::Unsupported, node.describe(), ": more than ", kMaxBatchRank, " batch dims");
    if (as.size() > 1) out.push_back(as[as.size() - 2]);
    if (bs.size() > 1) out.push_back(bs.back());
    ctx.set_output(0, DType::Float32, out);
  }

  bool uses_sgemm() const override { return true; }

  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(1);
    float* y = ctx.out(0).ptr<float>();
    const Dims d = dims_of(a.shape, b.shape);
    if (d.batch == 0 || d.M == 0 || d.N == 0) return;
    if (d.K == 0) {
      std::fill(y, y + d.batch * d.M * d.N, 0.0f);
      return;
    }
    const float* ap = a.ptr<float>();
    const float* bp = b.ptr<float>();
    kernels::GemmArgs g;
    g.M = d.M;
    g.N = d.N;
    g.K = d.K;
    g.lda = d.K;
    g.ldb = d.N;
    g.ldc = d.N;
    if (d.b_shared && !d.a_shared) {
      // A's batch entries are consecutive [M, K] matrices: one [batch*M, K] x [K, N] product.
      g.M = d.batch * d.M;
      g.A = ap;
      g.B = bp;
      g.C = y;
      kernels::sgemm(g, ctx.pool, ctx.gemm);
      return;
    }
    const int64_t mnk = d.M * d.N * d.K;
    const bool split_batches = d.batch >= 2 * ctx.pool->threads() && mnk < (int64_t(1) << 22);
    auto one = [&](int64_t i, ThreadPool* pool) {
      int64_t aoff = 0, boff = 0, r = i;
      for (int k = d.rank - 1; k >= 0; --k) {
        const int64_t idx = r % d.out_batch[k];
        r /= d.out_batch[k];
        aoff += idx * d.a_stride[k];
        boff += idx * d.b_stride[k];
      }
      kernels::GemmArgs gi = g;
      gi.A = ap + aoff;
      gi.B = bp + boff;
      gi.C = y + i * d.M * d.N;
      kernels::sgemm(gi, pool, ctx.gemm);
    };
    if (split_batches) {
      ctx.pool->parallel_for(d.batch, [&](int64_t b0, int64_t b1) {
        for (int64_t i = b0; i < b1; ++i) one(i, nullptr);
      }, std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, mnk)));
    } else {
      for (int64_t i = 0; i < d.batch; ++i) one(i, ctx.pool);
    }
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<MatMul>(); }

}  // namespace mat_mul_detail

extern const OpDef kOp_MatMul = {"MatMul", "", 1, 22, "float32; numpy semantics (1-D promotion, batch broadcasting)",
                                 mat_mul_detail::create};

}  // namespace ops
}  // namespace netlite
