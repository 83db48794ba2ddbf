// Direct convolution for few input channels: an image model's first layer
// (3 channels of RGB into 32-64, 3x3 or 7x7, stride 2). im2col + GEMM does badly
// there: K is only C*KH*KW (27 for 3x3), so the GEMM spends as much time on
// packing and on its epilogue as on multiplying, and im2col writes a panel 9-49
// times the input. This kernel instead splits each padded input row into its
// even and odd columns once per output row, after which every tap of a
// stride-2 window is a contiguous load, and keeps 4 output channels x 64
// columns in registers over all C*KH*KW taps.
// Scalar reference here; AVX-512 variant in x86/conv_small_c_avx512.cc, used
// when the CPU has it (small_c_conv_available()).
#pragma once

#include <cstdint>

namespace netlite {
namespace kernels {

constexpr int64_t kSmallConvMaxC = 4;  // input channels
constexpr int64_t kSmallConvMaxK = 7;  // kernel height and width

// One image: y[m][oh][ow] = clamp(bias[m] + sum_{c,kh,kw} w[m][c][kh][kw] *
// x[c][2*oh - PH + kh][2*ow - PW + kw]) over taps inside the image.
struct SmallCConv {
  const float* x = nullptr;  // [C][IH][IW]
  int64_t C = 0, IH = 0, IW = 0;
  const float* w = nullptr;  // [M][C][KH][KW]
  int64_t M = 0, KH = 0, KW = 0;
  int64_t PH = 0, PW = 0;  // leading padding (trailing padding shows in OH/OW)
  const float* bias = nullptr;  // [M] or null
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
  float* y = nullptr;  // [M][OH][OW]: row oh of channel m at y + m * y_plane + oh * OW
  int64_t OH = 0, OW = 0;
  int64_t y_plane = 0;  // floats between output channels; 0: OH * OW (a band buffer sets its own)

  int64_t y_stride() const { return y_plane ? y_plane : OH * OW; }
};

// True when the kernel's limits take C input channels and a KH x KW kernel (whatever
// the CPU; the scalar reference runs where the AVX-512 variant does not).
bool small_c_conv_fits(int64_t C, int64_t KH, int64_t KW);
// True when a conv of this geometry can run here: C <= kSmallConvMaxC, kernel
// within kSmallConvMaxK, stride 2 both ways, no dilation, and the CPU runs the
// AVX-512 variant (elsewhere im2col + GEMM is as good as the scalar loops).
bool small_c_conv_applies(int64_t C, int64_t KH, int64_t KW, int64_t SH, int64_t SW, int64_t DH, int64_t DW);
bool small_c_conv_available();

// Scratch floats one call of small_c_conv_rows needs (64-byte aligned).
int64_t small_c_conv_scratch_floats(const SmallCConv& a);

// Output rows [oh0, oh1) of every output channel.
void small_c_conv_rows(const SmallCConv& a, int64_t oh0, int64_t oh1, float* scratch);
// The scalar oracle of the tests (no scratch).
void small_c_conv_rows_reference(const SmallCConv& a, int64_t oh0, int64_t oh1);

namespace x86 {
// Defined in x86/conv_small_c_avx512.cc; callers check small_c_conv_available().
void small_c_conv_rows_avx512(const SmallCConv& a, int64_t oh0, int64_t oh1, float* scratch);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
