// AVX-512 VBMI + VNNI depthwise plane kernel (see kernels/qdepthwise.h). Per
// output row and 16 output columns: for each kernel row and group of 4 taps,
// one 64-byte load of the input row (masked at the borders, where the padding
// value fills in), a vpermb that gives lane j the bytes [j*SW + t*DW] (t < 4),
// and a vpdpbusd with the 4 weights broadcast. No padded copy of the plane.
// Kernels of 3 rows on rows of 12 outputs or more share loads and permutes
// across output rows and column blocks (plane_k3); narrower rows take groups of
// rows at once from one 128-byte window (plane_small).
#include "../qdepthwise.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#include <algorithm>

// GCC 12 reports the intrinsics' internal _mm512_undefined_*() values as maybe
// uninitialized once they are inlined into these target functions: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace netlite {
namespace kernels {
namespace x86 {

#define NETLITE_QDW_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vnni")))
#define NETLITE_QDW_INLINE __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vnni"), always_inline)) inline

bool qdepthwise_avx512_usable() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni");
  }();
  return ok;
}

namespace qdepthwise_avx512_detail {

constexpr int kMaxRows = 16;  // kernel rows of the single-group path

// Byte mask of the 64-byte window starting at input column `base` that lies inside [0, IW).
NETLITE_QDW_INLINE __mmask64 window_mask(int64_t base, int64_t IW) {
  if (base >= IW || base + 64 <= 0) return 0;
  const int64_t lo_b = base < 0 ? -base : 0, hi_b = IW - base < 64 ? IW - base : 64;
  return (hi_b >= 64 ? ~__mmask64(0) : (__mmask64(1) << hi_b) - 1) & ~((__mmask64(1) << lo_b) - 1);
}

// See qno_contract (qgemm.h): no FMA contraction across this point.
NETLITE_QDW_INLINE __m512 no_contract(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

NETLITE_QDW_INLINE void requant_store(__m512i acc, __m512 scale, __m512 offset, __m512 lo, __m512 hi, __m512i zp,
                                      uint8_t* dst, int64_t left) {
  __m512 f = no_contract(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale));
  f = _mm512_add_ps(f, offset);
  f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  const __m512i qv = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
  _mm512_mask_cvtepi32_storeu_epi8(dst, left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u), qv);
}

// Kernels up to 4 taps wide (one tap group per row) and up to kMaxRows rows; KHT
// is the row count when known at compile time (0: g.kernel[0]). Rows outside the
// image load nothing (mask 0) and read the padding value.
template <int KHT>
NETLITE_QDW_TARGET void plane_narrow(const ConvShape& g, uintptr_t x, const int32_t* w4, __m512i idx, __m512i flip,
                                     __m512i pad, __m512i init, __m512 scale, __m512 offset, __m512 lo, __m512 hi,
                                     __m512i zp, int64_t oh0, int64_t oh1, uint8_t* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OW = g.out[1];
  const int KH = KHT > 0 ? KHT : int(g.kernel[0]);
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], PH = g.pad[0], PW = g.pad[1];
  __m512i wv[kMaxRows];
  for (int kh = 0; kh < KH; ++kh) wv[kh] = _mm512_set1_epi32(w4[kh]);
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    uintptr_t rows[kMaxRows];
    __mmask64 valid[kMaxRows];
    for (int kh = 0; kh < KH; ++kh) {
      const int64_t ih = oh * SH - PH + kh * DH;
      valid[kh] = ih >= 0 && ih < IH ? ~__mmask64(0) : 0;
      rows[kh] = x + uintptr_t((ih >= 0 && ih < IH ? ih : 0) * IW);
    }
    uint8_t* yr = y + oh * OW;
    int64_t ow = 0;
    // Two independent 16-column blocks per step keep more dpbusd chains in flight.
    for (; ow + 16 < OW; ow += 32) {
      const int64_t base0 = ow * SW - PW, base1 = base0 + 16 * SW;  // input column of lane byte 0
      const __mmask64 m0 = window_mask(base0, IW), m1 = window_mask(base1, IW);
      __m512i acc0 = init, acc1 = init;
      for (int kh = 0; kh < KH; ++kh) {
        // Masked-off bytes are not accessed, so the window may start before the row.
        const __m512i v0 = _mm512_mask_loadu_epi8(pad, m0 & valid[kh], reinterpret_cast<const void*>(rows[kh] + uintptr_t(base0)));
        const __m512i v1 = _mm512_mask_loadu_epi8(pad, m1 & valid[kh], reinterpret_cast<const void*>(rows[kh] + uintptr_t(base1)));
        acc0 = _mm512_dpbusd_epi32(acc0, _mm512_permutexvar_epi8(idx, _mm512_xor_si512(v0, flip)), wv[kh]);
        acc1 = _mm512_dpbusd_epi32(acc1, _mm512_permutexvar_epi8(idx, _mm512_xor_si512(v1, flip)), wv[kh]);
      }
      requant_store(acc0, scale, offset, lo, hi, zp, yr + ow, 16);
      requant_store(acc1, scale, offset, lo, hi, zp, yr + ow + 16, OW - ow - 16);
    }
    if (ow < OW) {
      const int64_t base = ow * SW - PW;
      const __mmask64 m = window_mask(base, IW);
      __m512i acc = init;
      for (int kh = 0; kh < KH; ++kh) {
        const __m512i v = _mm512_mask_loadu_epi8(pad, m & valid[kh], reinterpret_cast<const void*>(rows[kh] + uintptr_t(base)));
        acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(idx, _mm512_xor_si512(v, flip)), wv[kh]);
      }
      requant_store(acc, scale, offset, lo, hi, zp, yr + ow, OW - ow);
    }
  }
}

// Any kernel size: tap groups of 4 along each row.
NETLITE_QDW_TARGET void plane_wide(const ConvShape& g, uintptr_t x, const int32_t* w4, int64_t groups, __m512i idx,
                                   __m512i flip, __m512i pad, __m512i init, __m512 scale, __m512 offset, __m512 lo,
                                   __m512 hi, __m512i zp, int64_t oh0, int64_t oh1, uint8_t* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OW = g.out[1], KH = g.kernel[0];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t PH = g.pad[0], PW = g.pad[1];
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    uint8_t* yr = y + oh * OW;
    for (int64_t ow = 0; ow < OW; ow += 16) {
      __m512i acc = init;
      for (int64_t kh = 0; kh < KH; ++kh) {
        const int64_t ih = oh * SH - PH + kh * DH;
        const bool inside = ih >= 0 && ih < IH;
        const uintptr_t row = x + uintptr_t((inside ? ih : 0) * IW);
        for (int64_t gi = 0; gi < groups; ++gi) {
          const int64_t base = ow * SW - PW + gi * 4 * DW;
          const __mmask64 m = inside ? window_mask(base, IW) : 0;
          const __m512i v = _mm512_mask_loadu_epi8(pad, m, reinterpret_cast<const void*>(row + uintptr_t(base)));
          acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(idx, _mm512_xor_si512(v, flip)),
                                    _mm512_set1_epi32(w4[kh * groups + gi]));
        }
      }
      requant_store(acc, scale, offset, lo, hi, zp, yr + ow, OW - ow);
    }
  }
}

// Kernels of 3 rows and at most 4 taps a row, vertical dilation 1, vertical stride 1 or 2
// (MobileNet's 3x3 layers on planes wider than 16): RS output rows per step share the
// permuted taps of the input rows they have in common, and one 64-byte load of an input
// row feeds every 16-output column block whose taps lie in it (3 at stride 1). The
// column blocks, their windows and masks depend only on the geometry (ColPlan, built
// once per call); the rows' validity only on the row.
constexpr int kColMaxGroups = 32;  // windows per output row (96 * 16 outputs at stride 1)
constexpr int kColMaxBlocks = 3;   // 16-output blocks per window
// Output rows per step at vertical stride 1 and 2 (a power of 2; the last rows of a band go
// in steps of half as many, down to one). Stride 1 shares 4 input rows of every 6 loaded;
// stride 2 only 1 of 5, which more rows per step did not make faster.
constexpr int kRowsS1 = 4, kRowsS2 = 2;

struct ColPlan {
  int64_t groups = 0;
  int64_t base[kColMaxGroups];     // input column of the window's byte 0 (may be negative)
  __mmask64 mask[kColMaxGroups];   // window bytes inside the row
  int64_t ow[kColMaxGroups];       // first output column of the window's first block
  int blocks[kColMaxGroups];       // 16-output blocks in the window
  alignas(64) uint8_t idx[kColMaxBlocks][64];  // block p, lane j, tap t: byte (p * 16 + j) * SW + t * DW
};

NETLITE_QDW_INLINE bool build_col_plan(const ConvShape& g, ColPlan* p) {
  const int64_t IW = g.in[1], OW = g.out[1], KW = g.kernel[1], SW = g.stride[1], DW = g.dilation[1], PW = g.pad[1];
  if (KW > 4 || OW < 1) return false;
  // Blocks per window: the last tap of the last block's last lane must lie in the 64 bytes.
  // Tap slots past KW carry weight 0, so whatever byte their wrapped index picks is harmless.
  int64_t per = 0;
  while (per < kColMaxBlocks && (per * 16 + 15) * SW + (KW - 1) * DW < 64) ++per;
  if (per == 0) return false;
  const int64_t nblocks = (OW + 15) / 16, groups = (nblocks + per - 1) / per;
  if (groups > kColMaxGroups) return false;
  p->groups = groups;
  for (int64_t gi = 0; gi < groups; ++gi) {
    p->ow[gi] = gi * per * 16;
    p->base[gi] = p->ow[gi] * SW - PW;
    p->mask[gi] = window_mask(p->base[gi], IW);
    p->blocks[gi] = int(std::min(per, nblocks - gi * per));
  }
  for (int64_t b = 0; b < kColMaxBlocks; ++b)
    for (int j = 0; j < 16; ++j)
      for (int t = 0; t < 4; ++t) p->idx[b][j * 4 + t] = uint8_t(((b * 16 + j) * SW + t * DW) & 63);
  return true;
}

// Channel weights [3][KW] (KW <= 4) as each row's taps in one dword (bytes past KW 0),
// broadcast: a masked load and a byte permute per row instead of a scalar packing loop.
struct K3Weights {
  __m512i idx[3];
  __mmask64 taps;  // bytes t < KW of every dword
  NETLITE_QDW_INLINE explicit K3Weights(int64_t KW) {
    taps = 0;
    for (int j = 0; j < 16; ++j) taps |= ((__mmask64(1) << KW) - 1) << (4 * j);
    for (int kh = 0; kh < 3; ++kh) {
      uint32_t v = 0;
      for (int t = 0; t < 4; ++t) v |= uint32_t((kh * KW + t) & 63) << (8 * t);
      idx[kh] = _mm512_set1_epi32(int32_t(v));
    }
  }
};

template <int RS, int SH>
NETLITE_QDW_TARGET void plane_k3(const ColPlan& cp, const ConvShape& g, uintptr_t x, __m512i wv0, __m512i wv1,
                                 __m512i wv2, __m512i flip, __m512i pad, __m512i init, __m512 scale, __m512 offset,
                                 __m512 lo, __m512 hi, __m512i zp, int64_t oh0, int64_t oh1, uint8_t* y) {
  constexpr int NR = (RS - 1) * SH + 3;  // input rows of one step
  const int64_t IH = g.in[0], IW = g.in[1], OW = g.out[1], PH = g.pad[0];
  int64_t oh = oh0;
  for (; oh + RS <= oh1; oh += RS) {
    uintptr_t rows[NR];
    __mmask64 valid[NR];
#pragma GCC unroll 16
    for (int k = 0; k < NR; ++k) {
      const int64_t ih = oh * SH - PH + k;
      const bool in = ih >= 0 && ih < IH;
      valid[k] = in ? ~__mmask64(0) : 0;
      rows[k] = x + uintptr_t((in ? ih : 0) * IW);
    }
    uint8_t* yr = y + oh * OW;
    for (int64_t gi = 0; gi < cp.groups; ++gi) {
      const int64_t base = cp.base[gi];
      const __mmask64 m = cp.mask[gi];
      __m512i L[NR];
#pragma GCC unroll 16
      for (int k = 0; k < NR; ++k)  // masked-off bytes are not accessed, so the window may start before the row
        L[k] = _mm512_xor_si512(
            _mm512_mask_loadu_epi8(pad, m & valid[k], reinterpret_cast<const void*>(rows[k] + uintptr_t(base))), flip);
      const int nb = cp.blocks[gi];
      for (int b = 0; b < nb; ++b) {
        const __m512i idx = _mm512_load_si512(cp.idx[b]);
        __m512i P[NR];
#pragma GCC unroll 16
        for (int k = 0; k < NR; ++k) P[k] = _mm512_permutexvar_epi8(idx, L[k]);
        const int64_t ow = cp.ow[gi] + 16 * b;
#pragma GCC unroll 8
        for (int r = 0; r < RS; ++r) {
          __m512i acc = _mm512_dpbusd_epi32(init, P[r * SH], wv0);
          acc = _mm512_dpbusd_epi32(acc, P[r * SH + 1], wv1);
          acc = _mm512_dpbusd_epi32(acc, P[r * SH + 2], wv2);
          requant_store(acc, scale, offset, lo, hi, zp, yr + r * OW + ow, OW - ow);
        }
      }
    }
  }
  if constexpr (RS > 1) {
    if (oh < oh1)
      plane_k3<RS / 2, SH>(cp, g, x, wv0, wv1, wv2, flip, pad, init, scale, offset, lo, hi, zp, oh, oh1, y);
  }
}

// Channel c's zero-point correction and requantization, broadcast.
struct ChannelRequant {
  NETLITE_QDW_INLINE ChannelRequant(const QDepthwiseArgs& a, int64_t c)
      : init(_mm512_set1_epi32(a.acc_init[c])), scale(_mm512_set1_ps(a.scale[c])),
        offset(_mm512_set1_ps(a.offset[c])), lo(_mm512_set1_ps(a.lo[c])), hi(_mm512_set1_ps(a.hi[c])) {}
  __m512i init;
  __m512 scale, offset, lo, hi;
};

// Small planes: rows of at most 16 outputs (MobileNetV2's 14x14 and 7x7 layers), where a
// vector per output row leaves lanes idle and the rows' short dependency chains (three
// dpbusd, then the requantization) run one after another. The output rows go in groups
// of R whose input rows fit one 128-byte window (two loads); the group's outputs, taken
// as one flat run of R * OW positions, fill whole vectors, and lane j of a vector takes
// its taps from the window with a byte permute whose indices (and the mask of taps in
// the image, padding reading the zero point) depend only on the geometry: they are
// built once per call for the groups of rows [oh0, oh1) and serve every channel.
constexpr int kSmallMaxGroups = 8;
constexpr int kSmallMaxTapGroups = 3;  // kernels of at most 12 taps (3x3)
constexpr int kSmallMaxVectors = 48;   // output vectors x tap groups over all groups

struct SmallPlan {
  int64_t groups = 0, tap_groups = 0;
  bool two_sources = false;  // the window is wider than 64 bytes
  int64_t win_start[kSmallMaxGroups];   // plane offset of each group's window (may be negative)
  __mmask64 win_mask[kSmallMaxGroups][2];  // window bytes inside the plane
  int64_t out_start[kSmallMaxGroups], outs[kSmallMaxGroups], first_vec[kSmallMaxGroups + 1];
  alignas(64) uint8_t idx[kSmallMaxVectors][64];  // [vector * tap_groups + gi]
  __mmask64 tap_mask[kSmallMaxVectors];           // taps in the image (others read the zero point)
};

// Builds the plan for output rows [oh0, oh1) of g, or returns false when the plane's rows
// are too wide (more than 16 outputs), a group of one row needs more than 128 bytes, the
// kernel has more than 12 taps, or the tables would not fit.
NETLITE_QDW_INLINE bool build_small_plan(const ConvShape& g, int64_t oh0, int64_t oh1, SmallPlan* p) {
  const int64_t IH = g.in[0], IW = g.in[1], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t PH = g.pad[0], PW = g.pad[1];
  const int64_t taps = KH * KW, tg = (taps + 3) / 4;
  if (OW > 16 || OW < 1 || oh1 <= oh0 || tg > kSmallMaxTapGroups || IW < 1) return false;
  auto window_rows = [&](int64_t rows) { return (rows - 1) * SH + (KH - 1) * DH + 1; };
  int64_t R = 0;
  while (R < oh1 - oh0 && window_rows(R + 1) * IW <= 128) ++R;
  if (R == 0) return false;
  int64_t tap_kh[4 * kSmallMaxTapGroups], tap_kw[4 * kSmallMaxTapGroups];  // slot s: tap (s / KW, s % KW)
  for (int64_t s = 0; s < 4 * tg; ++s) {
    tap_kh[s] = s / KW;
    tap_kw[s] = s % KW;
  }
  p->tap_groups = tg;
  p->groups = 0;
  p->two_sources = window_rows(R) * IW > 64;
  int64_t vec = 0;
  for (int64_t r0 = oh0; r0 < oh1; r0 += R) {
    const int64_t gi = p->groups;
    if (gi == kSmallMaxGroups) return false;
    const int64_t rows = std::min(R, oh1 - r0), n = rows * OW, nv = (n + 15) / 16;
    if ((vec + nv) * tg > kSmallMaxVectors) return false;
    const int64_t ih0 = r0 * SH - PH, start = ih0 * IW;
    p->win_start[gi] = start;
    for (int h = 0; h < 2; ++h) p->win_mask[gi][h] = window_mask(start + 64 * h, IH * IW);  // bytes in the plane
    p->out_start[gi] = r0 * OW;
    p->outs[gi] = n;
    p->first_vec[gi] = vec;
    for (int64_t t = 0; t < tg * nv; ++t) p->tap_mask[vec * tg + t] = 0;
    // Lane by lane (output position pos, walked without dividing), tap slot by slot.
    int64_t oh = r0, ow = 0;
    for (int64_t pos = 0; pos < nv * 16; ++pos) {
      const int64_t v = pos / 16, j = pos % 16;
      for (int64_t s = 0; s < 4 * tg; ++s) {
        const int64_t kh = tap_kh[s], kw = tap_kw[s];
        const int64_t ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;
        const bool in = pos < n && s < taps && ih >= 0 && ih < IH && iw >= 0 && iw < IW;
        const int64_t k = (vec + v) * tg + s / 4;
        p->idx[k][4 * j + s % 4] = in ? uint8_t((ih - ih0) * IW + iw) : 0;
        if (in) p->tap_mask[k] |= __mmask64(1) << (4 * j + s % 4);
      }
      if (++ow == OW) {
        ow = 0;
        ++oh;
      }
    }
    vec += nv;
    ++p->groups;
  }
  p->first_vec[p->groups] = vec;
  return true;
}

// wv[t]: taps 4t .. 4t + 3 of the channel (flattened over (kh, kw)), broadcast.
template <bool TwoSources>
NETLITE_QDW_TARGET void plane_small(const SmallPlan& p, uintptr_t x, const __m512i* wv, __m512i flip, __m512i pad,
                                    __m512i init, __m512 scale, __m512 offset, __m512 lo, __m512 hi, __m512i zp,
                                    uint8_t* y) {
  const int64_t tg = p.tap_groups;
  for (int64_t gi = 0; gi < p.groups; ++gi) {
    const uintptr_t src = x + uintptr_t(p.win_start[gi]);  // masked-off bytes are not accessed
    const __m512i w0 = _mm512_xor_si512(
        _mm512_maskz_loadu_epi8(p.win_mask[gi][0], reinterpret_cast<const void*>(src)), flip);
    const __m512i w1 = TwoSources ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(p.win_mask[gi][1],
                                                                             reinterpret_cast<const void*>(src + 64)),
                                                     flip)
                                  : w0;
    uint8_t* yg = y + p.out_start[gi];
    for (int64_t v = p.first_vec[gi]; v < p.first_vec[gi + 1]; ++v) {
      __m512i acc = init;
      for (int64_t t = 0; t < tg; ++t) {
        const int64_t k = v * tg + t;
        const __m512i idx = _mm512_load_si512(p.idx[k]);
        const __m512i taps = TwoSources ? _mm512_mask_blend_epi8(p.tap_mask[k], pad, _mm512_permutex2var_epi8(w0, idx, w1))
                                        : _mm512_mask_permutexvar_epi8(pad, p.tap_mask[k], idx, w0);
        acc = _mm512_dpbusd_epi32(acc, taps, wv[t]);
      }
      const int64_t done = (v - p.first_vec[gi]) * 16;
      requant_store(acc, scale, offset, lo, hi, zp, yg + done, p.outs[gi] - done);
    }
  }
}

}  // namespace qdepthwise_avx512_detail

NETLITE_QDW_TARGET void qdepthwise_avx512(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, int64_t oh0,
                                          int64_t oh1, const QDepthwiseArgs& a, uint8_t* y) {
  using namespace qdepthwise_avx512_detail;
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SW = g.stride[1], DW = g.dilation[1];
  const int64_t groups = (KW + 3) / 4;
  // Lane byte 4 * j + t reads tap t of output column j: offset j*SW + t*DW.
  alignas(64) uint8_t idx_bytes[64];
  for (int j = 0; j < 16; ++j)
    for (int t = 0; t < 4; ++t) idx_bytes[j * 4 + t] = uint8_t(j * SW + t * DW);
  const __m512i idx = _mm512_load_si512(idx_bytes);
  const uint8_t flip_byte = a.x_signed ? 0x80 : 0;
  const __m512i flip = _mm512_set1_epi8(char(flip_byte));
  // Taps outside the image read the zero point (raw domain), which acc_init cancels.
  const __m512i pad = _mm512_set1_epi8(char(uint8_t(a.x_zero_u8) ^ flip_byte));
  const __m512i zp = _mm512_set1_epi32(a.zero_point);
  // Rows of at least 12 outputs go through plane_k3 when the kernel allows (MobileNet's 3x3
  // layers down to 14x14); narrower rows fill vectors better several at a time (plane_small).
  ColPlan cols;
  const bool k3 = OW >= 12 && groups == 1 && KH == 3 && g.dilation[0] == 1 && (g.stride[0] == 1 || g.stride[0] == 2) &&
                  build_col_plan(g, &cols);
  if (k3) {
    const K3Weights kw(KW);
    for (int64_t c = c0; c < c1; ++c) {
      const __m512i wc = _mm512_maskz_loadu_epi8((__mmask64(1) << (3 * KW)) - 1, a.w + c * 3 * KW);
      const __m512i wv0 = _mm512_maskz_permutexvar_epi8(kw.taps, kw.idx[0], wc);
      const __m512i wv1 = _mm512_maskz_permutexvar_epi8(kw.taps, kw.idx[1], wc);
      const __m512i wv2 = _mm512_maskz_permutexvar_epi8(kw.taps, kw.idx[2], wc);
      const ChannelRequant q(a, c);
      const uintptr_t xc = reinterpret_cast<uintptr_t>(x) + uintptr_t(c * IH * IW);
      uint8_t* yc = y + c * OH * OW;
      if (g.stride[0] == 1)
        plane_k3<kRowsS1, 1>(cols, g, xc, wv0, wv1, wv2, flip, pad, q.init, q.scale, q.offset, q.lo, q.hi, zp, oh0,
                             oh1, yc);
      else
        plane_k3<kRowsS2, 2>(cols, g, xc, wv0, wv1, wv2, flip, pad, q.init, q.scale, q.offset, q.lo, q.hi, zp, oh0,
                             oh1, yc);
    }
    return;
  }
  SmallPlan small;
  if (build_small_plan(g, oh0, oh1, &small)) {
    // Pad: padded taps read the zero point in the flipped (u8) domain, like the windows.
    const __m512i pad_u8 = _mm512_set1_epi8(char(uint8_t(a.x_zero_u8)));
    const int64_t taps = KH * KW;  // <= 12
    for (int64_t c = c0; c < c1; ++c) {
      // Taps flattened over (kh, kw), 4 per group, taps past the kernel 0.
      const __m512i wc = _mm512_maskz_loadu_epi8((__mmask64(1) << taps) - 1, a.w + c * taps);
      __m512i wv[kSmallMaxTapGroups];
      for (int64_t t = 0; t < small.tap_groups; ++t) wv[t] = _mm512_permutexvar_epi32(_mm512_set1_epi32(int(t)), wc);
      const ChannelRequant q(a, c);
      const uintptr_t xc = reinterpret_cast<uintptr_t>(x) + uintptr_t(c * IH * IW);
      uint8_t* yc = y + c * OH * OW;
      if (small.two_sources)
        plane_small<true>(small, xc, wv, flip, pad_u8, q.init, q.scale, q.offset, q.lo, q.hi, zp, yc);
      else
        plane_small<false>(small, xc, wv, flip, pad_u8, q.init, q.scale, q.offset, q.lo, q.hi, zp, yc);
    }
    return;
  }
  int32_t w4[256];
  for (int64_t c = c0; c < c1; ++c) {
    // The plane's weights as 4-tap groups (taps past KW are 0).
    const int8_t* w = a.w + c * KH * KW;
    for (int64_t i = 0; i < KH * groups; ++i) {  // <= 256 (checked by the caller)
      const int64_t kh = i / groups, kw0 = (i % groups) * 4;
      uint32_t v = 0;
      for (int t = 0; t < 4; ++t)
        if (kw0 + t < KW) v |= uint32_t(uint8_t(w[kh * KW + kw0 + t])) << (8 * t);
      w4[i] = int32_t(v);
    }
    const ChannelRequant q(a, c);
    const __m512i init = q.init;
    const __m512 scale = q.scale, offset = q.offset, lo = q.lo, hi = q.hi;
    const uintptr_t xc = reinterpret_cast<uintptr_t>(x) + uintptr_t(c * IH * IW);
    uint8_t* yc = y + c * OH * OW;
    if (groups == 1 && KH == 3)
      plane_narrow<3>(g, xc, w4, idx, flip, pad, init, scale, offset, lo, hi, zp, oh0, oh1, yc);
    else if (groups == 1 && KH <= kMaxRows)
      plane_narrow<0>(g, xc, w4, idx, flip, pad, init, scale, offset, lo, hi, zp, oh0, oh1, yc);
    else
      plane_wide(g, xc, w4, groups, idx, flip, pad, init, scale, offset, lo, hi, zp, oh0, oh1, yc);
  }
}

#undef NETLITE_QDW_TARGET
#undef NETLITE_QDW_INLINE

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
