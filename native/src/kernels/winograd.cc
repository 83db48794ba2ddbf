// Winograd F(2x2, 3x3): the weight transform and the per-chunk driver (input
// transform, 16 GEMMs, output transform). See winograd.h.
#include "winograd.h"

namespace netlite {
namespace kernels {

void winograd_f23_transform_weights(const float* w, int64_t M, int64_t C, float* u) {
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; U = G g G^T.
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (m * C + c) * 9;
      float t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
      }
      for (int i = 0; i < 4; ++i) {
        const float r0 = t[i][0], r1 = t[i][1], r2 = t[i][2];
        const float v[4] = {r0, 0.5f * (r0 + r1 + r2), 0.5f * (r0 - r1 + r2), r2};
        for (int j = 0; j < 4; ++j) u[((i * 4 + j) * M + m) * C + c] = v[j];
      }
    }
  }
}

void winograd_f23_conv_rows(const WinogradConv& a, int64_t ty0, int64_t ty1, float* scratch) {
  if (ty1 <= ty0) return;
  const int64_t TW = winograd_tile_cols(a);
  const int64_t T = (ty1 - ty0) * TW;
  float* v = scratch;
  float* mt = scratch + 16 * a.C * T;
  x86::winograd_f23_input_avx512(a, ty0, ty1, v);
  for (int p = 0; p < 16; ++p) {
    GemmArgs g;
    g.M = a.M;
    g.N = T;
    g.K = a.C;
    g.A = a.u + p * a.M * a.C;
    g.lda = a.C;
    g.B = v + p * a.C * T;
    g.ldb = T;
    g.C = mt + p * a.M * T;
    g.ldc = T;
    sgemm(g, nullptr, a.gemm);
  }
  x86::winograd_f23_output_avx512(a, ty0, ty1, mt);
}

}  // namespace kernels
}  // namespace netlite
