// Direct convolution for few input channels: the scalar reference and the
// dispatch (see conv_small_c.h).
#include "conv_small_c.h"

#include <algorithm>

#include "conv.h"

namespace netlite {
namespace kernels {

bool small_c_conv_available() { return conv_avx512_available(); }

bool small_c_conv_fits(int64_t C, int64_t KH, int64_t KW) {
  return C >= 1 && C <= kSmallConvMaxC && KH >= 1 && KH <= kSmallConvMaxK && KW >= 1 && KW <= kSmallConvMaxK;
}

bool small_c_conv_applies(int64_t C, int64_t KH, int64_t KW, int64_t SH, int64_t SW, int64_t DH, int64_t DW) {
  return small_c_conv_fits(C, KH, KW) &&
         SH == 2 && SW == 2 && DH == 1 && DW == 1 && small_c_conv_available();
}

int64_t small_c_conv_scratch_floats(const SmallCConv& a) {
  // Per input row of a window (C*KH of them): its even and its odd padded
  // columns, each long enough for 64-column blocks to load past the last output.
  const int64_t half = (a.OW + 63) / 64 * 64 + (a.KW - 1) / 2 + 16;
  return a.C * a.KH * 2 * ((half + 15) / 16 * 16);
}

void small_c_conv_rows_reference(const SmallCConv& a, int64_t oh0, int64_t oh1) {
  for (int64_t m = 0; m < a.M; ++m)
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = 0; ow < a.OW; ++ow) {
        float acc = a.bias ? a.bias[m] : 0.0f;
        for (int64_t c = 0; c < a.C; ++c)
          for (int64_t kh = 0; kh < a.KH; ++kh) {
            const int64_t ih = 2 * oh - a.PH + kh;
            if (ih < 0 || ih >= a.IH) continue;
            for (int64_t kw = 0; kw < a.KW; ++kw) {
              const int64_t iw = 2 * ow - a.PW + kw;
              if (iw < 0 || iw >= a.IW) continue;
              acc += a.w[((m * a.C + c) * a.KH + kh) * a.KW + kw] * a.x[(c * a.IH + ih) * a.IW + iw];
            }
          }
        if (a.clamp) acc = std::min(a.hi, std::max(a.lo, acc));
        a.y[m * a.y_stride() + oh * a.OW + ow] = acc;
      }
}

void small_c_conv_rows(const SmallCConv& a, int64_t oh0, int64_t oh1, float* scratch) {
  if (small_c_conv_available()) {
    x86::small_c_conv_rows_avx512(a, oh0, oh1, scratch);
    return;
  }
  small_c_conv_rows_reference(a, oh0, oh1);
}

}  // namespace kernels
}  // namespace netlite
