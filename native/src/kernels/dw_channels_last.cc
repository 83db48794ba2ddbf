// Channels-last depthwise convolution: the scalar reference, the weight
// reordering and the dispatch to the AVX-512 form. See dw_channels_last.h.
#include "dw_channels_last.h"

#include <algorithm>
#include <vector>

namespace netlite {
namespace kernels {

// Channel by channel through the plane-at-a-time reference (conv.cc).
void depthwise_channels_last_reference(const ConvShape& g, const DwChannelsLast& a) {
  const int64_t P = g.in[0] * g.in[1], Q = g.out[0] * g.out[1], taps = g.kernel[0] * g.kernel[1];
  std::vector<float> plane(static_cast<size_t>(P)), w(static_cast<size_t>(taps)), out(static_cast<size_t>(Q));
  Epilogue e;
  e.clamp = a.clamp;
  e.lo = a.lo;
  e.hi = a.hi;
  for (int64_t c = a.c0; c < a.c1; ++c) {
    for (int64_t p = 0; p < P; ++p) plane[size_t(p)] = a.x[p * a.ldx + c];
    for (int64_t k = 0; k < taps; ++k) w[size_t(k)] = a.w[k * a.ldw + c];
    depthwise_conv2d_plane_reference(g, plane.data(), w.data(), a.bias ? a.bias[c] : 0.0f, e, out.data());
    for (int64_t q = 0; q < Q; ++q) a.y[q * a.ldy + c] = out[size_t(q)];
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
