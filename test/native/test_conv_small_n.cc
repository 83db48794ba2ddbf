// The transposed path of small-output-plane convs (ops/conv.cc run_transposed):
//   - the GEMM driver with a prepacked B (GemmArgs::packed_b / packed_b_tail)
//     against sgemm_reference, every usable micro-kernel, odd shapes, alpha,
//     beta, the epilogue, 1 and 2 threads (row and column splits);
//   - gemm_transpose_epilogue against its reference, bit for bit;
//   - Conv models whose weights the first plan packs in place, against a
//     direct convolution summed in double: 3x3 stride 1/2 with pads, 1x1 stride
//     1/2, bias or none, Relu/Clip, a fused residual, batch 1 and 3, channels
//     not a multiple of NR, 1-3 threads; then the same model planned again for
//     a much larger input (Winograd-sized), and a weight two convs share (never
//     packed). Tolerance 1e-4 relative to 1 + |y| (as test_conv_residual).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../../native/src/runtime/model.h"
#include "../../native/src/runtime/session.h"
#include "check.h"
#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/gemm_internal.h"
#include "onnx_builder.h"

namespace {

namespace nk = netlite::kernels;

std::vector<float> randoms(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * float((s >> 8) & 0xFFFFFF) / float(1 << 24);
  }
  return v;
}

// 64-byte aligned float storage (packed strips are read aligned).
struct Aligned {
  std::vector<float> v;
  float* p;
  explicit Aligned(size_t n) : v(n + 16) {
    p = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63));
  }
};

double worst_rel(const float* y, const std::vector<double>& ref) {
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(double(y[i]) - ref[i]) / (1.0 + std::fabs(ref[i]));
    if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
  }
  return worst;
}

}  // namespace

NETLITE_TEST(gemm_prepacked_b_matches_reference) {
  netlite::ThreadPool pool2(2);
  struct Shape {
    int64_t M, N, K;
  };
  std::vector<Shape> shapes;
  for (int64_t M : {1, 7, 49, 50})
    for (int64_t N : {1, 31, 33, 1000})
      for (int64_t K : {1, 5, 300}) shapes.push_back({M, N, K});
  shapes.push_back({49, 33, 4608});
  shapes.push_back({50, 100, 4608});
  shapes.push_back({7, 260, 4608});  // several strips and a partial one (260 = 8 x 32 + 4)
  // The scalar reference is computed once per shape and variant, then every usable
  // micro-kernel is checked against it (the reference dominates under sanitizers).
  uint32_t seed = 11;
  for (const Shape& sh : shapes) {
    const int64_t M = sh.M, N = sh.N, K = sh.K;
    const std::vector<float> a = randoms(size_t(M * K), seed++), b = randoms(size_t(K * N), seed++),
                             bias = randoms(size_t(M), seed++), c0 = randoms(size_t(M * N), seed++);
    for (int variant = 0; variant < 8; ++variant) {
      const bool ta = variant & 1, tb = (variant >> 1) & 1, tail = (variant >> 2) & 1;
      const int64_t ldb = tb ? K : N;
      nk::GemmArgs g;
      g.trans_a = ta;
      g.M = M;
      g.N = N;
      g.K = K;
      g.A = a.data();
      g.lda = ta ? M : K;
      g.B = b.data();
      g.ldb = ldb;
      g.trans_b = tb;
      g.ldc = N;
      g.alpha = variant == 3 ? 0.75f : 1.0f;
      g.beta = variant == 5 ? 0.5f : 0.0f;
      if (variant == 2 || variant == 6) {
        g.row_bias = bias.data();
        g.clamp = true;
        g.lo = -0.3f;
        g.hi = 2.0f;
      }
      std::vector<float> ref = c0;
      g.C = ref.data();
      nk::sgemm_reference(g);
      g.B = nullptr;  // the prepacked copy only
      for (int k = 0; k < nk::testing::gemm_kernel_count(); ++k) {
        if (!nk::testing::gemm_kernel_usable(k)) continue;
        const int nr = nk::testing::gemm_kernel_nr(k);
        const int64_t full = N / nr * nr;
        // B packed whole, or its last partial strip in a buffer of its own (packed_b_tail).
        Aligned packed(size_t((N + nr - 1) / nr * nr * K)), tailbuf(size_t(nr * K));
        if (tail && full < N) {
          nk::testing::gemm_pack_b_full_with_kernel(k, tb, b.data(), ldb, K, full, packed.p);
          nk::testing::gemm_pack_b_full_with_kernel(k, tb, tb ? b.data() + full * K : b.data() + full, ldb, K,
                                                    N - full, tailbuf.p);
          std::fill(packed.p + full * K, packed.p + (N + nr - 1) / nr * nr * K, NAN);  // must not be read
        } else {
          nk::testing::gemm_pack_b_full_with_kernel(k, tb, b.data(), ldb, K, N, packed.p);
        }
        g.packed_b = packed.p;
        g.packed_b_tail = tail && full < N ? tailbuf.p : nullptr;
        for (int threads = 1; threads <= 2; ++threads) {
          std::vector<float> c = c0;
          g.C = c.data();
          nk::testing::sgemm_with_kernel(k, g, threads == 2 ? &pool2 : nullptr, true, threads == 2);
          double worst = 0;
          for (size_t i = 0; i < c.size(); ++i) {
            const double d = std::fabs(double(c[i]) - ref[i]) / (1.0 + std::fabs(double(ref[i])));
            if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
          }
          const double tol = 2e-6 * std::sqrt(double(K)) + 1e-6;
          if (!(worst <= tol)) {
            std::printf("  %s %lldx%lldx%lld variant %d threads %d: worst %.3g\n",
                        nk::testing::gemm_kernel_name_at(k), (long long)M, (long long)N, (long long)K, variant,
                        threads, worst);
            CHECK(worst <= tol);
          }
        }
      }
    }
  }
}

NETLITE_TEST(gemm_prepacked_b_depth_slice_matches_reference) {
  // A GEMM over rows [k0, k0 + K) of a B packed for all its rows (GemmArgs::packed_b_k:
  // DepthwiseBlock's staged blocks split the project GEMM's depth over threads).
  // Every other row of the packing is NaN, so reading one outside the slice or a
  // strip at the wrong stride shows.
  netlite::ThreadPool pool2(2);
  struct Case {
    int64_t M, N, depth, k0, K;
  };
  const Case cases[] = {{49, 160, 960, 0, 480}, {49, 160, 960, 480, 480}, {7, 33, 300, 32, 100},
                        {50, 1000, 96, 16, 80},  {1, 70, 64, 63, 1},        {49, 260, 576, 288, 288}};
  uint32_t seed = 90;
  for (const Case& cs : cases) {
    const int64_t M = cs.M, N = cs.N, D = cs.depth, k0 = cs.k0, K = cs.K;
    const std::vector<float> a = randoms(size_t(M * K), seed++), b = randoms(size_t(D * N), seed++);
    std::vector<float> bnan = b;  // rows outside the slice poisoned
    for (int64_t k = 0; k < D; ++k)
      if (k < k0 || k >= k0 + K)
        for (int64_t j = 0; j < N; ++j) bnan[size_t(k * N + j)] = NAN;
    for (int tail = 0; tail < 2; ++tail) {
      nk::GemmArgs g;
      g.M = M;
      g.N = N;
      g.K = K;
      g.A = a.data();
      g.lda = K;
      g.B = b.data() + k0 * N;
      g.ldb = N;
      g.ldc = N;
      std::vector<float> ref(size_t(M * N));
      g.C = ref.data();
      nk::sgemm_reference(g);
      const std::vector<double> refd(ref.begin(), ref.end());
      g.B = nullptr;
      for (int k = 0; k < nk::testing::gemm_kernel_count(); ++k) {
        if (!nk::testing::gemm_kernel_usable(k)) continue;
        const int nr = nk::testing::gemm_kernel_nr(k);
        const int64_t full = tail ? N / nr * nr : N;
        Aligned packed(size_t((N + nr - 1) / nr * nr * D)), tailbuf(size_t(nr * D));
        nk::testing::gemm_pack_b_full_with_kernel(k, false, bnan.data(), N, D, full, packed.p);
        if (full < N) nk::testing::gemm_pack_b_full_with_kernel(k, false, bnan.data() + full, N, D, N - full, tailbuf.p);
        g.packed_b = packed.p + k0 * nr;
        g.packed_b_tail = full < N ? tailbuf.p + k0 * nr : nullptr;
        g.packed_b_k = D;
        for (int threads = 1; threads <= 2; ++threads) {
          std::vector<float> c(size_t(M * N), -7.0f);
          g.C = c.data();
          nk::testing::sgemm_with_kernel(k, g, threads == 2 ? &pool2 : nullptr, true, threads == 2);
          const double worst = worst_rel(c.data(), refd);
          const double tol = 2e-6 * std::sqrt(double(K)) + 1e-6;
          if (!(worst <= tol)) {
            std::printf("  %s %lldx%lldx%lld of depth %lld from %lld, tail %d, threads %d: worst %.3g\n",
                        nk::testing::gemm_kernel_name_at(k), (long long)M, (long long)N, (long long)K, (long long)D,
                        (long long)k0, tail, threads, worst);
            CHECK(worst <= tol);
          }
        }
      }
    }
  }
}

NETLITE_TEST(gemm_transpose_epilogue_matches_reference) {
  // The dispatched form (AVX-512 here) and the portable one, bit for bit: 16 x 16
  // blocks, partial ones on both sides, NaN and infinities through the clamp.
  uint32_t seed = 70;
  for (int64_t rows : {1, 7, 16, 17, 49, 50, 64})
    for (int64_t cols : {1, 15, 16, 33, 48, 100})
      for (int mode = 0; mode < 4; ++mode) {
        const int64_t lds = cols + 3, ldd = rows + 5;
        std::vector<float> src = randoms(size_t(rows * lds), seed++, -2.0f, 2.0f);
        if (mode == 2 && src.size() > 6) {
          src[1] = std::numeric_limits<float>::quiet_NaN();
          src[src.size() / 2] = std::numeric_limits<float>::infinity();
          src[src.size() - 2] = -std::numeric_limits<float>::infinity();
        }
        const std::vector<float> bias = randoms(size_t(cols), seed++), res = randoms(size_t(cols * ldd), seed++);
        std::vector<float> y0(size_t(cols * ldd), 7.0f), y1 = y0, y2 = y0;
        const bool clamp = mode >= 2;
        const float* b = mode & 1 ? bias.data() : nullptr;
        const float* r = mode == 3 || mode == 1 ? res.data() : nullptr;
        nk::gemm_transpose_epilogue(src.data(), lds, rows, cols, y0.data(), ldd, b, r, clamp, -0.5f, 0.75f);
        nk::gemm_transpose_epilogue_reference(src.data(), lds, rows, cols, y1.data(), ldd, b, r, clamp, -0.5f, 0.75f);
        nk::testing::gemm_transpose_epilogue_portable(src.data(), lds, rows, cols, y2.data(), ldd, b, r, clamp, -0.5f,
                                                      0.75f);
        CHECK_MSG(std::memcmp(y0.data(), y1.data(), y0.size() * sizeof(float)) == 0, "%lldx%lld mode %d",
                  (long long)rows, (long long)cols, mode);
        CHECK_MSG(std::memcmp(y2.data(), y1.data(), y2.size() * sizeof(float)) == 0, "portable %lldx%lld mode %d",
                  (long long)rows, (long long)cols, mode);
      }
}

namespace {

struct ConvCase {
  int64_t N, C, M, H, W, k, stride, pad;
  bool bias;
  int act;  // 0 none, 1 Relu, 2 Clip
  bool residual;
  int threads;
};

// Direct convolution in double (square kernel, symmetric pads), + bias, + r, activation.
std::vector<double> direct_conv(const ConvCase& c, int64_t H, int64_t W, int64_t N, const std::vector<float>& x,
                                const std::vector<float>& w, const std::vector<float>& b, const std::vector<float>* r) {
  const int64_t OH = (H + 2 * c.pad - c.k) / c.stride + 1, OW = (W + 2 * c.pad - c.k) / c.stride + 1;
  std::vector<double> y(size_t(N * c.M * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = c.bias ? b[size_t(m)] : 0.0;
          for (int64_t ch = 0; ch < c.C; ++ch)
            for (int64_t kh = 0; kh < c.k; ++kh)
              for (int64_t kw = 0; kw < c.k; ++kw) {
                const int64_t ih = oh * c.stride - c.pad + kh, iw = ow * c.stride - c.pad + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += double(w[size_t(((m * c.C + ch) * c.k + kh) * c.k + kw)]) *
                       x[size_t(((n * c.C + ch) * H + ih) * W + iw)];
              }
          const size_t o = size_t(((n * c.M + m) * OH + oh) * OW + ow);
          if (r) acc += (*r)[o];
          if (c.act == 1) acc = std::max(acc, 0.0);
          if (c.act == 2) acc = std::min(0.8, std::max(-0.5, acc));
          y[o] = acc;
        }
  return y;
}

// x [-1, C, H, W] -> Conv(w [, b]) [-> Add r] [-> Relu/Clip] -> y (spatial dims
// free when `free_hw`). With `shared` a second conv reads the same w (output y2).
std::string conv_model(const ConvCase& c, const std::vector<float>& w, const std::vector<float>& b, bool shared,
                       bool free_hw = false) {
  using namespace netlite_test;
  GraphSpec g;
  g.initializers.push_back(tensor_f32("w", {c.M, c.C, c.k, c.k}, w));
  std::vector<std::string> in = {"x", "w"};
  if (c.bias) {
    g.initializers.push_back(tensor_f32("b", {c.M}, b));
    in.push_back("b");
  }
  const std::vector<AttrSpec> attrs = {attr_ints("kernel_shape", {c.k, c.k}), attr_ints("strides", {c.stride, c.stride}),
                                       attr_ints("pads", {c.pad, c.pad, c.pad, c.pad})};
  std::string cur = "conv";
  g.nodes.push_back(node("Conv", in, {cur}, "conv", attrs));
  if (c.residual) {
    g.nodes.push_back(node("Add", {cur, "r"}, {"sum"}, "add"));
    cur = "sum";
  }
  if (c.act == 1) {
    g.nodes.push_back(node("Relu", {cur}, {"y"}, "act"));
  } else if (c.act == 2) {
    g.initializers.push_back(tensor_f32("lo", {}, {-0.5f}));
    g.initializers.push_back(tensor_f32("hi", {}, {0.8f}));
    g.nodes.push_back(node("Clip", {cur, "lo", "hi"}, {"y"}, "act"));
  } else {
    g.nodes.push_back(node("Identity", {cur}, {"y"}, "act"));
  }
  const int64_t OH = (c.H + 2 * c.pad - c.k) / c.stride + 1, OW = (c.W + 2 * c.pad - c.k) / c.stride + 1;
  g.inputs.push_back(value_info("x", 1, free_hw ? std::vector<int64_t>{-1, c.C, -1, -1}
                                                : std::vector<int64_t>{-1, c.C, c.H, c.W}));
  if (c.residual)
    g.inputs.push_back(value_info("r", 1, free_hw ? std::vector<int64_t>{-1, c.M, -1, -1}
                                                  : std::vector<int64_t>{-1, c.M, OH, OW}));
  g.outputs.push_back(value_info("y", 1, {}));
  if (shared) {
    g.nodes.push_back(node("Conv", in, {"y2"}, "conv2", attrs));
    g.outputs.push_back(value_info("y2", 1, {}));
  }
  return model(g);
}

// Runs the model's session on x (and r) of spatial size H x W, batch N; returns output `out`.
std::vector<float> run_session(netlite::Session& s, const ConvCase& c, int64_t N, int64_t H, int64_t W,
                               const std::vector<float>& x, const std::vector<float>& r, size_t out = 0) {
  s.set_input(0, netlite::DType::Float32, {N, c.C, H, W}, x.data(), x.size() * sizeof(float));
  if (c.residual) {
    const int64_t OH = (H + 2 * c.pad - c.k) / c.stride + 1, OW = (W + 2 * c.pad - c.k) / c.stride + 1;
    s.set_input(1, netlite::DType::Float32, {N, c.M, OH, OW}, r.data(), r.size() * sizeof(float));
  }
  s.run();
  const netlite::Tensor& y = s.output(out);
  return std::vector<float>(y.ptr<float>(), y.ptr<float>() + y.numel());
}

// Whether the model's copy of w no longer holds w as written (packed in place).
bool weights_packed(const netlite::Model& m, const std::vector<float>& w) {
  const int v = m.graph().find_value("w");
  if (v < 0) return false;
  const netlite::Tensor& t = m.graph().values[size_t(v)].data;
  return std::memcmp(t.data, w.data(), w.size() * sizeof(float)) != 0;
}

std::vector<float> residual_for(const ConvCase& c, int64_t N, int64_t H, int64_t W, uint32_t seed) {
  const int64_t OH = (H + 2 * c.pad - c.k) / c.stride + 1, OW = (W + 2 * c.pad - c.k) / c.stride + 1;
  return randoms(size_t(N * c.M * OH * OW), seed, -2.0f, 2.0f);
}

// Loads the model (threads), checks it packed w iff the Netlite kernels run here,
// runs a session on batch N at H x W and compares with the direct conv.
std::unique_ptr<netlite::Model> check_case(const ConvCase& c, const std::vector<float>& w, const std::vector<float>& b,
                                           bool free_hw, int64_t N, int64_t H, int64_t W, uint32_t seed) {
  const std::string bytes = conv_model(c, w, b, false, free_hw);
  netlite::ModelOptions o;
  o.threads = c.threads;
  auto m = netlite::Model::load_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
  const bool packed = weights_packed(*m, w);  // by the load-time plan (the first)
  netlite::Session s(*m);
  const std::vector<float> x = randoms(size_t(N * c.C * H * W), seed);
  const std::vector<float> r = residual_for(c, N, H, W, seed + 1);
  const std::vector<float> y = run_session(s, c, N, H, W, x, r);
  const std::vector<double> ref = direct_conv(c, H, W, N, x, w, b, c.residual ? &r : nullptr);
  CHECK(y.size() == ref.size());
  const double worst = worst_rel(y.data(), ref);
  if (!(worst <= 1e-4) || packed != nk::gemm_uses_netlite(nk::GemmBackend::Auto))
    std::printf("  C%lld M%lld %lldx%lld k%lld s%lld p%lld, batch %lld at %lldx%lld: worst %.3g packed %d\n",
                (long long)c.C, (long long)c.M, (long long)c.H, (long long)c.W, (long long)c.k, (long long)c.stride,
                (long long)c.pad, (long long)N, (long long)H, (long long)W, worst, int(packed));
  CHECK(worst <= 1e-4);
  CHECK(packed == nk::gemm_uses_netlite(nk::GemmBackend::Auto));  // else the case tests another path
  return m;
}

}  // namespace

NETLITE_TEST(conv_small_n_transposed_matches_direct) {
  // Shapes the transposed path pays on (conv.cc transposed_pays): 7x7 outputs, K >= 512.
  const ConvCase cases[] = {
      // N C    M    H   W  k  s  p  bias  act res   threads
      {1, 96, 248, 7, 7, 3, 1, 1, true, 1, false, 1},    // M % 32 = 24: a tail strip
      {3, 96, 256, 7, 7, 3, 1, 1, true, 2, true, 2},     // batch 3, Clip, residual
      {1, 96, 256, 14, 14, 3, 2, 1, false, 0, false, 2}, // stride 2, no bias
      {1, 512, 256, 7, 7, 1, 1, 0, true, 1, true, 3},    // pointwise, residual, 3 threads
      {3, 640, 248, 13, 13, 1, 2, 0, true, 0, false, 1}, // 1x1 stride 2 (downsample), tail
      {2, 96, 256, 7, 7, 3, 1, 1, true, 1, true, 3},     // batch 2, 3 threads, residual + Relu
  };
  uint32_t seed = 500;
  for (const ConvCase& c : cases) {
    const std::vector<float> w = randoms(size_t(c.M * c.C * c.k * c.k), seed++, -0.3f, 0.3f);
    const std::vector<float> b = randoms(size_t(c.M), seed++);
    check_case(c, w, b, false, c.N, c.H, c.W, seed);
    seed += 2;
  }
}

// After the pack every plan takes the packed path, whatever its shapes: a model
// with free spatial dims whose load-time plan (1 x 1 inputs; the pads make 7 x 7
// outputs) packs, then planned again for a much larger input, where the plane
// is Winograd-sized (3x3 stride 1) and split into several tiles, and a second
// session at yet another size.
NETLITE_TEST(conv_small_n_larger_plan_after_pack) {
  const ConvCase cases[] = {
      {1, 96, 256, 1, 1, 3, 1, 4, true, 1, false, 2},  // 1x1 -> 7x7 at load
      {1, 512, 248, 1, 1, 1, 1, 3, true, 2, false, 1}, // pointwise with pads: im2col
  };
  uint32_t seed = 700;
  for (const ConvCase& c : cases) {
    const std::vector<float> w = randoms(size_t(c.M * c.C * c.k * c.k), seed++, -0.3f, 0.3f);
    const std::vector<float> b = randoms(size_t(c.M), seed++);
    auto m = check_case(c, w, b, true, 2, 26, 23, seed);
    netlite::Session s2(*m);
    const std::vector<float> x = randoms(size_t(c.C * 3 * 5), seed + 5);
    const std::vector<float> r = residual_for(c, 1, 3, 5, seed + 6);
    const std::vector<float> y = run_session(s2, c, 1, 3, 5, x, r);
    CHECK(worst_rel(y.data(), direct_conv(c, 3, 5, 1, x, w, b, c.residual ? &r : nullptr)) <= 1e-4);
    seed += 8;
  }
}

// A weight two convs read is never packed in place, and both convs stay right.
NETLITE_TEST(conv_small_n_shared_weight_not_packed) {
  const ConvCase c = {1, 96, 256, 7, 7, 3, 1, 1, true, 0, false, 2};  // would be packed alone
  const std::vector<float> w = randoms(size_t(c.M * c.C * 9), 41, -0.3f, 0.3f), b = randoms(size_t(c.M), 42);
  const std::string bytes = conv_model(c, w, b, true);
  netlite::ModelOptions o;
  o.threads = 2;
  auto m = netlite::Model::load_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
  netlite::Session s(*m);
  const std::vector<float> x = randoms(size_t(c.C * 49), 43);
  const std::vector<double> ref = direct_conv(c, 7, 7, 1, x, w, b, nullptr);
  CHECK(worst_rel(run_session(s, c, 1, 7, 7, x, {}, 0).data(), ref) <= 1e-4);
  CHECK(worst_rel(run_session(s, c, 1, 7, 7, x, {}, 1).data(), ref) <= 1e-4);
  CHECK(!weights_packed(*m, w));
}
