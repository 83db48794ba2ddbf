// Depthwise 2-D convolution over channels-last data, for DepthwiseBlock's
// channels-last bands (ops/depthwise_block.cc): position p of a plane holds its
// channels contiguously, so one vector covers 16 channels of one position, every
// lane is busy whatever the plane's width, and zero padding is a skipped tap
// rather than a masked load.
//
//   y[q*ldy + c] = clamp(bias[c] + sum_{kh,kw} w[(kh*KW + kw)*ldw + c] * x[p*ldx + c])
//
// over output positions q = oh*OW + ow and input positions p = ih*IW + iw with
// ih = oh*SH - PH + kh*DH, iw = ow*SW - PW + kw*DW inside the plane, channels
// [c0, c1). The weights are tap-major (depthwise_taps_major turns a [C][KH*KW]
// ONNX weight around). The AVX-512 form (x86/dw_channels_last_avx512.cc) is
// tested against the scalar reference.
#pragma once

#include <cstdint>

#include "conv.h"

namespace netlite {
namespace kernels {

struct DwChannelsLast {
  const float* x = nullptr;
  int64_t ldx = 0;  // floats between input positions
  const float* w = nullptr;
  int64_t ldw = 0;  // floats between taps
  const float* bias = nullptr;  // [c1] or null
  float* y = nullptr;
  int64_t ldy = 0;  // floats between output positions
  int64_t c0 = 0, c1 = 0;
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
};

// g: a 2-D geometry (g.nd == 2; g.pad holds the leading pads).
void depthwise_channels_last(const ConvShape& g, const DwChannelsLast& a);
void depthwise_channels_last_reference(const ConvShape& g, const DwChannelsLast& a);

// t[k*C + c] = w[c*taps + k]: a depthwise weight [C][1][KH][KW] made tap-major.
void depthwise_taps_major(const float* w, int64_t C, int64_t taps, float* t);

// y[p*ld + c] = clamp(y[p*ld + c] + bias[c]) for positions [0, n) and channels
// [0, C) (bias may be null): the epilogue of a GEMM whose columns are channels.
void channels_last_bias_act(float* y, int64_t n, int64_t C, int64_t ld, const float* bias, bool clamp, float lo,
                            float hi);
void channels_last_bias_act_reference(float* y, int64_t n, int64_t C, int64_t ld, const float* bias, bool clamp,
                                      float lo, float hi);

namespace x86 {
// The AVX-512 forms (callers check conv_avx512_available()).
void depthwise_channels_last_avx512(const ConvShape& g, const DwChannelsLast& a);
void channels_last_bias_act_avx512(float* y, int64_t n, int64_t C, int64_t ld, const float* bias, bool clamp,
                                   float lo, float hi);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
