// AVX-512 depthwise 3x3 convolution (stride 1 or 2 in both dims, no dilation)
// straight from the input plane, for kernels/conv.cc's depthwise path: zero
// padding comes from masked loads (masked-off lanes read nothing), so there is
// no padded copy. The FMAs broadcast the nine weights from memory; R output rows
// are computed together so that each loaded input row feeds every output row
// whose window covers it (row reuse), 16 or 32 output columns at a time. Stride 1
// shifts two loads of 16 columns into the three taps; stride 2 de-interleaves
// even/odd input columns with one permute per 16 outputs. The scalar forms in
// conv.cc are the reference. Compiled for every x86-64 target with function-level
// target attributes and chosen at run time.
#include "../conv.h"
#include "../unroll.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {

bool conv_avx512_available() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
}

namespace x86 {
namespace dw_avx512_detail {

#define NETLITE_DW512_TARGET __attribute__((target("avx512f,fma")))
#define NETLITE_DW512_INLINE __attribute__((target("avx512f,fma"), always_inline)) inline

// Lanes l with 0 <= c + l < n: the in-bounds columns of a 16-wide load at column c.
NETLITE_DW512_INLINE __mmask16 col_mask(int64_t c, int64_t n) {
  const int64_t lo = c < 0 ? -c : 0;
  const int64_t hi = n - c < 16 ? n - c : 16;
  if (hi <= lo) return 0;
  return __mmask16(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// Lanes k.. of a followed by the first k lanes of b: columns c + k .. c + k + 15
// when a holds c .. c + 15 and b the next 16. (Zero-masked with every lane: the
// unmasked form trips GCC 12's -Wmaybe-uninitialized.)
template <int K>
NETLITE_DW512_INLINE __m512 shifted(__m512 a, __m512 b) {
  return _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(0xFFFF, _mm512_castps_si512(b), _mm512_castps_si512(a), K));
}

// Planes narrower than this (and of at most kFlatMaxOutputs outputs) take
// plane_flat_s1 when they qualify. MobileNetV2 (bench_models, 1 thread): 7x7
// planes 0.057 -> 0.033 ms per 960-channel layer, but 14x14 planes (14 of 16
// lanes busy in the row kernel, which also reuses each loaded row for three
// outputs) 0.035 -> 0.039 ms, so only narrow planes.
constexpr int64_t kFlatMaxWidth = 11;
constexpr int64_t kFlatMaxOutputs = 4096;

struct Plane {
  const float* x;
  int64_t IH, IW, PH, PW;
  float* y;
  int64_t OH, OW;
};

// R output rows from row oh, NB blocks of 16 columns from column j; the last
// block stores only the columns in `last` (a lane mask). Input rows outside the
// plane contribute nothing (zero padding). An input row is S*NB + 1 loads of 16
// columns, v[k] at c0 + 16k (the last only for the one or two columns after the
// blocks), and each tap is a shift of them: at stride 1 block b's taps are v[b]
// and v[b], v[b + 1] shifted by one and two lanes (three unaligned loads per
// block and row, most of them split over two cache lines, made the kernel wait on
// loads: MobileNetV2's 56-wide bands of 7 rows, 144 channels, 43-44 -> 54-55
// GFLOP/s; a 112x112 plane 58 -> 65); at stride 2 the even and odd columns of
// two loads, and the even ones shifted by one lane (it took a scalar load and a
// broadcast per block for the column after it: MobileNetV2's 56-wide bands of 10
// rows, 144 channels, 38 -> 41 GFLOP/s; its 112-wide bands of 5 rows unchanged).
template <int S, int R, int NB>
NETLITE_DW512_INLINE void block(const Plane& pl, int64_t oh, int64_t j, const float* w, __m512 bias,
                                bool clamp, __m512 lo, __m512 hi, __mmask16 last, __m512i even, __m512i odd) {
  __m512 acc[R][NB];
NETLITE_UNROLL(8)
  for (int r = 0; r < R; ++r)
NETLITE_UNROLL(2)
    for (int b = 0; b < NB; ++b) acc[r][b] = bias;
  constexpr int kRows = S * (R - 1) + 3;  // input rows the R output rows read
  const int64_t ih0 = oh * S - pl.PH, c0 = j * S - pl.PW;
  // The lane masks of a row's loads (in bounds: zero padding, nothing read).
  constexpr int kLoads = S * NB + 1;
  __mmask16 vm[kLoads];
NETLITE_UNROLL(5)
  for (int k = 0; k < kLoads; ++k) vm[k] = col_mask(c0 + 16 * k, pl.IW);
  vm[kLoads - 1] &= __mmask16(S == 1 ? 0x3 : 0x1);
NETLITE_UNROLL(16)
  for (int i = 0; i < kRows; ++i) {
    const int64_t ih = ih0 + i;
    if (ih < 0 || ih >= pl.IH) continue;
    const float* row = pl.x + ih * pl.IW;
    __m512 v[kLoads];
NETLITE_UNROLL(5)
    for (int k = 0; k < kLoads; ++k) v[k] = _mm512_maskz_loadu_ps(vm[k], row + c0 + 16 * k);
    // Stride 2: the even and odd columns of each block's two loads (ev[NB]: the
    // column after the last block, in lane 0).
    __m512 ev[NB + 1], od[NB];
    if constexpr (S == 2) {
NETLITE_UNROLL(2)
      for (int b = 0; b < NB; ++b) {
        ev[b] = _mm512_permutex2var_ps(v[2 * b], even, v[2 * b + 1]);
        od[b] = _mm512_permutex2var_ps(v[2 * b], odd, v[2 * b + 1]);
      }
      ev[NB] = v[2 * NB];
    }
NETLITE_UNROLL(2)
    for (int b = 0; b < NB; ++b) {
      // The three taps t[kw] = row[c + S*i + kw] of output columns i = 0..15.
      __m512 t[3];
      if constexpr (S == 1) {
        t[0] = v[b];
        t[1] = shifted<1>(v[b], v[b + 1]);
        t[2] = shifted<2>(v[b], v[b + 1]);
      } else {
        t[0] = ev[b];
        t[1] = od[b];
        t[2] = shifted<1>(ev[b], ev[b + 1]);
      }
NETLITE_UNROLL(8)
      for (int r = 0; r < R; ++r) {
        const int kh = i - S * r;
        if (kh < 0 || kh > 2) continue;
        // Weights as embedded broadcasts: 4-byte loads, no registers held.
        acc[r][b] = _mm512_fmadd_ps(_mm512_set1_ps(w[kh * 3]), t[0], acc[r][b]);
        acc[r][b] = _mm512_fmadd_ps(_mm512_set1_ps(w[kh * 3 + 1]), t[1], acc[r][b]);
        acc[r][b] = _mm512_fmadd_ps(_mm512_set1_ps(w[kh * 3 + 2]), t[2], acc[r][b]);
      }
    }
  }
NETLITE_UNROLL(8)
  for (int r = 0; r < R; ++r) {
    float* yr = pl.y + (oh + r) * pl.OW + j;
NETLITE_UNROLL(2)
    for (int b = 0; b < NB; ++b) {
      __m512 v = acc[r][b];
      if (clamp) v = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, v, lo), hi);
      _mm512_mask_storeu_ps(yr + b * 16, b == NB - 1 ? last : __mmask16(0xFFFF), v);
    }
  }
}

template <int S, int R>
NETLITE_DW512_TARGET void rows(const Plane& pl, int64_t oh, const float* w, __m512 bias, bool clamp,
                               __m512 lo, __m512 hi, __m512i even, __m512i odd) {
  const int64_t OW = pl.OW;
  int64_t j = 0;
  for (; j + 32 <= OW; j += 32) block<S, R, 2>(pl, oh, j, w, bias, clamp, lo, hi, 0xFFFF, even, odd);
  const int64_t left = OW - j;  // 0..31
  if (left > 16) {
    block<S, R, 2>(pl, oh, j, w, bias, clamp, lo, hi, __mmask16((1u << (left - 16)) - 1u), even, odd);
  } else if (left > 0) {
    const __mmask16 m = left == 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    block<S, R, 1>(pl, oh, j, w, bias, clamp, lo, hi, m, even, odd);
  }
}

template <int S>
NETLITE_DW512_TARGET void plane(const Plane& pl, const float* wt, float bias, bool clamp, float lo, float hi) {
  const float* w = wt;
  const __m512 bv = _mm512_set1_ps(bias), lv = _mm512_set1_ps(lo), hv = _mm512_set1_ps(hi);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  // Six output rows per pass (each loaded input row feeds up to three of them),
  // the remainder in passes of 4, 2 and 1 rows.
  constexpr int R = 6;
  int64_t oh = 0;
  for (; oh + R <= pl.OH; oh += R) rows<S, R>(pl, oh, w, bv, clamp, lv, hv, even, odd);
  if (oh + 4 <= pl.OH) {
    rows<S, 4>(pl, oh, w, bv, clamp, lv, hv, even, odd);
    oh += 4;
  }
  if (oh + 2 <= pl.OH) {
    rows<S, 2>(pl, oh, w, bv, clamp, lv, hv, even, odd);
    oh += 2;
  }
  for (; oh < pl.OH; ++oh) rows<S, 1>(pl, oh, w, bv, clamp, lv, hv, even, odd);
}

// Small "same" planes (stride 1, pad 1, output = input size, narrow): row
// blocks would leave most of the 16 lanes idle (7 of 16 on a 7x7 plane) and pay
// their per-row set-up for little work. Instead the plane is one flat vector of
// OH*OW outputs, 16 at a time: output o = oh*OW + ow reads input o + (kh-1)*OW +
// (kw-1) for tap (kh, kw), masked to the lanes whose (oh+kh-1, ow+kw-1) lies
// inside the plane (masked-off lanes read nothing).
NETLITE_DW512_TARGET void plane_flat_s1(const Plane& pl, const float* w, float bias, bool clamp, float lo,
                                        float hi) {
  const int64_t OW = pl.OW, P = pl.OH * pl.OW;
  __m512 wv[9];
NETLITE_UNROLL(9)
  for (int k = 0; k < 9; ++k) wv[k] = _mm512_set1_ps(w[k]);
  const __m512 bv = _mm512_set1_ps(bias), lv = _mm512_set1_ps(lo), hv = _mm512_set1_ps(hi);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i zero = _mm512_setzero_si512(), vow = _mm512_set1_epi32(int(OW));
  const __m512i vlast_row = _mm512_set1_epi32(int(pl.OH - 1)), vlast_col = _mm512_set1_epi32(int(OW - 1));
  const __m512i vp = _mm512_set1_epi32(int(P));
  const __m512 half = _mm512_set1_ps(0.5f), inv = _mm512_set1_ps(1.0f / float(OW));
  for (int64_t o = 0; o < P; o += 16) {
    const __m512i ov = _mm512_add_epi32(_mm512_set1_epi32(int(o)), iota);
    // oh = floor((o + 0.5) / OW): the quotient is at least 0.5/OW from an
    // integer, far more than the rounding error while P <= kFlatMaxOutputs.
    // (Zero-masked conversions: the unmasked ones trip GCC 12's -Wmaybe-uninitialized.)
    const __m512 of = _mm512_maskz_cvtepi32_ps(0xFFFF, ov);
    const __m512i ohv = _mm512_maskz_cvttps_epi32(0xFFFF, _mm512_mul_ps(_mm512_add_ps(of, half), inv));
    const __m512i owv = _mm512_sub_epi32(ov, _mm512_mullo_epi32(ohv, vow));
    const __mmask16 in = _mm512_cmplt_epi32_mask(ov, vp);
    const __mmask16 rm[3] = {_mm512_mask_cmpgt_epi32_mask(in, ohv, zero), in,
                             _mm512_mask_cmplt_epi32_mask(in, ohv, vlast_row)};
    const __mmask16 cm[3] = {_mm512_cmpgt_epi32_mask(owv, zero), __mmask16(0xFFFF),
                             _mm512_cmplt_epi32_mask(owv, vlast_col)};
    const float* xo = pl.x + o;
    __m512 acc0 = bv, acc1 = _mm512_setzero_ps();
NETLITE_UNROLL(3)
    for (int kh = 0; kh < 3; ++kh) {
      const float* xr = xo + (kh - 1) * OW;
      // Two accumulators halve the dependent FMA chain.
      acc0 = _mm512_fmadd_ps(wv[kh * 3], _mm512_maskz_loadu_ps(__mmask16(rm[kh] & cm[0]), xr - 1), acc0);
      acc1 = _mm512_fmadd_ps(wv[kh * 3 + 1], _mm512_maskz_loadu_ps(rm[kh], xr), acc1);
      acc0 = _mm512_fmadd_ps(wv[kh * 3 + 2], _mm512_maskz_loadu_ps(__mmask16(rm[kh] & cm[2]), xr + 1), acc0);
    }
    __m512 v = _mm512_add_ps(acc0, acc1);
    if (clamp) v = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, v, lv), hv);
    _mm512_mask_storeu_ps(pl.y + o, in, v);
  }
}

#undef NETLITE_DW512_INLINE
#undef NETLITE_DW512_TARGET

}  // namespace dw_avx512_detail

void dw3x3_plane_avx512(const float* x, int64_t IH, int64_t IW, int64_t PH, int64_t PW, int64_t stride,
                        const float* w, float bias, bool clamp, float lo, float hi, float* y, int64_t OH, int64_t OW) {
  const dw_avx512_detail::Plane pl{x, IH, IW, PH, PW, y, OH, OW};
  if (stride == 1 && OW < dw_avx512_detail::kFlatMaxWidth && OH * OW <= dw_avx512_detail::kFlatMaxOutputs &&
      PH == 1 && PW == 1 && IH == OH && IW == OW)
    dw_avx512_detail::plane_flat_s1(pl, w, bias, clamp, lo, hi);
  else if (stride == 1)
    dw_avx512_detail::plane<1>(pl, w, bias, clamp, lo, hi);
  else
    dw_avx512_detail::plane<2>(pl, w, bias, clamp, lo, hi);
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
bool conv_avx512_available() { return false; }
namespace x86 {
void dw3x3_plane_avx512(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, const float*, float, bool, float,
                        float, float*, int64_t, int64_t) {}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
