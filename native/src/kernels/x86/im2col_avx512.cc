// AVX-512 im2col pieces (kernels/conv.cc):
//   gather_stride2_avx512 - a stride-2 row gather, dst[i] = src[2i], 16 outputs per
//     two loads and one permute; the tail by masked loads so that nothing past
//     src[2(n-1)] is read.
//   im2col_2d_avx512      - the whole 2-D im2col for a column stride of 1 or 2. Each
//     output row segment is a few masked loads and stores: lanes whose input column
//     falls in the padding are masked off the load and so come out 0, and nothing
//     outside the input row is read. Small planes (7 x 7: rows of 7) are where this
//     pays: the portable loop spends a memcpy call and a range computation per row.
//     Narrow planes whose zero-padded copy fits 16 KB go through that copy instead
//     (im2col_padded_s1): then each row segment is a plain copy.
// Compiled with function-level target attributes and chosen at run time
// (conv_avx512_available()).
#include "../conv.h"
#include "../im2col_rows.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {
namespace x86 {

__attribute__((target("avx512f"))) void gather_stride2_avx512(float* dst, const float* src, int64_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  int64_t i = 0;
  // A full block reads src[2i .. 2i+31]; src[2i+31] is needed by the next block, so it exists when i+16 < n.
  for (; i + 16 < n; i += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * i), b = _mm512_loadu_ps(src + 2 * i + 16);
    _mm512_storeu_ps(dst + i, _mm512_permutex2var_ps(a, even, b));
  }
  if (i < n) {
    const int64_t need = 2 * (n - i) - 1;  // src[2i .. 2i + need - 1]
    const __mmask16 m0 = __mmask16(need >= 16 ? 0xFFFFu : (1u << need) - 1u);
    const __mmask16 m1 = __mmask16(need <= 16 ? 0u : (1u << (need - 16)) - 1u);
    const __m512 a = _mm512_maskz_loadu_ps(m0, src + 2 * i), b = _mm512_maskz_loadu_ps(m1, src + 2 * i + 16);
    _mm512_mask_storeu_ps(dst + i, __mmask16((1u << (n - i)) - 1u), _mm512_permutex2var_ps(a, even, b));
  }
}

namespace im2col_avx512_detail {

// The first n lanes (0 <= n <= 16).
inline __mmask16 first_lanes(int64_t n) { return __mmask16((1u << n) - 1u); }

// Lanes [lo, hi) with the bounds clamped to [0, 16].
inline __mmask16 lane_range(int64_t lo, int64_t hi) {
  lo = std::max<int64_t>(0, std::min<int64_t>(16, lo));
  hi = std::max<int64_t>(lo, std::min<int64_t>(16, hi));
  return __mmask16(first_lanes(hi) & ~first_lanes(lo));
}

// xr + i as an address, also for an i outside the row: only masked loads whose
// lanes inside the row are set read through it.
inline const float* lane_base(const float* xr, int64_t i) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(xr) + uintptr_t(i * int64_t(sizeof(float))));
}

// One output row segment d[0, len) of a tap whose input row is xr (IW columns):
// d[j] = xr[j*SW + s] for j in [a, b) (those columns are inside the row) and 0
// elsewhere. SW is 1 or 2. Reads only columns inside the row.
__attribute__((target("avx512f"))) inline void im2col_segment(const float* xr, int64_t s, int64_t SW, int64_t a,
                                                              int64_t b, float* d, int64_t len) {
  if (len <= 16) {
    // One masked store. Lane j loads column j*SW + s, masked to the lanes in
    // [a, b), so the padding lanes come out 0.
    __m512 v;
    if (SW == 1) {
      v = _mm512_maskz_loadu_ps(lane_range(a, b), lane_base(xr, s));
    } else {
      // Columns s .. s + 31 hold lanes 0..15 at the even ones; [2a, 2b - 1) are needed.
      const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      const __mmask16 m0 = lane_range(2 * a, 2 * b - 1), m1 = lane_range(2 * a - 16, 2 * b - 17);
      const __m512 lo = _mm512_maskz_loadu_ps(m0, lane_base(xr, s));
      const __m512 hi = _mm512_maskz_loadu_ps(m1, lane_base(xr, s + 16));
      v = _mm512_permutex2var_ps(lo, even, hi);
    }
    _mm512_mask_storeu_ps(d, first_lanes(len), v);
    return;
  }
  for (int64_t j = 0; j < a; ++j) d[j] = 0.0f;
  if (b > a) {
    if (SW == 1) {
      std::memcpy(d + a, xr + a + s, size_t(b - a) * sizeof(float));
    } else {
      gather_stride2_avx512(d + a, xr + 2 * a + s, b - a);
    }
  }
  for (int64_t j = b; j < len; ++j) d[j] = 0.0f;
}

// Narrow planes at column stride 1 (rows of at most kPaddedMaxWidth outputs) whose
// zero-padded plane fits kPaddedMaxFloats: each channel's rows are first copied into
// that padded plane (on the stack; its border is zeroed once), so every tap's row
// segment is one plain copy, without the per-segment clipping above (which cost about
// as much as the GEMM after it on such planes). The ONNX zoo's MNIST model,
// bench_models --wall, 1 thread: its 5x5 conv over 14x14 planes (8 channels) 26 -> 21
// us, over 28x28 (1 channel) 9 -> 7; the model 0.038-0.039 -> 0.033 ms.
constexpr int64_t kPaddedMaxWidth = 32;
constexpr int64_t kPaddedMaxFloats = 4096;

// Copies n floats (contiguous) from s to d.
__attribute__((target("avx512f"))) inline void copy_row(const float* s, float* d, int64_t n) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) _mm512_storeu_ps(d + j, _mm512_loadu_ps(s + j));
  if (j < n) _mm512_mask_storeu_ps(d + j, first_lanes(n - j), _mm512_maskz_loadu_ps(first_lanes(n - j), s + j));
}

// The padded-plane im2col; false (nothing written) when the shape does not qualify.
__attribute__((target("avx512f"))) bool im2col_padded_s1(const ConvShape& g, const float* x, int64_t channels,
                                                         int64_t o0, int64_t on, float* col, int64_t ldcol) {
  const Im2colRows r(g, o0);
  if (r.SW != 1 || r.OW > kPaddedMaxWidth || on <= 0) return false;
  // The padded plane holds input rows [-PH, Hp - PH) and columns [-PW, Wp - PW):
  // every row and column a tap of the conv reads.
  const int64_t OH = g.out[0];
  const int64_t last_row = (OH - 1) * r.SH - r.PH + (r.KH - 1) * r.DH;
  const int64_t last_col = (r.OW - 1) - r.PW + (r.KW - 1) * r.DW;
  const int64_t Hp = r.PH + std::max(r.IH, last_row + 1), Wp = r.PW + std::max(r.IW, last_col + 1);
  if (Hp * Wp > kPaddedMaxFloats) return false;
  alignas(64) float p[kPaddedMaxFloats];
  std::memset(p, 0, size_t(Hp * Wp) * sizeof(float));
  // Only the input rows this tile's output rows read are copied.
  const int64_t oh_last = (o0 + on - 1) / r.OW;
  const int64_t ih_lo = std::max<int64_t>(0, r.oh_first * r.SH - r.PH);
  const int64_t ih_hi = std::min(r.IH, oh_last * r.SH - r.PH + (r.KH - 1) * r.DH + 1);
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * r.IH * r.IW;
    for (int64_t ih = ih_lo; ih < ih_hi; ++ih) copy_row(xc + ih * r.IW, p + (ih + r.PH) * Wp + r.PW, r.IW);
    for (int64_t kh = 0; kh < r.KH; ++kh) {
      for (int64_t kw = 0; kw < r.KW; ++kw) {
        float* dst = col + ((c * r.KH + kh) * r.KW + kw) * ldcol;
        // Output (oh, ow) reads padded row oh*SH + kh*DH, column ow + kw*DW.
        const float* tap = p + kh * r.DH * Wp + kw * r.DW;
        int64_t oh = r.oh_first, ow0 = r.ow_first;
        for (int64_t done = 0; done < on; ++oh, ow0 = 0) {
          const int64_t len = std::min(r.OW - ow0, on - done);
          copy_row(tap + oh * r.SH * Wp + ow0, dst + done, len);
          done += len;
        }
      }
    }
  }
  return true;
}

}  // namespace im2col_avx512_detail

__attribute__((target("avx512f"))) void im2col_2d_avx512(const ConvShape& g, const float* x, int64_t channels,
                                                         int64_t o0, int64_t on, float* col, int64_t ldcol) {
  if (im2col_avx512_detail::im2col_padded_s1(g, x, channels, o0, on, col, ldcol)) return;
  const Im2colRows r(g, o0);
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * r.IH * r.IW;
    for (int64_t kh = 0; kh < r.KH; ++kh) {
      for (int64_t kw = 0; kw < r.KW; ++kw) {
        float* dst = col + ((c * r.KH + kh) * r.KW + kw) * ldcol;
        int64_t lo, hi;
        r.valid_cols(kw, &lo, &hi);
        int64_t oh = r.oh_first, ow0 = r.ow_first;
        for (int64_t done = 0; done < on; ++oh, ow0 = 0) {
          const int64_t len = std::min(r.OW - ow0, on - done);
          const int64_t ih = oh * r.SH - r.PH + kh * r.DH;
          if (ih < 0 || ih >= r.IH) {  // a row in the padding: all zeros
            im2col_avx512_detail::im2col_segment(xc, 0, r.SW, 0, 0, dst + done, len);
          } else {
            int64_t a, b;
            Im2colRows::clip(lo, hi, ow0, len, &a, &b);
            im2col_avx512_detail::im2col_segment(xc + ih * r.IW, ow0 * r.SW + r.off(kw), r.SW, a, b, dst + done,
                                                 len);
          }
          done += len;
        }
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
void gather_stride2_avx512(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[2 * i];
}
void im2col_2d_avx512(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
                      int64_t ldcol) {
  im2col_reference(g, x, channels, o0, on, col, ldcol);
}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
