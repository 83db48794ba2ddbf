#include "threadpool.h"

#include <algorithm>
#include <chrono>

#if defined(__linux__)
#include <sched.h>
#endif

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

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)), segments_(new Segment[size_t(threads_)]) {
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

// The CPU the calling thread runs on, -1 when unknown.
inline int current_cpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

// Moves the calling thread off CPU `cpu` (it runs there now): its affinity
// without that CPU for a moment, then back to what it was. Returns false when
// that is not possible. The kernel's wake-up placement can put a woken worker
// on the CPU of the thread that woke it, and on VMs whose vCPUs share no
// (known) cache, it looks no further for an idle CPU and its load balancer
// can leave the worker there for seconds: with 2 threads on a 2-core VM, the
// worker then time-shared the caller's core (and its spin yielded it away),
// doing ~2% of the chunks while the other core idled.
inline bool move_off_cpu(int cpu) {
#if defined(__linux__)
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t orig;
  if (sched_getaffinity(0, sizeof(orig), &orig) != 0 || !CPU_ISSET(cpu, &orig) || CPU_COUNT(&orig) < 2)
    return false;
  cpu_set_t others = orig;
  CPU_CLR(cpu, &others);
  if (sched_setaffinity(0, sizeof(others), &others) != 0) return false;
  sched_setaffinity(0, sizeof(orig), &orig);  // migrated already: it stays where it is now
  return true;
#else
  (void)cpu;
  return false;
#endif
}
}  // namespace threadpool_detail

void ThreadPool::run_chunks(int self, const RangeFn& fn, int64_t n, int64_t chunk) {
  auto run = [&](uint64_t c) {
    const int64_t b = int64_t(c) * chunk;
    fn(b, std::min(n, b + chunk));
  };
  {
    std::atomic<uint64_t>& seg = segments_[size_t(self)].range;
    uint64_t v = seg.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t f = v & 0xffffffffu, b = v >> 32;
      if (f >= b) break;
      if (seg.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        run(f);
        v = seg.load(std::memory_order_acquire);
      }
    }
  }
  for (int k = 1; k < threads_; ++k) {
    std::atomic<uint64_t>& seg = segments_[size_t((self + k) % threads_)].range;
    uint64_t v = seg.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t f = v & 0xffffffffu, b = v >> 32;
      if (f >= b) break;
      if (seg.compare_exchange_weak(v, v - (uint64_t(1) << 32), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
        run(b - 1);
        v = seg.load(std::memory_order_acquire);
      }
    }
  }
}

namespace threadpool_detail {
inline int& thread_index() {
  thread_local int index = 0;
  return index;
}
}  // namespace threadpool_detail

int ThreadPool::current_thread() { return threadpool_detail::thread_index(); }

void ThreadPool::worker_loop(int index) {
  threadpool_detail::thread_index() = index;
  uint64_t seen = 0;
  // Moving off the caller's CPU is tried at most this often: with more threads
  // than CPUs, sharing is unavoidable and each attempt costs system calls.
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_move{};
  const bool may_move = threads_ <= hardware_threads();
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
    const int caller_cpu = caller_cpu_.load(std::memory_order_relaxed);
    if (may_move && caller_cpu >= 0 && threadpool_detail::current_cpu() == caller_cpu) {
      const Clock::time_point now = Clock::now();
      if (now - last_move > std::chrono::milliseconds(10)) {
        last_move = now;
        threadpool_detail::move_off_cpu(caller_cpu);
      }
    }
    run_chunks(index, *job, n, chunk);
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
  chunks = (n + chunk - 1) / chunk;
  {
    std::lock_guard<std::mutex> lk(m_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    // Thread t owns chunks [chunks*t/T, chunks*(t+1)/T): a thread gets the same
    // part of consecutive loops over similar ranges, so the data it wrote in one
    // step is what it reads in the next, from its own cache (moving a line
    // between the cores costs far more than reading it from L2).
    for (int t = 0; t < threads_; ++t) {
      const uint64_t f = uint64_t(chunks * t / threads_), b = uint64_t(chunks * (t + 1) / threads_);
      segments_[size_t(t)].range.store(f | (b << 32), std::memory_order_relaxed);
    }
    // Workers join by counting themselves in pending_ under m_ when they pick
    // the job up. The caller waits only for those: a worker that is not
    // running (another process has its core, or it is still waking up) holds
    // nothing back, the caller takes its chunks instead - on a busy 2-core
    // machine every parallel loop used to wait for the worker to be scheduled
    // (several ms at a time), making 2 threads slower than 1.
    pending_.store(0);
    caller_cpu_.store(threadpool_detail::current_cpu(), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_start_.notify_all();
  run_chunks(0, fn, n, chunk);
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
