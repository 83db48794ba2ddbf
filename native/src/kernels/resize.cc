// Resize kernels (see resize.h). Coordinate transforms, tap windows and
// coefficients follow the ONNX Resize spec and its reference implementation:
// the sample at input coordinate x uses base = floor(x) (x - 1 when x is an
// integer, so the ratio x - base is in (0, 1]), taps base+start .. base+start+n-1
// clamped to the input (edge padding) or dropped and renormalised with
// exclude_outside.
#include "resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/threadpool.h"

namespace netlite {
namespace kernels {
namespace resize_detail {

struct Window {
  int start;  // first tap relative to base
  int n;      // number of taps
};

inline Window window(const ResizeParams& p, double scale) {
  if (p.mode == ResizeMode::Nearest) return {0, 1};
  const bool aa = p.antialias && scale < 1.0;
  if (p.mode == ResizeMode::Linear) {
    if (!aa) return {0, 2};
    int start = int(std::floor(-1.0 / scale) + 1.0);
    return {start, 2 - 2 * start};
  }
  if (!aa) return {-1, 4};
  int start = int(std::floor(-2.0 / scale) + 1.0);
  return {start, 2 - 2 * start};
}

inline double cubic_kernel(double x, double A) {
  x = std::fabs(x);
  if (x <= 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
  return 0.0;
}

// Coefficients of the taps of `w` for a sample with ratio in (0, 1].
inline void coefficients(const ResizeParams& p, double scale, const Window& w, double ratio, double* c) {
  const double s = std::min(scale, 1.0);
  if (p.mode == ResizeMode::Linear) {
    if (w.n == 2 && w.start == 0) {
      c[0] = 1.0 - ratio;
      c[1] = ratio;
      return;
    }
    double sum = 0.0;
    for (int i = 0; i < w.n; ++i) {
      double v = 1.0 - std::fabs((double(w.start + i) - ratio) * s);
      c[i] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
      sum += c[i];
    }
    if (sum != 0.0) for (int i = 0; i < w.n; ++i) c[i] /= sum;
    return;
  }
  // Cubic (Keys), a = cubic_coeff_a.
  const double A = p.cubic_a;
  if (w.n == 4 && w.start == -1) {
    c[0] = ((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A;
    c[1] = ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
    c[2] = ((A + 2) * (1 - ratio) - (A + 3)) * (1 - ratio) * (1 - ratio) + 1;
    c[3] = ((A * ((1 - ratio) + 1) - 5 * A) * ((1 - ratio) + 1) + 8 * A) * ((1 - ratio) + 1) - 4 * A;
    return;
  }
  double sum = 0.0;
  for (int i = 0; i < w.n; ++i) {
    c[i] = cubic_kernel(s * (double(w.start + i) - ratio), A);
    sum += c[i];
  }
  if (sum != 0.0) for (int i = 0; i < w.n; ++i) c[i] /= sum;
}

inline int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

inline int64_t nearest_index(const ResizeParams& p, const ResizeAxis& a, double x) {
  double r;
  if (std::floor(x) == x) {
    r = x;
  } else {
    const double f = std::floor(x), ratio = x - f;
    switch (p.nearest) {
      case ResizeNearest::RoundPreferFloor: r = ratio <= 0.5 ? f : f + 1; break;
      case ResizeNearest::RoundPreferCeil: r = ratio < 0.5 ? f : f + 1; break;
      case ResizeNearest::Floor: r = f; break;
      case ResizeNearest::Ceil: r = f + 1; break;
      default: r = a.scale < 1.0 ? std::ceil(x) : (x < 0 ? std::ceil(x) : f); break;  // truncation when upscaling
    }
  }
  if (r < -1.0) r = -1.0;
  if (r > double(a.in)) r = double(a.in);
  return clamp_index(int64_t(r), a.in);
}

// True when every output index maps exactly onto the same input index.
inline bool is_identity(const ResizeParams& p, const ResizeAxis& a) {
  if (a.in != a.out) return false;
  for (int64_t o = 0; o < a.out; ++o) {
    double x = resize_coordinate(p, a, o);
    if (p.mode == ResizeMode::Nearest) {
      if (p.coord == ResizeCoord::TfCropAndResize && (x < 0 || x > double(a.in - 1))) return false;
      if (nearest_index(p, a, x) != o) return false;
    } else if (x != double(o)) {
      return false;
    }
  }
  return true;
}

inline size_t align8(size_t n) { return (n + 7) / 8 * 8; }

struct Table {
  int K = 1;
  const int64_t* idx = nullptr;  // [out * K]
  const float* w = nullptr;      // [out * K]
  const uint8_t* valid = nullptr;  // [out]
  bool all_valid = true;           // no sample falls outside the ROI
};

inline size_t table_bytes(const ResizeAxis& a, int K) {
  return align8(size_t(a.out) * size_t(K) * 8) + align8(size_t(a.out) * size_t(K) * 4) + align8(size_t(a.out));
}

// Builds one axis's table at `mem`.
Table build_table(const ResizeParams& p, const ResizeAxis& a, uint8_t* mem) {
  const int K = resize_taps(p, a);
  int64_t* idx = reinterpret_cast<int64_t*>(mem);
  float* w = reinterpret_cast<float*>(mem + align8(size_t(a.out) * size_t(K) * 8));
  uint8_t* valid = mem + align8(size_t(a.out) * size_t(K) * 8) + align8(size_t(a.out) * size_t(K) * 4);
  Table t;
  t.K = K;
  t.idx = idx;
  t.w = w;
  t.valid = valid;
  const bool identity = K == 1 && p.mode != ResizeMode::Nearest;
  const Window win = window(p, a.scale);
  double c[kMaxResizeTaps];
  for (int64_t o = 0; o < a.out; ++o) {
    int64_t* ix = idx + o * K;
    float* wx = w + o * K;
    if (identity) {
      ix[0] = o;
      wx[0] = 1.0f;
      valid[o] = 1;
      continue;
    }
    const double x = resize_coordinate(p, a, o);
    if (p.coord == ResizeCoord::TfCropAndResize && (x < 0.0 || x > double(a.in - 1))) {
      valid[o] = 0;
      t.all_valid = false;
      for (int k = 0; k < K; ++k) { ix[k] = 0; wx[k] = 0.0f; }
      continue;
    }
    valid[o] = 1;
    if (p.mode == ResizeMode::Nearest) {
      ix[0] = nearest_index(p, a, x);
      wx[0] = 1.0f;
      continue;
    }
    const double fl = std::floor(x);
    const double base = fl == x ? x - 1.0 : fl;
    const double ratio = x - base;
    coefficients(p, a.scale, win, ratio, c);
    const int64_t b = int64_t(base);
    if (p.exclude_outside) {
      double sum = 0.0;
      for (int k = 0; k < K; ++k) {
        int64_t i = b + win.start + k;
        if (i < 0 || i >= a.in) c[k] = 0.0;
        sum += c[k];
      }
      if (sum != 0.0) for (int k = 0; k < K; ++k) c[k] /= sum;
    }
    for (int k = 0; k < K; ++k) {
      ix[k] = clamp_index(b + win.start + k, a.in);
      wx[k] = float(c[k]);
    }
  }
  return t;
}

void build_tables(const ResizeParams& p, const ResizeAxis* axes, int rank, void* scratch, Table* t) {
  uint8_t* mem = static_cast<uint8_t*>(scratch);
  for (int d = 0; d < rank; ++d) {
    t[d] = build_table(p, axes[d], mem);
    mem += table_bytes(axes[d], t[d].K);
  }
}

// Row-invariant part of an output row: decodes the row index into the output
// indices of every axis but the last.
inline void decode_row(const ResizeAxis* axes, int last, int64_t row, int64_t* o) {
  for (int d = last - 1; d >= 0; --d) {
    o[d] = row % axes[d].out;
    row /= axes[d].out;
  }
}

template <typename T>
void nearest_typed(const ResizeAxis* axes, int rank, const Table* t, const T* x, T* y, T extrap, ThreadPool* pool) {
  int64_t stride[kMaxResizeRank];
  int64_t st = 1;
  for (int d = rank - 1; d >= 0; --d) { stride[d] = st; st *= axes[d].in; }
  const int last = rank - 1;
  const int64_t W = axes[last].out;
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= axes[d].out;
  pool->parallel_for(rows, [&](int64_t rb, int64_t re) {
    int64_t o[kMaxResizeRank];
    for (int64_t row = rb; row < re; ++row) {
      decode_row(axes, last, row, o);
      int64_t off = 0;
      bool valid = true;
      for (int d = 0; d < last; ++d) {
        valid = valid && t[d].valid[o[d]];
        off += t[d].idx[o[d]] * stride[d];
      }
      T* yr = y + row * W;
      const T* xr = x + off;
      const Table& tl = t[last];
      if (!valid) {
        for (int64_t i = 0; i < W; ++i) yr[i] = extrap;
        continue;
      }
      const int64_t* ix = tl.idx;
      if (tl.all_valid) {
        for (int64_t i = 0; i < W; ++i) yr[i] = xr[ix[i]];
      } else {
        for (int64_t i = 0; i < W; ++i) yr[i] = tl.valid[i] ? xr[ix[i]] : extrap;
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(W, 1)));
}

}  // namespace resize_detail

double resize_coordinate(const ResizeParams& p, const ResizeAxis& a, int64_t o) {
  const double x = double(o), s = a.scale, in = double(a.in);
  const double out_f = s * in;  // the reference's (unrounded) output length
  switch (p.coord) {
    case ResizeCoord::HalfPixel: return (x + 0.5) / s - 0.5;
    case ResizeCoord::HalfPixelSymmetric: {
      const double adjustment = double(a.out) / out_f;
      const double center = in / 2.0;
      const double offset = center * (1.0 - adjustment);
      return offset + (x + 0.5) / s - 0.5;
    }
    case ResizeCoord::PytorchHalfPixel: return a.out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case ResizeCoord::AlignCorners: return out_f == 1.0 || a.out == 1 ? 0.0 : x * (in - 1.0) / (out_f - 1.0);
    case ResizeCoord::Asymmetric: return x / s;
    case ResizeCoord::TfHalfPixelForNN: return (x + 0.5) / s;
    case ResizeCoord::TfCropAndResize: {
      const double span = a.roi_end - a.roi_start;
      double v = a.out == 1 ? span * (in - 1.0) / 2.0 : x * span * (in - 1.0) / (double(a.out) - 1.0);
      return v + a.roi_start * (in - 1.0);
    }
  }
  return 0.0;
}

int resize_taps(const ResizeParams& p, const ResizeAxis& a) {
  if (p.mode == ResizeMode::Nearest) return 1;
  if (resize_detail::is_identity(p, a)) return 1;
  return resize_detail::window(p, a.scale).n;
}

size_t resize_scratch_bytes(const ResizeParams& p, const ResizeAxis* axes, int rank) {
  size_t n = 0;
  for (int d = 0; d < rank; ++d) n += resize_detail::table_bytes(axes[d], resize_taps(p, axes[d]));
  return n;
}

void resize_float(const ResizeParams& p, const ResizeAxis* axes, int rank, const float* x, float* y, void* scratch,
                  ThreadPool* pool) {
  using resize_detail::Table;
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  for (int d = 0; d < rank; ++d)
    if (axes[d].out == 0) return;
  Table t[kMaxResizeRank];
  resize_detail::build_tables(p, axes, rank, scratch, t);
  if (p.mode == ResizeMode::Nearest) {
    resize_detail::nearest_typed<float>(axes, rank, t, x, y, p.extrapolation, pool);
    return;
  }
  int64_t stride[kMaxResizeRank];
  int64_t st = 1;
  for (int d = rank - 1; d >= 0; --d) { stride[d] = st; st *= axes[d].in; }
  const int last = rank - 1;
  const int64_t W = axes[last].out;
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= axes[d].out;
  const float extrap = p.extrapolation;
  pool->parallel_for(rows, [&](int64_t rb, int64_t re) {
    int64_t o[kMaxResizeRank];
    int64_t off[2][kMaxResizeCombos];
    float cw[2][kMaxResizeCombos];
    for (int64_t row = rb; row < re; ++row) {
      resize_detail::decode_row(axes, last, row, o);
      int cur = 0, nc = 1;
      off[0][0] = 0;
      cw[0][0] = 1.0f;
      bool valid = true;
      for (int d = 0; d < last && valid; ++d) {
        const Table& td = t[d];
        valid = td.valid[o[d]] != 0;
        const int K = td.K;
        const int64_t* ix = td.idx + o[d] * K;
        const float* wx = td.w + o[d] * K;
        int n2 = 0;
        for (int c = 0; c < nc; ++c)
          for (int k = 0; k < K; ++k) {
            const float wk = cw[cur][c] * wx[k];
            if (K > 1 && wk == 0.0f) continue;
            if (n2 == kMaxResizeCombos) break;
            off[1 - cur][n2] = off[cur][c] + ix[k] * stride[d];
            cw[1 - cur][n2] = wk;
            ++n2;
          }
        cur = 1 - cur;
        nc = n2;
      }
      float* yr = y + row * W;
      if (!valid) {
        for (int64_t i = 0; i < W; ++i) yr[i] = extrap;
        continue;
      }
      const Table& tl = t[last];
      const int KL = tl.K;
      const float* src[kMaxResizeCombos];
      float wc[kMaxResizeCombos];
      for (int c = 0; c < nc; ++c) {
        src[c] = x + off[cur][c];
        wc[c] = cw[cur][c];
      }
      const int64_t* lix = tl.idx;
      const float* lw = tl.w;
      if (KL == 2 && nc == 2) {
        // Bilinear: the common case, kept free of inner loops.
        const float* r0 = src[0];
        const float* r1 = src[1];
        const float c0 = wc[0], c1 = wc[1];
        for (int64_t i = 0; i < W; ++i) {
          const int64_t i0 = lix[2 * i], i1 = lix[2 * i + 1];
          const float a = lw[2 * i], b = lw[2 * i + 1];
          yr[i] = c0 * (a * r0[i0] + b * r0[i1]) + c1 * (a * r1[i0] + b * r1[i1]);
        }
      } else if (KL == 1) {
        for (int64_t i = 0; i < W; ++i) {
          const int64_t i0 = lix[i];
          float acc = 0.0f;
          for (int c = 0; c < nc; ++c) acc += wc[c] * (lw[i] * src[c][i0]);
          yr[i] = acc;
        }
      } else {
        for (int64_t i = 0; i < W; ++i) {
          const int64_t* ix = lix + i * KL;
          const float* wx = lw + i * KL;
          float acc = 0.0f;
          for (int c = 0; c < nc; ++c) {
            const float* xr = src[c];
            float inner = 0.0f;
            for (int k = 0; k < KL; ++k) inner += wx[k] * xr[ix[k]];
            acc += wc[c] * inner;
          }
          yr[i] = acc;
        }
      }
      if (!tl.all_valid)
        for (int64_t i = 0; i < W; ++i)
          if (!tl.valid[i]) yr[i] = extrap;
    }
  }, std::max<int64_t>(1, 8192 / std::max<int64_t>(W, 1)));
}

void resize_nearest_bytes(const ResizeParams& p, const ResizeAxis* axes, int rank, size_t elem_size, const void* x,
                          void* y, const void* extrapolation, void* scratch, ThreadPool* pool) {
  using resize_detail::Table;
  if (rank == 0) {
    std::memcpy(y, x, elem_size);
    return;
  }
  for (int d = 0; d < rank; ++d)
    if (axes[d].out == 0) return;
  Table t[kMaxResizeRank];
  resize_detail::build_tables(p, axes, rank, scratch, t);
  switch (elem_size) {
    case 1: { uint8_t e; std::memcpy(&e, extrapolation, 1);
      resize_detail::nearest_typed<uint8_t>(axes, rank, t, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), e, pool); break; }
    case 2: { uint16_t e; std::memcpy(&e, extrapolation, 2);
      resize_detail::nearest_typed<uint16_t>(axes, rank, t, static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), e, pool); break; }
    case 4: { uint32_t e; std::memcpy(&e, extrapolation, 4);
      resize_detail::nearest_typed<uint32_t>(axes, rank, t, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y), e, pool); break; }
    case 8: { uint64_t e; std::memcpy(&e, extrapolation, 8);
      resize_detail::nearest_typed<uint64_t>(axes, rank, t, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y), e, pool); break; }
    default: break;
  }
}

}  // namespace kernels
}  // namespace netlite
