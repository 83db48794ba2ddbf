// Convolution building blocks: im2col / col2im (Chellapilla et al., "High Performance
// Convolutional Neural Networks for Document Processing", 2006) and a direct depthwise kernel.
#include "conv.h"
#include "im2col_rows.h"

#include <algorithm>
#include <cstring>

namespace netlite {
namespace kernels {
namespace conv_kernel_detail {

using kernels::valid_range;

// Branch-free (maxss/minss): keeps NaN, like v < lo ? lo : (v > hi ? hi : v).
inline float clampf(float v, float lo, float hi) {
  v = std::max(v, lo);  // (v < lo) ? lo : v
  return std::min(v, hi);  // (hi < v) ? hi : v
}

// Generic N-d im2col: walks output positions and kernel offsets with multi-indices.
void im2col_nd(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
               int64_t ldcol) {
  const int nd = g.nd;
  const int64_t K = g.kernel_size();
  const int64_t in_size = g.in_size();
  int64_t in_stride[kMaxConvDims];
  {
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; --d) { in_stride[d] = s; s *= g.in[d]; }
  }
  int64_t oidx[kMaxConvDims];
  {
    int64_t r = o0;
    for (int d = nd - 1; d >= 0; --d) { oidx[d] = r % g.out[d]; r /= g.out[d]; }
  }
  for (int64_t j = 0; j < on; ++j) {
    int64_t base[kMaxConvDims];
    for (int d = 0; d < nd; ++d) base[d] = oidx[d] * g.stride[d] - g.pad[d];
    int64_t kidx[kMaxConvDims] = {};
    for (int64_t k = 0; k < K; ++k) {
      bool inside = true;
      int64_t off = 0;
      for (int d = 0; d < nd; ++d) {
        int64_t p = base[d] + kidx[d] * g.dilation[d];
        if (p < 0 || p >= g.in[d]) { inside = false; break; }
        off += p * in_stride[d];
      }
      for (int64_t c = 0; c < channels; ++c)
        col[(c * K + k) * ldcol + j] = inside ? x[c * in_size + off] : 0.0f;
      for (int d = nd - 1; d >= 0; --d) {
        if (++kidx[d] < g.kernel[d]) break;
        kidx[d] = 0;
      }
    }
    for (int d = nd - 1; d >= 0; --d) {
      if (++oidx[d] < g.out[d]) break;
      oidx[d] = 0;
    }
  }
}

// The portable 2-D im2col. Each output row segment is zeros for the columns
// that fall in the padding and a copy (or a strided gather) of the input row
// in between; the segments of [o0, o0 + on) are the same for every channel and
// tap, so only the first one's row and column come from a division.
void im2col_2d(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
               int64_t ldcol) {
  const Im2colRows r(g, o0);
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * r.IH * r.IW;
    for (int64_t kh = 0; kh < r.KH; ++kh) {
      for (int64_t kw = 0; kw < r.KW; ++kw) {
        float* dst = col + ((c * r.KH + kh) * r.KW + kw) * ldcol;
        int64_t lo, hi;
        r.valid_cols(kw, &lo, &hi);
        int64_t oh = r.oh_first, ow0 = r.ow_first;
        for (int64_t done = 0; done < on; ++oh, ow0 = 0) {
          const int64_t len = std::min(r.OW - ow0, on - done);
          float* d = dst + done;  // d[ow - ow0] for ow in [ow0, ow0 + len)
          const int64_t ih = oh * r.SH - r.PH + kh * r.DH;
          if (ih < 0 || ih >= r.IH) {
            for (int64_t j = 0; j < len; ++j) d[j] = 0.0f;
          } else {
            // Columns [a, b) of d are inside the row: d[j] = xr[j * SW + s].
            int64_t a, b;
            Im2colRows::clip(lo, hi, ow0, len, &a, &b);
            const float* xr = xc + ih * r.IW;
            const int64_t SW = r.SW, s = ow0 * SW + r.off(kw);
            for (int64_t j = 0; j < a; ++j) d[j] = 0.0f;
            if (SW == 1 && b - a >= 16) {
              std::memcpy(d + a, xr + a + s, size_t(b - a) * sizeof(float));
            } else if (SW == 1) {
              for (int64_t j = a; j < b; ++j) d[j] = xr[j + s];
            } else {
              for (int64_t j = a; j < b; ++j) d[j] = xr[j * SW + s];
            }
            for (int64_t j = b; j < len; ++j) d[j] = 0.0f;
          }
          done += len;
        }
      }
    }
  }
}

// Generic N-d col2im (scatter-add).
void col2im_nd(const ConvShape& g, const float* col, int64_t channels, float* y) {
  const int nd = g.nd;
  const int64_t K = g.kernel_size();
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  int64_t in_stride[kMaxConvDims];
  {
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; --d) { in_stride[d] = s; s *= g.in[d]; }
  }
  int64_t oidx[kMaxConvDims] = {};
  for (int64_t j = 0; j < out_size; ++j) {
    int64_t base[kMaxConvDims];
    for (int d = 0; d < nd; ++d) base[d] = oidx[d] * g.stride[d] - g.pad[d];
    int64_t kidx[kMaxConvDims] = {};
    for (int64_t k = 0; k < K; ++k) {
      bool inside = true;
      int64_t off = 0;
      for (int d = 0; d < nd; ++d) {
        int64_t p = base[d] + kidx[d] * g.dilation[d];
        if (p < 0 || p >= g.in[d]) { inside = false; break; }
        off += p * in_stride[d];
      }
      if (inside)
        for (int64_t c = 0; c < channels; ++c) y[c * in_size + off] += col[(c * K + k) * out_size + j];
      for (int d = nd - 1; d >= 0; --d) {
        if (++kidx[d] < g.kernel[d]) break;
        kidx[d] = 0;
      }
    }
    for (int d = nd - 1; d >= 0; --d) {
      if (++oidx[d] < g.out[d]) break;
      oidx[d] = 0;
    }
  }
}

void col2im_2d(const ConvShape& g, const float* col, int64_t channels, float* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t PH = g.pad[0], PW = g.pad[1];
  const int64_t out_size = OH * OW;
  for (int64_t c = 0; c < channels; ++c) {
    float* yc = y + c * IH * IW;
    for (int64_t kh = 0; kh < KH; ++kh) {
      for (int64_t kw = 0; kw < KW; ++kw) {
        const float* src = col + ((c * KH + kh) * KW + kw) * out_size;
        const int64_t off = kw * DW - PW;
        int64_t lo, hi;
        valid_range(off, SW, IW, OW, &lo, &hi);
        for (int64_t oh = 0; oh < OH; ++oh) {
          const int64_t ih = oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= IH) continue;
          float* yr = yc + ih * IW;
          const float* s = src + oh * OW;
          if (SW == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) yr[ow + off] += s[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) yr[ow * SW + off] += s[ow];
          }
        }
      }
    }
  }
}

void dw_row_axpy_scalar(float* acc, const float* x, int64_t stride, float w, int64_t n) {
  if (stride == 1) {
    for (int64_t j = 0; j < n; ++j) acc[j] += w * x[j];
  } else {
    for (int64_t j = 0; j < n; ++j) acc[j] += w * x[j * stride];
  }
}

}  // namespace conv_kernel_detail

void add_residual_reference(float* y, int64_t ldy, const float* r, int64_t ldr, int64_t rows, int64_t cols,
                            bool clamp, float lo, float hi) {
  for (int64_t i = 0; i < rows; ++i) {
    float* yr = y + i * ldy;
    const float* rr = r + i * ldr;
    if (clamp) {  // min/max, not compare-and-branch: half of ReLU data is negative
      for (int64_t j = 0; j < cols; ++j) yr[j] = conv_kernel_detail::clampf(yr[j] + rr[j], lo, hi);
    } else {
      for (int64_t j = 0; j < cols; ++j) yr[j] += rr[j];
    }
  }
}

void add_residual(float* y, int64_t ldy, const float* r, int64_t ldr, int64_t rows, int64_t cols, bool clamp,
                  float lo, float hi) {
  if (conv_avx512_available()) {
    x86::add_residual_avx512(y, ldy, r, ldr, rows, cols, clamp, lo, hi);
    return;
  }
  add_residual_reference(y, ldy, r, ldr, rows, cols, clamp, lo, hi);
}

void apply_epilogue(const Epilogue& e, int64_t bias_row0, int64_t rows, int64_t cols, float* y, int64_t ldy) {
  if (!e.bias && !e.clamp) return;
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * ldy;
    const float b = e.bias ? e.bias[bias_row0 + r] : 0.0f;
    if (e.clamp) {
      const float lo = e.lo, hi = e.hi;
      for (int64_t j = 0; j < cols; ++j) yr[j] = conv_kernel_detail::clampf(yr[j] + b, lo, hi);
    } else {
      for (int64_t j = 0; j < cols; ++j) yr[j] += b;
    }
  }
}

void im2col_reference(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
                      int64_t ldcol) {
  conv_kernel_detail::im2col_nd(g, x, channels, o0, on, col, ldcol);
}

void im2col(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
            int64_t ldcol) {
  if (g.nd == 2 && (g.stride[1] == 1 || g.stride[1] == 2) && conv_avx512_available())
    x86::im2col_2d_avx512(g, x, channels, o0, on, col, ldcol);
  else
    im2col_scalar(g, x, channels, o0, on, col, ldcol);
}

void im2col_scalar(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
                   int64_t ldcol) {
  if (g.nd == 2)
    conv_kernel_detail::im2col_2d(g, x, channels, o0, on, col, ldcol);
  else
    conv_kernel_detail::im2col_nd(g, x, channels, o0, on, col, ldcol);
}

void col2im_add(const ConvShape& g, const float* col, int64_t channels, float* y) {
  if (g.nd == 2)
    conv_kernel_detail::col2im_2d(g, col, channels, y);
  else
    conv_kernel_detail::col2im_nd(g, col, channels, y);
}

void depthwise_conv2d_plane_reference(const ConvShape& g, const float* x, const float* w, float bias,
                                      const Epilogue& e, float* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  for (int64_t oh = 0; oh < OH; ++oh) {
    for (int64_t ow = 0; ow < OW; ++ow) {
      float acc = bias;
      for (int64_t kh = 0; kh < KH; ++kh) {
        const int64_t ih = oh * g.stride[0] - g.pad[0] + kh * g.dilation[0];
        if (ih < 0 || ih >= IH) continue;
        for (int64_t kw = 0; kw < KW; ++kw) {
          const int64_t iw = ow * g.stride[1] - g.pad[1] + kw * g.dilation[1];
          if (iw < 0 || iw >= IW) continue;
          acc += w[kh * KW + kw] * x[ih * IW + iw];
        }
      }
      y[oh * OW + ow] = e.clamp ? conv_kernel_detail::clampf(acc, e.lo, e.hi) : acc;
    }
  }
}

// Row-accumulation form: each output row starts at the bias and receives one
// strided axpy per kernel tap, so the row stays in L1 and the inner loop is a
// contiguous (stride 1) or strided stream that vectorises.
void depthwise_conv2d_plane(const ConvShape& g, const float* x, const float* w, float bias, const Epilogue& e,
                            float* y) {
  using conv_kernel_detail::valid_range;
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  const int64_t PH = g.pad[0], PW = g.pad[1];
  const bool simd = conv_avx2_available();
  int64_t lo_kw[64], hi_kw[64];
  const bool cache_ranges = KW <= 64;
  if (cache_ranges)
    for (int64_t kw = 0; kw < KW; ++kw) valid_range(kw * DW - PW, SW, IW, OW, &lo_kw[kw], &hi_kw[kw]);
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* yr = y + oh * OW;
    for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = bias;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const int64_t ih = oh * SH - PH + kh * DH;
      if (ih < 0 || ih >= IH) continue;
      const float* xr = x + ih * IW;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const int64_t off = kw * DW - PW;
        int64_t lo, hi;
        if (cache_ranges) {
          lo = lo_kw[kw];
          hi = hi_kw[kw];
        } else {
          valid_range(off, SW, IW, OW, &lo, &hi);
        }
        if (hi <= lo) continue;
        const float wv = w[kh * KW + kw];
        if (simd)
          x86::dw_row_axpy_avx2(yr + lo, xr + lo * SW + off, SW, wv, hi - lo);
        else
          conv_kernel_detail::dw_row_axpy_scalar(yr + lo, xr + lo * SW + off, SW, wv, hi - lo);
      }
    }
    if (e.clamp)
      for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = conv_kernel_detail::clampf(yr[ow], e.lo, e.hi);
  }
}

namespace conv_kernel_detail {

struct PaddedPlane {
  int64_t rows, pitch;
};

inline PaddedPlane padded_plane(const ConvShape& g) {
  PaddedPlane pp;
  pp.rows = (g.out[0] - 1) * g.stride[0] + (g.kernel[0] - 1) * g.dilation[0] + 1;
  // Vector blocks of 8 columns may overrun the last output by 7 columns, and a
  // stride-2 block reads 16 inputs: leave room for both.
  const int64_t cols = ((g.out[1] + 7) / 8 * 8) * g.stride[1] + (g.kernel[1] - 1) * g.dilation[1] + 16;
  pp.pitch = (std::max(cols, g.pad[1] + g.in[1]) + 15) / 16 * 16;
  return pp;
}

}  // namespace conv_kernel_detail

int64_t depthwise_scratch_floats(const ConvShape& g) {
  const conv_kernel_detail::PaddedPlane pp = conv_kernel_detail::padded_plane(g);
  return pp.rows * pp.pitch;
}

namespace conv_kernel_detail {

void depthwise_padded(const ConvShape& g, const float* x, const float* w, float bias, const Epilogue& e, float* y,
                      float* p, bool allow_simd) {
  const PaddedPlane pp = padded_plane(g);
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t PH = g.pad[0], PW = g.pad[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  if (allow_simd && KH == 3 && KW == 3 && DH == 1 && DW == 1 && SH == SW && (SW == 1 || SW == 2) &&
      conv_avx512_available()) {
    x86::dw3x3_plane_avx512(x, IH, IW, PH, PW, SW, w, bias, e.clamp, e.lo, e.hi, y, OH, OW);
    return;
  }
  const bool simd = allow_simd && conv_avx2_available();
  for (int64_t r = 0; r < pp.rows; ++r) {
    float* pr = p + r * pp.pitch;
    const int64_t ih = r - PH;
    if (ih < 0 || ih >= IH) {
      std::memset(pr, 0, size_t(pp.pitch) * sizeof(float));
    } else {
      std::memset(pr, 0, size_t(PW) * sizeof(float));
      std::memcpy(pr + PW, x + ih * IW, size_t(IW) * sizeof(float));
      std::memset(pr + PW + IW, 0, size_t(pp.pitch - PW - IW) * sizeof(float));
    }
  }
  if (simd) {
    x86::dw_padded_plane_avx2(p, pp.pitch, w, KH, KW, SH, SW, DH, DW, bias, e.clamp, e.lo, e.hi, y, OH, OW);
    return;
  }
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* yr = y + oh * OW;
    for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = bias;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const float* r = p + (oh * SH + kh * DH) * pp.pitch;
      for (int64_t kw = 0; kw < KW; ++kw)
        dw_row_axpy_scalar(yr, r + kw * DW, SW, w[kh * KW + kw], OW);
    }
    if (e.clamp)
      for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = clampf(yr[ow], e.lo, e.hi);
  }
}

}  // namespace conv_kernel_detail

void depthwise_conv2d_plane_padded(const ConvShape& g, const float* x, const float* w, float bias, const Epilogue& e,
                                   float* y, float* scratch) {
  conv_kernel_detail::depthwise_padded(g, x, w, bias, e, y, scratch, true);
}

void depthwise_conv2d_plane_padded_scalar(const ConvShape& g, const float* x, const float* w, float bias,
                                          const Epilogue& e, float* y, float* scratch) {
  conv_kernel_detail::depthwise_padded(g, x, w, bias, e, y, scratch, false);
}

}  // namespace kernels
}  // namespace netlite
