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
  // Optional: op(B) already packed by gemm_pack_b_full() for the micro-kernel the
  // Netlite backend selects (B, ldb and trans_b are then not read). Column strip
  // s (columns s*NR .. s*NR+NR-1) is at packed_b + s*K*NR, except a last partial
  // strip (N % NR != 0), which is at packed_b_tail when that is non-null. Such a
  // GEMM always runs on the Netlite kernels, whatever the backend asked for (the
  // layout is theirs): callers pack only when gemm_uses_netlite(backend).
  const float* packed_b = nullptr;
  const float* packed_b_tail = nullptr;
  // Optional: the depth the strips were packed with, when this GEMM reads only
  // rows [k0, k0 + K) of a packing of more (a split of K over threads): strip s
  // then starts s*packed_b_k*NR floats after packed_b, and packed_b and
  // packed_b_tail point k0*NR floats into their strips. 0: K.
  int64_t packed_b_k = 0;
  // Optional: the micro-kernel's row tile (MR) the Netlite backend should use, as
  // gemm_kernel_mr_for(M) returns (0 or an MR without a kernel: the selected one's).
  // Packed B is the same for every MR.
  int mr = 0;
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
// first run, or its warm-up run, takes those faults). The workspaces are
// process-wide, shared by every model and thread, and kept until exit. Returns
// the address space that `concurrent` of them reserve (0 when `backend` does not
// use them): an upper bound of what they can make resident. May throw
// OutOfMemory (call it where errors are caught).
size_t gemm_reserve(int concurrent, GemmBackend backend);

// Prepacked B (GemmArgs::packed_b) for the micro-kernel the Netlite backend
// selects: its strip width NR, the floats a K x N op(B) takes packed
// (round_up(N, NR) * K), and the packing itself:
//   packed[s*K*NR + k*NR + j] = op(B)(k, s*NR + j), lanes past N zero,
// with op(B)(k, j) = trans_b ? B[j*ldb + k] : B[k*ldb + j]. packed is 64-byte
// aligned (an N <= NR block packs into one strip: how a caller packs in place,
// NR columns at a time).
int gemm_packed_b_nr();
int gemm_kernel_mr();  // the same kernel's row tile MR
// The row tile, of the selected kernel's and its variant's (AVX-512: 8 or 7), that
// pads `rows` the least (ties: the selected kernel's); for GemmArgs::mr.
int gemm_kernel_mr_for(int64_t rows);
int64_t gemm_packed_b_floats(int64_t N, int64_t K);
void gemm_pack_b_full(bool trans_b, const float* B, int64_t ldb, int64_t K, int64_t N, float* packed);

// Stores a transposed GEMM result back with a conv's epilogue (a conv that
// computes Y^T = col^T * W^T, positions x channels): for i < rows, j < cols
//   dst[j*ldd + i] = clamp(src[i*lds + j] + bias[j] + res[j*ldd + i], lo, hi)
// where a null bias or res adds nothing and the clamp applies when `clamp`
// (the bias is added first, the residual next: the order of the untransposed
// path). src and dst/res may not overlap.
void gemm_transpose_epilogue(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd,
                             const float* bias, const float* res, bool clamp, float lo, float hi);
void gemm_transpose_epilogue_reference(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                       int64_t ldd, const float* bias, const float* res, bool clamp, float lo,
                                       float hi);

// Name of the micro-kernel the Netlite backend uses on this CPU ("avx512", "avx2", "neon", "generic").
const char* gemm_kernel_name();

}  // namespace kernels
}  // namespace netlite
