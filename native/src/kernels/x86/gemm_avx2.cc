// AVX2 + FMA SGEMM micro-kernel (6 x 16), its packers and matrix-vector
// kernels. Every function that uses AVX carries a target attribute, so this
// file builds with plain `-O2` on any x86-64 and the code only runs when the
// CPU reports avx2 and fma (see gemm.cc's run-time selection).
#include "../gemm_internal.h"
#include "../unroll.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace netlite {
namespace kernels {

namespace gemm_avx2_detail {

constexpr int kMR = 6;
constexpr int kNR = 16;

#define NETLITE_AVX2_TARGET __attribute__((target("avx2,fma")))
#define NETLITE_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

bool usable() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

NETLITE_AVX2_INLINE void transpose8x8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5,
                                      __m256& r6, __m256& r7) {
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r0 = _mm256_permute2f128_ps(u0, u4, 0x20);
  r1 = _mm256_permute2f128_ps(u1, u5, 0x20);
  r2 = _mm256_permute2f128_ps(u2, u6, 0x20);
  r3 = _mm256_permute2f128_ps(u3, u7, 0x20);
  r4 = _mm256_permute2f128_ps(u0, u4, 0x31);
  r5 = _mm256_permute2f128_ps(u1, u5, 0x31);
  r6 = _mm256_permute2f128_ps(u2, u6, 0x31);
  r7 = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Stores the first `count` (1..8) lanes of v to d.
NETLITE_AVX2_INLINE void store_lanes(float* d, __m256 v, int count) {
  if (count >= 8) {
    _mm256_storeu_ps(d, v);
    return;
  }
  const __m128 lo = _mm256_castps256_ps128(v);
  if (count == 4) {
    _mm_storeu_ps(d, lo);
  } else if (count == 6) {
    _mm_storeu_ps(d, lo);
    _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), _mm256_extractf128_ps(v, 1));
  } else {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (int l = 0; l < count; ++l) d[l] = tmp[l];
  }
}

// Transposing pack (k contiguous within each lane, lanes lane_stride apart),
// 8 lanes x 8 k at a time with in-register 8x8 transposes. Shared with the
// AVX-512 kernel (any CPU with AVX-512F also has AVX2).
NETLITE_AVX2_TARGET void pack_transpose(float* dst, const float* src, int64_t lane_stride, int w, int64_t kc,
                                        int W) {
  const int64_t kc8 = kc & ~int64_t(7);
  for (int l0 = 0; l0 < W; l0 += 8) {
    const int lanes_out = W - l0 < 8 ? W - l0 : 8;  // lanes of this group in dst
    const int lanes_in = w - l0 < 0 ? 0 : (w - l0 < 8 ? w - l0 : 8);  // lanes read from src
    const float* s = src + l0 * lane_stride;
    float* d = dst + l0;
    if (lanes_in == 0) {
      const __m256 z = _mm256_setzero_ps();
      for (int64_t k = 0; k < kc; ++k) store_lanes(d + k * W, z, lanes_out);
      continue;
    }
    const float* rp[8];
    for (int l = 0; l < 8; ++l) rp[l] = s + (l < lanes_in ? l : 0) * lane_stride;
    const __m256 z = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc8; k += 8) {
      __m256 r0 = _mm256_loadu_ps(rp[0] + k);
      __m256 r1 = lanes_in > 1 ? _mm256_loadu_ps(rp[1] + k) : z;
      __m256 r2 = lanes_in > 2 ? _mm256_loadu_ps(rp[2] + k) : z;
      __m256 r3 = lanes_in > 3 ? _mm256_loadu_ps(rp[3] + k) : z;
      __m256 r4 = lanes_in > 4 ? _mm256_loadu_ps(rp[4] + k) : z;
      __m256 r5 = lanes_in > 5 ? _mm256_loadu_ps(rp[5] + k) : z;
      __m256 r6 = lanes_in > 6 ? _mm256_loadu_ps(rp[6] + k) : z;
      __m256 r7 = lanes_in > 7 ? _mm256_loadu_ps(rp[7] + k) : z;
      transpose8x8(r0, r1, r2, r3, r4, r5, r6, r7);
      float* dk = d + k * W;
      store_lanes(dk, r0, lanes_out);
      store_lanes(dk + W, r1, lanes_out);
      store_lanes(dk + 2 * W, r2, lanes_out);
      store_lanes(dk + 3 * W, r3, lanes_out);
      store_lanes(dk + 4 * W, r4, lanes_out);
      store_lanes(dk + 5 * W, r5, lanes_out);
      store_lanes(dk + 6 * W, r6, lanes_out);
      store_lanes(dk + 7 * W, r7, lanes_out);
    }
    for (int64_t k = kc8; k < kc; ++k) {
      float* dk = d + k * W;
      for (int l = 0; l < lanes_out; ++l) dk[l] = l < lanes_in ? s[l * lane_stride + k] : 0.0f;
    }
  }
}

template <int W>
NETLITE_AVX2_TARGET void pack(float* dst, const float* src, int64_t ls, int64_t ks, int w, int64_t kc) {
  if (ls == 1) {
    if (w == W) {
      for (int64_t k = 0; k < kc; ++k) std::memcpy(dst + k * W, src + k * ks, sizeof(float) * W);
    } else {
      gemm_pack_strip_generic<W>(dst, src, ls, ks, w, kc);
    }
    return;
  }
  pack_transpose(dst, src, ls, w, kc, W);
}

// C tile update from the accumulators (rows i < m, columns j < n).
NETLITE_AVX2_INLINE void store_tile(const __m256 (&acc0)[kMR], const __m256 (&acc1)[kMR], float* c, int64_t ldc,
                                    int m, int n, float alpha, float beta) {
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  if (m == kMR && n == kNR) {
NETLITE_UNROLL(8)
    for (int i = 0; i < kMR; ++i) {
      float* cr = c + i * ldc;
      __m256 o0 = _mm256_mul_ps(va, acc0[i]), o1 = _mm256_mul_ps(va, acc1[i]);
      if (beta != 0.0f) {
        o0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), o0);
        o1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), o1);
      }
      _mm256_storeu_ps(cr, o0);
      _mm256_storeu_ps(cr + 8, o1);
    }
    return;
  }
  alignas(32) float tile[kMR][kNR];
NETLITE_UNROLL(8)
  for (int i = 0; i < kMR; ++i) {
    _mm256_store_ps(tile[i], acc0[i]);
    _mm256_store_ps(tile[i] + 8, acc1[i]);
  }
  for (int i = 0; i < m; ++i) {
    float* crow = c + i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < n; ++j) crow[j] = alpha * tile[i][j];
    } else {
      for (int j = 0; j < n; ++j) crow[j] = alpha * tile[i][j] + beta * crow[j];
    }
  }
}

NETLITE_AVX2_TARGET void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n,
                                float alpha, float beta) {
  __m256 acc0[kMR], acc1[kMR];
NETLITE_UNROLL(8)
  for (int i = 0; i < kMR; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
  for (int i = 0; i < m; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
NETLITE_UNROLL(4)
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
NETLITE_UNROLL(8)
    for (int i = 0; i < kMR; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i);
      acc0[i] = _mm256_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(av, b1, acc1[i]);
    }
    a += kMR;
    b += kNR;
  }
  store_tile(acc0, acc1, c, ldc, m, n, alpha, beta);
}

// The same tile reading A in place (element (i, k) at a[i*lda + k]).
NETLITE_AVX2_TARGET void kernel_direct_a(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                                         int64_t ldc, int m, int n, float alpha, float beta) {
  const float* ap[kMR];
NETLITE_UNROLL(8)
  for (int i = 0; i < kMR; ++i) ap[i] = a + (i < m ? i : 0) * lda;
  __m256 acc0[kMR], acc1[kMR];
NETLITE_UNROLL(8)
  for (int i = 0; i < kMR; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
NETLITE_UNROLL(2)
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
NETLITE_UNROLL(8)
    for (int i = 0; i < kMR; ++i) {
      const __m256 av = _mm256_broadcast_ss(ap[i] + k);
      acc0[i] = _mm256_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(av, b1, acc1[i]);
    }
    b += kNR;
  }
  store_tile(acc0, acc1, c, ldc, m, n, alpha, beta);
}

NETLITE_AVX2_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

NETLITE_AVX2_INLINE float finish(float sum, float alpha, float beta, float y) {
  return beta == 0.0f ? alpha * sum : alpha * sum + beta * y;
}

// y[j..j+R) = alpha * dot(r_j, x) + beta * y[j], R rows at once, one
// accumulator per row, the last k % 8 columns in scalar.
template <int R>
NETLITE_AVX2_INLINE void dot_rows(int64_t k, const float* r, int64_t ldr, const float* x, float* y, float alpha,
                                  float beta) {
  const int64_t k8 = k & ~int64_t(7);
  __m256 a[R];
NETLITE_UNROLL(8)
  for (int i = 0; i < R; ++i) a[i] = _mm256_setzero_ps();
  for (int64_t p = 0; p < k8; p += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + p);
NETLITE_UNROLL(8)
    for (int i = 0; i < R; ++i) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(r + i * ldr + p), x0, a[i]);
  }
NETLITE_UNROLL(8)
  for (int i = 0; i < R; ++i) {
    float s = hsum(a[i]);
    for (int64_t p = k8; p < k; ++p) s += r[i * ldr + p] * x[p];
    y[i] = finish(s, alpha, beta, y[i]);
  }
}

// y[j] = alpha * dot(r_j, x) + beta * y[j], 8 rows at a time: the rows stream
// from memory, and eight streams keep more lines in flight than four (1000 x 1280
// from DRAM, a program calling it on this AVX-512 machine: 4 rows of two
// accumulators 314-342 us, 8 rows of one 220-248).
NETLITE_AVX2_TARGET void gemv_dot(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y,
                                  float alpha, float beta) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) dot_rows<8>(k, r + j * ldr, ldr, x, y + j, alpha, beta);
  for (; j < n; ++j) dot_rows<1>(k, r + j * ldr, ldr, x, y + j, alpha, beta);
}

NETLITE_AVX2_TARGET void gemv_axpy(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y,
                                   float alpha, float beta) {
  constexpr int64_t kCols = 1024;  // accumulator block, stays in L1
  alignas(32) float acc[kCols];
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int64_t nb = n - j0 < kCols ? n - j0 : kCols;
    const int64_t nb8 = nb & ~int64_t(7);
    for (int64_t j = 0; j < nb; ++j) acc[j] = 0.0f;
    const float* rb = r + j0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* r0 = rb + p * ldr;
      const float* r1 = r0 + ldr;
      const float* r2 = r1 + ldr;
      const float* r3 = r2 + ldr;
      const __m256 x0 = _mm256_set1_ps(x[p]), x1 = _mm256_set1_ps(x[p + 1]);
      const __m256 x2 = _mm256_set1_ps(x[p + 2]), x3 = _mm256_set1_ps(x[p + 3]);
      int64_t j = 0;
      for (; j < nb8; j += 8) {
        __m256 t = _mm256_load_ps(acc + j);
        t = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r0 + j), t);
        t = _mm256_fmadd_ps(x1, _mm256_loadu_ps(r1 + j), t);
        t = _mm256_fmadd_ps(x2, _mm256_loadu_ps(r2 + j), t);
        t = _mm256_fmadd_ps(x3, _mm256_loadu_ps(r3 + j), t);
        _mm256_store_ps(acc + j, t);
      }
      for (; j < nb; ++j) acc[j] += x[p] * r0[j] + x[p + 1] * r1[j] + x[p + 2] * r2[j] + x[p + 3] * r3[j];
    }
    for (; p < k; ++p) {
      const float* r0 = rb + p * ldr;
      const __m256 x0 = _mm256_set1_ps(x[p]);
      int64_t j = 0;
      for (; j < nb8; j += 8)
        _mm256_store_ps(acc + j, _mm256_fmadd_ps(x0, _mm256_loadu_ps(r0 + j), _mm256_load_ps(acc + j)));
      for (; j < nb; ++j) acc[j] += x[p] * r0[j];
    }
    float* yb = y + j0;
    for (int64_t j = 0; j < nb; ++j) yb[j] = finish(acc[j], alpha, beta, yb[j]);
  }
}

const GemmMicroKernel kKernel = {
    "avx2",    kMR,       kNR,    /*mc=*/1020, /*kc=*/256, /*nc=*/768, usable,
    pack<kMR>, pack<kNR>, kernel, kernel_direct_a, gemv_dot, gemv_axpy, nullptr, nullptr, nullptr,
};

#undef NETLITE_AVX2_INLINE
#undef NETLITE_AVX2_TARGET

}  // namespace gemm_avx2_detail

const GemmMicroKernel* gemm_avx2_microkernel() { return &gemm_avx2_detail::kKernel; }

__attribute__((target("avx2,fma"))) void gemm_pack_transpose_avx2(float* dst, const float* src,
                                                                  int64_t lane_stride, int w, int64_t kc, int W) {
  gemm_avx2_detail::pack_transpose(dst, src, lane_stride, w, kc, W);
}

}  // namespace kernels
}  // namespace netlite

#else  // not x86 with GCC/Clang

namespace netlite {
namespace kernels {
const GemmMicroKernel* gemm_avx2_microkernel() { return nullptr; }
}  // namespace kernels
}  // namespace netlite

#endif
