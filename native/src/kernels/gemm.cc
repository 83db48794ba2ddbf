// SGEMM dispatch and netlite's packed, cache-blocked GEMM driver.
//
// Driver (one thread's share of the problem), BLIS-style loop order:
//   for pc in K step KC                      (K blocking; beta applied on pc == 0 only)
//     for ic in M step MC                    (A block MC x KC, packed lazily)
//       for jc in N step NC                  (B block KC x NC, kept in L2)
//         for ir in MC step MR               (A micro-panel MR x KC, kept in L1)
//           for jr in NC step NR             (B micro-panels stream from L2)
//             micro-kernel: MR x NR tile of C in registers
// A strips are packed during the first jc pass, B strips during the first ir
// pass, right before their first use, so each element of A and B is packed
// once per (pc, ic) and read back while still hot. When op(A) is A itself
// (row-major, not transposed) and N is at most kDirectAMaxStrips strips, the
// kernel reads A in place instead (GemmMicroKernel::kernel_direct_a) and M is
// not blocked: packing A would be a memory pass that never overlaps the FMAs,
// and with few columns it is not amortised (im2col convolutions at batch 1).
//
// Threads split the columns (N, in multiples of NR) or the rows (M, in
// multiples of MR), whichever costs less by a simple model; each thread then
// runs the serial driver on its own sub-matrix with its own packing buffers.
// M == 1 or N == 1 goes to matrix-vector kernels instead.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // sysconf (L1 size)
#endif

#include "../core/memory.h"
#include "../core/threadpool.h"
#include "gemm.h"
#include "gemm_internal.h"

namespace netlite {
namespace kernels {

#ifdef NETLITE_USE_OPENBLAS
// On Linux OpenBLAS is opened at its first use (dlopen) instead of being linked:
// the SIMD micro-kernels are chosen over it wherever they run (Auto), so most
// processes never call it, yet loading it with the addon cost each of them
// ~2.7 MB of resident memory (its code and data, libgfortran, libquadmath, its
// thread) - SqueezeNet's peak RSS 64.9 -> 62.2 MB. With no reference to its
// symbols left, the linker's --as-needed drops it from the addon's dependencies.
// Elsewhere (no dlopen search path that matches the link's) it stays linked.
#if defined(__linux__)
#define NETLITE_OPENBLAS_DLOPEN 1
#include <dlfcn.h>
#else
// Declared here so that no BLAS header is needed.
extern "C" {
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int num_threads);
}
#endif
#endif

namespace sgemm_driver_detail {

// Problems below this many multiply-adds run on the calling thread only:
// handing work to a pool thread costs a few microseconds (measured ~2-10 us
// for a 2-thread parallel_for), about what 2^18 multiply-adds take at
// 100-200 GFLOP/s. Each extra thread also needs this much work of its own.
constexpr int64_t kParallelMinWork = int64_t(1) << 18;
// Up to this many NR-wide column strips, A is read in place, not packed.
constexpr int64_t kDirectAMaxStrips = 32;
// Matrix-vector problems (memory-bound, ~10-40 GFLOP/s) below this many
// multiply-adds stay on one thread.
constexpr int64_t kGemvParallelMinWork = int64_t(1) << 17;

// ---------------------------------------------------------------------------
// Portable micro-kernel, packers and matrix-vector kernels (plain C++ that the
// compiler can vectorise with whatever ISA the build targets).

constexpr int kGenericMR = 4;
constexpr int kGenericNR = 16;

void generic_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, float alpha,
                    float beta) {
  // Four k steps per pass over the accumulators: the j loops vectorise, and
  // the accumulator tile (which the compiler keeps in memory) is loaded and
  // stored once per four rank-1 updates instead of every one.
  float acc[kGenericMR][kGenericNR] = {};
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    for (int i = 0; i < kGenericMR; ++i) {
      const float a0 = a[i], a1 = a[kGenericMR + i], a2 = a[2 * kGenericMR + i], a3 = a[3 * kGenericMR + i];
      for (int j = 0; j < kGenericNR; ++j)
        acc[i][j] += a0 * b[j] + a1 * b[kGenericNR + j] + a2 * b[2 * kGenericNR + j] + a3 * b[3 * kGenericNR + j];
    }
    a += 4 * kGenericMR;
    b += 4 * kGenericNR;
  }
  for (; k < kc; ++k) {
    for (int i = 0; i < kGenericMR; ++i) {
      const float av = a[i];
      for (int j = 0; j < kGenericNR; ++j) acc[i][j] += av * b[j];
    }
    a += kGenericMR;
    b += kGenericNR;
  }
  for (int i = 0; i < m; ++i) {
    float* crow = c + i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < n; ++j) crow[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < n; ++j) crow[j] = alpha * acc[i][j] + beta * crow[j];
    }
  }
}

void generic_pack_a(float* dst, const float* src, int64_t ls, int64_t ks, int w, int64_t kc) {
  gemm_pack_strip_generic<kGenericMR>(dst, src, ls, ks, w, kc);
}
void generic_pack_b(float* dst, const float* src, int64_t ls, int64_t ks, int w, int64_t kc) {
  gemm_pack_strip_generic<kGenericNR>(dst, src, ls, ks, w, kc);
}

inline float gemv_finish(float sum, float alpha, float beta, float y) {
  return beta == 0.0f ? alpha * sum : alpha * sum + beta * y;
}

void generic_gemv_dot(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y, float alpha,
                      float beta) {
  constexpr int kLanes = 8;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* r0 = r + j * ldr;
    const float* r1 = r0 + ldr;
    const float* r2 = r1 + ldr;
    const float* r3 = r2 + ldr;
    float a0[kLanes] = {}, a1[kLanes] = {}, a2[kLanes] = {}, a3[kLanes] = {};
    int64_t p = 0;
    for (; p + kLanes <= k; p += kLanes) {
      for (int u = 0; u < kLanes; ++u) {
        const float xv = x[p + u];
        a0[u] += r0[p + u] * xv;
        a1[u] += r1[p + u] * xv;
        a2[u] += r2[p + u] * xv;
        a3[u] += r3[p + u] * xv;
      }
    }
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (int u = 0; u < kLanes; ++u) {
      s0 += a0[u];
      s1 += a1[u];
      s2 += a2[u];
      s3 += a3[u];
    }
    for (; p < k; ++p) {
      s0 += r0[p] * x[p];
      s1 += r1[p] * x[p];
      s2 += r2[p] * x[p];
      s3 += r3[p] * x[p];
    }
    y[j] = gemv_finish(s0, alpha, beta, y[j]);
    y[j + 1] = gemv_finish(s1, alpha, beta, y[j + 1]);
    y[j + 2] = gemv_finish(s2, alpha, beta, y[j + 2]);
    y[j + 3] = gemv_finish(s3, alpha, beta, y[j + 3]);
  }
  for (; j < n; ++j) {
    const float* r0 = r + j * ldr;
    float a0[kLanes] = {};
    int64_t p = 0;
    for (; p + kLanes <= k; p += kLanes)
      for (int u = 0; u < kLanes; ++u) a0[u] += r0[p + u] * x[p + u];
    float s0 = 0.0f;
    for (int u = 0; u < kLanes; ++u) s0 += a0[u];
    for (; p < k; ++p) s0 += r0[p] * x[p];
    y[j] = gemv_finish(s0, alpha, beta, y[j]);
  }
}

void generic_gemv_axpy(int64_t n, int64_t k, const float* r, int64_t ldr, const float* x, float* y, float alpha,
                       float beta) {
  constexpr int64_t kCols = 1024;  // accumulator block, stays in L1
  float acc[kCols];
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int64_t nb = std::min(kCols, n - j0);
    for (int64_t j = 0; j < nb; ++j) acc[j] = 0.0f;
    const float* rb = r + j0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
      const float* r0 = rb + p * ldr;
      const float* r1 = r0 + ldr;
      const float* r2 = r1 + ldr;
      const float* r3 = r2 + ldr;
      for (int64_t j = 0; j < nb; ++j) acc[j] += x0 * r0[j] + x1 * r1[j] + x2 * r2[j] + x3 * r3[j];
    }
    for (; p < k; ++p) {
      const float x0 = x[p];
      const float* r0 = rb + p * ldr;
      for (int64_t j = 0; j < nb; ++j) acc[j] += x0 * r0[j];
    }
    float* yb = y + j0;
    for (int64_t j = 0; j < nb; ++j) yb[j] = gemv_finish(acc[j], alpha, beta, yb[j]);
  }
}

bool generic_usable() { return true; }

const GemmMicroKernel kGenericKernel = {
    "generic",        kGenericMR,     kGenericNR,        /*mc=*/512, /*kc=*/256, /*nc=*/512, generic_usable,
    generic_pack_a,   generic_pack_b, generic_kernel,    nullptr, generic_gemv_dot, generic_gemv_axpy,
    nullptr,          nullptr,        nullptr,
};

// ---------------------------------------------------------------------------
// Kernel registry and run-time selection.

// Run-time selection takes the first usable kernel; variants (rows_variant) are
// listed too, after their kernel, so that the tests run each of them.
struct KernelTable {
  const GemmMicroKernel* list[5];
  int count = 0;
};

const KernelTable& kernel_table() {
  static const KernelTable table = [] {
    KernelTable t{};
    const GemmMicroKernel* candidates[5] = {gemm_avx512_microkernel(), gemm_avx512_7rows_microkernel(),
                                            gemm_avx2_microkernel(), gemm_neon_microkernel(),
                                            gemm_generic_microkernel()};
    for (const GemmMicroKernel* k : candidates)
      if (k != nullptr) t.list[t.count++] = k;
    return t;
  }();
  return table;
}

const GemmMicroKernel& selected_kernel() {
  static const GemmMicroKernel* chosen = [] {
    const KernelTable& t = kernel_table();
    for (int i = 0; i < t.count; ++i)
      if (t.list[i]->usable()) return t.list[i];
    return &kGenericKernel;
  }();
  return *chosen;
}

// The selected kernel, or its variant with `mr` rows (GemmArgs::mr) when it has one.
const GemmMicroKernel& kernel_for_rows(int mr) {
  const GemmMicroKernel& k = selected_kernel();
  if (mr != 0 && mr != k.mr && k.rows_variant != nullptr && k.rows_variant->mr == mr && k.rows_variant->nr == k.nr)
    return *k.rows_variant;
  return k;
}

// ---------------------------------------------------------------------------
// Per-thread, 64-byte aligned scratch buffers that only ever grow: the
// matrix-vector copies (X, Y) and packing blocks larger than a workspace.

enum BufferSlot { kBufA = 0, kBufB = 1, kBufX = 2, kBufY = 3, kBufCount = 4 };

float* scratch(int slot, int64_t floats) {
  thread_local std::vector<float> buffers[kBufCount];
  std::vector<float>& v = buffers[slot];
  const size_t need = size_t(floats) + 16;
  if (v.size() < need) v.resize(need);
  const uintptr_t p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

// ---------------------------------------------------------------------------
// Packing workspaces: an A block and a B block of the selected kernel's largest
// size (mc x kc and kc x nc, 2.5 MB with AVX-512), in one allocation. They are
// not owned by threads but lent out: the serial driver takes one for its call
// and gives it back. So a process holds as many as GEMMs ever ran at the same
// time, not one per thread that ever ran one (each of libuv's workers kept its
// own), and gemm_reserve() creates them at model load. A thread takes back the
// set it had last when that one is free (see acquire()).
//
// A set is address space that becomes resident page by page as the blocks are
// written (lazy_buffer: 4 KiB pages, no huge pages), so each costs what the
// GEMMs that ran on it used, not the kernel's largest block: a call packs a
// prefix of each block (round_up(mc, MR) x kc of A, kc x round_up(nc, NR) of B),
// and with A read in place (few columns) none of A. SqueezeNet's sets hold
// ~0.3-0.6 MB each instead of 2.56 MB (they were prefaulted in huge pages). The
// faults are taken by the first GEMMs that reach a page, in a model's first run
// (ResNet-18 at 2 threads: ~560 faults, ~0.9 ms of its 14 ms), or in its
// warm-up run when asked for; a GEMM larger than any before still fits (the
// address space is the largest block) and takes its extra faults once.
class PackWorkspaces {
 public:
  struct Set {
    std::shared_ptr<void> memory;
    float* a;
    float* b;
    alignas(64) std::atomic<bool> in_use{false};  // own cache line: only its borrowers write it
  };

  static PackWorkspaces& instance() {
    // Never destroyed: pool threads of models that outlive static destruction
    // may still return a set.
    static PackWorkspaces* p = new PackWorkspaces(selected_kernel());
    return *p;
  }

  // A set for a block of a_floats x b_floats, or null when that is more than a
  // set holds (another kernel's blocking, in tests) or memory ran out. A thread
  // gets back the set it used last when that one is free: its blocks are then
  // in this core's cache, not in another's. Lending sets out LIFO from a shared
  // list (under a mutex) moved them between the two cores of a 2-thread pool
  // at every GEMM call, and each packed block written over lines that the
  // other core held cost a snoop per line: the Winograd convs of SqueezeNet
  // (36 small GEMMs per chunk) took ~1.45x as long per chunk with both threads
  // running as with one.
  Set* acquire(int64_t a_floats, int64_t b_floats) noexcept {
    if (a_floats > a_floats_ || b_floats > b_floats_) return nullptr;
    thread_local Set* last = nullptr;
    if (last != nullptr && try_claim(last)) return last;
    {
      std::lock_guard<std::mutex> lock(m_);
      for (const std::unique_ptr<Set>& s : all_)
        if (try_claim(s.get())) return last = s.get();
    }
    try {
      return last = create(true);
    } catch (...) {
      return nullptr;
    }
  }

  void release(Set* s) noexcept { s->in_use.store(false, std::memory_order_release); }

  // Creates (unclaimed) sets until at least n exist.
  void reserve(int n) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(m_);
        if (int(all_.size()) >= n) return;
      }
      create(false);
    }
  }

  size_t set_bytes() const { return set_bytes_; }

  int count() {
    std::lock_guard<std::mutex> lock(m_);
    return int(all_.size());
  }

  // Bytes of all sets that are resident now (tests; 0 where mincore is missing).
  size_t resident_bytes() {
    size_t total = 0;
#if defined(__unix__) || defined(__APPLE__)
    const size_t page = 4096;
    const size_t pages = (set_bytes_ + page - 1) / page;
    std::vector<unsigned char> vec(pages + 1);
    std::lock_guard<std::mutex> lock(m_);
    for (const std::unique_ptr<Set>& s : all_) {
#if defined(__APPLE__)
      if (mincore(s->memory.get(), pages * page, reinterpret_cast<char*>(vec.data())) != 0) continue;
#else
      if (mincore(s->memory.get(), pages * page, vec.data()) != 0) continue;
#endif
      for (size_t i = 0; i < pages; ++i) total += (vec[i] & 1) ? page : 0;
    }
#endif
    return total;
  }

 private:
  explicit PackWorkspaces(const GemmMicroKernel& uk)
      : a_floats_(round_to(round_to(uk.mc, uk.mr) * uk.kc, 16)),
        b_floats_(round_to(round_to(uk.nc, uk.nr) * uk.kc, 16)),
        set_bytes_(size_t(a_floats_ + b_floats_ + 32) * sizeof(float) + 64) {}

  static int64_t round_to(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

  static bool try_claim(Set* s) {
    return !s->in_use.load(std::memory_order_relaxed) && !s->in_use.exchange(true, std::memory_order_acquire);
  }

  // A new set (not resident yet), claimed when `claimed`.
  Set* create(bool claimed) {
    std::unique_ptr<Set> s(new Set);
    s->memory = lazy_buffer(set_bytes_);
    const uintptr_t base = (reinterpret_cast<uintptr_t>(s->memory.get()) + 63) & ~uintptr_t(63);
    s->a = reinterpret_cast<float*>(base);
    s->b = s->a + a_floats_ + 16;  // 16 floats of slack after each block, as scratch() leaves
    s->in_use.store(claimed, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(m_);
    all_.push_back(std::move(s));
    return all_.back().get();
  }

  const int64_t a_floats_, b_floats_;
  const size_t set_bytes_;
  std::mutex m_;
  std::vector<std::unique_ptr<Set>> all_;  // sets are never freed
};

// The buffers of one serial driver call: a workspace set when one fits, else
// this thread's growing scratch.
class PackBuffers {
 public:
  PackBuffers(int64_t a_floats, int64_t b_floats)
      : set_(PackWorkspaces::instance().acquire(a_floats, b_floats)) {
    if (set_) {
      a_ = set_->a;
      b_ = set_->b;
    } else {
      a_ = a_floats ? scratch(kBufA, a_floats) : nullptr;
      b_ = scratch(kBufB, b_floats);
    }
  }
  ~PackBuffers() {
    if (set_) PackWorkspaces::instance().release(set_);
  }
  PackBuffers(const PackBuffers&) = delete;
  PackBuffers& operator=(const PackBuffers&) = delete;
  float* a() const { return a_; }
  float* b() const { return b_; }

 private:
  PackWorkspaces::Set* set_;
  float* a_ = nullptr;
  float* b_ = nullptr;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into equal blocks of at most `limit`, rounded up to `multiple`.
inline int64_t balanced_block(int64_t total, int64_t limit, int64_t multiple) {
  const int64_t blocks = ceil_div(total, limit);
  return std::min(limit, round_up(ceil_div(total, blocks), multiple));
}

// C = beta * C over M x N (beta == 0 writes zeros without reading C).
void scale_c(const GemmArgs& g) {
  if (g.beta == 1.0f) return;
  for (int64_t i = 0; i < g.M; ++i) {
    float* c = g.C + i * g.ldc;
    if (g.beta == 0.0f) {
      for (int64_t j = 0; j < g.N; ++j) c[j] = 0.0f;
    } else {
      for (int64_t j = 0; j < g.N; ++j) c[j] *= g.beta;
    }
  }
}

// Prefetches rows [0, m) x [0, kc) of a row-major matrix into cache. The next A
// micro-panel is `m` short rows (a few cache lines each, e.g. conv weights with
// K = 160): too short for the hardware prefetcher to pick up before they are
// read, so each panel would otherwise start with a run of cache misses to memory
// (weights are used once per inference and are rarely still cached).
inline void prefetch_rows(const float* a, int64_t lda, int m, int64_t kc) {
#if defined(__GNUC__) || defined(__clang__)
  for (int i = 0; i < m; ++i)
    for (int64_t k = 0; k < kc; k += 16) __builtin_prefetch(a + i * lda + k, 0, 3);
#else
  (void)a; (void)lda; (void)m; (void)kc;
#endif
}

// Prefetches `floats` floats from p (into the cache level the hint 3 asks for).
inline void prefetch_span(const float* p, int64_t floats) {
#if defined(__GNUC__) || defined(__clang__)
  for (int64_t k = 0; k < floats; k += 16) __builtin_prefetch(p + k, 0, 3);
#else
  (void)p; (void)floats;
#endif
}

// The depth a prepacked B's strips were packed with (GemmArgs::packed_b_k).
inline int64_t packed_depth(const GemmArgs& g) { return g.packed_b_k > 0 ? g.packed_b_k : g.K; }

// Strip s of a prepacked B (GemmArgs::packed_b): K rows of NR columns.
inline const float* prepacked_strip(const GemmArgs& g, int64_t s, int NR) {
  if (g.packed_b_tail != nullptr && (s + 1) * NR > g.N) return g.packed_b_tail;
  return g.packed_b + s * packed_depth(g) * NR;
}

// The micro-kernel call for one MR x NR tile of C at c (m x n of it stored):
// A as a packed strip ap or in place at asrc (direct_a), B packed at bp, with
// the GemmArgs epilogue when ep_last (rows from bias row i0).
inline void run_tile(const GemmMicroKernel& uk, const GemmArgs& g, bool direct_a, int64_t kc, const float* asrc,
                     const float* ap, const float* bp, float* c, int m, int n, float beta, bool ep_last, int64_t i0) {
  if (ep_last) {
    const GemmEpilogue ep{g.row_bias ? g.row_bias + i0 : nullptr, g.clamp, g.lo, g.hi};
    if (direct_a && uk.kernel_direct_a_ep) {
      uk.kernel_direct_a_ep(kc, asrc, g.lda, bp, c, g.ldc, m, n, g.alpha, beta, ep);
    } else if (!direct_a && uk.kernel_ep) {
      uk.kernel_ep(kc, ap, bp, c, g.ldc, m, n, g.alpha, beta, ep);
    } else {
      if (direct_a)
        uk.kernel_direct_a(kc, asrc, g.lda, bp, c, g.ldc, m, n, g.alpha, beta);
      else
        uk.kernel(kc, ap, bp, c, g.ldc, m, n, g.alpha, beta);
      gemm_tile_epilogue(ep, c, g.ldc, m, n);
    }
  } else if (direct_a) {
    uk.kernel_direct_a(kc, asrc, g.lda, bp, c, g.ldc, m, n, g.alpha, beta);
  } else {
    uk.kernel(kc, ap, bp, c, g.ldc, m, n, g.alpha, beta);
  }
}

// The L1 data cache's size in bytes: the system's figure where it gives one
// (glibc's sysconf, from cpuid), else 32 KiB, the smallest of current x86 and
// ARM cores.
int64_t l1d_bytes() {
  static const int64_t bytes = [] {
    int64_t b = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    const long v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    if (v >= 16384 && v <= (long(1) << 22)) b = int64_t(v);
#endif
    return b ? b : int64_t(32768);
  }();
  return bytes;
}

// K block of the prepacked driver: a B micro-panel (kc x NR floats) of a
// quarter of L1, which stays there while the row tiles' A strips stream past
// it; 64 with AVX-512 on a 32 KiB L1. It was half the kernel's kc (256: a
// 32 KiB panel), which a 32 KiB L1 cannot keep beside the A strips: on an AMD
// EPYC VM with a 32 KiB L1d (bench_models, 1 thread, alternating) MobileNet-V2's
// 7x7 blocks 0.35-0.38 -> 0.30-0.31 ms, its last conv 0.45-0.51 -> 0.40,
// ResNet-18's 7x7 3x3 convs 2.78-3.10 -> 2.32-2.37 ms (kc 32, 48 and 96 were
// close to 64; 128 and 512 were not).
int64_t prepacked_kc(const GemmMicroKernel& uk) {
  const int64_t by_l1 = l1d_bytes() / 4 / (int64_t(uk.nr) * int64_t(sizeof(float))) / 16 * 16;
  return std::clamp<int64_t>(by_l1, 32, std::max<int64_t>(uk.kc / 2, 64));
}

// The serial driver with B prepacked (GemmArgs::packed_b): B is read where it
// is, usually weights coming from memory once per inference. Each column strip
// is walked along K in order (a sequential stream the hardware prefetcher
// follows), every kc x NR micro-panel of it used by all the row strips while
// in L1, so A is packed beforehand for all of K: rows are blocked so that an A
// block of all of K fits the kernel's A block. (Blocks of K outside, as
// packed_serial does, jumped K*NR floats from strip to strip and left the
// weights' reads waiting on memory: 49 x 512 x 4608 with cold weights ran no
// faster than the untransposed GEMM.)
void prepacked_serial(const GemmMicroKernel& uk, const GemmArgs& g) {
  const int MR = uk.mr, NR = uk.nr;
  const int64_t M = g.M, N = g.N, K = g.K;
  const bool direct_a = uk.kernel_direct_a != nullptr && !g.trans_a && N <= kDirectAMaxStrips * NR;
  const int64_t kc_max = balanced_block(K, prepacked_kc(uk), 4);
  const int64_t rows_fit = std::max<int64_t>(MR, uk.mc * uk.kc / K / MR * MR);
  const int64_t mc_max = direct_a ? M : balanced_block(M, rows_fit, MR);
  const int64_t mcr = round_up(mc_max, MR);
  const PackBuffers buffers(direct_a ? 0 : mcr * K, 0);
  float* abuf = buffers.a();
  const int64_t a_ls = g.trans_a ? 1 : g.lda, a_ks = g.trans_a ? g.lda : 1;
  const bool has_ep = g.row_bias != nullptr || g.clamp;
  const int64_t strips = ceil_div(N, NR);
  for (int64_t ic = 0; ic < M; ic += mc_max) {
    const int64_t mc = std::min(mc_max, M - ic);
    // A's K block pc at abuf + pc * mcr, its row strip ir at + ir * kc.
    if (!direct_a)
      for (int64_t pc = 0; pc < K; pc += kc_max) {
        const int64_t kc = std::min(kc_max, K - pc);
        for (int64_t ir = 0; ir < mc; ir += MR)
          uk.pack_a(abuf + pc * mcr + ir * kc, g.A + (ic + ir) * a_ls + pc * a_ks, a_ls, a_ks,
                    int(std::min<int64_t>(MR, mc - ir)), kc);
      }
    const int64_t tiles = ceil_div(mc, MR);
    for (int64_t s = 0; s < strips; ++s) {
      const float* strip = prepacked_strip(g, s, NR);
      const int n = int(std::min<int64_t>(NR, N - s * NR));
      for (int64_t pc = 0; pc < K; pc += kc_max) {
        const int64_t kc = std::min(kc_max, K - pc);
        const float beta = pc == 0 ? g.beta : 1.0f;
        const bool ep_last = has_ep && pc + kc >= K;
        // The next micro-panel (this strip's next K block, or the next strip's
        // first), fetched a part per row tile while this one is computed: the
        // hardware prefetcher alone left each panel's first row tile waiting on
        // memory. Cold weights (40 copies cycled), 49 positions, 1 thread: 1280 x
        // 320 235-243 -> 209-218 us, 512 x 512 147-151 -> 140-148; in the models,
        // ResNet-18's 7x7 3x3 convs 1.56-1.63 -> 1.50-1.52 ms, MobileNet-V2's last
        // 1x1 conv 0.296-0.309 -> 0.280-0.289 ms (bench_models, alternating).
        const float* next = nullptr;
        int64_t next_floats = 0;
        if (pc + kc < K) {
          next = strip + (pc + kc) * NR;
          next_floats = std::min(kc_max, K - pc - kc) * NR;
        } else if (s + 1 < strips) {
          next = prepacked_strip(g, s + 1, NR);
          next_floats = std::min(kc_max, K) * NR;
        }
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int m = int(std::min<int64_t>(MR, mc - ir));
          if (next) {
            const int64_t t = ir / MR, b = next_floats * t / tiles / 16 * 16, e = next_floats * (t + 1) / tiles;
            prefetch_span(next + b, e - b);
          }
          run_tile(uk, g, direct_a, kc, g.A + (ic + ir) * a_ls + pc * a_ks,
                   direct_a ? nullptr : abuf + pc * mcr + ir * kc, strip + pc * NR,
                   g.C + (ic + ir) * g.ldc + s * NR, m, n, beta, ep_last, ic + ir);
        }
      }
    }
  }
}

// The serial packed driver on one (sub-)problem. Requires M, N, K >= 1.
void packed_serial(const GemmMicroKernel& uk, const GemmArgs& g) {
  if (g.packed_b != nullptr) {
    prepacked_serial(uk, g);
    return;
  }
  const int MR = uk.mr, NR = uk.nr;
  const int64_t M = g.M, N = g.N, K = g.K;
  // With few columns each A element is used by only a few micro-tiles, so
  // packing A (a pass over memory that cannot overlap the FMAs) costs more
  // than it saves: read A in place instead when the kernel supports it. Then
  // there is no A block to keep, so M is not blocked and each B block is
  // packed exactly once.
  const bool direct_a = uk.kernel_direct_a != nullptr && !g.trans_a && N <= kDirectAMaxStrips * NR;
  const int64_t kc_max = balanced_block(K, uk.kc, 4);
  const int64_t mc_max = direct_a ? M : balanced_block(M, uk.mc, MR);
  const int64_t nc_max = balanced_block(N, uk.nc, NR);
  const PackBuffers buffers(direct_a ? 0 : round_up(mc_max, MR) * kc_max, round_up(nc_max, NR) * kc_max);
  float* abuf = direct_a ? nullptr : buffers.a();
  float* bbuf = buffers.b();
  // op(A)(i, k) = A[i*a_ls + k*a_ks];  op(B)(k, j) = B[j*b_ls + k*b_ks]
  const int64_t a_ls = g.trans_a ? 1 : g.lda, a_ks = g.trans_a ? g.lda : 1;
  const int64_t b_ls = g.trans_b ? g.ldb : 1, b_ks = g.trans_b ? 1 : g.ldb;

  const bool has_ep = g.row_bias != nullptr || g.clamp;
  for (int64_t pc = 0; pc < K; pc += kc_max) {
    const int64_t kc = std::min(kc_max, K - pc);
    const float beta = pc == 0 ? g.beta : 1.0f;
    const bool ep_last = has_ep && pc + kc >= K;
    for (int64_t ic = 0; ic < M; ic += mc_max) {
      const int64_t mc = std::min(mc_max, M - ic);
      for (int64_t jc = 0; jc < N; jc += nc_max) {
        const int64_t nc = std::min(nc_max, N - jc);
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int m = int(std::min<int64_t>(MR, mc - ir));
          const float* asrc = g.A + (ic + ir) * a_ls + pc * a_ks;
          float* ap = direct_a ? nullptr : abuf + ir * kc;
          if (jc == 0 && !g.trans_a && ir + MR < mc) prefetch_rows(asrc + MR * g.lda, g.lda, int(std::min<int64_t>(MR, mc - ir - MR)), kc);
          if (jc == 0 && !direct_a) uk.pack_a(ap, asrc, a_ls, a_ks, m, kc);
          float* crow = g.C + (ic + ir) * g.ldc + jc;
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int n = int(std::min<int64_t>(NR, nc - jr));
            float* bp = bbuf + jr * kc;
            if (ir == 0) uk.pack_b(bp, g.B + (jc + jr) * b_ls + pc * b_ks, b_ls, b_ks, n, kc);
            run_tile(uk, g, direct_a, kc, asrc, ap, bp, crow + jr, m, n, beta, ep_last, ic + ir);
          }
        }
      }
    }
  }
}

// Sub-problem of rows [i0, i1) and columns [j0, j1).
GemmArgs sub_problem(const GemmArgs& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  GemmArgs s = g;
  s.M = i1 - i0;
  s.N = j1 - j0;
  s.A = g.trans_a ? g.A + i0 : g.A + i0 * g.lda;
  // With a prepacked B the caller may pass no B at all.
  if (g.B) s.B = g.trans_b ? g.B + j0 * g.ldb : g.B + j0;
  // A prepacked B is split at strip boundaries only (column splits are in units
  // of NR): strip j0/NR starts j0*depth floats in. A partial last strip stays at
  // packed_b_tail, and stays the sub-problem's last.
  if (g.packed_b) s.packed_b = g.packed_b + j0 * packed_depth(g);
  s.C = g.C + i0 * g.ldc + j0;
  s.row_bias = g.row_bias ? g.row_bias + i0 : nullptr;
  return s;
}

// The GemmArgs epilogue over all of C (paths whose kernels do not apply it).
void whole_epilogue(const GemmArgs& g) {
  if (g.row_bias == nullptr && !g.clamp) return;
  if (g.M <= 0 || g.N <= 0) return;
  gemm_tile_epilogue(GemmEpilogue{g.row_bias, g.clamp, g.lo, g.hi}, g.C, g.ldc, g.M, g.N);
}

// How to split a GEMM over threads: `parts` pieces along rows or columns,
// each piece a whole number of `unit`-sized blocks.
struct Split {
  int parts = 1;
  bool by_rows = false;
  int64_t unit = 1;
};

// Picks the split whose slowest thread has the least modelled work:
// multiply-adds on padded tiles plus ~16 multiply-adds per packed element. A
// split must beat the serial run by 5%; between the two splits the cheaper wins
// (the margin once stood between them too, so rows - each thread packing only
// its rows of A - lost to columns at equal multiply-adds even when A was far
// larger than B: SqueezeNet's classifier, 1000 x 512 weights on 169 positions,
// 0.559 -> 0.504 ms at 2 threads, bench_models).
Split choose_split(int64_t M, int64_t N, int64_t K, int threads, int mr, int nr, bool force) {
  Split best;
  if (threads <= 1) return best;
  const int64_t work = M * N * K;
  if (!force && work < kParallelMinWork) return best;
  int max_parts = threads;
  if (!force) max_parts = int(std::min<int64_t>(threads, std::max<int64_t>(1, work / kParallelMinWork)));
  if (max_parts <= 1) return best;
  auto cost = [K](int64_t rows, int64_t cols) {
    return (double(rows) * double(cols) + 16.0 * double(rows + cols)) * double(K);
  };
  const double serial = cost(round_up(M, mr), round_up(N, nr));
  double best_cost = serial;
  for (int by_rows = 0; by_rows < 2; ++by_rows) {
    const int64_t unit = by_rows ? mr : nr;
    const int64_t units = ceil_div(by_rows ? M : N, unit);
    const int parts = int(std::min<int64_t>(max_parts, units));
    if (parts <= 1) continue;
    const int64_t piece = ceil_div(units, parts) * unit;
    const double c = by_rows ? cost(piece, round_up(N, nr)) : cost(round_up(M, mr), piece);
    if (c < serial * 0.95 && c < best_cost) {
      best_cost = c;
      best.parts = parts;
      best.by_rows = by_rows != 0;
      best.unit = unit;
    }
  }
  return best;
}

// Runs body(sub_args) for each piece of `split`, over the pool.
template <class Body>
void run_split(const GemmArgs& g, const Split& split, ThreadPool* pool, const Body& body) {
  if (split.parts <= 1 || pool == nullptr) {
    body(g);
    return;
  }
  const int64_t extent = split.by_rows ? g.M : g.N;
  const int64_t units = ceil_div(extent, split.unit);
  const int parts = split.parts;
  pool->parallel_for(
      parts,
      [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t u0 = units * t / parts, u1 = units * (t + 1) / parts;
          const int64_t lo = std::min(extent, u0 * split.unit), hi = std::min(extent, u1 * split.unit);
          if (lo >= hi) continue;
          body(split.by_rows ? sub_problem(g, lo, hi, 0, g.N) : sub_problem(g, 0, g.M, lo, hi));
        }
      },
      1);
}

// gemm_pack_b_full with micro-kernel uk: each strip is packed over the full K
// with the kernel's own packer (the driver reads strip s's kc-block pc at
// + s*K*NR + pc*NR, which is what pack_b writes for a kc block).
void pack_b_full(const GemmMicroKernel& uk, bool trans_b, const float* B, int64_t ldb, int64_t K, int64_t N,
                 float* packed) {
  const int NR = uk.nr;
  const int64_t b_ls = trans_b ? ldb : 1, b_ks = trans_b ? 1 : ldb;
  for (int64_t j = 0; j < N; j += NR)
    uk.pack_b(packed + j * K, B + j * b_ls, b_ls, b_ks, int(std::min<int64_t>(NR, N - j)), K);
}

// M == 1 or N == 1: y = alpha * R x + beta * y with the kernel's gemv forms.
void gemv_path(const GemmMicroKernel& uk, const GemmArgs& g, ThreadPool* pool, bool force_parallel) {
  const int64_t K = g.K;
  bool dot;             // dot form (rows of R contiguous along k) or axpy form
  const float* r;       // R
  int64_t ldr;
  const float* xsrc;    // x[k] = xsrc[k * incx]
  int64_t incx;
  int64_t n;            // outputs
  float* ysrc;          // y[j] = ysrc[j * incy]
  int64_t incy;
  if (g.M == 1) {
    // C[0, j] = sum_k op(A)(0, k) * op(B)(k, j)
    xsrc = g.A;
    incx = g.trans_a ? g.lda : 1;
    n = g.N;
    ysrc = g.C;
    incy = 1;
    r = g.B;
    ldr = g.ldb;
    dot = g.trans_b;
  } else {
    // C[i, 0] = sum_k op(A)(i, k) * op(B)(k, 0)
    xsrc = g.B;
    incx = g.trans_b ? 1 : g.ldb;
    n = g.M;
    ysrc = g.C;
    incy = g.ldc;
    r = g.A;
    ldr = g.lda;
    dot = !g.trans_a;
  }
  const float* x = xsrc;
  if (incx != 1 && K > 1) {
    float* xt = scratch(kBufX, K);
    for (int64_t p = 0; p < K; ++p) xt[p] = xsrc[p * incx];
    x = xt;
  }
  float* y = ysrc;
  if (incy != 1 && n > 1) {
    y = scratch(kBufY, n);
    if (g.beta != 0.0f)
      for (int64_t j = 0; j < n; ++j) y[j] = ysrc[j * incy];
  }
  const GemvFn fn = dot ? uk.gemv_dot : uk.gemv_axpy;
  const int threads = pool ? pool->threads() : 1;
  int parts = 1;
  if (threads > 1) {
    const int64_t work = n * K;
    if (force_parallel) {
      parts = int(std::min<int64_t>(threads, n));
    } else if (work >= kGemvParallelMinWork) {
      parts = int(std::min<int64_t>({int64_t(threads), work / kGemvParallelMinWork, ceil_div(n, 16)}));
    }
  }
  const float alpha = g.alpha, beta = g.beta;
  if (parts <= 1) {
    fn(n, K, r, ldr, x, y, alpha, beta);
  } else {
    const int64_t units = ceil_div(n, 16);
    pool->parallel_for(
        parts,
        [&](int64_t begin, int64_t end) {
          for (int64_t t = begin; t < end; ++t) {
            const int64_t lo = std::min(n, units * t / parts * 16);
            const int64_t hi = std::min(n, units * (t + 1) / parts * 16);
            if (lo >= hi) continue;
            fn(hi - lo, K, dot ? r + lo * ldr : r + lo, ldr, x, y + lo, alpha, beta);
          }
        },
        1);
  }
  if (y != ysrc)
    for (int64_t j = 0; j < n; ++j) ysrc[j * incy] = y[j];
}

void netlite_gemm(const GemmMicroKernel& uk, const GemmArgs& g, ThreadPool* pool, bool allow_gemv,
                  bool force_parallel) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0 || g.alpha == 0.0f) {
    scale_c(g);
    whole_epilogue(g);
    return;
  }
  // (A prepacked B has no matrix-vector form: the gemv kernels read B as a matrix.)
  if (allow_gemv && g.packed_b == nullptr && (g.M == 1 || g.N == 1)) {
    gemv_path(uk, g, pool, force_parallel);
    whole_epilogue(g);
    return;
  }
  const Split split = choose_split(g.M, g.N, g.K, pool ? pool->threads() : 1, uk.mr, uk.nr, force_parallel);
  run_split(g, split, pool, [&uk](const GemmArgs& s) { packed_serial(uk, s); });
}

#ifdef NETLITE_USE_OPENBLAS
// cblas_sgemm (row-major = 101, no-trans = 111, trans = 112; enums are passed as
// int in the C ABI), or null when OpenBLAS cannot be loaded: callers then use
// the Netlite kernels. The first call loads the library and sets it to one
// thread (we split the work ourselves); thread-safe.
using CblasSgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                              int);
CblasSgemmFn openblas_sgemm() {
  static const CblasSgemmFn fn = []() -> CblasSgemmFn {
#ifdef NETLITE_OPENBLAS_DLOPEN
    // OpenBLAS starts its own threads (cores - 1) when it is loaded unless told
    // otherwise; we never use them. As lib/native.ts did around the addon's load
    // when OpenBLAS was linked: if the user set none of its variables, it sees
    // OPENBLAS_NUM_THREADS=1 while it initialises, and the environment is then
    // as it was. (setenv is not safe against concurrent getenv; this runs once
    // per process, at the first OpenBLAS GEMM or buildInfo.)
    const bool quiet = std::getenv("OPENBLAS_NUM_THREADS") == nullptr && std::getenv("GOTO_NUM_THREADS") == nullptr &&
                       std::getenv("OMP_NUM_THREADS") == nullptr;
    if (quiet) setenv("OPENBLAS_NUM_THREADS", "1", 0);
    struct Restore {
      bool quiet;
      ~Restore() {
        if (quiet) unsetenv("OPENBLAS_NUM_THREADS");
      }
    } restore{quiet};
    for (const char* name : {"libopenblas.so.0", "libopenblas.so"}) {
      void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib == nullptr) continue;
      const CblasSgemmFn f = reinterpret_cast<CblasSgemmFn>(dlsym(lib, "cblas_sgemm"));
      using SetThreadsFn = void (*)(int);
      const SetThreadsFn set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "openblas_set_num_threads"));
      if (f != nullptr) {
        if (set_threads != nullptr) set_threads(1);
        return f;  // the library stays loaded until exit
      }
      dlclose(lib);
    }
    return nullptr;
#else
    openblas_set_num_threads(1);
    return &cblas_sgemm;
#endif
  }();
  return fn;
}

bool fits_int(int64_t v) { return v >= 0 && v <= int64_t(0x7fffffff); }

void openblas_call(CblasSgemmFn cblas_sgemm, const GemmArgs& s) {
  // cblas validates leading dimensions even where they are never used.
  const int64_t lda = std::max<int64_t>(s.lda, std::max<int64_t>(1, s.trans_a ? s.M : s.K));
  const int64_t ldb = std::max<int64_t>(s.ldb, std::max<int64_t>(1, s.trans_b ? s.K : s.N));
  const int64_t ldc = std::max<int64_t>(s.ldc, std::max<int64_t>(1, s.N));
  cblas_sgemm(101, s.trans_a ? 112 : 111, s.trans_b ? 112 : 111, int(s.M), int(s.N), int(s.K), s.alpha, s.A,
              int(lda), s.B, int(ldb), s.beta, s.C, int(ldc));
}

// Returns false when the problem does not fit cblas's 32-bit interface or
// OpenBLAS cannot be loaded.
bool openblas_gemm(const GemmArgs& g, ThreadPool* pool) {
  if (!fits_int(g.M) || !fits_int(g.N) || !fits_int(g.K) || !fits_int(g.lda) || !fits_int(g.ldb) ||
      !fits_int(g.ldc))
    return false;
  const CblasSgemmFn fn = openblas_sgemm();
  if (fn == nullptr) return false;
  if (g.M <= 0 || g.N <= 0) return true;
  if (g.K <= 0 || g.alpha == 0.0f) {
    scale_c(g);
    whole_epilogue(g);
    return true;
  }
  // OpenBLAS runs single-threaded; we split N (columns, in blocks of 16) or M.
  const Split split = choose_split(g.M, g.N, g.K, pool ? pool->threads() : 1, 16, 16, false);
  run_split(g, split, pool, [fn](const GemmArgs& s) {
    openblas_call(fn, s);
    whole_epilogue(s);
  });
  return true;
}
#endif

}  // namespace sgemm_driver_detail

const GemmMicroKernel* gemm_generic_microkernel() { return &sgemm_driver_detail::kGenericKernel; }

void sgemm(const GemmArgs& args, ThreadPool* pool, GemmBackend backend) {
  if (args.packed_b != nullptr) backend = GemmBackend::Netlite;  // the packed layout is the Netlite kernel's
  switch (backend) {
    case GemmBackend::Reference:
      sgemm_reference(args);
      return;
    case GemmBackend::Auto:
      // netlite's own SIMD kernels beat OpenBLAS 0.3.21 here (about 2x on conv
      // shapes with AVX-512, 4x at batch 1, where OpenBLAS runs N=1 as a full
      // GEMM); OpenBLAS only wins over the portable kernel.
      if (std::strcmp(sgemm_driver_detail::selected_kernel().name, "generic") != 0) break;
#ifdef NETLITE_USE_OPENBLAS
      if (sgemm_driver_detail::openblas_gemm(args, pool)) return;
#endif
      break;
    case GemmBackend::OpenBLAS:
#ifdef NETLITE_USE_OPENBLAS
      if (sgemm_driver_detail::openblas_gemm(args, pool)) return;
#endif
      break;
    case GemmBackend::Netlite:
      break;
  }
  sgemm_driver_detail::netlite_gemm(sgemm_driver_detail::kernel_for_rows(args.mr), args, pool, true, false);
}

bool openblas_available() {
#ifdef NETLITE_USE_OPENBLAS
  return sgemm_driver_detail::openblas_sgemm() != nullptr;
#else
  return false;
#endif
}

const char* gemm_kernel_name() { return sgemm_driver_detail::selected_kernel().name; }

bool gemm_uses_netlite(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::Reference: return false;
    case GemmBackend::Netlite: return true;
#ifdef NETLITE_USE_OPENBLAS
    // (Loads OpenBLAS only when it would be asked for.)
    case GemmBackend::OpenBLAS: return !openblas_available();
    case GemmBackend::Auto:
      return std::strcmp(sgemm_driver_detail::selected_kernel().name, "generic") != 0 || !openblas_available();
#else
    case GemmBackend::OpenBLAS: return true;
    case GemmBackend::Auto: return true;
#endif
  }
  return true;
}

int gemm_packed_b_nr() { return sgemm_driver_detail::selected_kernel().nr; }
int gemm_kernel_mr() { return sgemm_driver_detail::selected_kernel().mr; }

int gemm_kernel_mr_for(int64_t rows) {
  const GemmMicroKernel& k = sgemm_driver_detail::selected_kernel();
  const GemmMicroKernel* v = k.rows_variant;
  if (v == nullptr || rows <= 0) return k.mr;
  auto padded = [rows](int64_t mr) { return (rows + mr - 1) / mr * mr; };
  return padded(v->mr) < padded(k.mr) ? v->mr : k.mr;
}

int64_t gemm_packed_b_floats(int64_t N, int64_t K) {
  const int64_t nr = gemm_packed_b_nr();
  return (N + nr - 1) / nr * nr * K;
}

void gemm_pack_b_full(bool trans_b, const float* B, int64_t ldb, int64_t K, int64_t N, float* packed) {
  sgemm_driver_detail::pack_b_full(sgemm_driver_detail::selected_kernel(), trans_b, B, ldb, K, N, packed);
}

size_t gemm_reserve(int concurrent, GemmBackend backend) {
  if (!gemm_uses_netlite(backend) || concurrent <= 0) return 0;
  sgemm_driver_detail::PackWorkspaces& w = sgemm_driver_detail::PackWorkspaces::instance();
  w.reserve(concurrent);
  return size_t(concurrent) * w.set_bytes();
}

namespace testing {

int gemm_kernel_count() { return sgemm_driver_detail::kernel_table().count; }

const char* gemm_kernel_name_at(int index) {
  const sgemm_driver_detail::KernelTable& t = sgemm_driver_detail::kernel_table();
  return index >= 0 && index < t.count ? t.list[index]->name : "";
}

bool gemm_kernel_usable(int index) {
  const sgemm_driver_detail::KernelTable& t = sgemm_driver_detail::kernel_table();
  return index >= 0 && index < t.count && t.list[index]->usable();
}

size_t gemm_workspace_resident_bytes() {
  return sgemm_driver_detail::PackWorkspaces::instance().resident_bytes();
}

size_t gemm_workspace_set_bytes() { return sgemm_driver_detail::PackWorkspaces::instance().set_bytes(); }

int gemm_workspace_count() { return sgemm_driver_detail::PackWorkspaces::instance().count(); }

int gemm_kernel_nr(int index) {
  return gemm_kernel_usable(index) ? sgemm_driver_detail::kernel_table().list[index]->nr : 0;
}

void gemm_pack_b_full_with_kernel(int index, bool trans_b, const float* B, int64_t ldb, int64_t K, int64_t N,
                                  float* packed) {
  if (!gemm_kernel_usable(index)) return;
  sgemm_driver_detail::pack_b_full(*sgemm_driver_detail::kernel_table().list[index], trans_b, B, ldb, K, N, packed);
}

void sgemm_with_kernel(int index, const GemmArgs& args, ThreadPool* pool, bool allow_gemv, bool force_parallel) {
  if (!gemm_kernel_usable(index)) return;
  sgemm_driver_detail::netlite_gemm(*sgemm_driver_detail::kernel_table().list[index], args, pool, allow_gemv, force_parallel);
}

}  // namespace testing

}  // namespace kernels
}  // namespace netlite
#undef NETLITE_OPENBLAS_DLOPEN
