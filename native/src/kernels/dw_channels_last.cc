// Channels-last depthwise convolution: the scalar reference, the weight
// reordering and the dispatch to the AVX-512 form. See dw_channels_last.h.
#include "dw_channels_last.h"

#include <algorithm>

namespace netlite {
namespace kernels {

void depthwise_channels_last_reference(const ConvShape& g, const DwChannelsLast& a) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  for (int64_t oh = 0; oh < OH; ++oh)
    for (int64_t ow = 0; ow < OW; ++ow) {
      float* yq = a.y + (oh * OW + ow) * a.ldy;
      for (int64_t c = a.c0; c < a.c1; ++c) {
        float acc = a.bias ? a.bias[c] : 0.0f;
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t ih = oh * g.stride[0] - g.pad[0] + kh * g.dilation[0];
          if (ih < 0 || ih >= IH) continue;
          for (int64_t kw = 0; kw < KW; ++kw) {
            const int64_t iw = ow * g.stride[1] - g.pad[1] + kw * g.dilation[1];
            if (iw < 0 || iw >= IW) continue;
            acc += a.w[(kh * KW + kw) * a.ldw + c] * a.x[(ih * IW + iw) * a.ldx + c];
          }
        }
        yq[c] = a.clamp ? std::min(std::max(acc, a.lo), a.hi) : acc;
      }
    }
}

void depthwise_channels_last(const ConvShape& g, const DwChannelsLast& a) {
  if (a.c1 <= a.c0 || g.out[0] <= 0 || g.out[1] <= 0) return;
  if (conv_avx512_available()) {
    x86::depthwise_channels_last_avx512(g, a);
    return;
  }
  depthwise_channels_last_reference(g, a);
}

void depthwise_taps_major(const float* w, int64_t C, int64_t taps, float* t) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k = 0; k < taps; ++k) t[k * C + c] = w[c * taps + k];
}

void channels_last_bias_act_reference(float* y, int64_t n, int64_t C, int64_t ld, const float* bias, bool clamp,
                                      float lo, float hi) {
  for (int64_t p = 0; p < n; ++p)
    for (int64_t c = 0; c < C; ++c) {
      float v = y[p * ld + c] + (bias ? bias[c] : 0.0f);
      y[p * ld + c] = clamp ? std::min(std::max(v, lo), hi) : v;
    }
}

void channels_last_bias_act(float* y, int64_t n, int64_t C, int64_t ld, const float* bias, bool clamp, float lo,
                            float hi) {
  if (n <= 0 || C <= 0 || (!bias && !clamp)) return;
  if (conv_avx512_available()) {
    x86::channels_last_bias_act_avx512(y, n, C, ld, bias, clamp, lo, hi);
    return;
  }
  channels_last_bias_act_reference(y, n, C, ld, bias, clamp, lo, hi);
}

}  // namespace kernels
}  // namespace netlite
