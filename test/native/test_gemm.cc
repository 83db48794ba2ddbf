// SGEMM backends against the scalar reference: every micro-kernel usable on
// this CPU, the OpenBLAS backend when compiled in, and the default dispatch,
// over many shapes, all transpose combinations, alpha/beta, padded leading
// dimensions and thread pools of 1 and 2 threads.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/gemm_internal.h"

namespace {

using netlite::ThreadPool;
using netlite::kernels::GemmArgs;
using netlite::kernels::GemmBackend;
namespace nk = netlite::kernels;

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  float uniform() { return float(int64_t(next() >> 40) - (int64_t(1) << 23)) / float(int64_t(1) << 23); }  // [-1, 1)
};

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = 1.0e30f;  // fills padding that must never be read

// One way of running a GEMM under test.
struct Runner {
  std::string name;
  int kernel = -1;  // micro-kernel index, or -1 for a GemmBackend
  GemmBackend backend = GemmBackend::Auto;
  bool allow_gemv = true;
  bool force_parallel = false;
  int mr = 0;  // GemmArgs::mr for sgemm(); -1: gemm_kernel_mr_for(M)
  void run(const GemmArgs& g, ThreadPool* pool) const {
    if (kernel >= 0) {
      nk::testing::sgemm_with_kernel(kernel, g, pool, allow_gemv, force_parallel);
      return;
    }
    GemmArgs a = g;
    a.mr = mr < 0 ? nk::gemm_kernel_mr_for(g.M) : mr;
    nk::sgemm(a, pool, backend);
  }
};

std::vector<Runner> runners() {
  std::vector<Runner> r;
  for (int i = 0; i < nk::testing::gemm_kernel_count(); ++i) {
    if (!nk::testing::gemm_kernel_usable(i)) continue;
    const std::string name = nk::testing::gemm_kernel_name_at(i);
    r.push_back(Runner{name, i, GemmBackend::Netlite, true, false});
    r.push_back(Runner{name + "/packed-only", i, GemmBackend::Netlite, false, false});
    r.push_back(Runner{name + "/forced-parallel", i, GemmBackend::Netlite, true, true});
  }
  r.push_back(Runner{"sgemm(Reference)", -1, GemmBackend::Reference});
  r.push_back(Runner{"sgemm(Netlite)", -1, GemmBackend::Netlite});
  r.push_back(Runner{"sgemm(Auto)", -1, GemmBackend::Auto});
  // Without NETLITE_USE_OPENBLAS this checks the fallback to Netlite.
  r.push_back(Runner{"sgemm(OpenBLAS)", -1, GemmBackend::OpenBLAS});
  return r;
}

struct Case {
  int64_t M, N, K;
  bool ta, tb;
  float alpha, beta;
  int64_t pad_a, pad_b, pad_c;  // extra leading-dimension elements
  bool nan_c;                   // fill C with NaN (only meaningful with beta == 0)
};

std::string describe(const Case& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "M=%lld N=%lld K=%lld ta=%d tb=%d alpha=%g beta=%g pads=%lld/%lld/%lld nanC=%d",
                (long long)c.M, (long long)c.N, (long long)c.K, int(c.ta), int(c.tb), c.alpha, c.beta,
                (long long)c.pad_a, (long long)c.pad_b, (long long)c.pad_c, int(c.nan_c));
  return buf;
}

// Matrices for one case, with the reference result and an error bound per
// element derived from sum |alpha a b| + |beta c|.
struct Problem {
  Case c;
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C0, expect;
  std::vector<double> bound;
  explicit Problem(const Case& cs, uint64_t seed) : c(cs) {
    Rng rng(seed);
    const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
    const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
    lda = a_cols + c.pad_a;
    ldb = b_cols + c.pad_b;
    ldc = c.N + c.pad_c;
    A.assign(size_t(a_rows * lda) + 1, kSentinel);
    B.assign(size_t(b_rows * ldb) + 1, kSentinel);
    C0.assign(size_t(c.M * ldc) + 1, kSentinel);
    for (int64_t i = 0; i < a_rows; ++i)
      for (int64_t j = 0; j < a_cols; ++j) A[i * lda + j] = rng.uniform();
    for (int64_t i = 0; i < b_rows; ++i)
      for (int64_t j = 0; j < b_cols; ++j) B[i * ldb + j] = rng.uniform();
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) C0[i * ldc + j] = c.nan_c ? kNaN : rng.uniform();
    expect = C0;
    GemmArgs g = args(expect.data());
    nk::sgemm_reference(g);
    bound.assign(size_t(c.M * c.N), 0.0);
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        double s = 0.0;
        for (int64_t k = 0; k < c.K; ++k) {
          const float a = c.ta ? A[k * lda + i] : A[i * lda + k];
          const float b = c.tb ? B[j * ldb + k] : B[k * ldb + j];
          s += std::fabs(double(a) * double(b));
        }
        s *= std::fabs(double(c.alpha));
        if (c.beta != 0.0f) s += std::fabs(double(c.beta) * double(C0[i * ldc + j]));
        bound[size_t(i * c.N + j)] = 1e-5 * s + 1e-6;
      }
  }
  GemmArgs args(float* C) const {
    GemmArgs g;
    g.trans_a = c.ta;
    g.trans_b = c.tb;
    g.M = c.M;
    g.N = c.N;
    g.K = c.K;
    g.alpha = c.alpha;
    g.A = A.data();
    g.lda = lda;
    g.B = B.data();
    g.ldb = ldb;
    g.beta = c.beta;
    g.C = C;
    g.ldc = ldc;
    return g;
  }
  // Runs `r` and checks every element and that the padding of C is untouched.
  bool check(const Runner& r, ThreadPool* pool, const char* pool_name) const {
    std::vector<float> C = C0;
    r.run(args(C.data()), pool);
    int64_t bad = 0;
    double worst = 0.0;
    int64_t wi = -1, wj = -1;
    for (int64_t i = 0; i < c.M; ++i) {
      for (int64_t j = 0; j < ldc; ++j) {
        const float got = C[i * ldc + j];
        if (j >= c.N) {
          if (!(got == kSentinel)) {
            if (bad == 0) wi = i, wj = j;
            ++bad;
          }
          continue;
        }
        const double err = std::fabs(double(got) - double(expect[i * ldc + j]));
        const double tol = bound[size_t(i * c.N + j)];
        if (!(err <= tol)) {  // NaN fails too
          if (bad == 0) wi = i, wj = j;
          ++bad;
          if (err > worst || std::isnan(err)) worst = err;
        }
      }
    }
    return CHECK_MSG(bad == 0, "%s [%s] %s: %lld bad elements, first at (%lld,%lld) got %g want %g",
                     r.name.c_str(), pool_name, describe(c).c_str(), (long long)bad, (long long)wi,
                     (long long)wj, wi >= 0 ? double(C[wi * ldc + wj]) : 0.0,
                     wi >= 0 && wj < c.N ? double(expect[wi * ldc + wj]) : double(kSentinel));
  }
};

struct Pools {
  ThreadPool one{1};
  ThreadPool two{2};
};

Pools& pools() {
  static Pools p;
  return p;
}

// Runs one case through every runner with no pool, 1 and 2 threads.
void check_case(const Case& c, uint64_t seed, const std::vector<Runner>& rs) {
  const Problem p(c, seed);
  for (const Runner& r : rs) {
    p.check(r, nullptr, "no pool");
    p.check(r, &pools().one, "1 thread");
    p.check(r, &pools().two, "2 threads");
  }
}

struct Shape {
  int64_t M, N, K;
};

void check_shapes(const std::vector<Shape>& shapes, bool all_scalars) {
  const std::vector<Runner> rs = runners();
  const float scalars[][2] = {{1.0f, 0.0f}, {-1.5f, 0.75f}, {0.5f, 1.0f}};
  uint64_t seed = 1;
  for (const Shape& s : shapes) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
      const int n_scalars = all_scalars ? 3 : 1;
      for (int k = 0; k < n_scalars; ++k) {
        const int v = all_scalars ? k : t % 3;
        const int64_t pad = (t + k) % 2 == 0 ? 0 : 3;
        Case c{s.M, s.N, s.K, ta, tb, scalars[v][0], scalars[v][1], pad, pad + 2 * (t & 1), pad, false};
        check_case(c, seed++, rs);
      }
    }
  }
}

}  // namespace

NETLITE_TEST(gemm_reference_small_example) {
  // [1 2 3; 4 5 6] * [7 8; 9 10; 11 12] = [58 64; 139 154]
  const float A[] = {1, 2, 3, 4, 5, 6};
  const float B[] = {7, 8, 9, 10, 11, 12};
  float C[] = {1, 1, 1, 1};
  GemmArgs g;
  g.M = 2, g.N = 2, g.K = 3;
  g.A = A, g.lda = 3, g.B = B, g.ldb = 2, g.C = C, g.ldc = 2;
  g.alpha = 2.0f, g.beta = -1.0f;
  nk::sgemm_reference(g);
  CHECK_NEAR(C[0], 115, 0);
  CHECK_NEAR(C[1], 127, 0);
  CHECK_NEAR(C[2], 277, 0);
  CHECK_NEAR(C[3], 307, 0);
  // Same product with both operands stored transposed.
  const float At[] = {1, 4, 2, 5, 3, 6};
  const float Bt[] = {7, 9, 11, 8, 10, 12};
  float D[] = {kNaN, kNaN, kNaN, kNaN};
  g.trans_a = g.trans_b = true;
  g.A = At, g.lda = 2, g.B = Bt, g.ldb = 3, g.C = D;
  g.alpha = 1.0f, g.beta = 0.0f;
  nk::sgemm_reference(g);
  CHECK_NEAR(D[0], 58, 0);
  CHECK_NEAR(D[1], 64, 0);
  CHECK_NEAR(D[2], 139, 0);
  CHECK_NEAR(D[3], 154, 0);
}

NETLITE_TEST(gemm_kernel_registry) {
  const int n = nk::testing::gemm_kernel_count();
  CHECK(n >= 1);
  bool has_generic = false, selected_listed = false;
  for (int i = 0; i < n; ++i) {
    const std::string name = nk::testing::gemm_kernel_name_at(i);
    has_generic = has_generic || name == "generic";
    if (name == nk::gemm_kernel_name()) selected_listed = nk::testing::gemm_kernel_usable(i);
    std::printf("  kernel %d: %s%s\n", i, name.c_str(), nk::testing::gemm_kernel_usable(i) ? "" : " (not usable here)");
  }
  CHECK(has_generic);
  CHECK(selected_listed);
  CHECK(std::string(nk::testing::gemm_kernel_name_at(-1)).empty());
  CHECK(std::string(nk::testing::gemm_kernel_name_at(n)).empty());
  CHECK(!nk::testing::gemm_kernel_usable(n));
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f")) CHECK(std::string(nk::gemm_kernel_name()) == "avx512");
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    CHECK(std::string(nk::gemm_kernel_name()) == "avx2");
#endif
#ifdef NETLITE_USE_OPENBLAS
  CHECK(nk::openblas_available());
#else
  CHECK(!nk::openblas_available());
#endif
  std::printf("  selected: %s, openblas: %s\n", nk::gemm_kernel_name(), nk::openblas_available() ? "yes" : "no");
}

NETLITE_TEST(gemm_small_shapes) {
  check_shapes({{1, 1, 1}, {2, 2, 2}, {7, 13, 5}, {13, 7, 5}, {33, 65, 17}, {12, 32, 9}, {13, 33, 4}, {6, 16, 3},
                {5, 50, 7}, {50, 5, 7}, {1, 37, 3}, {37, 1, 3}, {1, 1, 300}, {3, 100, 1}, {100, 3, 1},
                {1, 50, 17}, {50, 1, 33}, {1, 70, 65}, {70, 1, 49}, {4, 1, 1}, {1, 4, 1}, {9, 31, 2},
                // Last strip of 16 and of 17 columns after a full one (AVX-512's half-width tail).
                {9, 48, 21}, {10, 49, 6}},
               /*all_scalars=*/true);
}

NETLITE_TEST(gemm_rows_hint) {
  // gemm_kernel_mr_for picks the row tile that pads the rows least; sgemm honours
  // it (AVX-512: the 7-row variant) and ignores an MR without a kernel.
  const int own = nk::gemm_kernel_mr();
  CHECK(nk::gemm_kernel_mr_for(0) == own);
  CHECK(nk::gemm_kernel_mr_for(int64_t(own) * 9) == own);
  if (std::string(nk::gemm_kernel_name()) == "avx512") {
    CHECK(nk::gemm_kernel_mr_for(49) == 7);
    CHECK(nk::gemm_kernel_mr_for(196) == 7);
    CHECK(nk::gemm_kernel_mr_for(64) == 8);
    CHECK(nk::gemm_kernel_mr_for(50) == 8);
  }
  const std::vector<Runner> rs = {Runner{"sgemm(Netlite, mr for M)", -1, GemmBackend::Netlite, true, false, -1},
                                  Runner{"sgemm(Netlite, mr=5)", -1, GemmBackend::Netlite, true, false, 5}};
  uint64_t seed = 900;
  for (const Shape& sh : std::vector<Shape>{{49, 64, 37}, {49, 100, 9}, {196, 40, 20}, {13, 33, 5}, {14, 70, 600}})
    for (int t = 0; t < 2; ++t)
      check_case(Case{sh.M, sh.N, sh.K, t == 1, false, 1.0f, t == 1 ? 0.5f : 0.0f, 0, 0, 1, false}, seed++, rs);
}

NETLITE_TEST(gemm_blocking_edges) {
  // K over several KC blocks, N over several NC blocks, M over several MC blocks.
  check_shapes({{25, 97, 800}, {30, 1000, 20}, {1100, 20, 10}, {61, 70, 385}}, /*all_scalars=*/false);
}

NETLITE_TEST(gemm_inference_shapes) {
  check_shapes({{1, 1000, 1280}, {1000, 1, 1280}, {128, 3136, 64}, {64, 196, 576}, {2, 1000, 64}},
               /*all_scalars=*/false);
}

NETLITE_TEST(gemm_zero_sized) {
  const std::vector<Runner> rs = runners();
  uint64_t seed = 100;
  for (const Shape& s : std::vector<Shape>{{0, 5, 3}, {5, 0, 3}, {0, 0, 0}, {5, 3, 0}, {1, 4, 0}, {4, 1, 0}}) {
    for (int t = 0; t < 4; ++t) {
      // K == 0: C = beta * C, and beta == 0 clears even NaN.
      check_case(Case{s.M, s.N, s.K, (t & 1) != 0, (t & 2) != 0, 1.0f, 0.0f, 0, 0, 1, true}, seed++, rs);
      check_case(Case{s.M, s.N, s.K, (t & 1) != 0, (t & 2) != 0, 2.0f, 0.5f, 1, 0, 0, false}, seed++, rs);
    }
  }
}

NETLITE_TEST(gemm_beta_zero_ignores_nan_c) {
  const std::vector<Runner> rs = runners();
  uint64_t seed = 200;
  for (const Shape& s : std::vector<Shape>{{1, 1, 1}, {7, 13, 5}, {33, 65, 17}, {1, 300, 40}, {300, 1, 40},
                                           {100, 200, 300}}) {
    for (int t = 0; t < 4; ++t)
      check_case(Case{s.M, s.N, s.K, (t & 1) != 0, (t & 2) != 0, 0.75f, 0.0f, 2, 1, 3, true}, seed++, rs);
  }
}

NETLITE_TEST(gemm_alpha_zero_scales_c) {
  // alpha == 0: A and B are not referenced (BLAS convention), C = beta * C.
  std::vector<float> A(6 * 4, kNaN), B(4 * 5, kNaN), C(6 * 5, 2.0f);
  GemmArgs g;
  g.M = 6, g.N = 5, g.K = 4;
  g.A = A.data(), g.lda = 4, g.B = B.data(), g.ldb = 5, g.C = C.data(), g.ldc = 5;
  g.alpha = 0.0f, g.beta = 0.5f;
  for (const Runner& r : runners()) {
    std::vector<float> c = C;
    g.C = c.data();
    r.run(g, &pools().two);
    bool ok = true;
    for (float v : c) ok = ok && v == 1.0f;
    CHECK_MSG(ok, "%s", r.name.c_str());
  }
}

NETLITE_TEST(gemm_threads_large) {
  // Large enough that every backend splits the work over 2 threads.
  check_shapes({{256, 196, 300}, {512, 49, 200}, {64, 1500, 100}}, /*all_scalars=*/false);
}

NETLITE_TEST(gemm_workspaces_shared_by_concurrent_callers) {
  // Packing workspaces are lent out per GEMM, not owned by threads: four
  // threads with GEMMs that pack A and B (N past the direct-A limit, K past one
  // K block) share the 2-thread pool and run serially too, at the same time.
  const Case cases[] = {{96, 1100, 300, false, false, 1.0f, 0.0f, 0, 0, 0, false},
                        {64, 1200, 700, false, true, 1.0f, 0.5f, 1, 0, 2, false},
                        {130, 1040, 90, true, false, -1.0f, 0.0f, 0, 3, 0, false},
                        {40, 1500, 520, true, true, 0.5f, 1.0f, 2, 2, 1, false}};
  std::vector<std::unique_ptr<Problem>> problems;
  for (int i = 0; i < 4; ++i) problems.emplace_back(new Problem(cases[i], 100 + uint64_t(i)));
  std::vector<int64_t> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      const Problem& p = *problems[size_t(t)];
      for (int rep = 0; rep < 8; ++rep) {
        std::vector<float> C = p.C0;
        nk::sgemm(p.args(C.data()), rep % 2 ? &pools().two : nullptr, GemmBackend::Netlite);
        for (int64_t i = 0; i < p.c.M; ++i)
          for (int64_t j = 0; j < p.c.N; ++j)
            if (!(std::fabs(double(C[i * p.ldc + j]) - double(p.expect[i * p.ldc + j])) <= p.bound[size_t(i * p.c.N + j)]))
              ++bad[size_t(t)];
      }
    });
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK_MSG(bad[size_t(t)] == 0, "%s: %lld bad elements", describe(cases[t]).c_str(), (long long)bad[size_t(t)]);
}
