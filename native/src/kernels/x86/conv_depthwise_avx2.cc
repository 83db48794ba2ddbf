// AVX2+FMA row kernel for the depthwise convolution (kernels/conv.cc). Compiled
// for every x86-64 target with a function-level target attribute; chosen at run
// time with __builtin_cpu_supports. The scalar form in conv.cc is the reference.
#include "../conv.h"
#include "../unroll.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace netlite {
namespace kernels {

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))

bool conv_avx2_available() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

namespace x86 {

__attribute__((target("avx2,fma"))) void dw_row_axpy_avx2(float* acc, const float* x, int64_t stride, float w,
                                                             int64_t n) {
  const __m256 wv = _mm256_set1_ps(w);
  int64_t j = 0;
  if (stride == 1) {
    for (; j + 16 <= n; j += 16) {
      __m256 a0 = _mm256_loadu_ps(acc + j), a1 = _mm256_loadu_ps(acc + j + 8);
      a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j), a0);
      a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j + 8), a1);
      _mm256_storeu_ps(acc + j, a0);
      _mm256_storeu_ps(acc + j + 8, a1);
    }
    for (; j + 8 <= n; j += 8)
      _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j), _mm256_loadu_ps(acc + j)));
  } else if (stride == 2) {
    // Even lanes of 16 consecutive inputs: shuffle within 128-bit halves, then fix the lane order.
    const __m256i perm = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    // 8 outputs read x[2j .. 2j+15]; x[2j+15] lies before x[2(j+8)], a tap of this row,
    // only when j + 8 < n, so the last block is left to the scalar tail.
    for (; j + 8 < n; j += 8) {
      const __m256 lo = _mm256_loadu_ps(x + 2 * j), hi = _mm256_loadu_ps(x + 2 * j + 8);
      const __m256 ev = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
      const __m256 xs = _mm256_permutevar8x32_ps(ev, perm);
      _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(wv, xs, _mm256_loadu_ps(acc + j)));
    }
  }
  for (; j < n; ++j) acc[j] += w * x[j * stride];
}

namespace dw_avx2_detail {

// 8 inputs for outputs j..j+7 at column stride S (S = 0: any stride, given as sw).
template <int S>
__attribute__((target("avx2,fma"))) inline __m256 load_cols(const float* q, int64_t sw) {
  if (S == 1) return _mm256_loadu_ps(q);
  if (S == 2) {
    const __m256 lo = _mm256_loadu_ps(q), hi = _mm256_loadu_ps(q + 8);
    const __m256 ev = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_permutevar8x32_ps(ev, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
  }
  return _mm256_setr_ps(q[0], q[sw], q[2 * sw], q[3 * sw], q[4 * sw], q[5 * sw], q[6 * sw], q[7 * sw]);
}

// R output rows x NB blocks of 8 columns at (row oh, column j): R*NB independent
// accumulator chains, enough to cover the FMA latency.
template <int S, int R, int NB>
__attribute__((target("avx2,fma"))) inline void block(const float* p, int64_t pitch, int64_t oh, int64_t j,
                                                      const float* w, int64_t KH, int64_t KW, int64_t sh,
                                                      int64_t sw, int64_t DH, int64_t DW, __m256 bias, bool clamp,
                                                      __m256 lo, __m256 hi, float* y, int64_t OW, __m256i tail_mask,
                                                      int64_t tail) {
  __m256 acc[R][NB];
NETLITE_UNROLL(4)
  for (int r = 0; r < R; ++r)
NETLITE_UNROLL(4)
    for (int b = 0; b < NB; ++b) acc[r][b] = bias;
  for (int64_t kh = 0; kh < KH; ++kh) {
    const float* base = p + (oh * sh + kh * DH) * pitch + j * sw;
    const float* wr = w + kh * KW;
    for (int64_t kw = 0; kw < KW; ++kw) {
      const __m256 wv = _mm256_broadcast_ss(wr + kw);
      const float* q = base + kw * DW;
NETLITE_UNROLL(4)
      for (int r = 0; r < R; ++r)
NETLITE_UNROLL(4)
        for (int b = 0; b < NB; ++b)
          acc[r][b] = _mm256_fmadd_ps(wv, load_cols<S>(q + r * sh * pitch + b * 8 * sw, sw), acc[r][b]);
    }
  }
NETLITE_UNROLL(4)
  for (int r = 0; r < R; ++r) {
    float* yr = y + (oh + r) * OW + j;
NETLITE_UNROLL(4)
    for (int b = 0; b < NB; ++b) {
      __m256 v = acc[r][b];
      if (clamp) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
      if (tail && b == NB - 1)
        _mm256_maskstore_ps(yr + b * 8, tail_mask, v);
      else
        _mm256_storeu_ps(yr + b * 8, v);
    }
  }
}

template <int S, int R>
__attribute__((target("avx2,fma"))) void rows(const float* p, int64_t pitch, int64_t oh, const float* w, int64_t KH,
                                              int64_t KW, int64_t sh, int64_t sw, int64_t DH, int64_t DW,
                                              __m256 bias, bool clamp, __m256 lo, __m256 hi, float* y, int64_t OW) {
  int64_t j = 0;
  const __m256i none = _mm256_setzero_si256();
  for (; j + 16 <= OW; j += 16)
    block<S, R, 2>(p, pitch, oh, j, w, KH, KW, sh, sw, DH, DW, bias, clamp, lo, hi, y, OW, none, 0);
  if (j < OW) {
    const int64_t left = OW - j;  // 1..15
    const int64_t tail = left % 8;
    alignas(32) int32_t m[8];
    for (int k = 0; k < 8; ++k) m[k] = k < tail ? -1 : 0;
    const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
    if (left > 8)
      block<S, R, 2>(p, pitch, oh, j, w, KH, KW, sh, sw, DH, DW, bias, clamp, lo, hi, y, OW, mask, tail);
    else
      block<S, R, 1>(p, pitch, oh, j, w, KH, KW, sh, sw, DH, DW, bias, clamp, lo, hi, y, OW, mask, tail);
  }
}

template <int S>
__attribute__((target("avx2,fma"))) void plane(const float* p, int64_t pitch, const float* w, int64_t KH,
                                               int64_t KW, int64_t sh, int64_t sw, int64_t DH, int64_t DW,
                                               float bias, bool clamp, float lo, float hi, float* y, int64_t OH,
                                               int64_t OW) {
  const __m256 bv = _mm256_set1_ps(bias), lv = _mm256_set1_ps(lo), hv = _mm256_set1_ps(hi);
  int64_t oh = 0;
  for (; oh + 4 <= OH; oh += 4) rows<S, 4>(p, pitch, oh, w, KH, KW, sh, sw, DH, DW, bv, clamp, lv, hv, y, OW);
  for (; oh < OH; ++oh) rows<S, 1>(p, pitch, oh, w, KH, KW, sh, sw, DH, DW, bv, clamp, lv, hv, y, OW);
}

}  // namespace dw_avx2_detail

void dw_padded_plane_avx2(const float* p, int64_t pitch, const float* w, int64_t KH, int64_t KW, int64_t SH,
                          int64_t SW, int64_t DH, int64_t DW, float bias, bool clamp, float lo, float hi, float* y,
                          int64_t OH, int64_t OW) {
  if (SW == 1)
    dw_avx2_detail::plane<1>(p, pitch, w, KH, KW, SH, SW, DH, DW, bias, clamp, lo, hi, y, OH, OW);
  else if (SW == 2)
    dw_avx2_detail::plane<2>(p, pitch, w, KH, KW, SH, SW, DH, DW, bias, clamp, lo, hi, y, OH, OW);
  else
    dw_avx2_detail::plane<0>(p, pitch, w, KH, KW, SH, SW, DH, DW, bias, clamp, lo, hi, y, OH, OW);
}

}  // namespace x86

#else

bool conv_avx2_available() { return false; }

namespace x86 {
void dw_row_axpy_avx2(float* acc, const float* x, int64_t stride, float w, int64_t n) {
  for (int64_t j = 0; j < n; ++j) acc[j] += w * x[j * stride];
}
void dw_padded_plane_avx2(const float*, int64_t, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                          float, bool, float, float, float*, int64_t, int64_t) {}
}  // namespace x86

#endif

}  // namespace kernels
}  // namespace netlite
