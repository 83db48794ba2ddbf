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

// Max over rows r[kh * ld], kh in [khlo, khhi), of columns c .. c+15 (those
// below `span`; the others 0, or lowest() without rows). A NaN input keeps the
// running max (vmaxps returns its second operand), as the scalar loop skips it.
NETLITE_POOL512_TARGET inline __m512 vertical_max(const float* r, int64_t ld, int64_t khlo, int64_t khhi,
                                                  int64_t span, int64_t c) {
  const int64_t left = span - c;
  const __mmask16 m = __mmask16(left >= 16 ? 0xFFFFu : left <= 0 ? 0u : (1u << left) - 1u);
  __m512 best = _mm512_set1_ps(std::numeric_limits<float>::lowest());
  for (int64_t kh = khlo; kh < khhi; ++kh)
    best = _mm512_maskz_max_ps(0xFFFF, _mm512_maskz_loadu_ps(m, r + kh * ld + c), best);
  return best;
}

template <int S>
NETLITE_POOL512_TARGET inline void rows(const ConvShape& g, const float* x, float* y, int64_t oh, int64_t khlo,
                                 int64_t khhi, int64_t lo, int64_t hi) {
  const int64_t IW = g.in[1], OW = g.out[1], KW = g.kernel[1];
  const int64_t SH = g.stride[0], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t hs = oh * SH - g.pad[0];
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 lowest = _mm512_set1_ps(std::numeric_limits<float>::lowest());
  if (S == 2 && KW == 3 && DW == 1) {
    // 3 wide, stride 2 (SqueezeNet's and ResNet's pools): the vertical max of
    // each 16 input columns first (plain loads, kept in registers), then the
    // window's three columns from those: output lane l takes columns 2l, 2l+1
    // and 2l+2, the even and odd lanes of the column pair (Va, Vb) and the even
    // lanes moved down one with the next block's first column (alignr). Three
    // shuffles per 16 outputs where a shuffle per tap and row (nine) went before.
    // Columns past the span load as 0 and reach only output lanes not stored.
    const float* r0 = x + hs * IW + lo * 2 - g.pad[1];
    const int64_t span = (hi - 1 - lo) * 2 + 3;  // input columns the outputs read
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 va = vertical_max(r0, DH * IW, khlo, khhi, span, 0);
    for (int64_t ow = lo; ow < hi; ow += 16) {
      const int n = int(hi - ow < 16 ? hi - ow : 16);
      const int64_t c = (ow - lo) * 2;
      const __m512 vb = vertical_max(r0, DH * IW, khlo, khhi, span, c + 16),
                   vc = vertical_max(r0, DH * IW, khlo, khhi, span, c + 32);
      const __m512 e = _mm512_permutex2var_ps(va, even, vb), o = _mm512_permutex2var_ps(va, odd, vb);
      const __m512 e2 = _mm512_castsi512_ps(
          _mm512_maskz_alignr_epi32(0xFFFF, _mm512_castps_si512(vc), _mm512_castps_si512(e), 1));
      _mm512_mask_storeu_ps(y + oh * OW + ow, __mmask16((1u << n) - 1u), _mm512_maskz_max_ps(0xFFFF, e2, _mm512_maskz_max_ps(0xFFFF, o, e)));
      va = vc;
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

}  // namespace pool_avx512_detail

namespace pool_avx512_detail {

// Every output row of the plane, columns [lo, hi). Rows whose window lies
// inside the plane vertically (all but the padded edges) take all KH taps
// without computing their range.
template <int S>
NETLITE_POOL512_TARGET void plane(const ConvShape& g, const float* x, float* y, int64_t lo, int64_t hi) {
  const int64_t IH = g.in[0], OH = g.out[0], KH = g.kernel[0], SH = g.stride[0], DH = g.dilation[0];
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t hs = oh * SH - g.pad[0];
    int64_t khlo = 0, khhi = KH;
    if (hs < 0 || hs + (KH - 1) * DH >= IH) {
      while (khlo < KH && hs + khlo * DH < 0) ++khlo;
      while (khhi > khlo && hs + (khhi - 1) * DH >= IH) --khhi;
    }
    rows<S>(g, x, y, oh, khlo, khhi, lo, hi);
  }
}

}  // namespace pool_avx512_detail

#undef NETLITE_POOL512_TARGET

void max_pool_plane_avx512(const ConvShape& g, const float* x, float* y, int64_t lo, int64_t hi) {
  if (g.stride[1] == 1)
    pool_avx512_detail::plane<1>(g, x, y, lo, hi);
  else
    pool_avx512_detail::plane<2>(g, x, y, lo, hi);
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
bool pool_avx512_available() { return false; }
namespace x86 {
void max_pool_plane_avx512(const ConvShape&, const float*, float*, int64_t, int64_t) {}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
