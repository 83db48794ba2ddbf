// AVX-512 depthwise convolution over channels-last data (see
// kernels/dw_channels_last.h): a vector holds 16 channels of one position. Each
// output row is walked per block of 16 channels: the positions whose taps all
// lie inside the row (the interior) go 8 or 4 at a time with the kernel width
// and stride fixed at compile time (3 wide, stride 1 or 2, no dilation), so an
// input vector loaded once feeds every output of the group whose window covers
// it; the edges, and every other geometry, go one position at a time with each
// tap checked. Channel counts that are not a multiple of 16 use a lane mask.
// Compiled for every x86-64 target with function-level target attributes and
// chosen at run time; the scalar reference is in dw_channels_last.cc.
#include "../dw_channels_last.h"

#include <algorithm>

#include "../unroll.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {
namespace x86 {
namespace dwcl_detail {

#define NETLITE_DWCL_TARGET __attribute__((target("avx512f,fma")))
#define NETLITE_DWCL_INLINE __attribute__((target("avx512f,fma"), always_inline)) inline

struct Row {
  const float* x;     // the input row of kernel row kh0 (the first inside the plane)
  int64_t ldx, xrow;  // floats between input positions, between input rows (kh steps: xrow * DH)
  const float* w;     // tap-major weights at channel c
  int64_t ldw;
  int64_t kh0, kh1;   // the kernel rows inside the plane
  __m512 bias[4], lo, hi;  // bias: of the block's vectors
  bool clamp;
  __mmask16 m;        // the block's channels
};

NETLITE_DWCL_INLINE void store(const Row& r, float* y, __m512 v, __mmask16 m) {
  if (r.clamp) v = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, v, r.lo), r.hi);
  _mm512_mask_storeu_ps(y, m, v);
}

// NB vectors of channels from the block's first: every lane of NB > 1 blocks is a
// channel (only single-vector blocks take the lane mask).
template <int NB>
NETLITE_DWCL_INLINE __mmask16 lanes(const Row& r) {
  return NB == 1 ? r.m : __mmask16(0xFFFF);
}

// G interior positions from input column iw0 (the first one's leftmost tap),
// NB vectors of channels: kernel KW wide, stride S, no dilation. Every FMA
// chain is one (position, vector) pair, so G * NB chains hide the FMA latency.
template <int KW, int S, int G, int NB>
NETLITE_DWCL_INLINE void group(const Row& r, int64_t iw0, float* y, int64_t ldy) {
  const __mmask16 m = lanes<NB>(r);
  __m512 acc[G][NB];
NETLITE_UNROLL(8)
  for (int j = 0; j < G; ++j)
NETLITE_UNROLL(4)
    for (int b = 0; b < NB; ++b) acc[j][b] = r.bias[b];
  for (int64_t kh = r.kh0; kh < r.kh1; ++kh) {
    const float* xr = r.x + (kh - r.kh0) * r.xrow + iw0 * r.ldx;
    const float* wr = r.w + kh * KW * r.ldw;
    constexpr int kCols = S * (G - 1) + KW;  // input positions the group reads in a row
    __m512 xv[kCols][NB];
NETLITE_UNROLL(24)
    for (int i = 0; i < kCols; ++i)
NETLITE_UNROLL(4)
      for (int b = 0; b < NB; ++b) xv[i][b] = _mm512_maskz_loadu_ps(m, xr + i * r.ldx + 16 * b);
NETLITE_UNROLL(3)
    for (int kw = 0; kw < KW; ++kw)
NETLITE_UNROLL(4)
      for (int b = 0; b < NB; ++b) {
        const __m512 wv = _mm512_maskz_loadu_ps(m, wr + kw * r.ldw + 16 * b);
NETLITE_UNROLL(8)
        for (int j = 0; j < G; ++j) acc[j][b] = _mm512_fmadd_ps(wv, xv[j * S + kw][b], acc[j][b]);
      }
  }
NETLITE_UNROLL(8)
  for (int j = 0; j < G; ++j)
NETLITE_UNROLL(4)
    for (int b = 0; b < NB; ++b) store(r, y + j * ldy + 16 * b, acc[j][b], m);
}

// One position of any geometry (one vector of channels): input columns iw0 +
// kw*DW, each checked against [0, IW).
NETLITE_DWCL_INLINE void single(const Row& r, int64_t iw0, int64_t IW, int64_t KW, int64_t DW, float* y) {
  __m512 acc0 = r.bias[0], acc1 = _mm512_setzero_ps();
  for (int64_t kh = r.kh0; kh < r.kh1; ++kh) {
    const float* xr = r.x + (kh - r.kh0) * r.xrow;
    const float* wr = r.w + kh * KW * r.ldw;
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int64_t iw = iw0 + kw * DW;
      if (iw < 0 || iw >= IW) continue;
      const __m512 p =
          _mm512_mul_ps(_mm512_maskz_loadu_ps(r.m, wr + kw * r.ldw), _mm512_maskz_loadu_ps(r.m, xr + iw * r.ldx));
      if (kw & 1)
        acc1 = _mm512_add_ps(acc1, p);
      else
        acc0 = _mm512_add_ps(acc0, p);
    }
  }
  store(r, y, _mm512_add_ps(acc0, acc1), r.m);
}

// One edge position of a 3-wide kernel at stride S, no dilation, NB vectors of
// channels: taps kw with 0 <= iw0 + kw < IW.
template <int NB>
NETLITE_DWCL_INLINE void edge3(const Row& r, int64_t iw0, int64_t IW, float* y) {
  const __mmask16 m = lanes<NB>(r);
  const int kw0 = iw0 < 0 ? int(-iw0) : 0, kw1 = IW - iw0 < 3 ? int(IW - iw0) : 3;
  __m512 acc[NB];
NETLITE_UNROLL(4)
  for (int b = 0; b < NB; ++b) acc[b] = r.bias[b];
  for (int64_t kh = r.kh0; kh < r.kh1; ++kh) {
    const float* xr = r.x + (kh - r.kh0) * r.xrow + iw0 * r.ldx;
    const float* wr = r.w + kh * 3 * r.ldw;
NETLITE_UNROLL(3)
    for (int kw = 0; kw < 3; ++kw)
      if (kw >= kw0 && kw < kw1)
NETLITE_UNROLL(4)
        for (int b = 0; b < NB; ++b)
          acc[b] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + kw * r.ldw + 16 * b),
                                   _mm512_maskz_loadu_ps(m, xr + kw * r.ldx + 16 * b), acc[b]);
  }
NETLITE_UNROLL(4)
  for (int b = 0; b < NB; ++b) store(r, y + 16 * b, acc[b], m);
}

// Output positions [b, e) of one row, all interior, kernel 3 wide at stride S,
// NB vectors of channels.
template <int S, int NB>
NETLITE_DWCL_INLINE void interior(const Row& r, int64_t b, int64_t e, int64_t PW, float* y, int64_t ldy) {
  constexpr int G = NB == 1 ? 8 : 8 / NB;  // at most 16 accumulators
  int64_t ow = b;
  for (; ow + G <= e; ow += G) group<3, S, G, NB>(r, ow * S - PW, y + ow * ldy, ldy);
  if (G > 4 && ow + 4 <= e) {
    group<3, S, (G > 4 ? 4 : 1), NB>(r, ow * S - PW, y + ow * ldy, ldy);
    ow += 4;
  }
  if (G > 2 && ow + 2 <= e) {
    group<3, S, (G > 2 ? 2 : 1), NB>(r, ow * S - PW, y + ow * ldy, ldy);
    ow += 2;
  }
  for (; ow < e; ++ow) group<3, S, 1, NB>(r, ow * S - PW, y + ow * ldy, ldy);
}

// One output row of the 3-wide fast path for NB vectors of channels.
template <int NB>
NETLITE_DWCL_INLINE void row3(const Row& r, int64_t OW, int64_t IW, int64_t SW, int64_t PW, int64_t in_b,
                              int64_t in_e, float* y, int64_t ldy) {
  for (int64_t ow = 0; ow < in_b; ++ow) edge3<NB>(r, ow * SW - PW, IW, y + ow * ldy);
  if (SW == 1)
    interior<1, NB>(r, in_b, in_e, PW, y, ldy);
  else
    interior<2, NB>(r, in_b, in_e, PW, y, ldy);
  for (int64_t ow = in_e; ow < OW; ++ow) edge3<NB>(r, ow * SW - PW, IW, y + ow * ldy);
}

}  // namespace dwcl_detail

NETLITE_DWCL_TARGET void depthwise_channels_last_avx512(const ConvShape& g, const DwChannelsLast& a) {
  using namespace dwcl_detail;
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1], SH = g.stride[0], SW = g.stride[1];
  const int64_t DH = g.dilation[0], DW = g.dilation[1], PH = g.pad[0], PW = g.pad[1];
  // The interior: output columns whose taps all lie in [0, IW).
  const bool fast = KW == 3 && DW == 1 && (SW == 1 || SW == 2);
  int64_t in_b = OW, in_e = OW;
  if (fast) {
    in_b = std::min<int64_t>(OW, (PW + SW - 1) / SW);
    const int64_t last = IW - KW + PW;  // ow * SW <= last
    in_e = last < 0 ? in_b : std::max(in_b, std::min<int64_t>(OW, last / SW + 1));
  }
  Row r;
  r.ldx = a.ldx;
  r.xrow = IW * a.ldx * DH;
  r.ldw = a.ldw;
  r.lo = _mm512_set1_ps(a.lo);
  r.hi = _mm512_set1_ps(a.hi);
  r.clamp = a.clamp;
  // A block of channels at a time over the whole plane: 64 (four vectors, four
  // FMA chains even at the edges) while they last, then 16 with a lane mask.
  for (int64_t c = a.c0; c < a.c1;) {
    const int64_t n = std::min<int64_t>(16, a.c1 - c);
    const int nb = fast && a.c1 - c >= 64 ? 4 : 1;
    r.m = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
    r.w = a.w + c;
    for (int b = 0; b < nb; ++b)
      r.bias[b] = a.bias ? _mm512_maskz_loadu_ps(r.m, a.bias + c + 16 * b) : _mm512_setzero_ps();
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t ih0 = oh * SH - PH;
      // kh with 0 <= ih0 + kh*DH < IH
      int64_t kh0 = 0, kh1 = KH;
      while (kh0 < KH && ih0 + kh0 * DH < 0) ++kh0;
      while (kh1 > kh0 && ih0 + (kh1 - 1) * DH >= IH) --kh1;
      r.kh0 = kh0;
      r.kh1 = kh1;
      r.x = kh1 > kh0 ? a.x + (ih0 + kh0 * DH) * IW * a.ldx + c : a.x;
      float* y = a.y + oh * OW * a.ldy + c;
      if (nb == 4)
        row3<4>(r, OW, IW, SW, PW, in_b, in_e, y, a.ldy);
      else if (fast)
        row3<1>(r, OW, IW, SW, PW, in_b, in_e, y, a.ldy);
      else
        for (int64_t ow = 0; ow < OW; ++ow) single(r, ow * SW - PW, IW, KW, DW, y + ow * a.ldy);
    }
    c += 16 * nb;
  }
}

NETLITE_DWCL_TARGET void channels_last_bias_act_avx512(float* y, int64_t n, int64_t C, int64_t ld,
                                                       const float* bias, bool clamp, float lo, float hi) {
  const __m512 lv = _mm512_set1_ps(lo), hv = _mm512_set1_ps(hi);
  for (int64_t p = 0; p < n; ++p) {
    float* yp = y + p * ld;
    for (int64_t c = 0; c < C; c += 16) {
      const int64_t k = std::min<int64_t>(16, C - c);
      const __mmask16 m = k == 16 ? __mmask16(0xFFFF) : __mmask16((1u << k) - 1u);
      __m512 v = _mm512_maskz_loadu_ps(m, yp + c);
      if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
      if (clamp) v = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, v, lv), hv);
      _mm512_mask_storeu_ps(yp + c, m, v);
    }
  }
}

#undef NETLITE_DWCL_INLINE
#undef NETLITE_DWCL_TARGET

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
namespace x86 {
void depthwise_channels_last_avx512(const ConvShape&, const DwChannelsLast&) {}
void channels_last_bias_act_avx512(float*, int64_t, int64_t, int64_t, const float*, bool, float, float) {}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
