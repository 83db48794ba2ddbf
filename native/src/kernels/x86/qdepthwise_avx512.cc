// AVX-512 VBMI + VNNI depthwise plane kernel (see kernels/qdepthwise.h). Per
// output row and 16 output columns: for each kernel row and group of 4 taps,
// one 64-byte load of the input row (masked at the borders, where the padding
// value fills in), a vpermb that gives lane j the bytes [j*SW + t*DW] (t < 4),
// and a vpdpbusd with the 4 weights broadcast. No padded copy of the plane.
#include "../qdepthwise.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

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
    const __m512i init = _mm512_set1_epi32(a.acc_init[c]);
    const __m512 scale = _mm512_set1_ps(a.scale[c]), offset = _mm512_set1_ps(a.offset[c]);
    const __m512 lo = _mm512_set1_ps(a.lo[c]), hi = _mm512_set1_ps(a.hi[c]);
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
