// AVX-512 direct convolution for few input channels, stride 2 (see
// ../conv_small_c.h). Per output row, each of the C*KH input rows its window
// reads is split into even and odd padded columns (zeros outside the image),
// so tap kw of output column j reads column j + kw/2 of the even (kw even) or
// odd (kw odd) half: contiguous vectors. A block keeps 4 output channels x up
// to 64 columns (16 accumulators) over every tap: per tap NV loads, 4
// broadcasts and 4*NV FMAs. Rows outside the image are skipped, not summed as
// zeros. Compiled with function-level target attributes and chosen at run time.
#include "../conv_small_c.h"
#include "../unroll.h"

#include <algorithm>
#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "../conv.h"

namespace netlite {
namespace kernels {
namespace x86 {
namespace small_c_detail {

constexpr int kMB = 4;  // output channels per block

// dst[i] = padded[2i + parity] for i < half, where padded[p] = src[p - PW]
// inside [0, IW) and 0 elsewhere.
__attribute__((target("avx512f"))) inline void split_row(const float* src, int64_t IW, int64_t PW, int parity,
                                                         float* dst, int64_t half) {
  std::memset(dst, 0, size_t(half) * sizeof(float));
  // First i whose column 2i + parity - PW is >= 0, and that column (0 or 1).
  const int64_t i0 = std::max<int64_t>(0, (PW - parity + 1) / 2);
  const int64_t s0 = 2 * i0 + parity - PW;
  if (s0 >= IW || i0 >= half) return;
  const int64_t n = std::min((IW - s0 + 1) / 2, half - i0);
  gather_stride2_avx512(dst + i0, src + s0, n);
}

template <int NV>
__attribute__((target("avx512f,fma"))) inline void block(const SmallCConv& a, const float* const* rows,
                                                          int64_t half, int64_t m0, int64_t oh, int64_t j0) {
  const int mb = int(std::min<int64_t>(kMB, a.M - m0));
  const int64_t taps = a.C * a.KH * a.KW;
  const float* wm[kMB];
  for (int i = 0; i < kMB; ++i) wm[i] = a.w + (m0 + std::min(i, mb - 1)) * taps;
  // Fully unrolled (gcc -O2 would otherwise keep the accumulators on the stack).
  __m512 acc[kMB][NV];
NETLITE_UNROLL(4)
  for (int i = 0; i < kMB; ++i)
NETLITE_UNROLL(4)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int64_t r = 0; r < a.C * a.KH; ++r) {
    const float* row = rows[r];
    if (!row) continue;
    for (int64_t kw = 0; kw < a.KW; ++kw) {
      const float* src = row + (kw & 1) * half + (kw >> 1) + j0;
      __m512 xv[NV];
NETLITE_UNROLL(4)
      for (int v = 0; v < NV; ++v) xv[v] = _mm512_loadu_ps(src + 16 * v);
      const int64_t t = r * a.KW + kw;
NETLITE_UNROLL(4)
      for (int i = 0; i < kMB; ++i) {
        const __m512 wv = _mm512_set1_ps(wm[i][t]);
NETLITE_UNROLL(4)
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(wv, xv[v], acc[i][v]);
      }
    }
  }
  const int64_t left = a.OW - j0;
  const __m512 lo = _mm512_set1_ps(a.lo), hi = _mm512_set1_ps(a.hi);
NETLITE_UNROLL(4)
  for (int i = 0; i < mb; ++i) {
    const __m512 b = _mm512_set1_ps(a.bias ? a.bias[m0 + i] : 0.0f);
    float* y = a.y + (m0 + i) * a.y_stride() + oh * a.OW + j0;
NETLITE_UNROLL(4)
    for (int v = 0; v < NV; ++v) {
      __m512 o = _mm512_add_ps(acc[i][v], b);
      if (a.clamp) {  // masked forms: gcc 12 warns about the unmasked ones' undefined source
        o = _mm512_mask_max_ps(o, 0xFFFF, o, lo);
        o = _mm512_mask_min_ps(o, 0xFFFF, o, hi);
      }
      const int64_t n = left - 16 * v;
      if (n >= 16)
        _mm512_storeu_ps(y + 16 * v, o);
      else
        _mm512_mask_storeu_ps(y + 16 * v, __mmask16((1u << n) - 1u), o);
    }
  }
}

}  // namespace small_c_detail

__attribute__((target("avx512f,fma"))) void small_c_conv_rows_avx512(const SmallCConv& a, int64_t oh0, int64_t oh1,
                                                                      float* scratch) {
  using namespace small_c_detail;
  const int64_t half = small_c_conv_scratch_floats(a) / (a.C * a.KH * 2);
  const float* rows[kSmallConvMaxC * kSmallConvMaxK];
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    for (int64_t c = 0; c < a.C; ++c)
      for (int64_t kh = 0; kh < a.KH; ++kh) {
        const int64_t r = c * a.KH + kh, ih = 2 * oh - a.PH + kh;
        if (ih < 0 || ih >= a.IH) {
          rows[r] = nullptr;
          continue;
        }
        float* even = scratch + r * 2 * half;
        const float* src = a.x + (c * a.IH + ih) * a.IW;
        split_row(src, a.IW, a.PW, 0, even, half);
        split_row(src, a.IW, a.PW, 1, even + half, half);
        rows[r] = even;
      }
    for (int64_t m0 = 0; m0 < a.M; m0 += kMB)
      for (int64_t j0 = 0; j0 < a.OW; j0 += 64) {
        switch (std::min<int64_t>(4, (a.OW - j0 + 15) / 16)) {
          case 1: block<1>(a, rows, half, m0, oh, j0); break;
          case 2: block<2>(a, rows, half, m0, oh, j0); break;
          case 3: block<3>(a, rows, half, m0, oh, j0); break;
          default: block<4>(a, rows, half, m0, oh, j0); break;
        }
      }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
namespace x86 {
void small_c_conv_rows_avx512(const SmallCConv& a, int64_t oh0, int64_t oh1, float*) {
  small_c_conv_rows_reference(a, oh0, oh1);
}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
