// Integer depthwise 2-D convolution (group == C == M) for quantized models:
// 8-bit input, s8 weights, int32 accumulation and the requantizing epilogue of
// qgemm.h, per channel plane c:
//   y[c][oh][ow] = requant_c(sum_{kh,kw} (x[c][ih][iw] - zx) * w[c][kh][kw])
// with padded taps contributing 0.
//
// Padded taps read the zero point, so they cancel in the zero-point correction
// acc_init. The fast path, per 16 output columns and kernel row, gathers each
// lane's 4 consecutive taps with vpermb (AVX-512 VBMI) from one masked 64-byte
// load of the input row and multiplies them by the row's 4 weights with
// vpdpbusd (VNNI). Kernels of 3 rows on rows of 12 outputs or more go 4 output
// rows at a time (2 at stride 2), sharing the permuted taps of their common input
// rows, one load of an input row feeding up to 3 blocks of 16 columns. Narrower
// rows (7x7 planes) go several at a time: their outputs fill whole vectors, each
// lane's taps permuted from one 128-byte window of input rows. Strides and dilations work while 15 * stride + 3 * dilation
// < 64; other shapes, and CPUs without those instructions, use a portable loop
// over a padded copy of the plane in scratch. All paths are bit-identical to
// qdepthwise_reference.
#pragma once

#include <cstdint>

#include "conv.h"
#include "qgemm.h"

namespace netlite {
namespace kernels {

struct QDepthwiseArgs {
  bool x_signed = false;      // s8 input (mapped to u8 by flipping the sign bit)
  int32_t x_zero_u8 = 0;      // input zero point in the u8 domain (+128 for s8)
  int32_t zero_point = 0;     // output zero point
  const int8_t* w = nullptr;  // [C][KH * KW], zero point already subtracted
  const int32_t* acc_init = nullptr;  // [C]: -x_zero_u8 * sum(w[c]), the zero-point correction
  const float* scale = nullptr;       // [C], as QRequant
  const float* offset = nullptr;
  const float* lo = nullptr;
  const float* hi = nullptr;
};

// Scratch bytes qdepthwise needs for geometry g (nd == 2).
int64_t qdepthwise_scratch_bytes(const ConvShape& g);

// Channels [c0, c1) of one image: plane c of x (g.in[0] x g.in[1] bytes from
// x + c * in_size) to plane c of y (from y + c * out_size), with channel c's
// weights and requantization.
void qdepthwise(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, const QDepthwiseArgs& a, uint8_t* y,
                uint8_t* scratch, QIsa isa = QIsa::Auto);
void qdepthwise_reference(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, const QDepthwiseArgs& a,
                          uint8_t* y);

// The same for output rows [oh0, oh1) of each plane only (planes still start
// at x + c * in_size and y + c * out_size): a thread can take a band of rows of
// every channel, the part of the image a convolution before or after it, split
// by output positions, wrote or will read on the same core.
void qdepthwise_rows(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, int64_t oh0, int64_t oh1,
                     const QDepthwiseArgs& a, uint8_t* y, uint8_t* scratch, QIsa isa = QIsa::Auto);
void qdepthwise_rows_reference(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, int64_t oh0, int64_t oh1,
                               const QDepthwiseArgs& a, uint8_t* y);

namespace x86 {
// True when the CPU has AVX-512 F/BW/VBMI/VNNI (x86/qdepthwise_avx512.cc).
bool qdepthwise_avx512_usable();
// qdepthwise's fast path (callers check the CPU and the stride/dilation limit).
void qdepthwise_avx512(const ConvShape& g, const uint8_t* x, int64_t c0, int64_t c1, int64_t oh0, int64_t oh1,
                       const QDepthwiseArgs& a, uint8_t* y);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
