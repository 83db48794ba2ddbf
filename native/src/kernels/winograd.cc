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

// Both weight transforms take kLanes input channels at a time, their 3x3 taps
// gathered tap-major first, so that each step of U = G g G^T is one loop over the
// lanes, which the compiler vectorises (portable code, whatever the ISA): one
// channel at a time, reading taps 9 floats apart, the transforms took 12% of
// ResNet-18's load. The arithmetic per weight is the same either way.
constexpr int kLanes = 16;

// taps[k][l] = tap k of the weights of output channel m, input channel c0 + l (zero past C).
static void gather_taps(const float* w, int64_t C, int64_t m, int64_t c0, int lanes, float (*taps)[kLanes]) {
  const float* g = w + (m * C + c0) * 9;
  for (int k = 0; k < 9; ++k)
    for (int l = 0; l < kLanes; ++l) taps[k][l] = l < lanes ? g[l * 9 + k] : 0.0f;
}

void winograd_f23_transform_weights(const float* w, int64_t M, int64_t C, float* u) {
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; U = G g G^T.
  auto gmul = [](const float* g0, const float* g1, const float* g2, float (*o)[kLanes]) {
    for (int l = 0; l < kLanes; ++l) {
      o[0][l] = g0[l];
      o[1][l] = 0.5f * (g0[l] + g1[l] + g2[l]);
      o[2][l] = 0.5f * (g0[l] - g1[l] + g2[l]);
      o[3][l] = g2[l];
    }
  };
  std::vector<float> row(size_t(16 * C));
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t c0 = 0; c0 < C; c0 += kLanes) {
      const int lanes = int(C - c0 < kLanes ? C - c0 : kLanes);
      float g[9][kLanes];
      gather_taps(w, C, m, c0, lanes, g);
      float t[3][4][kLanes];  // (G g)^T: t[j][i], column j of g through G
      for (int j = 0; j < 3; ++j) gmul(g[j], g[3 + j], g[6 + j], t[j]);
      for (int i = 0; i < 4; ++i) {
        float v[4][kLanes];
        gmul(t[0][i], t[1][i], t[2][i], v);
        for (int j = 0; j < 4; ++j) std::memcpy(&row[size_t((i * 4 + j) * C + c0)], v[j], size_t(lanes) * sizeof(float));
      }
    }
    store_row(row, 16, M, C, m, u);
  }
}

void winograd_f43_transform_weights(const float* w, int64_t M, int64_t C, float* u) {
  // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]; U = G g G^T.
  auto gmul = [](const float* g0, const float* g1, const float* g2, float (*o)[kLanes]) {
    for (int l = 0; l < kLanes; ++l) {
      o[0][l] = 0.25f * g0[l];
      o[1][l] = -(g0[l] + g1[l] + g2[l]) / 6.0f;
      o[2][l] = -(g0[l] - g1[l] + g2[l]) / 6.0f;
      o[3][l] = g0[l] / 24.0f + g1[l] / 12.0f + g2[l] / 6.0f;
      o[4][l] = g0[l] / 24.0f - g1[l] / 12.0f + g2[l] / 6.0f;
      o[5][l] = g2[l];
    }
  };
  std::vector<float> row(size_t(36 * C));
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t c0 = 0; c0 < C; c0 += kLanes) {
      const int lanes = int(C - c0 < kLanes ? C - c0 : kLanes);
      float g[9][kLanes];
      gather_taps(w, C, m, c0, lanes, g);
      float t[3][6][kLanes];  // (G g)^T: t[j][i]
      for (int j = 0; j < 3; ++j) gmul(g[j], g[3 + j], g[6 + j], t[j]);
      for (int i = 0; i < 6; ++i) {
        float v[6][kLanes];
        gmul(t[0][i], t[1][i], t[2][i], v);
        for (int j = 0; j < 6; ++j) std::memcpy(&row[size_t((i * 6 + j) * C + c0)], v[j], size_t(lanes) * sizeof(float));
      }
    }
    store_row(row, 36, M, C, m, u);
  }
}

// The per-position GEMMs M[p] = U[p] (M x C) * V[p] (C x T) for every position,
// rows [m0, m1) of each.
static void position_gemms(const WinogradConv& a, int64_t m0, int64_t m1, int64_t T, const float* v, float* mt) {
  const int64_t P = winograd_positions(a.tile);
  for (int64_t p = 0; p < P; ++p) {
    GemmArgs g;
    g.M = m1 - m0;
    g.N = T;
    g.K = a.C;
    g.A = a.u + (p * a.M + m0) * a.C;
    g.lda = a.C;
    g.B = v + p * a.C * T;
    g.ldb = T;
    g.C = mt + (p * a.M + m0) * T;
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
  position_gemms(a, 0, a.M, T, v, mt);
  if (a.tile == 4)
    x86::winograd_f43_output_avx512(a, ty0, ty1, mt);
  else
    x86::winograd_f23_output_avx512(a, ty0, ty1, mt);
}

void winograd_whole_input(const WinogradConv& a, float* v) {
  const int64_t TH = winograd_tile_rows(a);
  if (a.tile == 4)
    x86::winograd_f43_input_avx512(a, 0, TH, v);
  else
    x86::winograd_f23_input_avx512(a, 0, TH, v);
}

void winograd_whole_gemms(const WinogradConv& a, int64_t m0, int64_t m1, const float* v, float* mt) {
  if (m1 <= m0) return;
  position_gemms(a, m0, m1, winograd_tile_rows(a) * winograd_tile_cols(a), v, mt);
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
