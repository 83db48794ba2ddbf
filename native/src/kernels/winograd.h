// Winograd F(2x2, 3x3) convolution (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016) for 2-D 3x3 stride-1 undilated
// convolutions with group 1: 16 multiplies per 2x2 output tile and channel pair
// instead of 36, as 16 independent GEMMs over the transformed tiles.
//
//   U[p][m][c]  = (G g[m][c] G^T)[p]          weights, transformed once at load
//   V[p][c][t]  = (B^T d[c][t] B)[p]           input tiles, per chunk of tile rows
//   Mt[p][m][t] = sum_c U[p][m][c] V[p][c][t]  16 GEMMs (p = 0..15)
//   y[m][tile t] = A^T Mt[.][m][t] A + bias, clamped
//
// Tile t = (ty, tx) covers outputs rows 2ty..2ty+1, columns 2tx..2tx+1, and reads
// the 4x4 input window from (2ty - pad_h, 2tx - pad_w); outside the input is 0.
// The transforms are AVX-512 (x86/winograd_avx512.cc), vectorised over 16 tiles of
// a tile row; the scalar reference is the direct convolution the tests compare to.
//
// F(4x4, 3x3) (same paper, points 0, +-1, +-2, inf): 36 multiplies per 4x4 output
// tile instead of 144, as 36 GEMMs; tile t reads the 6x6 window from
// (4ty - pad_h, 4tx - pad_w). Its transforms have entries up to 5 (B) and 8 (A),
// so the rounding error grows to ~1e-5 relative on activations of unit scale
// (measured in test_conv_winograd.cc), against ~1e-6 for F(2x2).
#pragma once

#include <cstdint>

#include "gemm.h"

namespace netlite {
namespace kernels {

// True when the transforms can run on this CPU (AVX-512).
bool winograd_available();

// U (16 * M * C floats) from OIHW weights w[M][C][3][3].
void winograd_f23_transform_weights(const float* w, int64_t M, int64_t C, float* u);

struct WinogradConv {
  const float* x = nullptr;  // [C][IH][IW]
  int64_t C = 0, IH = 0, IW = 0, PH = 0, PW = 0;
  const float* u = nullptr;  // [16][M][C], from winograd_f23_transform_weights
  int64_t M = 0;
  float* y = nullptr;  // [M][OH][OW]
  int64_t OH = 0, OW = 0;
  const float* bias = nullptr;  // [M] or null
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
  GemmBackend gemm = GemmBackend::Auto;
  int tile = 2;  // output tile: 2 for F(2x2,3x3) (u from the f23 transform), 4 for F(4x4,3x3) (f43)
  // Floats between transformed positions p in V (input transform) or Mt (output
  // transform); 0: packed, C * tiles for V and M * tiles for Mt. Set when a
  // caller transforms a slice of the channels (C or M, with x / y / bias moved
  // to the slice) into / out of the V / Mt of all channels.
  int64_t pstride = 0;
};

inline int64_t winograd_tile_rows(const WinogradConv& a) { return (a.OH + a.tile - 1) / a.tile; }
inline int64_t winograd_tile_cols(const WinogradConv& a) { return (a.OW + a.tile - 1) / a.tile; }
// Transformed positions (GEMMs): (tile + 2)^2.
inline int64_t winograd_positions(int tile) { return int64_t(tile + 2) * (tile + 2); }

// Scratch for one chunk of `rows` tile rows: V and Mt.
inline int64_t winograd_scratch_floats(int64_t C, int64_t M, int64_t tile_cols, int64_t rows, int tile = 2) {
  return winograd_positions(tile) * (C + M) * tile_cols * rows + 64;
}

// U (36 * M * C floats, [36][M][C]) from OIHW weights, for F(4x4,3x3).
void winograd_f43_transform_weights(const float* w, int64_t M, int64_t C, float* u);

// Computes the output tile rows [ty0, ty1) (all M channels) on one thread, using
// `scratch` (winograd_scratch_floats(C, M, tile_cols, ty1 - ty0, a.tile) floats).
// Dispatches on a.tile (2 or 4).
void winograd_f23_conv_rows(const WinogradConv& a, int64_t ty0, int64_t ty1, float* scratch);

// The three phases of winograd_f23_conv_rows over the whole plane (tile rows
// [0, TH)), in pieces, for a caller that splits the plane's output channels over
// several threads: each thread transforms every input channel into its own V
// (winograd_whole_v_floats), then makes and transforms back its own channels'
// part of Mt (winograd_whole_mt_floats, shared).
// Input transform of every channel into V.
void winograd_whole_input(const WinogradConv& a, float* v);
// The GEMMs of every transformed position for output channels [m0, m1): Mt[p] = U[p] V[p].
void winograd_whole_gemms(const WinogradConv& a, int64_t m0, int64_t m1, const float* v, float* mt);
// Output transform (bias, clamp) of output channels [m0, m1) from Mt.
void winograd_whole_output(const WinogradConv& a, int64_t m0, int64_t m1, const float* mt);
// Floats of V and of Mt for the whole plane.
inline int64_t winograd_whole_v_floats(int64_t C, int64_t tile_cols, int64_t tile_rows, int tile) {
  return winograd_scratch_floats(C, 0, tile_cols, tile_rows, tile);
}
inline int64_t winograd_whole_mt_floats(int64_t M, int64_t tile_cols, int64_t tile_rows, int tile) {
  return winograd_scratch_floats(0, M, tile_cols, tile_rows, tile);
}

namespace x86 {
// The AVX-512 transforms (x86/winograd_avx512.cc; callers check winograd_available()).
// Input: for tile rows [ty0, ty1), V[p][c][(ty - ty0) * TW + tx] with row stride ldv = (ty1 - ty0) * TW,
// position stride C * ldv.
void winograd_f23_input_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1, float* v);
// Output: from Mt[p][m][...] laid out like V (M rows), with bias and clamp.
void winograd_f23_output_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1, const float* mt);
// The same for F(4x4,3x3): 36 positions.
void winograd_f43_input_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1, float* v);
void winograd_f43_output_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1, const float* mt);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
