// ThreadPool: coverage of every index exactly once, and concurrent callers
// (two runs sharing one model's pool) neither deadlock nor lose work, and
// workers that join late skip finished jobs; threads know their index and keep
// their own scratch slot.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "check.h"
#include "core/threadpool.h"
#include "ops/common/slot_pool.h"

NETLITE_TEST(threadpool_covers_each_index_once) {
  for (int threads : {1, 2, 3, 8}) {
    netlite::ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 1000, 100003}) {
      std::vector<std::atomic<int>> hits(size_t(n > 0 ? n : 1));
      for (auto& h : hits) h.store(0);
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
      }, 3);
      bool ok = true;
      for (int64_t i = 0; i < n; ++i) ok = ok && hits[size_t(i)].load() == 1;
      CHECK_MSG(ok, "threads %d n %lld", threads, (long long)n);
    }
  }
}

NETLITE_TEST(threadpool_concurrent_callers_all_complete) {
  netlite::ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 200; ++rep)
        pool.parallel_for(1000, [&](int64_t b, int64_t e) { total.fetch_add(e - b); }, 10);
    });
  for (auto& t : callers) t.join();
  CHECK(total.load() == int64_t(4) * 200 * 1000);
}

// Loops so short that the caller usually runs every chunk before a worker
// picks the job up: late workers must skip the finished job (its callable is
// gone) and join later ones correctly, with every index still run once.
NETLITE_TEST(threadpool_late_workers_skip_finished_jobs) {
  for (int threads : {2, 4}) {
    netlite::ThreadPool pool(threads);
    int64_t total = 0;
    bool ok = true;
    for (int rep = 0; rep < 20000 && ok; ++rep) {
      std::atomic<int> hits[3];
      for (auto& h : hits) h.store(0);
      const int64_t n = 2 + rep % 2;
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      }, 1);
      for (int64_t i = 0; i < n; ++i) ok = ok && hits[i].load() == 1;
      total += n;
    }
    CHECK_MSG(ok, "threads %d", threads);
    CHECK(total > 0);
  }
}

// Each thread of a loop knows its index in the pool (0 on the caller), and a
// SlotPool hands it the slot of that index while it is free, so a thread keeps
// writing the same per-thread scratch (RunContext::slot_scratch) loop after loop.
NETLITE_TEST(threadpool_threads_keep_their_own_slot) {
  constexpr int kThreads = 3;
  netlite::ThreadPool pool(kThreads);
  CHECK(netlite::ThreadPool::current_thread() == 0);
  std::atomic<int> seen_mask{0}, mismatches{0}, out_of_range{0};
  // 200 loops, and more until a worker has run a chunk: on a loaded machine (CI runs
  // a build beside the tests) the caller may run every chunk of many loops alone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int rep = 0; rep < 200 || ((seen_mask.load() & ~1) == 0 && std::chrono::steady_clock::now() < deadline);
       ++rep) {
    netlite::ops::SlotPool slots;
    pool.parallel_for(4 * kThreads, [&](int64_t, int64_t) {
      const int self = netlite::ThreadPool::current_thread();
      if (self < 0 || self >= kThreads) {
        out_of_range.fetch_add(1);
        return;
      }
      seen_mask.fetch_or(1 << self);
      const int64_t slot = slots.acquire(kThreads);
      if (slot != self) mismatches.fetch_add(1);
      // Hold the slot a moment so the other threads' chunks overlap this one.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(10);
      while (std::chrono::steady_clock::now() < until) {
      }
      slots.release(slot);
    }, 1);
  }
  CHECK(out_of_range.load() == 0);
  CHECK_MSG(mismatches.load() == 0, "%d chunks ran on another thread's slot", mismatches.load());
  CHECK_MSG(seen_mask.load() & 1, "the caller ran no chunk");
  CHECK_MSG((seen_mask.load() & ~1) != 0, "no worker ran a chunk (mask %d)", seen_mask.load());
}
