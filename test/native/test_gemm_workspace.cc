// The GEMM's packing workspaces are address space that becomes resident only
// where GEMMs write it (lazy_buffer, small pages): a model whose GEMMs pack
// small blocks pays for those, not for the kernel's largest blocks, and a GEMM
// larger than any seen before (at load, in the warm-up) still gets a workspace
// big enough and a correct result. Also the other side of large buffers:
// pages given back (release_pages) stay given back, and huge pages given up
// where they cost too much (populate_huge).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "check.h"
#include "core/memory.h"
#include "kernels/gemm.h"
#include "kernels/gemm_internal.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace {

namespace nk = netlite::kernels;

#if defined(__linux__)
// Resident bytes of [p, p + bytes) (page-aligned p).
size_t resident(const void* p, size_t bytes) {
  const size_t page = 4096, pages = (bytes + page - 1) / page;
  std::vector<unsigned char> v(pages);
  if (mincore(const_cast<void*>(p), pages * page, v.data()) != 0) return size_t(-1);
  size_t n = 0;
  for (unsigned char c : v) n += (c & 1) ? page : 0;
  return n;
}

// The VmFlags line of the mapping that holds `p` in /proc/self/smaps ("" when not found).
std::string vm_flags(const void* p) {
  std::ifstream f("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  while (std::getline(f, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find('-') < line.find(' '))
      inside = a >= lo && a < hi;
    else if (inside && line.rfind("VmFlags:", 0) == 0)
      return line;
  }
  return "";
}
#endif

// C = A * B (row-major, A transposed in memory so that A is packed, not read in place).
struct BigGemm {
  int64_t M, N, K;
  std::vector<float> At, B, C, want;
  BigGemm(int64_t m, int64_t n, int64_t k) : M(m), N(n), K(k), At(size_t(k * m)), B(size_t(k * n)), C(size_t(m * n)) {
    uint64_t s = 12345;
    auto next = [&s] {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      return float(int64_t(s >> 40) - (int64_t(1) << 23)) / float(int64_t(1) << 23);
    };
    for (float& v : At) v = next();
    for (float& v : B) v = next();
    want.assign(C.size(), 0.0f);
    nk::sgemm_reference(args(want.data()));
  }
  nk::GemmArgs args(float* c) const {
    nk::GemmArgs g;
    g.trans_a = true;
    g.M = M, g.N = N, g.K = K;
    g.A = At.data(), g.lda = M, g.B = B.data(), g.ldb = N, g.C = c, g.ldc = N;
    return g;
  }
  int64_t bad() const {
    int64_t n = 0;
    for (size_t i = 0; i < C.size(); ++i)
      if (!(std::fabs(double(C[i]) - double(want[i])) <= 1e-4 * (1.0 + std::fabs(double(want[i]))))) ++n;
    return n;
  }
};

}  // namespace

NETLITE_TEST(lazy_buffer_is_resident_only_where_written) {
#if defined(__linux__)
  const size_t bytes = size_t(4) << 20;  // past 2 MiB: large_buffer would ask for huge pages here
  std::shared_ptr<void> buf = netlite::lazy_buffer(bytes);
  unsigned char* p = static_cast<unsigned char*>(buf.get());
  CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
  CHECK_MSG(resident(p, bytes) == 0, "fresh: %zu bytes resident", resident(p, bytes));
  p[0] = 1;
  p[(size_t(3) << 20) + 5] = 2;
  // Two small pages, not a 2 MiB huge page around either write.
  CHECK_MSG(resident(p, bytes) == 2 * 4096, "after two writes: %zu bytes resident", resident(p, bytes));
#else
  std::printf("  (skipped: mincore is Linux-only here)\n");
#endif
}

// Released pages of a huge-page buffer (a weights slab whose Winograd convs
// dropped their original weights) stay out of transparent huge pages: otherwise
// khugepaged collapses the partly empty 2 MiB ranges and fills the released pages
// back in (SqueezeNet: +2.1 MB of RSS some seconds into a run loop).
NETLITE_TEST(released_pages_stay_released) {
#if defined(__linux__)
  const size_t mib = size_t(1) << 20;
  std::shared_ptr<void> buf = netlite::large_buffer(6 * mib, true);
  unsigned char* p = static_cast<unsigned char*>(buf.get());
  const std::string head = vm_flags(p);  // huge pages may have been given up past the first (populate_huge)
  const std::string before = vm_flags(p + 3 * mib);
  CHECK_MSG(!before.empty(), "no mapping found for the buffer");
  CHECK_MSG(resident(p + 3 * mib, mib) == mib, "prefaulted: %zu bytes resident", resident(p + 3 * mib, mib));
  CHECK(netlite::release_pages(p + 3 * mib, mib) == mib);
  CHECK_MSG(resident(p + 3 * mib, mib) == 0, "released: %zu bytes resident", resident(p + 3 * mib, mib));
  const std::string after = vm_flags(p + 3 * mib);
  // "nh": MADV_NOHUGEPAGE (where the kernel knows THP at all: the buffer's own advice, "hg", shows it).
  if (before.find(" hg") != std::string::npos) CHECK_MSG(after.find(" nh") != std::string::npos, "%s", after.c_str());
  // The rest of the buffer keeps its huge-page advice and its contents.
  CHECK(vm_flags(p) == head);
  CHECK_MSG(resident(p, 3 * mib) == 3 * mib, "the rest: %zu bytes resident", resident(p, 3 * mib));
#else
  std::printf("  (skipped: mincore is Linux-only here)\n");
#endif
}

// Prefaulted huge-page buffers give huge pages up when one costs far more than
// writing it (populate_huge): the rest of the buffer, and the buffers of the next
// seconds, are populated in small pages, resident all the same.
NETLITE_TEST(huge_pages_given_up_when_they_cost_too_much) {
#if defined(__linux__)
  namespace md = netlite::memory_detail;
  const size_t mib = size_t(1) << 20, bytes = 6 * mib;
  md::huge_pages_declined_until().store(0);
  std::shared_ptr<void> probe = netlite::large_buffer(bytes, false);
  const bool thp = vm_flags(probe.get()).find(" hg") != std::string::npos;  // the kernel knows THP and took the advice
  if (!thp) std::printf("  (no huge-page advice in smaps: checking residency only)\n");

  // Every huge page within its budget: the whole buffer keeps the advice.
  unsigned char* p = static_cast<unsigned char*>(probe.get());
  md::populate_huge(p, bytes, 1e30);
  CHECK_MSG(resident(p, bytes) == bytes, "%zu bytes resident", resident(p, bytes));
  CHECK(!md::huge_pages_declined());
  if (thp) CHECK_MSG(vm_flags(p + 5 * mib).find(" hg") != std::string::npos, "%s", vm_flags(p + 5 * mib).c_str());

  // The first huge page over budget (any, at a budget of 0): the rest in small pages.
  std::shared_ptr<void> buf = netlite::large_buffer(bytes, false);
  unsigned char* q = static_cast<unsigned char*>(buf.get());
  md::populate_huge(q, bytes, 0.0);
  CHECK_MSG(resident(q, bytes) == bytes, "%zu bytes resident", resident(q, bytes));
  CHECK(md::huge_pages_declined());
  if (thp) {
    CHECK_MSG(vm_flags(q).find(" hg") != std::string::npos, "first 2 MiB: %s", vm_flags(q).c_str());
    CHECK_MSG(vm_flags(q + 2 * mib).find(" nh") != std::string::npos, "the rest: %s", vm_flags(q + 2 * mib).c_str());
  }
  // While declined, new buffers are small pages from the start, and resident when asked.
  std::shared_ptr<void> next = netlite::large_buffer(bytes, true);
  unsigned char* r = static_cast<unsigned char*>(next.get());
  CHECK_MSG(resident(r, bytes) == bytes, "%zu bytes resident", resident(r, bytes));
  if (thp) CHECK_MSG(vm_flags(r).find(" hg") == std::string::npos, "%s", vm_flags(r).c_str());
  md::huge_pages_declined_until().store(0);
  std::shared_ptr<void> later = netlite::large_buffer(bytes, false);
  if (thp) CHECK_MSG(vm_flags(later.get()).find(" hg") != std::string::npos, "%s", vm_flags(later.get()).c_str());
#else
  std::printf("  (skipped: mincore is Linux-only here)\n");
#endif
}

// The weights slab becomes resident in step with the importer's copy, not all at
// once (the mapped model file's pages go as the slab's come: a peak of both would
// be twice the weights).
NETLITE_TEST(weight_slab_resident_in_step) {
#if defined(__linux__)
  const size_t mib = size_t(1) << 20, bytes = 9 * mib;
  netlite::WeightSlab slab(bytes);
  netlite::Tensor t = slab.tensor(netlite::DType::Float32, netlite::Shape{int64_t(bytes / 4)}, 0);
  const unsigned char* p = static_cast<const unsigned char*>(t.data);
  CHECK_MSG(resident(p, bytes) == 0, "fresh: %zu bytes resident", resident(p, bytes));
  slab.populate(mib + 5);
  // At most the huge page that holds the end (small pages: up to the page after it).
  const size_t first = resident(p, bytes);
  CHECK_MSG(first >= mib + 4096 && first <= 2 * mib, "after 1 MiB: %zu bytes resident", first);
  slab.populate(5 * mib);
  const size_t second = resident(p, bytes);
  CHECK_MSG(second >= 5 * mib && second <= 6 * mib, "after 5 MiB: %zu bytes resident", second);
  slab.populate(bytes);
  CHECK_MSG(resident(p, bytes) == bytes, "all: %zu bytes resident", resident(p, bytes));
  slab.populate(mib);  // going back is a no-op
  CHECK(resident(p, bytes) == bytes);
#else
  std::printf("  (skipped: mincore is Linux-only here)\n");
#endif
}

NETLITE_TEST(gemm_workspaces_grow_with_use) {
  if (!nk::gemm_uses_netlite(nk::GemmBackend::Netlite)) return;
  // A reserved workspace takes address space only.
  const int before = nk::testing::gemm_workspace_count();
  const size_t r0 = nk::testing::gemm_workspace_resident_bytes();
  const size_t reserved = nk::gemm_reserve(before + 1, nk::GemmBackend::Netlite);
  CHECK(nk::testing::gemm_workspace_count() == before + 1);
  CHECK(reserved == size_t(before + 1) * nk::testing::gemm_workspace_set_bytes());
#if defined(__linux__)
  CHECK_MSG(nk::testing::gemm_workspace_resident_bytes() == r0, "reserve made %zu bytes resident",
            nk::testing::gemm_workspace_resident_bytes() - r0);
#else
  (void)r0;
#endif

  // A small packed GEMM, then one whose A and B blocks are the kernel's largest
  // (M, K and N past one block each): the second is correct and its blocks
  // become resident (at least one full A and B block over all workspaces).
  BigGemm small(24, 1200, 40), big(1100, 1300, 600);
  nk::sgemm(small.args(small.C.data()), nullptr, nk::GemmBackend::Netlite);
  CHECK_MSG(small.bad() == 0, "small GEMM: %lld bad elements", (long long)small.bad());
  nk::sgemm(big.args(big.C.data()), nullptr, nk::GemmBackend::Netlite);
  CHECK_MSG(big.bad() == 0, "big GEMM: %lld bad elements", (long long)big.bad());
#if defined(__linux__)
  const size_t r1 = nk::testing::gemm_workspace_resident_bytes();
  const size_t all = size_t(nk::testing::gemm_workspace_count()) * nk::testing::gemm_workspace_set_bytes();
  CHECK_MSG(r1 <= all + 4096 * size_t(nk::testing::gemm_workspace_count()), "%zu resident of %zu", r1, all);
  CHECK_MSG(r1 >= nk::testing::gemm_workspace_set_bytes() / 2, "big GEMM left only %zu bytes resident", r1);
#endif
}
