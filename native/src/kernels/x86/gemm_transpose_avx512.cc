// AVX-512 gemm_transpose_epilogue (kernels/gemm.h): 16 x 16 blocks transposed in
// registers (unpack, shuffle, two 128-bit lane shuffles), the bias added before
// and the residual and clamp after, as the portable form in gemm_transpose.cc
// does, with the same operations in the same order (bit-identical, NaN included:
// the clamp is two compare-and-selects, not min/max). Compiled for every x86-64
// target with function-level target attributes and chosen at run time.
#include "../gemm.h"
#include "../gemm_internal.h"

#include <cstdint>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {
namespace x86 {
namespace gemm_transpose_avx512_detail {

#define NETLITE_TR512_TARGET __attribute__((target("avx512f")))
#define NETLITE_TR512_INLINE __attribute__((target("avx512f"), always_inline)) inline

NETLITE_TR512_INLINE __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// r[i] (row i, lanes = columns) becomes r[c] (column c, lanes = rows). (Zero-masked
// forms with every lane set: the unmasked ones trip GCC 12's -Wmaybe-uninitialized.)
NETLITE_TR512_INLINE void transpose16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_maskz_unpacklo_ps(0xFFFF, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_ps(0xFFFF, r[2 * k], r[2 * k + 1]);
  }
  // r[4k + m], 128-bit lane L: column 4L + m of rows 4k..4k+3.
  for (int k = 0; k < 4; ++k) {
    r[4 * k] = _mm512_maskz_shuffle_ps(0xFFFF, t[4 * k], t[4 * k + 2], 0x44);
    r[4 * k + 1] = _mm512_maskz_shuffle_ps(0xFFFF, t[4 * k], t[4 * k + 2], 0xEE);
    r[4 * k + 2] = _mm512_maskz_shuffle_ps(0xFFFF, t[4 * k + 1], t[4 * k + 3], 0x44);
    r[4 * k + 3] = _mm512_maskz_shuffle_ps(0xFFFF, t[4 * k + 1], t[4 * k + 3], 0xEE);
  }
  for (int k = 0; k < 2; ++k)
    for (int m = 0; m < 4; ++m) {
      t[8 * k + m] = _mm512_maskz_shuffle_f32x4(0xFFFF, r[8 * k + m], r[8 * k + 4 + m], 0x88);
      t[8 * k + 4 + m] = _mm512_maskz_shuffle_f32x4(0xFFFF, r[8 * k + m], r[8 * k + 4 + m], 0xDD);
    }
  for (int m = 0; m < 8; ++m) {
    r[m] = _mm512_maskz_shuffle_f32x4(0xFFFF, t[m], t[8 + m], 0x88);
    r[8 + m] = _mm512_maskz_shuffle_f32x4(0xFFFF, t[m], t[8 + m], 0xDD);
  }
}

}  // namespace gemm_transpose_avx512_detail

NETLITE_TR512_TARGET void gemm_transpose_epilogue_avx512(const float* src, int64_t lds, int64_t rows, int64_t cols,
                                                         float* dst, int64_t ldd, const float* bias, const float* res,
                                                         bool clamp, float lo, float hi) {
  using namespace gemm_transpose_avx512_detail;
  const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi), zero = _mm512_setzero_ps();
  for (int64_t j0 = 0; j0 < cols; j0 += 16) {
    const int64_t nj = cols - j0 < 16 ? cols - j0 : 16;
    const __mmask16 mj = first_lanes(nj);
    const __m512 bv = bias ? _mm512_maskz_loadu_ps(mj, bias + j0) : zero;
    for (int64_t i0 = 0; i0 < rows; i0 += 16) {
      const int64_t ni = rows - i0 < 16 ? rows - i0 : 16;
      const __mmask16 mi = first_lanes(ni);
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = i < ni ? _mm512_add_ps(_mm512_maskz_loadu_ps(mj, src + (i0 + i) * lds + j0), bv) : zero;
      transpose16(r);
      for (int64_t j = 0; j < nj; ++j) {
        __m512 v = r[j];
        float* d = dst + (j0 + j) * ldd + i0;
        if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mi, res + (j0 + j) * ldd + i0));
        if (clamp) {
          v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lov, _CMP_LT_OQ), v, lov);  // v < lo ? lo : v
          v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(hiv, v, _CMP_LT_OQ), v, hiv);  // hi < v ? hi : v
        }
        _mm512_mask_storeu_ps(d, mi, v);
      }
    }
  }
}

#undef NETLITE_TR512_INLINE
#undef NETLITE_TR512_TARGET

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
namespace x86 {
void gemm_transpose_epilogue_avx512(const float*, int64_t, int64_t, int64_t, float*, int64_t, const float*,
                                    const float*, bool, float, float) {}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
