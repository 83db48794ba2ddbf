// Single-precision GEMM behind one interface.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C      (row-major)
//   then optionally C[i,j] = clamp(C[i,j] + row_bias[i], lo, hi)   (GemmArgs)
//
// Backends:
//   Reference - plain triple loop, the test oracle (kernels/gemm_ref.cc).
//   Netlite   - netlite's own packed, cache-blocked kernel with micro-kernels
//               chosen at run time: AVX-512, AVX2+FMA, NEON, or portable C++.
//   OpenBLAS  - cblas_sgemm; only available when compiled with NETLITE_USE_OPENBLAS
//               (on Linux loaded at its first use; Netlite kernels when it cannot be).
// `Auto` picks Netlite when a SIMD micro-kernel (AVX-512, AVX2, NEON) runs on
// this CPU, else OpenBLAS when compiled in, else the portable Netlite kernel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netlite {
class ThreadPool;
namespace kernels {

enum class GemmBackend { Auto = 0, Reference = 1, Netlite = 2, OpenBLAS = 3 };

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t M = 0, N = 0, K = 0;
  float alpha = 1.0f;
  const float* A = nullptr;
  int64_t lda = 0;
  const float* B = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  float* C = nullptr;
  int64_t ldc = 0;
  // Optional epilogue on the result: C[i][j] += row_bias[i] (when non-null), then
  // clamped to [lo, hi] when `clamp`. The Netlite backend applies it to each tile
  // while it is still in registers (a conv's bias + Relu/Clip at no extra pass).
  const float* row_bias = nullptr;
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
};

// Runs one GEMM, splitting the work over `pool` when it is non-null and the
// problem is large enough. Never throws; arguments are validated by callers.
void sgemm(const GemmArgs& args, ThreadPool* pool, GemmBackend backend = GemmBackend::Auto);

// The scalar oracle (single-threaded).
void sgemm_reference(const GemmArgs& args);

// True when this binary was compiled with OpenBLAS and the library loads (on
// Linux it is opened at the first call of this or at the first OpenBLAS GEMM,
// not with the binary; see gemm.cc).
bool openblas_available();

// True when `backend` runs GEMMs on the Netlite kernels (Auto: a SIMD kernel
// runs here, or no OpenBLAS was compiled in).
bool gemm_uses_netlite(GemmBackend backend);

// Makes sure the Netlite backend has at least `concurrent` packing workspaces
// (one per GEMM running at the same time): a model calls it at load with its
// thread count. Each is address space for the kernel's largest blocks that
// becomes resident as GEMMs write it (only the part they use; the model's
// warm-up run takes those faults). The workspaces are process-wide, shared by
// every model and thread, and kept until exit. Returns the address space that
// `concurrent` of them reserve (0 when `backend` does not use them): an upper
// bound of what they can make resident. May throw OutOfMemory (call it where
// errors are caught).
size_t gemm_reserve(int concurrent, GemmBackend backend);

// Name of the micro-kernel the Netlite backend uses on this CPU ("avx512", "avx2", "neon", "generic").
const char* gemm_kernel_name();

}  // namespace kernels
}  // namespace netlite
