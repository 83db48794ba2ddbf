// The GemmArgs epilogue (row bias, clamp) against the reference: every
// micro-kernel usable here, packed and read-in-place A, K spread over several
// K blocks, row/column splits over 2 threads, matrix-vector shapes, K = 0,
// beta != 0, and the default dispatch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "check.h"
#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/gemm_internal.h"

namespace {

namespace nk = netlite::kernels;

float value(uint32_t& s) {
  s = s * 1664525u + 1013904223u;
  return float((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

struct Shape {
  int64_t M, N, K;
  bool ta, tb;
};

}  // namespace

NETLITE_TEST(gemm_epilogue_matches_reference) {
  netlite::ThreadPool pool2(2);
  const Shape shapes[] = {{8, 32, 16, false, false},   {13, 47, 9, false, false},   {96, 700, 16, false, false},
                          {37, 70, 1100, false, false}, {64, 49, 600, false, true},  {20, 3000, 24, false, false},
                          {1, 77, 33, false, false},    {45, 1, 70, false, false},   {9, 19, 0, false, false},
                          {33, 65, 40, true, false},    {130, 33, 530, true, true}};
  uint32_t seed = 3;
  for (const Shape& sh : shapes) {
    std::vector<float> a(size_t(sh.M * std::max<int64_t>(sh.K, 1))), b(size_t(sh.K * sh.N + 1)),
        bias(size_t(sh.M)), c0(size_t(sh.M * sh.N));
    for (float& v : a) v = value(seed);
    for (float& v : b) v = value(seed);
    for (float& v : bias) v = value(seed);
    for (float& v : c0) v = value(seed);
    for (int variant = 0; variant < 4; ++variant) {
      nk::GemmArgs g;
      g.trans_a = sh.ta;
      g.trans_b = sh.tb;
      g.M = sh.M;
      g.N = sh.N;
      g.K = sh.K;
      g.A = a.data();
      g.lda = sh.ta ? sh.M : std::max<int64_t>(sh.K, 1);
      g.B = b.data();
      g.ldb = sh.tb ? std::max<int64_t>(sh.K, 1) : sh.N;
      g.ldc = sh.N;
      g.beta = variant == 3 ? 0.5f : 0.0f;
      g.row_bias = variant == 1 ? nullptr : bias.data();
      g.clamp = variant != 0;
      g.lo = -0.25f;
      g.hi = 0.5f;
      std::vector<float> ref = c0;
      nk::GemmArgs r = g;
      r.C = ref.data();
      nk::sgemm_reference(r);
      // float sums of K products of values in [-1, 1]: rounding grows with K.
      const double tol = 1e-5 * (1.0 + double(sh.K) / 256.0);
      auto check = [&](std::vector<float>& out, const char* what) {
        double worst = 0;
        for (size_t i = 0; i < out.size(); ++i)
          worst = std::max(worst, std::fabs(double(out[i]) - double(ref[i])) / (1.0 + std::fabs(ref[i])));
        if (!(worst <= tol)) {
          std::printf("  %s %lldx%lldx%lld variant %d: worst %.3g\n", what, (long long)sh.M, (long long)sh.N,
                      (long long)sh.K, variant, worst);
          CHECK(worst <= tol);
        }
      };
      for (int k = 0; k < nk::testing::gemm_kernel_count(); ++k) {
        if (!nk::testing::gemm_kernel_usable(k)) continue;
        for (int threads = 1; threads <= 2; ++threads) {
          std::vector<float> out = c0;
          nk::GemmArgs t = g;
          t.C = out.data();
          nk::testing::sgemm_with_kernel(k, t, threads == 2 ? &pool2 : nullptr, true, threads == 2);
          check(out, nk::testing::gemm_kernel_name_at(k));
        }
      }
      std::vector<float> out = c0;
      nk::GemmArgs t = g;
      t.C = out.data();
      nk::sgemm(t, &pool2);
      check(out, "sgemm");
    }
  }
}
