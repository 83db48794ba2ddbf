// Intra-op thread pool. One pool per model (its `threads` option); the calling
// thread always takes part, so threads=1 spawns nothing. A pool serves one
// parallel_for at a time: when a second concurrent run finds it busy, that run
// executes its loop inline on its own thread instead of waiting. Concurrent
// predictions therefore never deadlock and never oversubscribe beyond
// (runs in flight + threads - 1) threads.
// A loop's chunks are split into one contiguous segment per thread (the caller
// owns the first); a thread runs its own segment first, then helps with what is
// left of the others from their ends. So a thread mostly handles the same part
// of consecutive loops, and data stays in the cache of the core that wrote it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <type_traits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace netlite {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n). fn must not throw
  // (kernels report nothing at run time; validation happens at plan time).
  // `grain` is the smallest chunk worth handing to another thread. The callable
  // is passed by reference, never copied, so a parallel_for allocates nothing.
  template <typename F>
  void parallel_for(int64_t n, F&& fn, int64_t grain = 1) {
    using Fn = typename std::remove_reference<F>::type;
    RangeFn ref{const_cast<void*>(static_cast<const void*>(&fn)),
                [](void* obj, int64_t b, int64_t e) { (*static_cast<Fn*>(obj))(b, e); }};
    run_range(n, ref, grain);
  }

  // Number of threads that a parallel_for started now would use at most.
  int concurrency() const { return threads_; }
  // The calling thread's index in its pool: i on worker i, 0 on any other thread
  // (a parallel_for's caller). Kernels use it to keep each thread on the same
  // scratch from one loop to the next (see ops/common/slot_pool.h).
  static int current_thread();

 private:
  // A non-owning callable reference: what parallel_for hands to the workers.
  struct RangeFn {
    void* obj;
    void (*call)(void*, int64_t, int64_t);
    void operator()(int64_t b, int64_t e) const { call(obj, b, e); }
  };
  void run_range(int64_t n, const RangeFn& fn, int64_t grain);
  void worker_loop(int index);
  // Runs the chunks of the current job: first those of thread `self`'s own
  // segment from its front, then any left in the other segments, from their back.
  void run_chunks(int self, const RangeFn& fn, int64_t n, int64_t chunk);

  // Each thread's share of a job's chunks, [front, back) packed in one word
  // (front in the low 32 bits): the owner takes from the front, others from the back.
  struct alignas(64) Segment {
    std::atomic<uint64_t> range{0};
  };

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the run that owns the pool for one parallel_for
  std::mutex m_;
  std::condition_variable cv_start_, cv_done_;
  const RangeFn* job_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 0;
  std::unique_ptr<Segment[]> segments_;  // one per thread (index 0: the caller)
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> caller_cpu_{-1};  // the CPU of the current job's caller, -1 when unknown
  bool stop_ = false;
};

// Number of hardware threads, at least 1.
int hardware_threads();

}  // namespace netlite
