#include "qdepthwise.h"

#include <cstring>

namespace netlite {
namespace kernels {
namespace qdepthwise_detail {

struct Padded {
  int64_t rows = 0, pitch = 0;
};

// Rows and row pitch of the portable path's padded plane: every tap any output reads.
Padded padded(const ConvShape& g) {
  Padded p;
  const int64_t OH = g.out[0], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
  p.rows = OH > 0 ? (OH - 1) * g.stride[0] + (KH - 1) * g.dilation[0] + 1 : 0;
  int64_t width = OW > 0 ? (OW - 1) * g.stride[1] + (KW - 1) * g.dilation[1] + 1 : 0;
  if (g.pad[1] + g.in[1] > width) width = g.pad[1] + g.in[1];
  p.pitch = width;
  return p;
}

bool simd_ok(const ConvShape& g) {
  return 15 * g.stride[1] + 3 * g.dilation[1] < 64 && g.kernel[0] * ((g.kernel[1] + 3) / 4) <= 256;
}

}  // namespace qdepthwise_detail

int64_t qdepthwise_scratch_bytes(const ConvShape& g) {
  const qdepthwise_detail::Padded p = qdepthwise_detail::padded(g);
  return p.rows * p.pitch;
}

void qdepthwise_reference(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, const QDepthwiseArgs& a,
                          uint8_t* y) {
  qdepthwise_rows_reference(g, x, c0, c1, 0, g.out[0], a, y);
}

void qdepthwise_rows_reference(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, int64_t oh0, int64_t oh1,
                               const QDepthwiseArgs& a, uint8_t* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
  const uint8_t flip = a.x_signed ? 0x80 : 0;
  for (int64_t c = c0; c < c1; ++c) {
    const uint8_t* xc = x + c * IH * IW;
    const int8_t* w = a.w + c * KH * KW;
    uint8_t* yc = y + c * OH * OW;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int32_t acc = 0;
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t ih = oh * g.stride[0] - g.pad[0] + kh * g.dilation[0];
          if (ih < 0 || ih >= IH) continue;
          for (int64_t kw = 0; kw < KW; ++kw) {
            const int64_t iw = ow * g.stride[1] - g.pad[1] + kw * g.dilation[1];
            if (iw < 0 || iw >= IW) continue;
            acc += (int32_t(uint8_t(xc[ih * IW + iw] ^ flip)) - a.x_zero_u8) * int32_t(w[kh * KW + kw]);
          }
        }
        yc[oh * OW + ow] = uint8_t(qrequant(acc, a.scale[c], a.offset[c], a.lo[c], a.hi[c], a.zero_point));
      }
  }
}

void qdepthwise(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, const QDepthwiseArgs& a, uint8_t* y,
                uint8_t* scratch, QIsa isa) {
  qdepthwise_rows(g, x, c0, c1, 0, g.out[0], a, y, scratch, isa);
}

void qdepthwise_rows(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, int64_t oh0, int64_t oh1,
                     const QDepthwiseArgs& a, uint8_t* y, uint8_t* scratch, QIsa isa) {
  using namespace qdepthwise_detail;
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
  oh0 = oh0 < 0 ? 0 : oh0;
  oh1 = oh1 > OH ? OH : oh1;
  if (oh1 <= oh0 || OW <= 0 || c1 <= c0) return;
#if defined(__x86_64__) || defined(__i386__)
  if ((isa == QIsa::Auto || isa == QIsa::Avx512Vnni) && simd_ok(g) && x86::qdepthwise_avx512_usable())
    return x86::qdepthwise_avx512(g, x, c0, c1, oh0, oh1, a, y);
#else
  (void)isa;
#endif
  // Portable: a padded copy of the rows the band reads (at their place in the
  // plane's padded layout), holding the input's raw bytes (pad = the zero point
  // in the input's own type), read with the sign flip of s8 data.
  const Padded pp = padded(g);
  const uint8_t flip = a.x_signed ? 0x80 : 0;
  const uint8_t pad = uint8_t(a.x_zero_u8 ^ flip);
  const int64_t r0 = oh0 * g.stride[0], r1 = (oh1 - 1) * g.stride[0] + (KH - 1) * g.dilation[0] + 1;
  for (int64_t c = c0; c < c1; ++c) {
    const uint8_t* xc = x + c * IH * IW;
    const int8_t* w = a.w + c * KH * KW;
    uint8_t* yc = y + c * OH * OW;
    for (int64_t r = r0; r < r1; ++r) {
      uint8_t* pr = scratch + r * pp.pitch;
      const int64_t ih = r - g.pad[0];
      if (ih < 0 || ih >= IH) {
        std::memset(pr, pad, size_t(pp.pitch));
        continue;
      }
      std::memset(pr, pad, size_t(g.pad[1]));
      std::memcpy(pr + g.pad[1], xc + ih * IW, size_t(IW));
      std::memset(pr + g.pad[1] + IW, pad, size_t(pp.pitch - g.pad[1] - IW));
    }
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int32_t acc = a.acc_init[c];
        for (int64_t kh = 0; kh < KH; ++kh) {
          const uint8_t* pr = scratch + (oh * g.stride[0] + kh * g.dilation[0]) * pp.pitch + ow * g.stride[1];
          for (int64_t kw = 0; kw < KW; ++kw)
            acc += int32_t(uint8_t(pr[kw * g.dilation[1]] ^ flip)) * int32_t(w[kh * KW + kw]);
        }
        yc[oh * OW + ow] = uint8_t(qrequant(acc, a.scale[c], a.offset[c], a.lo[c], a.hi[c], a.zero_point));
      }
  }
}

}  // namespace kernels
}  // namespace netlite
