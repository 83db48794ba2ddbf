// The 2-D im2col's row geometry, shared by its portable form (conv.cc) and its
// AVX-512 form (x86/im2col_avx512.cc): for output positions [o0, o0 + on), one
// output row segment at a time, which columns of each tap read inside the
// input row. Plain integer code, inlined into either.
#pragma once

#include <algorithm>
#include <cstdint>

#include "conv.h"

namespace netlite {
namespace kernels {

// Output positions j in [0, n) with 0 <= j*stride + offset < limit form [lo, hi).
inline void valid_range(int64_t offset, int64_t stride, int64_t limit, int64_t n, int64_t* lo, int64_t* hi) {
  int64_t l, h;
  if (stride == 1) {  // no division: im2col asks once per channel and tap
    l = offset >= 0 ? 0 : -offset;
    h = limit - offset <= 0 ? 0 : limit - offset;
  } else {
    l = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    h = limit - offset <= 0 ? 0 : (limit - 1 - offset) / stride + 1;
  }
  l = std::min(l, n);
  h = std::min(std::max(h, l), n);
  *lo = l;
  *hi = h;
}

struct Im2colRows {
  int64_t IH, IW, OW, KH, KW, SH, SW, DH, DW, PH, PW;
  int64_t oh_first, ow_first;  // the first position's output row and column

  Im2colRows(const ConvShape& g, int64_t o0)
      : IH(g.in[0]), IW(g.in[1]), OW(g.out[1]), KH(g.kernel[0]), KW(g.kernel[1]), SH(g.stride[0]),
        SW(g.stride[1]), DH(g.dilation[0]), DW(g.dilation[1]), PH(g.pad[0]), PW(g.pad[1]),
        oh_first(o0 / g.out[1]), ow_first(o0 % g.out[1]) {}

  // Tap column kw reads input column ow*SW + off(kw) for output column ow; the
  // output columns whose input column is inside the row are [lo, hi).
  int64_t off(int64_t kw) const { return kw * DW - PW; }
  void valid_cols(int64_t kw, int64_t* lo, int64_t* hi) const { valid_range(off(kw), SW, IW, OW, lo, hi); }

  // For the segment of output columns [ow0, ow0 + len) of a row: the part [a, b)
  // (relative to ow0) inside the input row, given valid_cols' [lo, hi).
  static void clip(int64_t lo, int64_t hi, int64_t ow0, int64_t len, int64_t* a, int64_t* b) {
    *a = std::min(std::max(lo, ow0), ow0 + len) - ow0;
    *b = std::min(std::max(hi, ow0 + *a), ow0 + len) - ow0;
  }
};

}  // namespace kernels
}  // namespace netlite
