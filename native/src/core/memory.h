// Large buffers for weights and activation arenas.
//
// Why not aligned_buffer(): the first touch of each 4 KiB page costs a page
// fault, and on virtual machines with shadow paging that is several
// microseconds per page - 45 MB of ResNet-18 weights took ~200 ms to fault in
// at load, and a MobileNetV2 arena ~7 ms at the first run. A buffer of at least
// 2 MiB is therefore mapped on its own, 2 MiB-aligned, and advised as
// transparent huge pages (MADV_HUGEPAGE, honoured when THP is "madvise" or
// "always"), so the kernel faults it in 2 MiB at a time; the tail past the last
// full 2 MiB stays in small pages, so resident memory is never rounded up. Where
// huge pages cost far more than small ones (VMs that report free memory to the
// host), prefaulted buffers fall back to small pages (populate_huge).
// Nothing is zeroed: callers overwrite every byte (weights are copied in,
// arena bytes are written before they are read).
//
// Header-only: the importer (onnx/), the runtime and the GEMM's packing
// workspaces (kernels/gemm.cc, lazy_buffer) all use it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "tensor.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define NETLITE_HAVE_MMAP 1
#endif

namespace netlite {
namespace memory_detail {

constexpr size_t kHugePage = size_t(2) << 20;
// From this size a buffer gets its own mapping (small pages) rather than
// malloc's heap. In a Node process, models loaded and freed in a loop that never
// yields grew RSS by ~170 KB per model otherwise (mnist-8, 2000 loads: +350 MB):
// glibc raises its mmap threshold after freeing a mapped chunk, so later weights
// and arenas came from the heap, where small allocations that the JS wrappers
// keep until the next GC pinned the freed space. A mapping goes back at once.
constexpr size_t kOwnMapping = size_t(64) << 10;
constexpr size_t kSmallPage = 4096;

inline size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// Writes one byte per small page so every page is resident now rather than at
// its first use (one fault per 2 MiB where huge pages were granted).
inline void touch_pages(void* p, size_t bytes) {
  volatile uint8_t* b = static_cast<volatile uint8_t*>(p);
  for (size_t i = 0; i < bytes; i += kSmallPage) b[i] = 0;
  if (bytes) b[bytes - 1] = 0;
}

// Makes a mapping of `len` bytes (whole pages) resident: in one system call where
// the kernel can (MADV_POPULATE_WRITE, Linux 5.14), else page by page. Touched one
// page at a time, the small-page buffers a load makes (Winograd weights of up to
// 2 MiB, arenas' tails) cost a fault each, several microseconds on VMs with shadow
// paging: SqueezeNet's load spent about a quarter of its time in them.
inline void populate(void* p, size_t len) {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
  if (madvise(p, len, MADV_POPULATE_WRITE) == 0) return;
#endif
  touch_pages(p, len);
}

inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Until when (steady_ns) buffers are not advised as huge pages: set when one cost
// far more than writing it (populate_huge).
inline std::atomic<int64_t>& huge_pages_declined_until() {
  static std::atomic<int64_t> until{0};
  return until;
}

inline bool huge_pages_declined() { return steady_ns() < huge_pages_declined_until().load(std::memory_order_relaxed); }

// Whether large_buffer advises a mapping of `bytes` as huge pages (where the system has them).
inline bool wants_huge_pages(size_t bytes) { return bytes >= kHugePage && !huge_pages_declined(); }

// A huge page costs what zeroing 2 MiB costs where the kernel has one at hand:
// 0.17-0.45 ms on an AMD EPYC VM where rewriting those 2 MiB, resident, took
// 0.025-0.045 ms. On VMs that report free memory to the host (free page
// reporting, here of every free block of 2 MiB or more), the kernel's free huge
// blocks are reported ones from a few seconds after some process freed memory,
// and each costs the host a fault per 4 KiB: 4.4-6.8 ms, while small pages, which
// the kernel still finds among the fragments it does not report, cost 0.65 ms per
// 2 MiB. ResNet-18's load took 105-161 ms there instead of 38-56 in small pages.
// So a huge page that costs more than kHugePageMaxCost times rewriting it ends
// huge pages for the rest of its buffer, and for every buffer of the next
// kHugePageDeclineNs (one probe per load, not one per buffer).
constexpr double kHugePageMaxCost = 30;
constexpr int64_t kHugePageDeclineNs = int64_t(5) * 1000 * 1000 * 1000;

// populate() for a 2 MiB-aligned mapping advised as huge pages (large_buffer),
// front to back, in as many steps as its user likes (advance): one huge page at a
// time while each costs at most `max_cost` times rewriting the first, then the
// rest in small pages.
class HugePagePopulator {
 public:
  HugePagePopulator() = default;
  // `small`: the mapping was not advised as huge pages (wants_huge_pages()).
  HugePagePopulator(void* p, size_t len, double max_cost = kHugePageMaxCost, bool small = false)
      : b_(static_cast<uint8_t*>(p)), len_(len), max_cost_(max_cost), small_(small) {}

  // Makes [0, end) resident (whole pages; the huge page that holds `end`, while
  // huge pages are still taken).
  void advance(size_t end) {
    if (end > len_) end = len_;
    while (!small_ && done_ < end) {
      const size_t n = len_ - done_ < kHugePage ? len_ - done_ : kHugePage;
      const int64_t t0 = steady_ns();
      populate(b_ + done_, n);
      const int64_t t1 = steady_ns();
      if (rewrite_ns_ < 0) {
        std::memset(b_ + done_, 0, n);
        rewrite_ns_ = steady_ns() - t1;
        if (rewrite_ns_ < 10000) rewrite_ns_ = 10000;  // below what a coarse clock can tell
      }
      done_ += n;
      if (n == kHugePage && double(t1 - t0) > max_cost_ * double(rewrite_ns_)) {
        huge_pages_declined_until().store(t1 + kHugePageDeclineNs, std::memory_order_relaxed);
        small_ = true;
#ifdef MADV_NOHUGEPAGE
        if (done_ < len_) madvise(b_ + done_, len_ - done_, MADV_NOHUGEPAGE);  // advice only
#endif
      }
    }
    if (small_ && done_ < end) {
      const size_t to = round_up(end, kSmallPage) < len_ ? round_up(end, kSmallPage) : len_;
      populate(b_ + done_, to - done_);
      done_ = to;
    }
  }

 private:
  uint8_t* b_ = nullptr;
  size_t len_ = 0, done_ = 0;
  double max_cost_ = kHugePageMaxCost;
  int64_t rewrite_ns_ = -1;  // rewriting the first huge page, resident: what the memory itself costs
  bool small_ = false;
};

inline void populate_huge(void* p, size_t len, double max_cost = kHugePageMaxCost) {
  HugePagePopulator(p, len, max_cost).advance(len);
}

}  // namespace memory_detail

// Address space of `bytes` (64-byte aligned, uninitialised) that becomes
// resident one 4 KiB page at a time, at each page's first touch, and never in
// huge pages (MADV_NOHUGEPAGE, so THP "always" does not round a touch up to
// 2 MiB either). For buffers sized for the worst case of which a workload uses
// only a prefix: the GEMM's packing workspaces are sized for the largest block
// the kernel packs (2.5 MB), but SqueezeNet's GEMMs use a few hundred KB of it;
// prefaulted in huge pages they cost the whole 2.5 MB per thread. Throws
// OutOfMemory rather than returning null.
inline std::shared_ptr<void> lazy_buffer(size_t bytes) {
  using namespace memory_detail;
#ifdef NETLITE_HAVE_MMAP
  if (bytes > (size_t(1) << 46)) fail(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes");
  const size_t len = round_up(bytes ? bytes : 1, kSmallPage);
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes");
#ifdef MADV_NOHUGEPAGE
  madvise(p, len, MADV_NOHUGEPAGE);  // advice only
#endif
  return std::shared_ptr<void>(p, [len](void* q) { munmap(q, len); });
#else
  return aligned_buffer(bytes, false);
#endif
}

// 64-byte aligned (2 MiB aligned when large), uninitialised storage of `bytes`;
// with `prefault` every page is made resident before returning. Throws
// OutOfMemory rather than returning null.
inline std::shared_ptr<void> large_buffer(size_t bytes, bool prefault) {
  using namespace memory_detail;
#ifdef NETLITE_HAVE_MMAP
  if (bytes >= kOwnMapping) {
    if (bytes > (size_t(1) << 46)) fail(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes");
    const bool huge = bytes >= kHugePage;
    const size_t len = round_up(bytes, kSmallPage);
    const size_t map_len = huge ? len + kHugePage : len;  // room to slide to a 2 MiB boundary
    void* raw = mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) fail(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes");
    const uintptr_t start = huge ? round_up(uintptr_t(raw), kHugePage) : uintptr_t(raw);
    const size_t head = start - uintptr_t(raw);
    if (head) munmap(raw, head);
    if (map_len - head > len) munmap(reinterpret_cast<void*>(start + len), map_len - head - len);
    void* p = reinterpret_cast<void*>(start);
    // Advice only: without THP this is a plain mapping.
    bool advise = false;
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    if (huge && wants_huge_pages(bytes))
      advise = madvise(p, len, MADV_HUGEPAGE) == 0;
    else if (huge)
      madvise(p, len, MADV_NOHUGEPAGE);
#endif
    if (prefault) {
      if (advise)
        populate_huge(p, len);
      else
        populate(p, len);
    }
    return std::shared_ptr<void>(p, [len](void* q) { munmap(q, len); });
  }
#endif
  std::shared_ptr<void> p = aligned_buffer(bytes, false);
  if (prefault) touch_pages(p.get(), bytes);
  return p;
}

// Gives the whole pages inside [p, p + bytes) back to the system, for memory whose
// contents nobody reads again: a private anonymous page then reads as zeros, a page
// of a private file mapping as the file's bytes. Returns the bytes released (0 where
// the system has no such call, or refuses it).
inline size_t release_pages(const void* p, size_t bytes) {
#if defined(NETLITE_HAVE_MMAP) && defined(MADV_DONTNEED)
  static const uintptr_t page = [] {
    const long v = sysconf(_SC_PAGESIZE);
    return uintptr_t(v > 0 ? v : long(memory_detail::kSmallPage));
  }();
  const uintptr_t b = (uintptr_t(p) + page - 1) / page * page, e = (uintptr_t(p) + bytes) / page * page;
  if (e <= b || ::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED) != 0) return 0;
#ifdef MADV_NOHUGEPAGE
  // And out of transparent huge pages for good: the weights' slab is advised as
  // huge pages (large_buffer), and khugepaged, which collapses partly populated
  // 2 MiB ranges (up to max_ptes_none, 511 by default, of their 512 small pages
  // empty), would fill the released pages back in with zeros. SqueezeNet, 2
  // threads: 16.4 -> 18.5 MB of RSS some seconds into a run loop, the slab
  // resident again in full; with this advice it stays at 16.4. Advice only.
  ::madvise(reinterpret_cast<void*>(b), e - b, MADV_NOHUGEPAGE);
#endif
  return size_t(e - b);
#else
  (void)p;
  (void)bytes;
  return 0;
#endif
}

// A tensor owning uninitialised storage for its shape (the caller writes every element).
inline Tensor uninitialized_tensor(DType dt, const Shape& s) {
  size_t es = dtype_size(dt);
  if (es == 0) fail(StatusCode::TypeMismatch, "cannot allocate a tensor of type ", dtype_name(dt));
  Tensor t;
  t.dtype = dt;
  t.shape = s;
  t.owner = large_buffer(size_t(shape_numel(s)) * es, false);
  t.data = t.owner.get();
  return t;
}

// One allocation holding many constant tensors (a model's initializers): each
// tensor's owner shares the slab, so the slab lives until its last tensor goes.
// Its deleter records the size, so memory accounting can count a slab once, in
// full, even when graph passes have dropped some of its tensors (slab_bytes).
class WeightSlab {
 public:
  explicit WeightSlab(size_t bytes) {
    namespace md = memory_detail;
    const bool small = !md::wants_huge_pages(bytes);  // large_buffer's own test
    std::shared_ptr<void> buf = large_buffer(bytes ? bytes : 1, false);
    void* p = buf.get();
#ifdef NETLITE_HAVE_MMAP
    if (bytes >= md::kOwnMapping)  // its own mapping (large_buffer)
      populator_ = md::HugePagePopulator(p, md::round_up(bytes, md::kSmallPage), md::kHugePageMaxCost, small);
#endif
    // Keep `buf` alive inside the deleter: it knows how to free what it allocated.
    slab_ = std::shared_ptr<void>(p, Deleter{bytes, std::move(buf)});
  }

  // Makes the slab resident up to `end` before an importer writes there, front to
  // back: each step as large as the next tensor, so the pages of the model file
  // that the importer gives back as it goes (ModelFile::release) and the slab's
  // never both stay resident in full. Made resident at once, ResNet-18's slab and
  // the mapped file were both in the peak: 141 MB of RSS in Node against 114. And
  // in huge pages where they cost what they should (populate_huge), rather than
  // in whatever the copy's page faults would get.
  void populate(size_t end) { populator_.advance(end); }

  // A tensor viewing the slab at `offset` (64-byte aligned by the caller) and sharing its ownership.
  Tensor tensor(DType dt, const Shape& shape, size_t offset) const {
    Tensor t;
    t.dtype = dt;
    t.shape = shape;
    t.data = static_cast<uint8_t*>(slab_.get()) + offset;
    t.owner = std::shared_ptr<void>(slab_, t.data);
    return t;
  }

  struct Deleter {
    size_t bytes;
    std::shared_ptr<void> buffer;
    void operator()(void*) { buffer.reset(); }
  };

 private:
  std::shared_ptr<void> slab_;
  memory_detail::HugePagePopulator populator_;
};

// Bytes held by the slab that owns `owner`, or 0 when it is not slab storage.
inline size_t slab_bytes(const std::shared_ptr<void>& owner) {
  const WeightSlab::Deleter* d = std::get_deleter<WeightSlab::Deleter>(owner);
  return d ? d->bytes : 0;
}

}  // namespace netlite
#undef NETLITE_HAVE_MMAP
