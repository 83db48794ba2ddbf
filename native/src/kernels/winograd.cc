// Winograd F(2x2, 3x3): the weight transform and the per-chunk driver (input
// transform, 16 GEMMs, output transform). See winograd.h.
#include "winograd.h"

#include <cstring>
#include <vector>

namespace netlite {
namespace kernels {

// The transforms compute one output channel's positions into `row` ([P][C]) and then
// copy each position's C values to its place in U ([P][M][C]). Stored straight into
// U, consecutive weights went to P places M * C floats apart, each on a page of its
// own for most layers: the transforms took a sixth of SqueezeNet's load time, nearly
// all of it in those stores.
static void store_row(const std::vector<float>& row, int64_t P, int64_t M, int64_t C, int64_t m, float* u) {
  for (int64_t p = 0; p < P; ++p) std::memcpy(u + (p * M + m) * C, row.data() + p * C, size_t(C) * sizeof(float));
}

void winograd_f23_transform_weights(const float* w, int64_t M, int64_t C, float* u) {
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; U = G g G^T.
  std::vector<float> row(size_t(16 * C));
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
        for (int j = 0; j < 4; ++j) row[size_t((i * 4 + j) * C + c)] = v[j];
      }
    }
    store_row(row, 16, M, C, m, u);
  }
}

void winograd_f43_transform_weights(const float* w, int64_t M, int64_t C, float* u) {
  // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]; U = G g G^T.
  auto gmul = [](float g0, float g1, float g2, float* o) {
    o[0] = 0.25f * g0;
    o[1] = -(g0 + g1 + g2) / 6.0f;
    o[2] = -(g0 - g1 + g2) / 6.0f;
    o[3] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
    o[4] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
    o[5] = g2;
  };
  std::vector<float> row(size_t(36 * C));
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (m * C + c) * 9;
      float t[3][6];  // (G g)^T: t[j][i]
      for (int j = 0; j < 3; ++j) gmul(g[j], g[3 + j], g[6 + j], t[j]);
      for (int i = 0; i < 6; ++i) {
        float v[6];
        gmul(t[0][i], t[1][i], t[2][i], v);
        for (int j = 0; j < 6; ++j) row[size_t((i * 6 + j) * C + c)] = v[j];
      }
    }
    store_row(row, 36, M, C, m, u);
  }
}

// The per-position GEMMs M[p] = U[p] (M x C) * V[p] (C x T) for positions [p0, p1).
static void position_gemms(const WinogradConv& a, int64_t p0, int64_t p1, int64_t T, const float* v, float* mt) {
  for (int64_t p = p0; p < p1; ++p) {
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
}

void winograd_f23_conv_rows(const WinogradConv& a, int64_t ty0, int64_t ty1, float* scratch) {
  if (ty1 <= ty0) return;
  const int64_t TW = winograd_tile_cols(a);
  const int64_t T = (ty1 - ty0) * TW;
  const int P = int(winograd_positions(a.tile));
  float* v = scratch;
  float* mt = scratch + P * a.C * T;
  if (a.tile == 4)
    x86::winograd_f43_input_avx512(a, ty0, ty1, v);
  else
    x86::winograd_f23_input_avx512(a, ty0, ty1, v);
  position_gemms(a, 0, P, T, v, mt);
  if (a.tile == 4)
    x86::winograd_f43_output_avx512(a, ty0, ty1, mt);
  else
    x86::winograd_f23_output_avx512(a, ty0, ty1, mt);
}

void winograd_whole_input(const WinogradConv& a, int64_t c0, int64_t c1, float* v) {
  if (c1 <= c0) return;
  const int64_t TH = winograd_tile_rows(a), T = TH * winograd_tile_cols(a);
  WinogradConv s = a;
  s.x = a.x + c0 * a.IH * a.IW;
  s.C = c1 - c0;
  s.pstride = a.C * T;
  if (a.tile == 4)
    x86::winograd_f43_input_avx512(s, 0, TH, v + c0 * T);
  else
    x86::winograd_f23_input_avx512(s, 0, TH, v + c0 * T);
}

void winograd_whole_gemms(const WinogradConv& a, int64_t p0, int64_t p1, const float* v, float* mt) {
  position_gemms(a, p0, p1, winograd_tile_rows(a) * winograd_tile_cols(a), v, mt);
}

void winograd_whole_output(const WinogradConv& a, int64_t m0, int64_t m1, const float* mt) {
  if (m1 <= m0) return;
  const int64_t TH = winograd_tile_rows(a), T = TH * winograd_tile_cols(a);
  WinogradConv s = a;
  s.y = a.y + m0 * a.OH * a.OW;
  s.bias = a.bias ? a.bias + m0 : nullptr;
  s.M = m1 - m0;
  s.pstride = a.M * T;
  if (a.tile == 4)
    x86::winograd_f43_output_avx512(s, 0, TH, mt + m0 * T);
  else
    x86::winograd_f23_output_avx512(s, 0, TH, mt + m0 * T);
}

}  // namespace kernels
}  // namespace netlite
