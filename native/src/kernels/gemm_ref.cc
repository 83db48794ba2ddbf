// The scalar SGEMM oracle: plain loops, accumulated in double, no blocking.
#include "gemm.h"

namespace netlite {
namespace kernels {

void sgemm_reference(const GemmArgs& g) {
  if (g.M <= 0 || g.N <= 0) return;
  for (int64_t i = 0; i < g.M; ++i) {
    for (int64_t j = 0; j < g.N; ++j) {
      double sum = 0.0;
      // BLAS convention: with alpha == 0, A and B are not referenced.
      if (g.alpha != 0.0f) {
        for (int64_t k = 0; k < g.K; ++k) {
          const float a = g.trans_a ? g.A[k * g.lda + i] : g.A[i * g.lda + k];
          const float b = g.trans_b ? g.B[j * g.ldb + k] : g.B[k * g.ldb + j];
          sum += double(a) * double(b);
        }
      }
      float& c = g.C[i * g.ldc + j];
      double result = double(g.alpha) * sum;
      if (g.beta != 0.0f) result += double(g.beta) * double(c);  // beta == 0: C is never read
      c = float(result);
      if (g.row_bias) c += g.row_bias[i];
      if (g.clamp) c = c < g.lo ? g.lo : (c > g.hi ? g.hi : c);
    }
  }
}

}  // namespace kernels
}  // namespace netlite
