// AVX-512 max pooling over one float plane, 2-D, for the MaxPool fast path
// (kernels/pool.cc). Vectorised across 16 output columns of a row. Windows 3
// columns wide at stride 2 (plane_k3s2) take every column, padded edges
// included; other column strides 1 and 2 leave the columns whose window leaves
// the plane horizontally to the scalar code in pool.cc. Compiled for every
// x86-64 target with function-level target attributes and chosen at run time.
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
NETLITE_POOL512_TARGET inline void rows(const ConvShape& g, const float* x, float* y, int64_t oh, int64_t khlo,
                                 int64_t khhi, int64_t lo, int64_t hi) {
  const int64_t IW = g.in[1], OW = g.out[1], KW = g.kernel[1];
  const int64_t SH = g.stride[0], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t hs = oh * SH - g.pad[0];
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 lowest = _mm512_set1_ps(std::numeric_limits<float>::lowest());
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

// The max over `rows` rows ld floats apart of the 16 columns at r, lanes outside m as
// lowest(); NaNs skipped (vmaxps returns its second operand), as the scalar loop does.
NETLITE_POOL512_TARGET inline __m512 column_max(const float* r, int64_t ld, int64_t rows, __mmask16 m,
                                                __m512 lowest) {
  __m512 best = lowest;
  if (m)
    for (int64_t i = 0; i < rows; ++i) best = _mm512_maskz_max_ps(0xFFFF, _mm512_mask_loadu_ps(lowest, m, r + i * ld), best);
  return best;
}

// Blocks of 16 outputs per row that plane_k3s2 takes (a row's column masks live on the stack).
constexpr int64_t kK3S2MaxBlocks = 64;

// Columns 3 wide, stride 2, undilated (SqueezeNet's and ResNet's pools): every output of
// every row, the padded columns included. A row's input columns -PW .. -PW + 32 * blocks
// are 16-column vectors k whose in-plane lanes are fixed for the plane: their masks are
// computed once, and lanes outside the plane load as lowest(), so they never win and
// the edge columns need no scalar pass. Each vector is the max over the window's rows;
// block b's outputs then take columns 2l, 2l+1, 2l+2 of vectors (2b, 2b+1, 2b+2): the
// even and odd lanes of the first pair, and the even lanes moved down one with the
// next vector's first column (alignr). Rows without taps (padding only) give lowest().
NETLITE_POOL512_TARGET void plane_k3s2(const ConvShape& g, const float* x, float* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], SH = g.stride[0], DH = g.dilation[0], PW = g.pad[1];
  const int64_t nb = (OW + 15) / 16, nv = 2 * nb + 1;
  __mmask16 mk[2 * kK3S2MaxBlocks + 1];
  for (int64_t k = 0; k < nv; ++k) {
    const int64_t c = 16 * k - PW;  // input column of lane 0
    const int64_t lo = c < 0 ? -c : 0, hi = IW - c < 16 ? IW - c : 16;
    mk[k] = hi <= lo ? __mmask16(0) : __mmask16(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 lowest = _mm512_set1_ps(std::numeric_limits<float>::lowest());
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t hs = oh * SH - g.pad[0];
    int64_t khlo = 0, khhi = KH;
    while (khlo < KH && hs + khlo * DH < 0) ++khlo;
    while (khhi > khlo && hs + (khhi - 1) * DH >= IH) --khhi;
    const float* r0 = x + (hs + khlo * DH) * IW - PW;  // column -PW of the first tap row
    const int64_t rows = khhi - khlo, ld = DH * IW;
    float* yr = y + oh * OW;
    __m512 va = column_max(r0, ld, rows, mk[0], lowest);
    for (int64_t b = 0; b < nb; ++b) {
      const __m512 vb = column_max(r0 + 32 * b + 16, ld, rows, mk[2 * b + 1], lowest),
                   vc = column_max(r0 + 32 * b + 32, ld, rows, mk[2 * b + 2], lowest);
      const __m512 e = _mm512_permutex2var_ps(va, even, vb), o = _mm512_permutex2var_ps(va, odd, vb);
      const __m512 e2 = _mm512_castsi512_ps(
          _mm512_maskz_alignr_epi32(0xFFFF, _mm512_castps_si512(vc), _mm512_castps_si512(e), 1));
      const int64_t n = OW - 16 * b;
      _mm512_mask_storeu_ps(yr + 16 * b, n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u),
                            _mm512_maskz_max_ps(0xFFFF, e2, _mm512_maskz_max_ps(0xFFFF, o, e)));
      va = vc;
    }
  }
}

}  // namespace pool_avx512_detail

#undef NETLITE_POOL512_TARGET

bool max_pool_plane_k3s2_avx512(const ConvShape& g, const float* x, float* y) {
  if (g.kernel[1] != 3 || g.stride[1] != 2 || g.dilation[1] != 1 ||
      (g.out[1] + 15) / 16 > pool_avx512_detail::kK3S2MaxBlocks)
    return false;
  pool_avx512_detail::plane_k3s2(g, x, y);
  return true;
}

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
bool max_pool_plane_k3s2_avx512(const ConvShape&, const float*, float*) { return false; }
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
