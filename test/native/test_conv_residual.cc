// Conv with a fused residual (internal input 3 + netlite_fused_residual, as the
// fuse_conv_residual pass makes it): y = act(conv(x) + b + r) on every path -
// Winograd F(4x4) and F(2x2), im2col tiles, one whole GEMM split over threads,
// pointwise and depthwise - against a direct convolution in double precision,
// with Relu/Clip/no activation, batch 2, 1 to 3 threads. Tolerance 1e-4
// relative to 1 + |y|: the bound the Winograd test justifies (the residual add
// itself is exact up to one rounding).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "../../native/src/kernels/conv.h"
#include "check.h"
#include "op_harness.h"

namespace {

using netlite::Tensor;
using netlite_test::OpHarness;
using netlite_test::random_f32;

// Grouped direct conv, stride 1, symmetric pad p, square kernel k; + bias + r, clamped.
std::vector<float> direct(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r, int64_t G, int64_t k,
                          int64_t pad, float lo, float hi) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], M = w.shape[0];
  const int64_t Cg = C / G, Mg = M / G, OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
  std::vector<float> y(size_t(N * M * OH * OW));
  const float *xp = x.ptr<float>(), *wp = w.ptr<float>(), *bp = b.ptr<float>(), *rp = r.ptr<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bp[m];
          const int64_t grp = m / Mg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < k; ++kh)
              for (int64_t kw = 0; kw < k; ++kw) {
                const int64_t ih = oh - pad + kh, iw = ow - pad + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += double(wp[((m * Cg + c) * k + kh) * k + kw]) *
                       xp[((n * C + grp * Cg + c) * H + ih) * W + iw];
              }
          const size_t o = size_t(((n * M + m) * OH + oh) * OW + ow);
          y[o] = std::min(hi, std::max(lo, float(acc + rp[o])));
        }
  return y;
}

}  // namespace

NETLITE_TEST(conv_fused_residual_matches_direct) {
  struct Case {
    int64_t N, C, M, H, W, k, pad, G;
    int act;  // 0 none, 1 Relu, 2 Clip
    int threads;
  };
  const Case cases[] = {
      {1, 16, 24, 27, 27, 3, 1, 1, 1, 1},   // Winograd F(4x4) (or im2col without AVX-512)
      {2, 12, 20, 33, 45, 3, 1, 1, 0, 2},   // F(4x4), batch 2, odd sizes, 2 threads
      {1, 16, 16, 14, 14, 3, 1, 1, 1, 2},   // F(2x2)
      {1, 24, 40, 27, 27, 3, 1, 1, 2, 3},   // F(4x4), 3 threads
      {1, 100, 400, 12, 12, 3, 1, 1, 1, 3}, // F(2x2) in phases, output channels split unevenly
      {1, 32, 24, 7, 7, 3, 1, 1, 2, 1},     // im2col tiles
      {1, 64, 96, 7, 9, 3, 1, 1, 1, 2},     // few tiles: one GEMM split over threads
      {2, 24, 40, 13, 11, 1, 0, 1, 0, 1},   // pointwise
      {1, 40, 24, 10, 10, 1, 0, 1, 2, 2},   // pointwise, 2 threads
      {1, 512, 520, 13, 13, 1, 0, 1, 1, 2}, // pointwise, 1 MiB of weights: one GEMM split by rows
      {1, 16, 16, 15, 13, 3, 1, 16, 1, 2},  // depthwise
  };
  uint32_t seed = 100;
  for (const Case& c : cases) {
    const int64_t OH = c.H + 2 * c.pad - c.k + 1, OW = c.W + 2 * c.pad - c.k + 1;
    const Tensor x = random_f32({c.N, c.C, c.H, c.W}, seed++);
    const Tensor w = random_f32({c.M, c.C / c.G, c.k, c.k}, seed++, -0.3f, 0.3f);
    const Tensor b = random_f32({c.M}, seed++);
    const Tensor r = random_f32({c.N, c.M, OH, OW}, seed++, -2.0f, 2.0f);
    OpHarness h("Conv", 13);
    h.attr_ints("pads", {c.pad, c.pad, c.pad, c.pad}).attr_ints("kernel_shape", {c.k, c.k}).attr_int("group", c.G);
    h.attr_int("netlite_fused_residual", 1);
    float lo = -INFINITY, hi = INFINITY;
    if (c.act == 1) {
      h.attr_string("netlite_fused_activation", "Relu");
      lo = 0.0f;
    } else if (c.act == 2) {
      h.attr_string("netlite_fused_activation", "Clip").attr_float("netlite_fused_activation_min", -0.5f)
          .attr_float("netlite_fused_activation_max", 0.8f);
      lo = -0.5f;
      hi = 0.8f;
    }
    const std::vector<Tensor> out = h.input(x).const_input(w).const_input(b).input(r).threads(c.threads).run();
    CHECK(out[0].shape == netlite::Shape({c.N, c.M, OH, OW}));
    const std::vector<float> ref = direct(x, w, b, r, c.G, c.k, c.pad, lo, hi);
    const float* y = out[0].ptr<float>();
    double worst = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      worst = std::max(worst, std::fabs(double(y[i]) - ref[i]) / (1.0 + std::fabs(ref[i])));
    if (!(worst <= 1e-4)) {
      std::printf("  case C%lld M%lld %lldx%lld k%lld g%lld: worst rel diff %.3g\n", (long long)c.C,
                  (long long)c.M, (long long)c.H, (long long)c.W, (long long)c.k, (long long)c.G, worst);
      CHECK(worst <= 1e-4);
    }
  }
}

// Without the internal attribute a fourth input is rejected, and the residual
// must have the output's shape.
NETLITE_TEST(conv_fused_residual_rejects_bad_inputs) {
  const Tensor x = random_f32({1, 4, 6, 6}, 1);
  const Tensor w = random_f32({8, 4, 3, 3}, 2);
  const Tensor b = random_f32({8}, 3);
  bool threw = false;
  try {
    OpHarness h("Conv", 13);
    h.attr_ints("pads", {1, 1, 1, 1}).input(x).const_input(w).const_input(b).input(random_f32({1, 8, 6, 6}, 4)).run();
  } catch (const std::exception&) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    OpHarness h("Conv", 13);
    h.attr_ints("pads", {1, 1, 1, 1}).attr_int("netlite_fused_residual", 1);
    h.input(x).const_input(w).const_input(b).input(random_f32({1, 8, 1, 1}, 4)).run();
  } catch (const std::exception&) {
    threw = true;
  }
  CHECK(threw);
}

// kernels::add_residual (AVX-512 when the CPU has it) against the scalar
// reference, bit for bit: widths around the 16-float vector, strided rows,
// Relu-like and Clip bounds, NaN kept.
NETLITE_TEST(add_residual_matches_reference) {
  uint32_t seed = 900;
  for (int64_t cols : {1, 15, 16, 17, 49, 64, 100}) {
    for (int clamp = 0; clamp < 3; ++clamp) {
      const int64_t rows = 5, ld = cols + 3;
      Tensor y0 = random_f32({rows, ld}, seed++, -2.0f, 2.0f);
      const Tensor r = random_f32({rows, ld}, seed++, -2.0f, 2.0f);
      y0.ptr<float>()[1] = NAN;
      Tensor y1 = random_f32({rows, ld}, 0);
      std::copy(y0.ptr<float>(), y0.ptr<float>() + rows * ld, y1.ptr<float>());
      const float lo = clamp == 2 ? -0.5f : 0.0f, hi = clamp == 2 ? 0.75f : INFINITY;
      netlite::kernels::add_residual(y0.ptr<float>(), ld, r.ptr<float>(), ld, rows, cols, clamp > 0, lo, hi);
      netlite::kernels::add_residual_reference(y1.ptr<float>(), ld, r.ptr<float>(), ld, rows, cols, clamp > 0, lo, hi);
      bool same = true;
      for (int64_t i = 0; i < rows * ld; ++i) {
        const float a = y0.ptr<float>()[i], b = y1.ptr<float>()[i];
        if (!(a == b || (std::isnan(a) && std::isnan(b)))) same = false;
      }
      CHECK_MSG(same, "cols %lld clamp %d", (long long)cols, clamp);
      CHECK(std::isnan(y0.ptr<float>()[1]));
    }
  }
}
