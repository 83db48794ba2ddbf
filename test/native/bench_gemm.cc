// SGEMM throughput in GFLOP/s for each micro-kernel (and OpenBLAS when built
// with -DNETLITE_USE_OPENBLAS -lopenblas), 1 and 2 threads, on shapes typical
// of CNN inference via im2col (M = out channels, N = spatial, K = in*kh*kw).
//
// Build (one command, wrapped here) and run:
//   c++ -std=c++17 -O2 -Inative/src test/native/bench_gemm.cc native/src/kernels/gemm*.cc
//       native/src/kernels/x86/gemm*.cc native/src/kernels/arm/gemm*.cc native/src/core/threadpool.cc
//       -lpthread [-DNETLITE_USE_OPENBLAS -lopenblas] -o /tmp/bench_gemm
//   /tmp/bench_gemm [--time=0.3] [--threads=1,2] [--cpu-time] [MxNxK[:nt|tn|tt]]...
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/gemm_internal.h"

namespace {

namespace nk = netlite::kernels;

struct Shape {
  int64_t M, N, K;
  bool ta = false, tb = false;
};

struct Backend {
  std::string name;
  int kernel;  // -1: OpenBLAS
};

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The machine may be shared: single-threaded runs are timed in this thread's
// CPU time (immune to being descheduled); multi-threaded ones in wall time, or
// with --cpu-time in process CPU time divided by the thread count (what the
// run would take on otherwise idle cores if the threads were perfectly
// balanced: an upper bound on the wall-clock rate).
enum class Clock { Wall, Thread, ProcessPerThread };
Clock g_clock = Clock::Wall;
int g_threads = 1;
double now() {
#if defined(__linux__)
  if (g_clock != Clock::Wall) {
    timespec ts;
    clock_gettime(g_clock == Clock::Thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &ts);
    const double t = double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
    return g_clock == Clock::Thread ? t : t / g_threads;
  }
#endif
  return wall_now();
}

// Best-of-10 GFLOP/s, each sample running for about min_time/10 seconds.
double measure(const Backend& b, const nk::GemmArgs& g, netlite::ThreadPool* pool, double min_time) {
  auto run = [&] {
    if (b.kernel >= 0)
      nk::testing::sgemm_with_kernel(b.kernel, g, pool);
    else
      nk::sgemm(g, pool, nk::GemmBackend::OpenBLAS);
  };
  run();  // warm up caches and buffers
  const double flops = 2.0 * double(g.M) * double(g.N) * double(g.K);
  double t0 = now();
  run();
  const double once = std::max(now() - t0, 1e-7);
  const int64_t reps = std::max<int64_t>(1, int64_t(min_time / 10 / once));
  double best = 0.0;
  for (int s = 0; s < 10; ++s) {
    t0 = now();
    for (int64_t r = 0; r < reps; ++r) run();
    const double dt = now() - t0;
    best = std::max(best, flops * double(reps) / dt * 1e-9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  double min_time = 0.3;
  bool cpu_time = false;
  std::vector<int> thread_counts = {1, 2};
  std::vector<Shape> shapes;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--cpu-time") == 0) {
      cpu_time = true;
    } else if (std::strncmp(a, "--time=", 7) == 0) {
      min_time = std::atof(a + 7);
    } else if (std::strncmp(a, "--threads=", 10) == 0) {
      thread_counts.clear();
      for (const char* p = a + 10; *p;) {
        thread_counts.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else {
      Shape s;
      long long m = 0, n = 0, k = 0;
      char t[8] = {0};
      const int got = std::sscanf(a, "%lldx%lldx%lld:%7s", &m, &n, &k, t);
      if (got < 3) {
        std::fprintf(stderr, "bad shape %s (want MxNxK[:tn|nt|tt])\n", a);
        return 2;
      }
      s.M = m, s.N = n, s.K = k;
      if (got == 4) s.ta = t[0] == 't', s.tb = t[1] == 't';
      shapes.push_back(s);
    }
  }
  if (shapes.empty()) {
    shapes = {{32, 12544, 27},  {64, 3136, 576}, {128, 784, 1152}, {256, 196, 2304}, {512, 49, 4608},
              {1000, 1, 1280},  {1, 1000, 1280}, {1, 1000, 1280, false, true},       {1024, 1024, 1024}};
  }
  std::vector<Backend> backends;
  for (int i = 0; i < nk::testing::gemm_kernel_count(); ++i)
    if (nk::testing::gemm_kernel_usable(i)) backends.push_back({nk::testing::gemm_kernel_name_at(i), i});
  if (nk::openblas_available()) backends.push_back({"openblas", -1});

  std::printf("GFLOP/s, best of 10; 1 thread timed in thread CPU time, more in %s; selected kernel: %s\n",
              cpu_time ? "process CPU time / threads" : "wall time", nk::gemm_kernel_name());
  std::printf("%-22s", "shape (MxNxK)");
  for (int t : thread_counts)
    for (const Backend& b : backends) std::printf(" %9s/%d", b.name.c_str(), t);
  std::printf("\n");
  for (const Shape& s : shapes) {
    const int64_t a_rows = s.ta ? s.K : s.M, a_cols = s.ta ? s.M : s.K;
    const int64_t b_rows = s.tb ? s.N : s.K, b_cols = s.tb ? s.K : s.N;
    std::vector<float> A(size_t(a_rows * a_cols)), B(size_t(b_rows * b_cols)), C(size_t(s.M * s.N));
    uint32_t x = 12345;
    for (float& v : A) v = float((x = x * 1664525u + 1013904223u) >> 9) / float(1 << 23) - 1.0f;
    for (float& v : B) v = float((x = x * 1664525u + 1013904223u) >> 9) / float(1 << 23) - 1.0f;
    nk::GemmArgs g;
    g.trans_a = s.ta, g.trans_b = s.tb;
    g.M = s.M, g.N = s.N, g.K = s.K;
    g.A = A.data(), g.lda = a_cols;
    g.B = B.data(), g.ldb = b_cols;
    g.C = C.data(), g.ldc = s.N;
    char label[64];
    std::snprintf(label, sizeof label, "%lldx%lldx%lld%s", (long long)s.M, (long long)s.N, (long long)s.K,
                  s.ta || s.tb ? (s.ta ? (s.tb ? " tt" : " tn") : " nt") : "");
    std::printf("%-22s", label);
    for (int t : thread_counts) {
      netlite::ThreadPool pool(t);
      g_threads = t;
      g_clock = t == 1 ? Clock::Thread : cpu_time ? Clock::ProcessPerThread : Clock::Wall;
      for (const Backend& b : backends) {
        std::printf(" %11.1f", measure(b, g, &pool, min_time));
        std::fflush(stdout);
      }
    }
    std::printf("\n");
  }
  return 0;
}
