// Strided N-d copy, transpose and fill (see copy.h).
#include "copy.h"

#include <algorithm>
#include <cstring>

#include "../core/threadpool.h"

namespace netlite {
namespace kernels {
namespace copy_detail {

// Elements per parallel chunk worth handing to another thread.
constexpr int64_t kGrainElems = 1 << 15;
// Square tile edge of the 2-D transpose path (elements).
constexpr int64_t kTile = 32;

struct Layout {
  int rank = 0;
  int64_t shape[kMaxCopyRank];
  int64_t ss[kMaxCopyRank];  // src strides (elements)
  int64_t ds[kMaxCopyRank];  // dst strides (elements)
};

// Drops size-1 dims and merges neighbours that are contiguous in both src and dst.
// Returns false when the copy is empty.
bool simplify(Layout& l, int rank, const int64_t* shape, const int64_t* ss, const int64_t* ds) {
  l.rank = 0;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 0) return false;
    if (shape[d] == 1) continue;
    if (l.rank > 0) {
      int p = l.rank - 1;
      if (l.ss[p] == ss[d] * shape[d] && l.ds[p] == ds[d] * shape[d]) {
        l.shape[p] *= shape[d];
        l.ss[p] = ss[d];
        l.ds[p] = ds[d];
        continue;
      }
    }
    l.shape[l.rank] = shape[d];
    l.ss[l.rank] = ss[d];
    l.ds[l.rank] = ds[d];
    ++l.rank;
  }
  return true;
}

// Offsets (elements) of outer index `o` over dims [0, nd) of l.
inline void outer_offsets(const Layout& l, int nd, int64_t o, int64_t* idx, int64_t& so, int64_t& dof) {
  so = 0;
  dof = 0;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = o % l.shape[d];
    o /= l.shape[d];
    so += idx[d] * l.ss[d];
    dof += idx[d] * l.ds[d];
  }
}

// Advances the odometer over dims [0, nd) by one, updating offsets.
inline void outer_next(const Layout& l, int nd, int64_t* idx, int64_t& so, int64_t& dof) {
  for (int d = nd - 1; d >= 0; --d) {
    if (++idx[d] < l.shape[d]) {
      so += l.ss[d];
      dof += l.ds[d];
      return;
    }
    idx[d] = 0;
    so -= (l.shape[d] - 1) * l.ss[d];
    dof -= (l.shape[d] - 1) * l.ds[d];
  }
}

// Row-wise copy: outer dims by odometer, the last dim as one row.
template <typename T>
void copy_rows(const Layout& l, const T* src, T* dst, ThreadPool* pool) {
  const int nd = l.rank - 1;
  int64_t outer = 1;
  for (int d = 0; d < nd; ++d) outer *= l.shape[d];
  const int64_t n = l.shape[nd], s = l.ss[nd], t = l.ds[nd];
  auto body = [&](int64_t b, int64_t e) {
    int64_t idx[kMaxCopyRank];
    int64_t so, dof;
    outer_offsets(l, nd, b, idx, so, dof);
    for (int64_t o = b; o < e; ++o) {
      const T* sp = src + so;
      T* dp = dst + dof;
      if (s == 1 && t == 1) {
        std::memcpy(dp, sp, size_t(n) * sizeof(T));
      } else if (s == 0) {
        const T v = *sp;
        for (int64_t i = 0; i < n; ++i) dp[i * t] = v;
      } else if (t == 1) {
        for (int64_t i = 0; i < n; ++i) dp[i] = sp[i * s];
      } else {
        for (int64_t i = 0; i < n; ++i) dp[i * t] = sp[i * s];
      }
      if (o + 1 < e) outer_next(l, nd, idx, so, dof);
    }
  };
  int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(n, 1));
  if (pool) pool->parallel_for(outer, body, grain);
  else body(0, outer);
}

// Tiled 2-D transpose over the last two dims of l, where dim rank-2 has src stride 1
// and dim rank-1 has dst stride 1; the other dims are outer loops.
template <typename T>
void copy_transposed(const Layout& l, const T* src, T* dst, ThreadPool* pool) {
  const int nd = l.rank - 2;
  int64_t outer = 1;
  for (int d = 0; d < nd; ++d) outer *= l.shape[d];
  const int64_t R = l.shape[nd], C = l.shape[nd + 1];
  const int64_t rs = l.ds[nd];      // dst stride along rows (src stride 1)
  const int64_t cs = l.ss[nd + 1];  // src stride along cols (dst stride 1)
  const int64_t rtiles = (R + kTile - 1) / kTile;
  const int64_t ctiles = (C + kTile - 1) / kTile;
  const int64_t tiles = rtiles * ctiles;
  auto body = [&](int64_t b, int64_t e) {
    int64_t idx[kMaxCopyRank];
    int64_t so, dof;
    int64_t o = b / tiles;
    outer_offsets(l, nd, o, idx, so, dof);
    for (int64_t w = b; w < e; ++w) {
      int64_t cur = w / tiles;
      while (o < cur) {
        outer_next(l, nd, idx, so, dof);
        ++o;
      }
      int64_t tile = w % tiles;
      int64_t r0 = (tile / ctiles) * kTile, c0 = (tile % ctiles) * kTile;
      int64_t r1 = std::min(R, r0 + kTile), c1 = std::min(C, c0 + kTile);
      const T* sp = src + so;
      T* dp = dst + dof;
      for (int64_t r = r0; r < r1; ++r) {
        T* drow = dp + r * rs;
        const T* scol = sp + r;
        for (int64_t c = c0; c < c1; ++c) drow[c] = scol[c * cs];
      }
    }
  };
  int64_t grain = std::max<int64_t>(1, kGrainElems / (kTile * kTile));
  if (pool) pool->parallel_for(outer * tiles, body, grain);
  else body(0, outer * tiles);
}

template <typename T>
void deinterleave_typed(int64_t C, int64_t b, int64_t e, const T* src, T* dst, int64_t plane) {
  for (int64_t i = b; i < e; ++i)
    for (int64_t c = 0; c < C; ++c) dst[c * plane + i] = src[i * C + c];
}

// The last two dims of l are a channel de-interleave (dst [C][n] from src [n][C],
// 2 <= C <= 4): outer dims by odometer, the pixels in chunks over the pool.
template <typename T>
bool copy_deinterleaved(const Layout& l, const T* src, T* dst, ThreadPool* pool) {
  const int nd = l.rank - 2;
  if (nd < 0) return false;
  const int64_t C = l.shape[nd], n = l.shape[nd + 1];
  if (C < 2 || C > 4 || n < 64 || (sizeof(T) != 1 && sizeof(T) != 4) || l.ss[nd] != 1 || l.ss[nd + 1] != C ||
      l.ds[nd + 1] != 1 || l.ds[nd] < n)
    return false;
  int64_t outer = 1;
  for (int d = 0; d < nd; ++d) outer *= l.shape[d];
  constexpr int64_t kChunk = 1 << 16;  // pixels per task (a multiple of 64): a 224x224 image is one
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  auto body = [&](int64_t b, int64_t e) {
    int64_t idx[kMaxCopyRank];
    int64_t so, dof;
    int64_t o = b / chunks;
    outer_offsets(l, nd, o, idx, so, dof);
    for (int64_t w = b; w < e; ++w) {
      while (o < w / chunks) {
        outer_next(l, nd, idx, so, dof);
        ++o;
      }
      const int64_t p0 = (w % chunks) * kChunk, p1 = std::min(n, p0 + kChunk);
      deinterleave(sizeof(T), C, p1 - p0, src + so + p0 * C, dst + dof + p0, l.ds[nd]);
    }
  };
  if (pool) pool->parallel_for(outer * chunks, body, 1);
  else body(0, outer * chunks);
  return true;
}

template <typename T>
void copy_typed(Layout& l, const void* src, void* dst, ThreadPool* pool) {
  const T* sp = static_cast<const T*>(src);
  T* dp = static_cast<T*>(dst);
  if (l.rank == 0) {
    *dp = *sp;
    return;
  }
  const int last = l.rank - 1;
  if (copy_deinterleaved<T>(l, sp, dp, pool)) return;
  if (l.rank >= 2 && l.ds[last] == 1 && l.ss[last] != 1 && l.ss[last] != 0 && l.shape[last] >= 8) {
    // A transpose: find the dim read contiguously and make it the second-to-last.
    int k = -1;
    for (int d = last - 1; d >= 0; --d)
      if (l.ss[d] == 1 && l.shape[d] >= 8) { k = d; break; }
    if (k >= 0) {
      for (int d = k; d < last - 1; ++d) {
        std::swap(l.shape[d], l.shape[d + 1]);
        std::swap(l.ss[d], l.ss[d + 1]);
        std::swap(l.ds[d], l.ds[d + 1]);
      }
      copy_transposed<T>(l, sp, dp, pool);
      return;
    }
  }
  copy_rows<T>(l, sp, dp, pool);
}

}  // namespace copy_detail

void deinterleave_reference(size_t elem_size, int64_t C, int64_t n, const void* src, void* dst, int64_t plane) {
  switch (elem_size) {
    case 1:
      copy_detail::deinterleave_typed(C, 0, n, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), plane);
      break;
    case 2:
      copy_detail::deinterleave_typed(C, 0, n, static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), plane);
      break;
    case 4:
      copy_detail::deinterleave_typed(C, 0, n, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), plane);
      break;
    case 8:
      copy_detail::deinterleave_typed(C, 0, n, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), plane);
      break;
    default: break;
  }
}

void deinterleave(size_t elem_size, int64_t C, int64_t n, const void* src, void* dst, int64_t plane) {
#if defined(__x86_64__) || defined(__i386__)
  if (x86::deinterleave_avx512_usable() && x86::deinterleave_avx512(elem_size, C, n, src, dst, plane)) return;
#endif
  deinterleave_reference(elem_size, C, n, src, dst, plane);
}

void strided_copy(size_t elem_size, int rank, const int64_t* shape, const void* src, const int64_t* src_strides,
                  void* dst, const int64_t* dst_strides, ThreadPool* pool) {
  copy_detail::Layout l;
  if (!copy_detail::simplify(l, rank, shape, src_strides, dst_strides)) return;
  switch (elem_size) {
    case 1: copy_detail::copy_typed<uint8_t>(l, src, dst, pool); break;
    case 2: copy_detail::copy_typed<uint16_t>(l, src, dst, pool); break;
    case 4: copy_detail::copy_typed<uint32_t>(l, src, dst, pool); break;
    case 8: copy_detail::copy_typed<uint64_t>(l, src, dst, pool); break;
    default: break;  // callers only pass sizes of supported dtypes
  }
}

void transpose(size_t elem_size, int rank, const int64_t* in_shape, const int64_t* perm, const void* src, void* dst,
               ThreadPool* pool) {
  int64_t in_strides[kMaxCopyRank], shape[kMaxCopyRank], ss[kMaxCopyRank], ds[kMaxCopyRank];
  int64_t st = 1;
  for (int d = rank - 1; d >= 0; --d) {
    in_strides[d] = st;
    st *= in_shape[d];
  }
  st = 1;
  for (int d = rank - 1; d >= 0; --d) {
    shape[d] = in_shape[perm[d]];
    ss[d] = in_strides[perm[d]];
    ds[d] = st;
    st *= shape[d];
  }
  strided_copy(elem_size, rank, shape, src, ss, dst, ds, pool);
}

namespace copy_detail {
template <typename T>
void fill_typed(void* dst, int64_t n, const void* value, ThreadPool* pool) {
  T v;
  std::memcpy(&v, value, sizeof(T));
  T* d = static_cast<T*>(dst);
  auto body = [&](int64_t b, int64_t e) { std::fill(d + b, d + e, v); };
  if (pool) pool->parallel_for(n, body, kGrainElems * 4);
  else body(0, n);
}
}  // namespace copy_detail

void fill_elements(size_t elem_size, void* dst, int64_t n, const void* value, ThreadPool* pool) {
  if (n <= 0) return;
  switch (elem_size) {
    case 1: copy_detail::fill_typed<uint8_t>(dst, n, value, pool); break;
    case 2: copy_detail::fill_typed<uint16_t>(dst, n, value, pool); break;
    case 4: copy_detail::fill_typed<uint32_t>(dst, n, value, pool); break;
    case 8: copy_detail::fill_typed<uint64_t>(dst, n, value, pool); break;
    default: break;
  }
}

}  // namespace kernels
}  // namespace netlite
