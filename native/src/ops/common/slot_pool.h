// Scratch slots for the chunks of a ThreadPool::parallel_for. Chunks are taken
// dynamically (a descheduled thread on a busy machine does not hold back half
// of the work), so a chunk cannot know "its" thread; but at most `slots` chunks
// run at once (one per thread), so a chunk that acquires a slot always finds a
// free one, and holds it until it releases it. A thread first tries the slot of
// its own index in the pool, so that with RunContext::slot_scratch it writes the
// same memory in every loop (lines its core holds already).
#pragma once

#include <atomic>
#include <cstdint>

#include "../../core/threadpool.h"

namespace netlite {
namespace ops {

constexpr int64_t kMaxSlots = 64;  // slots <= kMaxSlots (one bit each)

class SlotPool {
 public:
  int64_t acquire(int64_t slots) {
    const int64_t own = ThreadPool::current_thread() % slots;
    if ((used_.fetch_or(uint64_t(1) << own, std::memory_order_acquire) & (uint64_t(1) << own)) == 0) return own;
    for (;;)
      for (int64_t i = 0; i < slots; ++i) {
        const uint64_t bit = uint64_t(1) << i;
        if ((used_.fetch_or(bit, std::memory_order_acquire) & bit) == 0) return i;
      }
  }
  void release(int64_t i) { used_.fetch_and(~(uint64_t(1) << i), std::memory_order_release); }

 private:
  std::atomic<uint64_t> used_{0};
};

}  // namespace ops
}  // namespace netlite
