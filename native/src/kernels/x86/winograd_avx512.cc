// AVX-512 input and output transforms of Winograd F(2x2, 3x3) and F(4x4, 3x3) (kernels/winograd.h),
// vectorised over 16 consecutive tiles of a tile row: a tile row's inputs at
// column stride 2 are de-interleaved with permutes, borders come from masked
// loads (masked-off lanes read nothing) and tails from masked stores. Compiled
// for every x86-64 target with function-level target attributes.
#include "../winograd.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {

bool winograd_available() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
}

namespace x86 {
namespace winograd_avx512_detail {

#define NETLITE_WG512_TARGET __attribute__((target("avx512f,fma")))
#define NETLITE_WG512_INLINE __attribute__((target("avx512f,fma"), always_inline)) inline

// Lanes l with 0 <= c + l < n.
NETLITE_WG512_INLINE __mmask16 col_mask(int64_t c, int64_t n) {
  const int64_t lo = c < 0 ? -c : 0;
  const int64_t hi = n - c < 16 ? n - c : 16;
  if (hi <= lo) return 0;
  return __mmask16(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

NETLITE_WG512_INLINE __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// Lanes l with lo <= l < hi.
NETLITE_WG512_INLINE __mmask16 lane_range(int64_t lo, int64_t hi) {
  return __mmask16(first_lanes(hi) & ~first_lanes(lo));
}

// Tile rows per vector of 16 tiles in the output transforms: narrow planes
// (TW <= 8, e.g. 7 tiles on 13x13 F(2x2) and 27x27 / 28x28 F(4x4)) take
// 16 / TW whole tile rows per vector, which Mt holds contiguously, instead of
// one row leaving most lanes idle; wider ones one row, 16 tiles at a time.
NETLITE_WG512_INLINE int64_t rows_per_vector(int64_t TW) { return TW <= 8 ? 16 / TW : 1; }

// Stores the vectors v[0..NV) - the outputs of one output row r of the tiles
// in `lanes`, `per` floats per tile (tile lane l's columns at floats
// l*per..l*per+per-1) - for a block of g tile rows of TW tiles starting at tile
// row ty (output row oh0 + r of tile row ty + j at y + (oh0 + r + tile*j) * OW),
// column tx0 * per onwards, clipped to OW columns and OH rows.
template <int NV>
NETLITE_WG512_INLINE void store_block_row(const __m512 (&v)[NV], float* y, int64_t OH, int64_t OW, int64_t oh,
                                          int tile, int64_t g, int64_t TW, int64_t tx0, int64_t n) {
  const int64_t per = tile;  // output columns per tile
  if (g == 1) {
    if (oh >= OH) return;
    const int64_t cols = per * n < OW - per * tx0 ? per * n : OW - per * tx0;
    float* yr = y + oh * OW + per * tx0;
    for (int k = 0; k < NV; ++k) _mm512_mask_storeu_ps(yr + 16 * k, first_lanes(cols - 16 * k), v[k]);
    return;
  }
  const int64_t row_floats = per * TW;  // floats of one tile row in v
  const int64_t cols = row_floats < OW ? row_floats : OW;
  for (int64_t j = 0; j < g; ++j) {
    const int64_t ohj = oh + tile * j;
    if (ohj >= OH) break;
    // Float f of v belongs to tile row j when row_floats*j <= f < row_floats*j + cols,
    // at column f - row_floats*j.
    float* yr = y + ohj * OW - row_floats * j;
    const int64_t lo = row_floats * j, hi = lo + cols;
    for (int k = 0; k < NV; ++k) {
      const __mmask16 mk = lane_range(lo - 16 * k, hi - 16 * k);
      if (mk) _mm512_mask_storeu_ps(yr + 16 * k, mk, v[k]);
    }
  }
}

// Lanes 1..15 of v then s at lane 15.
NETLITE_WG512_INLINE __m512 shift_in(__m512 v, float s) {
  return _mm512_castsi512_ps(
      _mm512_maskz_alignr_epi32(0xFFFF, _mm512_castps_si512(_mm512_set1_ps(s)), _mm512_castps_si512(v), 1));
}

// B^T row transform of F(4x4,3x3) on 6 vectors:
// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
NETLITE_WG512_INLINE void bt6(const __m512* d, __m512* o) {
  const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
  const __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]);     // d4 - 4 d2
  const __m512 b = _mm512_fnmadd_ps(four, d[1], d[3]);     // d3 - 4 d1
  const __m512 c = _mm512_sub_ps(d[4], d[2]);              // d4 - d2
  const __m512 e = _mm512_mul_ps(two, _mm512_sub_ps(d[3], d[1]));  // 2 (d3 - d1)
  o[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
  o[1] = _mm512_add_ps(a, b);
  o[2] = _mm512_sub_ps(a, b);
  o[3] = _mm512_add_ps(c, e);
  o[4] = _mm512_sub_ps(c, e);
  o[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

// A^T row transform of F(4x4,3x3): A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
NETLITE_WG512_INLINE void at6(const __m512* m, __m512* o) {
  const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
  const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
  o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5]);
}


}  // namespace winograd_avx512_detail

NETLITE_WG512_TARGET void winograd_f23_input_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1, float* v) {
  using namespace winograd_avx512_detail;
  const int64_t TW = winograd_tile_cols(a);
  const int64_t ldv = (ty1 - ty0) * TW;  // tiles in the chunk
  const int64_t pstride = a.pstride ? a.pstride : a.C * ldv;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t tx0 = 0; tx0 < TW; tx0 += 16) {
    const int64_t n = TW - tx0 < 16 ? TW - tx0 : 16;
    const __mmask16 store = first_lanes(n);
    const int64_t cb = 2 * tx0 - a.PW;  // input column of lane 0, j = 0
    const __mmask16 m0 = col_mask(cb, a.IW), m1 = col_mask(cb + 16, a.IW);
    const bool n0 = cb + 32 >= 0 && cb + 32 < a.IW, n1 = cb + 33 >= 0 && cb + 33 < a.IW;
    for (int64_t c = 0; c < a.C; ++c) {
      const float* xc = a.x + c * a.IH * a.IW;
      for (int64_t ty = ty0; ty < ty1; ++ty) {
        __m512 d[4][4];  // d[i][j] over 16 tiles
        for (int i = 0; i < 4; ++i) {
          const int64_t ih = 2 * ty - a.PH + i;
          if (ih < 0 || ih >= a.IH) {
            d[i][0] = d[i][1] = d[i][2] = d[i][3] = zero;
            continue;
          }
          const float* row = xc + ih * a.IW + cb;
          const __m512 lo = _mm512_maskz_loadu_ps(m0, row), hi = _mm512_maskz_loadu_ps(m1, row + 16);
          d[i][0] = _mm512_permutex2var_ps(lo, even, hi);
          d[i][1] = _mm512_permutex2var_ps(lo, odd, hi);
          d[i][2] = shift_in(d[i][0], n0 ? row[32] : 0.0f);
          d[i][3] = shift_in(d[i][1], n1 ? row[33] : 0.0f);
        }
        // B^T d B with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
        __m512 t[4][4];
        for (int j = 0; j < 4; ++j) {
          t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
          t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
          t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
          t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
        }
        float* vt = v + c * ldv + (ty - ty0) * TW + tx0;
        for (int i = 0; i < 4; ++i) {
          _mm512_mask_storeu_ps(vt + (i * 4 + 0) * pstride, store, _mm512_sub_ps(t[i][0], t[i][2]));
          _mm512_mask_storeu_ps(vt + (i * 4 + 1) * pstride, store, _mm512_add_ps(t[i][1], t[i][2]));
          _mm512_mask_storeu_ps(vt + (i * 4 + 2) * pstride, store, _mm512_sub_ps(t[i][2], t[i][1]));
          _mm512_mask_storeu_ps(vt + (i * 4 + 3) * pstride, store, _mm512_sub_ps(t[i][1], t[i][3]));
        }
      }
    }
  }
}

NETLITE_WG512_TARGET void winograd_f23_output_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1,
                                                     const float* mt) {
  using namespace winograd_avx512_detail;
  const int64_t TW = winograd_tile_cols(a);
  const int64_t ldm = (ty1 - ty0) * TW;
  const int64_t pstride = a.pstride ? a.pstride : a.M * ldm;
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512 lov = _mm512_set1_ps(a.lo), hiv = _mm512_set1_ps(a.hi);
  const int64_t rpv = rows_per_vector(TW);
  for (int64_t m = 0; m < a.M; ++m) {
    const __m512 bias = _mm512_set1_ps(a.bias ? a.bias[m] : 0.0f);
    float* ym = a.y + m * a.OH * a.OW;
    for (int64_t ty = ty0; ty < ty1; ty += rpv) {
      const int64_t g = rpv < ty1 - ty ? rpv : ty1 - ty;  // tile rows in this block
      for (int64_t tx0 = 0; tx0 < TW; tx0 += 16) {
        const int64_t n = g > 1 ? g * TW : (TW - tx0 < 16 ? TW - tx0 : 16);
        const __mmask16 ld = first_lanes(n);
        const float* src = mt + m * ldm + (ty - ty0) * TW + tx0;
        __m512 s[2][4];  // A^T over rows, A^T = [1 1 1 0; 0 1 -1 -1]
        for (int q = 0; q < 4; ++q) {
          const __m512 r0 = _mm512_maskz_loadu_ps(ld, src + (0 * 4 + q) * pstride);
          const __m512 r1 = _mm512_maskz_loadu_ps(ld, src + (1 * 4 + q) * pstride);
          const __m512 r2 = _mm512_maskz_loadu_ps(ld, src + (2 * 4 + q) * pstride);
          const __m512 r3 = _mm512_maskz_loadu_ps(ld, src + (3 * 4 + q) * pstride);
          s[0][q] = _mm512_add_ps(_mm512_add_ps(r0, r1), r2);
          s[1][q] = _mm512_sub_ps(_mm512_sub_ps(r1, r2), r3);
        }
        for (int r = 0; r < 2; ++r) {
          const int64_t oh = 2 * ty + r;
          if (oh >= a.OH) break;
          __m512 e = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), s[r][2]), bias);
          __m512 o = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[r][1], s[r][2]), s[r][3]), bias);
          if (a.clamp) {
            e = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, e, lov), hiv);
            o = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, o, lov), hiv);
          }
          const __m512 v[2] = {_mm512_permutex2var_ps(e, ilo, o), _mm512_permutex2var_ps(e, ihi, o)};
          store_block_row<2>(v, ym, a.OH, a.OW, oh, 2, g, TW, tx0, n);
        }
        if (g > 1) break;  // the block took whole rows
      }
    }
  }
}

namespace winograd_avx512_detail {

// F(4x4,3x3) input transform of a narrow plane (TW <= 7 tiles: a tile row's
// windows span at most 30 input columns, one pair of vectors): g = 16 / TW tile
// rows share a vector, tile row j of the group in lanes [j*TW, (j+1)*TW), as V
// holds them contiguously. A row per vector left 9 of 16 lanes idle on 27x27 and
// 28x28 (7 tiles a row): hot, one thread, 128 channels of 28x28 79-83 -> 61 us,
// 32 of 27x27 19.2-19.5 -> 15.0-15.6 us.
NETLITE_WG512_INLINE void f43_input_narrow(const WinogradConv& a, int64_t ty0, int64_t ty1, float* v, int64_t TW,
                                           int64_t ldv, int64_t pstride) {
  const int64_t g = 16 / TW;
  // idx[j][k]: lane j*TW + l takes element 4l + k of the row's vector pair.
  __m512i idx[16][6];
  __mmask16 lanes[16];
  for (int64_t j = 0; j < g; ++j) {
    alignas(64) int32_t e[16] = {};
    lanes[j] = lane_range(j * TW, (j + 1) * TW);
    for (int k = 0; k < 6; ++k) {
      for (int64_t l = 0; l < TW; ++l) e[j * TW + l] = int32_t(4 * l + k);
      idx[j][k] = _mm512_load_si512(e);
    }
  }
  const int64_t cb = -a.PW;  // input column of lane 0, k = 0
  const __mmask16 m0 = col_mask(cb, a.IW), m1 = col_mask(cb + 16, a.IW);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < a.C; ++c) {
    const float* xc = a.x + c * a.IH * a.IW;
    for (int64_t ty = ty0; ty < ty1; ty += g) {
      const int64_t rows = g < ty1 - ty ? g : ty1 - ty;  // tile rows in this vector
      __m512 r[6][6];
      for (int i = 0; i < 6; ++i) {
        __m512 d[6] = {zero, zero, zero, zero, zero, zero};
        for (int64_t j = 0; j < rows; ++j) {
          const int64_t ih = 4 * (ty + j) - a.PH + i;
          if (ih < 0 || ih >= a.IH) continue;
          const float* row = xc + ih * a.IW + cb;
          const __m512 v0 = _mm512_maskz_loadu_ps(m0, row), v1 = _mm512_maskz_loadu_ps(m1, row + 16);
          for (int k = 0; k < 6; ++k)
            d[k] = _mm512_mask_mov_ps(d[k], lanes[j], _mm512_permutex2var_ps(v0, idx[j][k], v1));
        }
        bt6(d, r[i]);
      }
      float* vt = v + c * ldv + (ty - ty0) * TW;
      const __mmask16 store = first_lanes(rows * TW);
      for (int j = 0; j < 6; ++j) {
        const __m512 col[6] = {r[0][j], r[1][j], r[2][j], r[3][j], r[4][j], r[5][j]};
        __m512 o[6];
        bt6(col, o);
        for (int i = 0; i < 6; ++i) _mm512_mask_storeu_ps(vt + (i * 6 + j) * pstride, store, o[i]);
      }
    }
  }
}

}  // namespace winograd_avx512_detail

NETLITE_WG512_TARGET void winograd_f43_input_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1, float* v) {
  using namespace winograd_avx512_detail;
  const int64_t TW = winograd_tile_cols(a);
  const int64_t ldv = (ty1 - ty0) * TW;
  const int64_t pstride = a.pstride ? a.pstride : a.C * ldv;
  if (TW <= 7) {
    f43_input_narrow(a, ty0, ty1, v, TW, ldv, pstride);
    return;
  }
  // Lanes 0-7 of idx[j] pick element 4l + j of a vector pair; two pairs make 16 tiles.
  __m512i idx[4];
  for (int j = 0; j < 4; ++j)
    idx[j] = _mm512_setr_epi32(j, 4 + j, 8 + j, 12 + j, 16 + j, 20 + j, 24 + j, 28 + j, j, 4 + j, 8 + j, 12 + j,
                               16 + j, 20 + j, 24 + j, 28 + j);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t tx0 = 0; tx0 < TW; tx0 += 16) {
    const int64_t n = TW - tx0 < 16 ? TW - tx0 : 16;
    const __mmask16 store = first_lanes(n);
    const int64_t cb = 4 * tx0 - a.PW;  // input column of lane 0, j = 0
    __mmask16 mk[4];
    for (int k = 0; k < 4; ++k) mk[k] = col_mask(cb + 16 * k, a.IW);
    const bool n0 = cb + 64 >= 0 && cb + 64 < a.IW, n1 = cb + 65 >= 0 && cb + 65 < a.IW;
    for (int64_t c = 0; c < a.C; ++c) {
      const float* xc = a.x + c * a.IH * a.IW;
      for (int64_t ty = ty0; ty < ty1; ++ty) {
        __m512 r[6][6];  // rows after the B^T column pass: r[i][j] = (d B)[i][j]
        for (int i = 0; i < 6; ++i) {
          const int64_t ih = 4 * ty - a.PH + i;
          if (ih < 0 || ih >= a.IH) {
            for (int j = 0; j < 6; ++j) r[i][j] = zero;
            continue;
          }
          const float* row = xc + ih * a.IW + cb;
          const __m512 v0 = _mm512_maskz_loadu_ps(mk[0], row), v1 = _mm512_maskz_loadu_ps(mk[1], row + 16);
          const __m512 v2 = _mm512_maskz_loadu_ps(mk[2], row + 32), v3 = _mm512_maskz_loadu_ps(mk[3], row + 48);
          __m512 d[6];
          for (int j = 0; j < 4; ++j)  // tiles 0-7 from (v0, v1), 8-15 from (v2, v3)
            d[j] = _mm512_maskz_shuffle_f32x4(0xFFFF, _mm512_permutex2var_ps(v0, idx[j], v1),
                                              _mm512_permutex2var_ps(v2, idx[j], v3), 0x44);
          d[4] = shift_in(d[0], n0 ? row[64] : 0.0f);
          d[5] = shift_in(d[1], n1 ? row[65] : 0.0f);
          bt6(d, r[i]);
        }
        float* vt = v + c * ldv + (ty - ty0) * TW + tx0;
        for (int j = 0; j < 6; ++j) {
          const __m512 col[6] = {r[0][j], r[1][j], r[2][j], r[3][j], r[4][j], r[5][j]};
          __m512 o[6];
          bt6(col, o);
          for (int i = 0; i < 6; ++i) _mm512_mask_storeu_ps(vt + (i * 6 + j) * pstride, store, o[i]);
        }
      }
    }
  }
}

NETLITE_WG512_TARGET void winograd_f43_output_avx512(const WinogradConv& a, int64_t ty0, int64_t ty1,
                                                     const float* mt) {
  using namespace winograd_avx512_detail;
  const int64_t TW = winograd_tile_cols(a);
  const int64_t ldm = (ty1 - ty0) * TW;
  const int64_t pstride = a.pstride ? a.pstride : a.M * ldm;
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i qlo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i qhi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  const __m512 lov = _mm512_set1_ps(a.lo), hiv = _mm512_set1_ps(a.hi);
  const int64_t rpv = rows_per_vector(TW);
  for (int64_t m = 0; m < a.M; ++m) {
    const __m512 bias = _mm512_set1_ps(a.bias ? a.bias[m] : 0.0f);
    float* ym = a.y + m * a.OH * a.OW;
    for (int64_t ty = ty0; ty < ty1; ty += rpv) {
      const int64_t g = rpv < ty1 - ty ? rpv : ty1 - ty;  // tile rows in this block
      for (int64_t tx0 = 0; tx0 < TW; tx0 += 16) {
        const int64_t n = g > 1 ? g * TW : (TW - tx0 < 16 ? TW - tx0 : 16);
        const __mmask16 ld = first_lanes(n);
        const float* src = mt + m * ldm + (ty - ty0) * TW + tx0;
        __m512 s[4][6];  // A^T over rows: s[r][q]
        for (int q = 0; q < 6; ++q) {
          __m512 col[6], o[4];
          for (int i = 0; i < 6; ++i) col[i] = _mm512_maskz_loadu_ps(ld, src + (i * 6 + q) * pstride);
          at6(col, o);
          for (int r = 0; r < 4; ++r) s[r][q] = o[r];
        }
        for (int r = 0; r < 4; ++r) {
          const int64_t oh = 4 * ty + r;
          if (oh >= a.OH) break;
          __m512 o[4];
          at6(s[r], o);
          for (int k = 0; k < 4; ++k) {
            o[k] = _mm512_add_ps(o[k], bias);
            if (a.clamp) o[k] = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, o[k], lov), hiv);
          }
          // Interleave the 4 columns of 16 tiles into 64 consecutive outputs.
          const __m512d p01l = _mm512_castps_pd(_mm512_permutex2var_ps(o[0], ilo, o[1]));
          const __m512d p23l = _mm512_castps_pd(_mm512_permutex2var_ps(o[2], ilo, o[3]));
          const __m512d p01h = _mm512_castps_pd(_mm512_permutex2var_ps(o[0], ihi, o[1]));
          const __m512d p23h = _mm512_castps_pd(_mm512_permutex2var_ps(o[2], ihi, o[3]));
          const __m512 v[4] = {_mm512_castpd_ps(_mm512_permutex2var_pd(p01l, qlo, p23l)),
                               _mm512_castpd_ps(_mm512_permutex2var_pd(p01l, qhi, p23l)),
                               _mm512_castpd_ps(_mm512_permutex2var_pd(p01h, qlo, p23h)),
                               _mm512_castpd_ps(_mm512_permutex2var_pd(p01h, qhi, p23h))};
          store_block_row<4>(v, ym, a.OH, a.OW, oh, 4, g, TW, tx0, n);
        }
        if (g > 1) break;  // the block took whole rows
      }
    }
  }
}

#undef NETLITE_WG512_INLINE
#undef NETLITE_WG512_TARGET

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
bool winograd_available() { return false; }
namespace x86 {
void winograd_f23_input_avx512(const WinogradConv&, int64_t, int64_t, float*) {}
void winograd_f23_output_avx512(const WinogradConv&, int64_t, int64_t, const float*) {}
void winograd_f43_input_avx512(const WinogradConv&, int64_t, int64_t, float*) {}
void winograd_f43_output_avx512(const WinogradConv&, int64_t, int64_t, const float*) {}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
