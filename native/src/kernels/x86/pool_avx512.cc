// AVX-512 max pooling over one float plane, 2-D, for the MaxPool fast path
// (kernels/pool.cc). Vectorised across 16 output columns of a row; the columns
// whose window leaves the plane horizontally, and strides other than 1 and 2,
// stay with the scalar code in pool.cc. Compiled for every x86-64 target with
// function-level target attributes and chosen at run time.
#include "../pool.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <limits>

namespace netlite {
namespace kernels {

bool pool_avx512_available() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}

namespace x86 {
namespace pool_avx512_detail {

#define NETLITE_POOL512_TARGET __attribute__((target("avx512f")))

// Input columns q[0], q[S], ..., q[S*(n-1)] (n <= 16) into lanes 0..n-1; reads nothing else.
template <int S>
NETLITE_POOL512_TARGET inline __m512 load_cols(const float* q, int n, __m512i even) {
  if (S == 1) return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1u), q);
  const int need = 2 * n - 1;  // q[0 .. need-1]
  const __mmask16 m0 = __mmask16(need >= 16 ? 0xFFFFu : (1u << need) - 1u);
  const __mmask16 m1 = __mmask16(need <= 16 ? 0u : (1u << (need - 16)) - 1u);
  const __m512 a = _mm512_maskz_loadu_ps(m0, q), b = _mm512_maskz_loadu_ps(m1, q + 16);
  return _mm512_permutex2var_ps(a, even, b);
}

template <int S>
NETLITE_POOL512_TARGET void rows(const ConvShape& g, const float* x, float* y, int64_t oh, int64_t khlo,
                                 int64_t khhi, int64_t lo, int64_t hi) {
  const int64_t IW = g.in[1], OW = g.out[1], KW = g.kernel[1];
  const int64_t SH = g.stride[0], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t hs = oh * SH - g.pad[0];
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 lowest = _mm512_set1_ps(std::numeric_limits<float>::lowest());
  if (S == 2 && KW == 3 && DW == 1) {
    // 3 wide, stride 2: the three taps of a row from one pair of loads (even
    // and odd columns, and the even ones moved down a lane with column 32 at
    // lane 15) instead of a pair per tap. Same max order as below.
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i even2 = _mm512_setr_epi32(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 0);
    for (int64_t ow = lo; ow < hi; ow += 16) {
      const int n = int(hi - ow < 16 ? hi - ow : 16);
      const int need = 2 * n + 1;  // q[0 .. 2n]: q[32] (n == 16) read on its own
      const __mmask16 m0 = __mmask16(need >= 16 ? 0xFFFFu : (1u << need) - 1u);
      const __mmask16 m1 = __mmask16(need <= 16 ? 0u : need >= 32 ? 0xFFFFu : (1u << (need - 16)) - 1u);
      __m512 best = lowest;
      for (int64_t kh = khlo; kh < khhi; ++kh) {
        const float* q = x + (hs + kh * DH) * IW + ow * 2 - g.pad[1];
        const __m512 a = _mm512_maskz_loadu_ps(m0, q), b = _mm512_maskz_loadu_ps(m1, q + 16);
        __m512 t2 = _mm512_permutex2var_ps(a, even2, b);
        if (n == 16) t2 = _mm512_mask_mov_ps(t2, __mmask16(0x8000), _mm512_set1_ps(q[32]));
        best = _mm512_maskz_max_ps(0xFFFF, _mm512_permutex2var_ps(a, even, b), best);
        best = _mm512_maskz_max_ps(0xFFFF, _mm512_permutex2var_ps(a, odd, b), best);
        best = _mm512_maskz_max_ps(0xFFFF, t2, best);
      }
      _mm512_mask_storeu_ps(y + oh * OW + ow, __mmask16((1u << n) - 1u), best);
    }
    return;
  }
  for (int64_t ow = lo; ow < hi; ow += 16) {
    const int n = int(hi - ow < 16 ? hi - ow : 16);
    __m512 best = lowest;
    for (int64_t kh = khlo; kh < khhi; ++kh) {
      const float* xr = x + (hs + kh * DH) * IW + ow * S - g.pad[1];
      for (int64_t kw = 0; kw < KW; ++kw)
        best = _mm512_maskz_max_ps(0xFFFF, load_cols<S>(xr + kw * DW, n, even), best);  // v > best ? v : best
    }
    _mm512_mask_storeu_ps(y + oh * OW + ow, __mmask16((1u << n) - 1u), best);
  }
}

#undef NETLITE_POOL512_TARGET

}  // namespace pool_avx512_detail

void max_pool_rows_avx512(const ConvShape& g, const float* x, float* y, int64_t oh, int64_t khlo, int64_t khhi,
                          int64_t lo, int64_t hi) {
  if (g.stride[1] == 1)
    pool_avx512_detail::rows<1>(g, x, y, oh, khlo, khhi, lo, hi);
  else
    pool_avx512_detail::rows<2>(g, x, y, oh, khlo, khhi, lo, hi);
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
bool pool_avx512_available() { return false; }
namespace x86 {
void max_pool_rows_avx512(const ConvShape&, const float*, float*, int64_t, int64_t, int64_t, int64_t, int64_t) {}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
