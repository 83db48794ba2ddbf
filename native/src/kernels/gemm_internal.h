// Shared declarations between the SGEMM driver (gemm.cc) and the per-ISA
// micro-kernel files (x86/gemm_avx2.cc, x86/gemm_avx512.cc, arm/gemm_neon.cc).
//
// The Netlite backend is a GotoBLAS/BLIS-style packed GEMM:
//   op(A) is packed in strips of MR rows   : strip[k*MR + i] = op(A)(i0+i, p0+k)
//   op(B) is packed in strips of NR columns: strip[k*NR + j] = op(B)(p0+k, j0+j)
// Lanes past the edge of the matrix are zero-filled, so a micro-kernel always
// runs over a full MR x NR tile and only its stores are clipped to m x n.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm.h"

namespace netlite {
class ThreadPool;
namespace kernels {

// Packs one strip of W lanes (W = the kernel's MR for A, NR for B) over kc
// steps: dst[k*W + l] = src[l*lane_stride + k*k_stride] for l < w (w <= W);
// lanes w..W-1 are written as 0. One of the two strides is always 1.
// dst is 64-byte aligned.
using GemmPackFn = void (*)(float* dst, const float* src, int64_t lane_stride, int64_t k_stride, int w,
                            int64_t kc);

// Micro-kernel: acc[i][j] = sum_k a[k*MR + i] * b[k*NR + j] over the full
// MR x NR tile, then for i < m, j < n:
//   C[i*ldc + j] = alpha * acc[i][j] + beta * C[i*ldc + j]
// and when beta == 0 the previous contents of C are not read (NaN-safe).
// a and b are 64-byte aligned packed strips; kc >= 1.
using GemmMicroFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n,
                             float alpha, float beta);

// Same as GemmMicroFn but reads A in place from a row-major matrix (element
// (i, k) at a[i*lda + k], op(A) not transposed) instead of a packed strip;
// rows i >= m are never read. Used when packing A would not pay off (small N).
using GemmDirectAFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                               int m, int n, float alpha, float beta);

// Matrix-vector forms used when M == 1 or N == 1 (x and y contiguous):
//   dot : y[j] = alpha * sum_k r[j*ldr + k] * x[k] + beta * y[j]   (j < n)
//   axpy: y[j] = alpha * sum_k r[k*ldr + j] * x[k] + beta * y[j]   (j < n)
// beta == 0 ignores y's previous contents. k >= 1.
using GemvFn = void (*)(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y, float alpha,
                        float beta);

// The GemmArgs epilogue for one tile: bias of the tile's first row (or null),
// then the clamp. Applied after alpha/beta, on the last K block only.
struct GemmEpilogue {
  const float* bias = nullptr;
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
};

// GemmMicroFn / GemmDirectAFn that also apply a GemmEpilogue before storing.
using GemmMicroEpFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n,
                               float alpha, float beta, const GemmEpilogue& ep);
using GemmDirectAEpFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                 int m, int n, float alpha, float beta, const GemmEpilogue& ep);

// The epilogue over an m x n tile already stored in C (kernels without an Ep form).
inline void gemm_tile_epilogue(const GemmEpilogue& ep, float* c, int64_t ldc, int64_t m, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* r = c + i * ldc;
    const float b = ep.bias ? ep.bias[i] : 0.0f;
    if (ep.clamp) {
      // Two selects (maxss/minss), not a branch per value: half of ReLU data is
      // negative, and the nested form mispredicted (as add_residual's did).
      const float lo = ep.lo, hi = ep.hi;
      for (int64_t j = 0; j < n; ++j) {
        const float t = r[j] + b < lo ? lo : r[j] + b;
        r[j] = hi < t ? hi : t;
      }
    } else if (ep.bias) {
      for (int64_t j = 0; j < n; ++j) r[j] += b;
    }
  }
}

struct GemmMicroKernel {
  const char* name;  // "avx512", "avx2", "neon", "generic"
  int mr, nr;        // register tile
  int64_t mc, kc, nc;  // cache blocking (mc multiple of mr, nc multiple of nr)
  bool (*usable)();  // CPU supports it (checked at run time)
  GemmPackFn pack_a, pack_b;
  GemmMicroFn kernel;
  GemmDirectAFn kernel_direct_a;  // may be nullptr
  GemvFn gemv_dot, gemv_axpy;
  // Optional fused-epilogue forms (null: the driver runs gemm_tile_epilogue after the kernel).
  GemmMicroEpFn kernel_ep;
  GemmDirectAEpFn kernel_direct_a_ep;
  // Optional: the same kernel with another MR and the same NR and packed-B layout,
  // which GemmArgs::mr may ask for (AVX-512: 7 rows, so 49 or 196 rows fill every tile).
  const GemmMicroKernel* rows_variant;
};

// Descriptors provided by the ISA files. Each returns nullptr when its file is
// compiled out for the target architecture.
const GemmMicroKernel* gemm_avx512_microkernel();
const GemmMicroKernel* gemm_avx512_7rows_microkernel();
const GemmMicroKernel* gemm_avx2_microkernel();
const GemmMicroKernel* gemm_neon_microkernel();
const GemmMicroKernel* gemm_generic_microkernel();

// Portable packer (plain C++) with the GemmPackFn contract for strip width W.
template <int W>
inline void gemm_pack_strip_generic(float* dst, const float* src, int64_t lane_stride, int64_t k_stride, int w,
                                    int64_t kc) {
  if (lane_stride == 1) {
    // Lanes contiguous: one short copy per k.
    for (int64_t k = 0; k < kc; ++k) {
      const float* s = src + k * k_stride;
      float* d = dst + k * W;
      int l = 0;
      for (; l < w; ++l) d[l] = s[l];
      for (; l < W; ++l) d[l] = 0.0f;
    }
    return;
  }
  // k contiguous within each lane: transpose, in blocks of k so the W source
  // streams and the destination stay in L1.
  constexpr int64_t kBlock = 64;
  for (int64_t k0 = 0; k0 < kc; k0 += kBlock) {
    const int64_t k1 = k0 + kBlock < kc ? k0 + kBlock : kc;
    for (int l = 0; l < w; ++l) {
      const float* s = src + l * lane_stride;
      for (int64_t k = k0; k < k1; ++k) dst[k * W + l] = s[k * k_stride];
    }
    for (int l = w; l < W; ++l)
      for (int64_t k = k0; k < k1; ++k) dst[k * W + l] = 0.0f;
  }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
// AVX2 transposing packer (lane_stride != 1, k_stride == 1) for any strip
// width W; defined in x86/gemm_avx2.cc, callable only when the CPU has AVX2.
void gemm_pack_transpose_avx2(float* dst, const float* src, int64_t lane_stride, int w, int64_t kc, int W);
#endif

namespace testing {
// All micro-kernels compiled into this binary, in preference order.
int gemm_kernel_count();
const char* gemm_kernel_name_at(int index);
bool gemm_kernel_usable(int index);
// Runs the Netlite backend with micro-kernel `index` (must be usable).
// allow_gemv=false sends M==1 / N==1 problems through the packed path too;
// force_parallel=true splits over the pool even for tiny problems.
void sgemm_with_kernel(int index, const GemmArgs& args, ThreadPool* pool, bool allow_gemv = true,
                       bool force_parallel = false);
// Bytes of the packing workspaces resident now (mincore; 0 where unavailable),
// and the address space of one workspace (the selected kernel's largest blocks).
// gemm_packed_b_nr / gemm_pack_b_full for micro-kernel `index` (must be usable):
// the packed B that sgemm_with_kernel(index, ...) reads.
int gemm_kernel_nr(int index);
void gemm_pack_b_full_with_kernel(int index, bool trans_b, const float* B, int64_t ldb, int64_t K, int64_t N,
                                  float* packed);
size_t gemm_workspace_resident_bytes();
size_t gemm_workspace_set_bytes();
int gemm_workspace_count();
// gemm_transpose_epilogue's portable form (what runs without AVX-512).
void gemm_transpose_epilogue_portable(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                      int64_t ldd, const float* bias, const float* res, bool clamp, float lo,
                                      float hi);
}  // namespace testing

namespace x86 {
// gemm_transpose_epilogue in AVX-512 (x86/gemm_transpose_avx512.cc; callers check
// the CPU first), bit-identical to the portable form.
void gemm_transpose_epilogue_avx512(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                    int64_t ldd, const float* bias, const float* res, bool clamp, float lo, float hi);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
