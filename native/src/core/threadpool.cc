#include "threadpool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NETLITE_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define NETLITE_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define NETLITE_CPU_RELAX() ((void)0)
#endif

namespace netlite {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(m_);
    stop_ = true;
    // A new generation ends the workers' spin at once; without it a spinning worker
    // finishes its spin rounds first (about a second on an oversubscribed machine).
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_start_.notify_all();
  for (auto& t : workers_) t.join();
}

namespace threadpool_detail {
// Workers spin this many rounds for the next job before sleeping: inference
// issues parallel loops back to back, and a futex wake-up per loop would cost
// more than many small loops take.
constexpr int kSpinRounds = 1 << 14;

// A pause per round, and every 64th round a yield, so that on an oversubscribed
// machine a spinning thread gives its core to the thread it is waiting for.
inline void relax(int round) {
  if ((round & 63) == 63) std::this_thread::yield();
  else NETLITE_CPU_RELAX();
}
}  // namespace threadpool_detail

void ThreadPool::worker_loop(int) {
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < threadpool_detail::kSpinRounds && generation_.load(std::memory_order_acquire) == seen; ++i)
      threadpool_detail::relax(i);
    const RangeFn* job;
    int64_t n, chunk;
    {
      std::unique_lock<std::mutex> lk(m_);
      cv_start_.wait(lk, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
      job = job_;
      if (job == nullptr) continue;  // woke after its caller finished the job alone
      n = job_n_;
      chunk = job_chunk_;
      pending_.fetch_add(1, std::memory_order_relaxed);  // under m_: the caller waits for us
    }
    for (;;) {
      int64_t b = next_.fetch_add(chunk);
      if (b >= n) break;
      (*job)(b, std::min(n, b + chunk));
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(m_);
      cv_done_.notify_one();
    }
  }
}

void ThreadPool::run_range(int64_t n, const RangeFn& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t max_chunks = (n + grain - 1) / grain;
  if (threads_ == 1 || max_chunks < 2 || !busy_.try_lock()) {
    fn(0, n);
    return;
  }
  // Several chunks per thread so uneven chunks balance out.
  int64_t chunks = std::min<int64_t>(max_chunks, int64_t(threads_) * 4);
  int64_t chunk = (n + chunks - 1) / chunks;
  {
    std::lock_guard<std::mutex> lk(m_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    next_.store(0);
    // Workers join by counting themselves in pending_ under m_ when they pick
    // the job up. The caller waits only for those: a worker that is not
    // running (another process has its core, or it is still waking up) holds
    // nothing back, the caller takes its chunks instead - on a busy 2-core
    // machine every parallel loop used to wait for the worker to be scheduled
    // (several ms at a time), making 2 threads slower than 1.
    pending_.store(0);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_start_.notify_all();
  for (;;) {
    int64_t b = next_.fetch_add(chunk);
    if (b >= n) break;
    fn(b, std::min(n, b + chunk));
  }
  for (int i = 0; i < threadpool_detail::kSpinRounds && pending_.load(std::memory_order_acquire) != 0; ++i)
    threadpool_detail::relax(i);
  {
    // A worker registers under m_ before this wait ends (and is waited for) or
    // finds job_ cleared and skips the job.
    std::unique_lock<std::mutex> lk(m_);
    cv_done_.wait(lk, [&] { return pending_.load() == 0; });
    job_ = nullptr;
  }
  busy_.unlock();
}

}  // namespace netlite

#undef NETLITE_CPU_RELAX
