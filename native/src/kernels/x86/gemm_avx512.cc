// AVX-512F SGEMM micro-kernel (MR x 32), its packers and matrix-vector
// kernels. Every function that uses AVX-512 carries a target attribute, so the
// file builds with plain `-O2` on any x86-64; the code only runs when the CPU
// reports avx512f (and fma), see gemm.cc's run-time selection.
#include "../gemm_internal.h"
#include "../unroll.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace netlite {
namespace kernels {
namespace gemm_avx512_detail {

constexpr int kMR = 8;
constexpr int kNR = 32;

#define NETLITE_AVX512_TARGET __attribute__((target("avx512f,avx2,fma")))
#define NETLITE_AVX512_INLINE __attribute__((target("avx512f,avx2,fma"), always_inline)) inline

bool usable() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

NETLITE_AVX512_INLINE __mmask16 lane_mask(int count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1u);
}

template <int W>
NETLITE_AVX512_TARGET void pack(float* dst, const float* src, int64_t ls, int64_t ks, int w, int64_t kc) {
  if (ls == 1) {
    // Lanes contiguous: masked copies, zero-filling lanes w..W-1.
    if (W == 32) {
      const __mmask16 m0 = lane_mask(w), m1 = lane_mask(w - 16);
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = src + k * ks;
        _mm512_store_ps(dst + k * 32, _mm512_maskz_loadu_ps(m0, s));
        _mm512_store_ps(dst + k * 32 + 16, _mm512_maskz_loadu_ps(m1, s + 16));
      }
    } else if (w == W) {
      for (int64_t k = 0; k < kc; ++k) std::memcpy(dst + k * W, src + k * ks, sizeof(float) * W);
    } else {
      gemm_pack_strip_generic<W>(dst, src, ls, ks, w, kc);
    }
    return;
  }
  gemm_pack_transpose_avx2(dst, src, ls, w, kc, W);
}

// Bias of row i and clamp on two result vectors (the GemmArgs epilogue).
template <int MR>
NETLITE_AVX512_INLINE void apply_ep(__m512 (&acc0)[MR], __m512 (&acc1)[MR], int m, const GemmEpilogue& ep) {
  if (ep.bias) {
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      if (i < m) {
        const __m512 b = _mm512_set1_ps(ep.bias[i]);
        acc0[i] = _mm512_add_ps(acc0[i], b);
        acc1[i] = _mm512_add_ps(acc1[i], b);
      }
    }
  }
  if (ep.clamp) {
    const __m512 lo = _mm512_set1_ps(ep.lo), hi = _mm512_set1_ps(ep.hi);
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      acc0[i] = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, acc0[i], lo), hi);
      acc1[i] = _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, acc1[i], lo), hi);
    }
  }
}

// C tile update from the accumulators: rows i < m, columns j < n (masked), then
// the epilogue when ep is non-null.
template <int MR>
NETLITE_AVX512_INLINE void store_tile(__m512 (&acc0)[MR], __m512 (&acc1)[MR], float* c, int64_t ldc, int m, int n,
                                      float alpha, float beta, const GemmEpilogue* ep) {
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = lane_mask(n), m1 = lane_mask(n - 16);
  if (ep) {
    // Result first, epilogue on it, then one store.
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      if (i < m) {
        float* cr = c + i * ldc;
        acc0[i] = _mm512_mul_ps(va, acc0[i]);
        acc1[i] = _mm512_mul_ps(va, acc1[i]);
        if (beta != 0.0f) {
          acc0[i] = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), acc0[i]);
          acc1[i] = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), acc1[i]);
        }
      }
    }
    apply_ep<MR>(acc0, acc1, m, *ep);
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      if (i < m) {
        float* cr = c + i * ldc;
        _mm512_mask_storeu_ps(cr, m0, acc0[i]);
        _mm512_mask_storeu_ps(cr + 16, m1, acc1[i]);
      }
    }
    return;
  }
  if (beta == 0.0f) {
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      if (i < m) {
        float* cr = c + i * ldc;
        _mm512_mask_storeu_ps(cr, m0, _mm512_mul_ps(va, acc0[i]));
        _mm512_mask_storeu_ps(cr + 16, m1, _mm512_mul_ps(va, acc1[i]));
      }
    }
  } else if (beta == 1.0f) {
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      if (i < m) {
        float* cr = c + i * ldc;
        _mm512_mask_storeu_ps(cr, m0, _mm512_fmadd_ps(va, acc0[i], _mm512_maskz_loadu_ps(m0, cr)));
        _mm512_mask_storeu_ps(cr + 16, m1, _mm512_fmadd_ps(va, acc1[i], _mm512_maskz_loadu_ps(m1, cr + 16)));
      }
    }
  } else {
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      if (i < m) {
        float* cr = c + i * ldc;
        const __m512 c0 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, cr));
        const __m512 c1 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16));
        _mm512_mask_storeu_ps(cr, m0, _mm512_fmadd_ps(va, acc0[i], c0));
        _mm512_mask_storeu_ps(cr + 16, m1, _mm512_fmadd_ps(va, acc1[i], c1));
      }
    }
  }
}

// The FMA loop of one tile. kHalf: the tile has at most 16 columns (the last strip
// of N = 196, 169, 784, ...), so only the strip's first 16 lanes are computed and
// acc1 stays zero (store_tile's lane mask for columns 16..31 is then empty).
template <int MR, bool kHalf>
NETLITE_AVX512_INLINE void kernel_loop(int64_t kc, const float* a, const float* b, __m512 (&acc0)[MR],
                                       __m512 (&acc1)[MR]) {
NETLITE_UNROLL(4)
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = kHalf ? b0 : _mm512_load_ps(b + 16);
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      if (!kHalf) acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
    a += MR;
    b += kNR;
  }
}

template <int MR>
NETLITE_AVX512_INLINE void kernel_body(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m,
                                       int n, float alpha, float beta, const GemmEpilogue* ep) {
  __m512 acc0[MR], acc1[MR];
NETLITE_UNROLL(16)
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
NETLITE_UNROLL(16)
  for (int i = 0; i < MR; ++i)
    if (i < m) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  if (n > 16)
    kernel_loop<MR, false>(kc, a, b, acc0, acc1);
  else
    kernel_loop<MR, true>(kc, a, b, acc0, acc1);
  store_tile<MR>(acc0, acc1, c, ldc, m, n, alpha, beta, ep);
}

template <int MR>
NETLITE_AVX512_TARGET void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n,
                                  float alpha, float beta) {
  kernel_body<MR>(kc, a, b, c, ldc, m, n, alpha, beta, nullptr);
}

template <int MR>
NETLITE_AVX512_TARGET void kernel_ep(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n,
                                     float alpha, float beta, const GemmEpilogue& ep) {
  kernel_body<MR>(kc, a, b, c, ldc, m, n, alpha, beta, &ep);
}

// kernel_loop with A's rows read in place.
template <int MR, bool kHalf>
NETLITE_AVX512_INLINE void direct_a_loop(int64_t kc, const float* const (&ap)[MR], const float* b,
                                         __m512 (&acc0)[MR], __m512 (&acc1)[MR]) {
NETLITE_UNROLL(2)
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = kHalf ? b0 : _mm512_load_ps(b + 16);
NETLITE_UNROLL(16)
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(ap[i][k]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      if (!kHalf) acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
    b += kNR;
  }
}

// Same tile with A read in place (row-major, element (i, k) at a[i*lda + k])
// instead of from a packed strip; rows >= m are never read.
template <int MR>
NETLITE_AVX512_INLINE void direct_a_body(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                                         int64_t ldc, int m, int n, float alpha, float beta, const GemmEpilogue* ep) {
  const float* ap[MR];
NETLITE_UNROLL(16)
  for (int i = 0; i < MR; ++i) ap[i] = a + (i < m ? i : 0) * lda;
  __m512 acc0[MR], acc1[MR];
NETLITE_UNROLL(16)
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  if (n > 16)
    direct_a_loop<MR, false>(kc, ap, b, acc0, acc1);
  else
    direct_a_loop<MR, true>(kc, ap, b, acc0, acc1);
  store_tile<MR>(acc0, acc1, c, ldc, m, n, alpha, beta, ep);
}

template <int MR>
NETLITE_AVX512_TARGET void kernel_direct_a(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                                           int64_t ldc, int m, int n, float alpha, float beta) {
  direct_a_body<MR>(kc, a, lda, b, c, ldc, m, n, alpha, beta, nullptr);
}

template <int MR>
NETLITE_AVX512_TARGET void kernel_direct_a_ep(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                                              int64_t ldc, int m, int n, float alpha, float beta,
                                              const GemmEpilogue& ep) {
  direct_a_body<MR>(kc, a, lda, b, c, ldc, m, n, alpha, beta, &ep);
}

// Horizontal sum, entirely in zmm registers with zero-masked shuffles: GCC 12
// warns (-Wmaybe-uninitialized) inside immintrin.h for _mm512_reduce_add_ps
// and the 512->256/128 casts.
NETLITE_AVX512_INLINE float hsum(__m512 v) {
  const __mmask16 all = 0xFFFF;
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm512_cvtss_f32(v);
}

NETLITE_AVX512_INLINE float finish(float sum, float alpha, float beta, float y) {
  return beta == 0.0f ? alpha * sum : alpha * sum + beta * y;
}

// y[j..j+R) = alpha * dot(r_j, x) + beta * y[j], R rows at once: two
// accumulators per row (32 columns a step), then 16, then the masked tail.
template <int R>
NETLITE_AVX512_INLINE void dot_rows(int64_t k, const float* r, int64_t ldr, const float* x, float* y, float alpha,
                                    float beta) {
  const int64_t k16 = k & ~int64_t(15);
  const __mmask16 tail = lane_mask(int(k - k16));
  __m512 a[R], e[R];
NETLITE_UNROLL(16)
  for (int i = 0; i < R; ++i) a[i] = e[i] = _mm512_setzero_ps();
  int64_t p = 0;
  for (; p + 32 <= k; p += 32) {
    const __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
NETLITE_UNROLL(16)
    for (int i = 0; i < R; ++i) {
      a[i] = _mm512_fmadd_ps(_mm512_loadu_ps(r + i * ldr + p), x0, a[i]);
      e[i] = _mm512_fmadd_ps(_mm512_loadu_ps(r + i * ldr + p + 16), x1, e[i]);
    }
  }
  for (; p < k16; p += 16) {
    const __m512 x0 = _mm512_loadu_ps(x + p);
NETLITE_UNROLL(16)
    for (int i = 0; i < R; ++i) a[i] = _mm512_fmadd_ps(_mm512_loadu_ps(r + i * ldr + p), x0, a[i]);
  }
  if (p < k) {
    const __m512 x0 = _mm512_maskz_loadu_ps(tail, x + p);
NETLITE_UNROLL(16)
    for (int i = 0; i < R; ++i) e[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r + i * ldr + p), x0, e[i]);
  }
NETLITE_UNROLL(16)
  for (int i = 0; i < R; ++i) y[i] = finish(hsum(_mm512_add_ps(a[i], e[i])), alpha, beta, y[i]);
}

// y[j] = alpha * dot(r_j, x) + beta * y[j], 8 rows at a time. The rows stream from
// memory (a classifier's weights, read once a run): eight streams keep more
// lines in flight than four. 1000 x 1280 (MobileNetV2's classifier) from DRAM,
// a program calling this: 4 rows 292-348 us, 8 rows 220-260, 12 rows 213-223;
// from L3 103-139 -> 86-126.
NETLITE_AVX512_TARGET void gemv_dot(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y,
                                    float alpha, float beta) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) dot_rows<8>(k, r + j * ldr, ldr, x, y + j, alpha, beta);
  for (; j < n; ++j) dot_rows<1>(k, r + j * ldr, ldr, x, y + j, alpha, beta);
}

// y[j] = alpha * sum_k x[k] * r[k*ldr + j] + beta * y[j]: streams rows of r,
// 4 at a time, into an L1-resident accumulator block.
NETLITE_AVX512_TARGET void gemv_axpy(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y,
                                     float alpha, float beta) {
  constexpr int64_t kCols = 1024;
  alignas(64) float acc[kCols];
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int64_t nb = n - j0 < kCols ? n - j0 : kCols;
    const int64_t nb16 = nb & ~int64_t(15);
    const __mmask16 tail = lane_mask(int(nb - nb16));
    for (int64_t j = 0; j < nb; j += 16) _mm512_store_ps(acc + j, _mm512_setzero_ps());
    const float* rb = r + j0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* r0 = rb + p * ldr;
      const float* r1 = r0 + ldr;
      const float* r2 = r1 + ldr;
      const float* r3 = r2 + ldr;
      const __m512 x0 = _mm512_set1_ps(x[p]), x1 = _mm512_set1_ps(x[p + 1]);
      const __m512 x2 = _mm512_set1_ps(x[p + 2]), x3 = _mm512_set1_ps(x[p + 3]);
      int64_t j = 0;
      for (; j < nb16; j += 16) {
        __m512 t = _mm512_load_ps(acc + j);
        t = _mm512_fmadd_ps(x0, _mm512_loadu_ps(r0 + j), t);
        t = _mm512_fmadd_ps(x1, _mm512_loadu_ps(r1 + j), t);
        t = _mm512_fmadd_ps(x2, _mm512_loadu_ps(r2 + j), t);
        t = _mm512_fmadd_ps(x3, _mm512_loadu_ps(r3 + j), t);
        _mm512_store_ps(acc + j, t);
      }
      if (j < nb) {
        __m512 t = _mm512_load_ps(acc + j);
        t = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(tail, r0 + j), t);
        t = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(tail, r1 + j), t);
        t = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(tail, r2 + j), t);
        t = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(tail, r3 + j), t);
        _mm512_store_ps(acc + j, t);
      }
    }
    for (; p < k; ++p) {
      const float* r0 = rb + p * ldr;
      const __m512 x0 = _mm512_set1_ps(x[p]);
      int64_t j = 0;
      for (; j < nb16; j += 16)
        _mm512_store_ps(acc + j, _mm512_fmadd_ps(x0, _mm512_loadu_ps(r0 + j), _mm512_load_ps(acc + j)));
      if (j < nb)
        _mm512_store_ps(acc + j, _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(tail, r0 + j), _mm512_load_ps(acc + j)));
    }
    float* yb = y + j0;
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int64_t j = 0; j < nb; j += 16) {
      const __mmask16 mk = lane_mask(int(nb - j));
      __m512 out = _mm512_mul_ps(va, _mm512_load_ps(acc + j));
      if (beta != 0.0f) out = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, yb + j), out);
      _mm512_mask_storeu_ps(yb + j, mk, out);
    }
  }
}

// 7 x 32: for GEMMs whose rows are a small plane's positions (the transposed conv,
// GemmArgs::mr): 49 = 7 x 7 and 196 = 28 x 7 rows fill every tile, where 8 rows
// pad them to 56 and 200. Same strips of B, so the same packed weights.
constexpr int kMR7 = 7;
const GemmMicroKernel kKernel7 = {
    "avx512-7x32", kMR7,       kNR,         /*mc=*/1008, /*kc=*/512, /*nc=*/256, usable,
    pack<kMR7>,    pack<kNR>,  kernel<kMR7>, kernel_direct_a<kMR7>, gemv_dot, gemv_axpy,
    kernel_ep<kMR7>, kernel_direct_a_ep<kMR7>, nullptr,
};

const GemmMicroKernel kKernel = {
    "avx512",  kMR,       kNR,         /*mc=*/1024, /*kc=*/512, /*nc=*/256, usable,
    pack<kMR>, pack<kNR>, kernel<kMR>, kernel_direct_a<kMR>, gemv_dot, gemv_axpy,
    kernel_ep<kMR>, kernel_direct_a_ep<kMR>, &kKernel7,
};

#undef NETLITE_AVX512_INLINE
#undef NETLITE_AVX512_TARGET

}  // namespace gemm_avx512_detail

const GemmMicroKernel* gemm_avx512_microkernel() { return &gemm_avx512_detail::kKernel; }
const GemmMicroKernel* gemm_avx512_7rows_microkernel() { return &gemm_avx512_detail::kKernel7; }

}  // namespace kernels
}  // namespace netlite

#else  // not x86 with GCC/Clang

namespace netlite {
namespace kernels {
const GemmMicroKernel* gemm_avx512_microkernel() { return nullptr; }
const GemmMicroKernel* gemm_avx512_7rows_microkernel() { return nullptr; }
}  // namespace kernels
}  // namespace netlite

#endif
