// Max / average pooling over one plane, N-d with a 2-D fast path.
#include "pool.h"

#include <algorithm>
#include <limits>

namespace netlite {
namespace kernels {
namespace pool_kernel_detail {

// Taps k in [0, K) whose position start + k*dil lies in [lo, hi) form [*klo, *khi).
inline void tap_range(int64_t start, int64_t dil, int64_t K, int64_t lo, int64_t hi, int64_t* klo, int64_t* khi) {
  int64_t a = start >= lo ? 0 : (lo - start + dil - 1) / dil;
  int64_t b = hi - 1 - start < 0 ? 0 : (hi - 1 - start) / dil + 1;
  a = std::min(a, K);
  b = std::min(std::max(b, a), K);
  *klo = a;
  *khi = b;
}

template <typename T>
void max_pool_2d(const ConvShape& g, const T* x, T* y, int64_t* idx, int64_t idx_base, bool col_major) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t hs = oh * SH - g.pad[0];
    int64_t khlo, khhi;
    tap_range(hs, DH, KH, 0, IH, &khlo, &khhi);
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t ws = ow * SW - g.pad[1];
      int64_t kwlo, kwhi;
      tap_range(ws, DW, KW, 0, IW, &kwlo, &kwhi);
      T best = std::numeric_limits<T>::lowest();
      int64_t at = -1;
      if (idx) {
        for (int64_t kh = khlo; kh < khhi; ++kh) {
          const int64_t ih = hs + kh * DH;
          const T* xr = x + ih * IW;
          for (int64_t kw = kwlo; kw < kwhi; ++kw) {
            const int64_t iw = ws + kw * DW;
            if (at < 0 || xr[iw] > best) {
              best = xr[iw];
              at = col_major ? ih + iw * IH : ih * IW + iw;
            }
          }
        }
        idx[oh * OW + ow] = at < 0 ? -1 : idx_base + at;
      } else {
        for (int64_t kh = khlo; kh < khhi; ++kh) {
          const T* xr = x + (hs + kh * DH) * IW + ws;
          for (int64_t kw = kwlo; kw < kwhi; ++kw) {
            const T v = xr[kw * DW];
            best = v > best ? v : best;
          }
        }
      }
      y[oh * OW + ow] = best;
    }
  }
}

// Generic N-d walk: for each output position, the per-dim tap ranges, then the taps.
template <typename T>
void max_pool_nd(const ConvShape& g, const T* x, T* y, int64_t* idx, int64_t idx_base, bool col_major) {
  const int nd = g.nd;
  int64_t rstride[kMaxConvDims], cstride[kMaxConvDims];
  {
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; --d) { rstride[d] = s; s *= g.in[d]; }
    s = 1;
    for (int d = 0; d < nd; ++d) { cstride[d] = s; s *= g.in[d]; }
  }
  const int64_t out_size = g.out_size();
  int64_t oi[kMaxConvDims] = {};
  for (int64_t o = 0; o < out_size; ++o) {
    int64_t start[kMaxConvDims], klo[kMaxConvDims], khi[kMaxConvDims], k[kMaxConvDims];
    bool empty = false;
    for (int d = 0; d < nd; ++d) {
      start[d] = oi[d] * g.stride[d] - g.pad[d];
      tap_range(start[d], g.dilation[d], g.kernel[d], 0, g.in[d], &klo[d], &khi[d]);
      empty = empty || klo[d] >= khi[d];
      k[d] = klo[d];
    }
    T best = std::numeric_limits<T>::lowest();
    int64_t at = -1;
    while (!empty) {
      int64_t roff = 0, coff = 0;
      for (int d = 0; d < nd; ++d) {
        const int64_t p = start[d] + k[d] * g.dilation[d];
        roff += p * rstride[d];
        coff += p * cstride[d];
      }
      const T v = x[roff];
      if (at < 0 || v > best) {
        best = v;
        at = col_major ? coff : roff;
      }
      int d = nd - 1;
      for (; d >= 0; --d) {
        if (++k[d] < khi[d]) break;
        k[d] = klo[d];
      }
      if (d < 0) break;
    }
    y[o] = best;
    if (idx) idx[o] = at < 0 ? -1 : idx_base + at;
    for (int d = nd - 1; d >= 0; --d) {
      if (++oi[d] < g.out[d]) break;
      oi[d] = 0;
    }
  }
}

// An empty input plane (a dim of 0, its data possibly null) with outputs that only
// padding covers: no window has a tap, and no pointer into the plane is formed.
inline bool empty_plane(const ConvShape& g) { return g.in_size() == 0; }

template <typename T>
void max_pool_any(const ConvShape& g, const T* x, T* y, int64_t* idx, int64_t idx_base, bool col_major) {
  if (empty_plane(g)) {
    for (int64_t o = 0, n = g.out_size(); o < n; ++o) {
      y[o] = std::numeric_limits<T>::lowest();
      if (idx) idx[o] = -1;
    }
    return;
  }
  if (g.nd == 2)
    max_pool_2d(g, x, y, idx, idx_base, col_major);
  else
    max_pool_nd(g, x, y, idx, idx_base, col_major);
}

// Float, 2-D, no indices, column stride 1 or 2: the columns whose windows lie inside
// the plane go 16 at a time through the AVX-512 rows; the edge columns through the
// scalar loop. The same maxima as max_pool_2d, NaNs skipped alike (of two equal
// values it may keep the other one, which shows only for +0 and -0).
bool max_pool_2d_fast(const ConvShape& g, const float* x, float* y) {
  const int64_t IW = g.in[1], OW = g.out[1], KW = g.kernel[1];
  const int64_t SW = g.stride[1], DW = g.dilation[1], PW = g.pad[1];
  if (g.nd != 2 || (SW != 1 && SW != 2) || !pool_avx512_available() || empty_plane(g)) return false;
  if (x86::max_pool_plane_k3s2_avx512(g, x, y)) return true;
  // Interior columns: ow*SW - PW >= 0 and ow*SW - PW + (KW-1)*DW < IW.
  int64_t lo = (PW + SW - 1) / SW;
  const int64_t last = IW - 1 - (KW - 1) * DW + PW;
  int64_t hi = last < 0 ? 0 : last / SW + 1;
  lo = std::min(lo, OW);
  hi = std::min(std::max(hi, lo), OW);
  if (hi - lo < 4) return false;
  x86::max_pool_plane_avx512(g, x, y, lo, hi);
  if (lo == 0 && hi == OW) return true;
  const int64_t IH = g.in[0], OH = g.out[0], KH = g.kernel[0], SH = g.stride[0], DH = g.dilation[0];
  for (int64_t oh = 0; oh < OH; ++oh) {  // the edge columns
    const int64_t hs = oh * SH - g.pad[0];
    int64_t khlo, khhi;
    tap_range(hs, DH, KH, 0, IH, &khlo, &khhi);
    for (int64_t ow = 0; ow < OW; ++ow) {
      if (ow == lo) ow = hi;
      if (ow >= OW) break;
      const int64_t ws = ow * SW - PW;
      int64_t kwlo, kwhi;
      tap_range(ws, DW, KW, 0, IW, &kwlo, &kwhi);
      float best = std::numeric_limits<float>::lowest();
      for (int64_t kh = khlo; kh < khhi; ++kh) {
        const float* xr = x + (hs + kh * DH) * IW + ws;
        for (int64_t kw = kwlo; kw < kwhi; ++kw) {
          const float v = xr[kw * DW];
          best = v > best ? v : best;
        }
      }
      y[oh * OW + ow] = best;
    }
  }
  return true;
}

void avg_pool_2d(const ConvShape& g, const int64_t* pad_end, bool include_pad, const float* x, float* y) {
  const int64_t IH = g.in[0], IW = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], DW = g.dilation[1];
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t hs = oh * SH - g.pad[0];
    int64_t khlo, khhi, phlo, phhi;
    tap_range(hs, DH, KH, 0, IH, &khlo, &khhi);
    tap_range(hs, DH, KH, -g.pad[0], IH + pad_end[0], &phlo, &phhi);
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t ws = ow * SW - g.pad[1];
      int64_t kwlo, kwhi, pwlo, pwhi;
      tap_range(ws, DW, KW, 0, IW, &kwlo, &kwhi);
      float sum = 0.0f;
      for (int64_t kh = khlo; kh < khhi; ++kh) {
        const float* xr = x + (hs + kh * DH) * IW + ws;
        for (int64_t kw = kwlo; kw < kwhi; ++kw) sum += xr[kw * DW];
      }
      int64_t count;
      if (include_pad) {
        tap_range(ws, DW, KW, -g.pad[1], IW + pad_end[1], &pwlo, &pwhi);
        count = (phhi - phlo) * (pwhi - pwlo);
      } else {
        count = (khhi - khlo) * (kwhi - kwlo);
      }
      y[oh * OW + ow] = count > 0 ? sum / float(count) : 0.0f;
    }
  }
}

void avg_pool_nd(const ConvShape& g, const int64_t* pad_end, bool include_pad, const float* x, float* y) {
  const int nd = g.nd;
  int64_t rstride[kMaxConvDims];
  {
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; --d) { rstride[d] = s; s *= g.in[d]; }
  }
  const int64_t out_size = g.out_size();
  int64_t oi[kMaxConvDims] = {};
  for (int64_t o = 0; o < out_size; ++o) {
    int64_t start[kMaxConvDims], klo[kMaxConvDims], khi[kMaxConvDims], k[kMaxConvDims];
    bool empty = false;
    int64_t count = 1;
    for (int d = 0; d < nd; ++d) {
      start[d] = oi[d] * g.stride[d] - g.pad[d];
      tap_range(start[d], g.dilation[d], g.kernel[d], 0, g.in[d], &klo[d], &khi[d]);
      empty = empty || klo[d] >= khi[d];
      k[d] = klo[d];
      if (include_pad) {
        int64_t a, b;
        tap_range(start[d], g.dilation[d], g.kernel[d], -g.pad[d], g.in[d] + pad_end[d], &a, &b);
        count *= b - a;
      } else {
        count *= khi[d] - klo[d];
      }
    }
    float sum = 0.0f;
    while (!empty) {
      int64_t roff = 0;
      for (int d = 0; d < nd; ++d) roff += (start[d] + k[d] * g.dilation[d]) * rstride[d];
      sum += x[roff];
      int d = nd - 1;
      for (; d >= 0; --d) {
        if (++k[d] < khi[d]) break;
        k[d] = klo[d];
      }
      if (d < 0) break;
    }
    y[o] = count > 0 ? sum / float(count) : 0.0f;
    for (int d = nd - 1; d >= 0; --d) {
      if (++oi[d] < g.out[d]) break;
      oi[d] = 0;
    }
  }
}

}  // namespace pool_kernel_detail

void max_pool_plane(const ConvShape& g, const float* x, float* y, int64_t* idx, int64_t idx_base, bool col_major) {
  if (idx == nullptr && pool_kernel_detail::max_pool_2d_fast(g, x, y)) return;
  pool_kernel_detail::max_pool_any(g, x, y, idx, idx_base, col_major);
}
void max_pool_plane_reference(const ConvShape& g, const float* x, float* y, int64_t* idx, int64_t idx_base,
                              bool col_major) {
  pool_kernel_detail::max_pool_any(g, x, y, idx, idx_base, col_major);
}
void max_pool_plane(const ConvShape& g, const int8_t* x, int8_t* y, int64_t* idx, int64_t idx_base, bool col_major) {
  pool_kernel_detail::max_pool_any(g, x, y, idx, idx_base, col_major);
}
void max_pool_plane(const ConvShape& g, const uint8_t* x, uint8_t* y, int64_t* idx, int64_t idx_base,
                    bool col_major) {
  pool_kernel_detail::max_pool_any(g, x, y, idx, idx_base, col_major);
}

void avg_pool_plane(const ConvShape& g, const int64_t* pad_end, bool count_include_pad, const float* x, float* y) {
  if (pool_kernel_detail::empty_plane(g)) {  // every window's sum is 0
    for (int64_t o = 0, n = g.out_size(); o < n; ++o) y[o] = 0.0f;
    return;
  }
  if (g.nd == 2)
    pool_kernel_detail::avg_pool_2d(g, pad_end, count_include_pad, x, y);
  else
    pool_kernel_detail::avg_pool_nd(g, pad_end, count_include_pad, x, y);
}

void global_avg_pool(const float* x, int64_t planes, int64_t size, float* y) {
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * size;
    // Eight partial sums: vectorisable and a shorter rounding chain than one running sum.
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= size; i += 8)
      for (int j = 0; j < 8; ++j) s[j] += xp[i + j];
    float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < size; ++i) t += xp[i];
    y[p] = size > 0 ? t / float(size) : std::numeric_limits<float>::quiet_NaN();
  }
}

void global_max_pool(const float* x, int64_t planes, int64_t size, float* y) {
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * size;
    float m = size > 0 ? xp[0] : std::numeric_limits<float>::lowest();
    for (int64_t i = 1; i < size; ++i) m = xp[i] > m ? xp[i] : m;
    y[p] = m;
  }
}

}  // namespace kernels
}  // namespace netlite
