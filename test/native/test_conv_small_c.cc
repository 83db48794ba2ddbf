// kernels/conv_small_c: the direct stride-2 conv for few input channels (an
// image model's first layer), its AVX-512 variant against the scalar
// reference over channel counts, kernel sizes 1-7, every leading pad, widths
// around the 16- and 64-column block edges, output channels not a multiple of
// the 4-channel block, row ranges, with and without bias and clamp; and the
// reference itself against a double-precision sum on a small case.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "../../native/src/core/memory.h"
#include "../../native/src/kernels/conv_small_c.h"
#include "check.h"
#include "op_harness.h"

namespace {

namespace k = netlite::kernels;

struct Img {
  netlite::Tensor x, w, b;
  std::vector<float> y;
  k::SmallCConv a;
};

Img make(int64_t C, int64_t M, int64_t IH, int64_t IW, int64_t KH, int64_t KW, int64_t PH, int64_t PW, int64_t PHe,
         int64_t PWe, bool bias, bool clamp, uint32_t seed) {
  Img m;
  m.x = netlite_test::random_f32({C, IH, IW}, seed);
  m.w = netlite_test::random_f32({M, C, KH, KW}, seed + 1);
  m.b = netlite_test::random_f32({M}, seed + 2);
  k::SmallCConv& a = m.a;
  a.x = m.x.ptr<float>();
  a.C = C;
  a.IH = IH;
  a.IW = IW;
  a.w = m.w.ptr<float>();
  a.M = M;
  a.KH = KH;
  a.KW = KW;
  a.PH = PH;
  a.PW = PW;
  a.bias = bias ? m.b.ptr<float>() : nullptr;
  a.clamp = clamp;
  a.lo = -0.25f;
  a.hi = 0.5f;
  a.OH = (IH + PH + PHe - KH) / 2 + 1;
  a.OW = (IW + PW + PWe - KW) / 2 + 1;
  m.y.assign(size_t(M * a.OH * a.OW), NAN);
  a.y = m.y.data();
  return m;
}

}  // namespace

NETLITE_TEST(conv_small_c_avx512_matches_reference) {
  if (!k::small_c_conv_available()) {
    std::printf("  (no AVX-512 here: the reference is the only path)\n");
    return;
  }
  struct Case {
    int64_t C, M, IH, IW, KH, KW;
  };
  const Case cases[] = {
      {3, 32, 17, 224, 3, 3},  // MobileNet-V2's first layer (fewer rows)
      {3, 64, 9, 224, 3, 3},   // SqueezeNet's (no padding: 111 columns)
      {3, 64, 13, 224, 7, 7},  // ResNet-18's
      {1, 5, 7, 33, 3, 3},     {2, 9, 8, 31, 5, 5},     {4, 7, 6, 130, 7, 7}, {3, 4, 5, 129, 1, 1},
      {3, 6, 9, 2, 3, 3},      {1, 3, 3, 1, 1, 1},      {4, 13, 11, 97, 4, 2}, {3, 8, 6, 64, 2, 6},
  };
  uint32_t seed = 1;
  int checked = 0;
  for (const Case& c : cases)
    for (int64_t ph = 0; ph < c.KH; ph += std::max<int64_t>(1, c.KH / 2))
      for (int64_t pw = 0; pw < c.KW; pw += std::max<int64_t>(1, c.KW / 3))
        for (int variant = 0; variant < 2; ++variant) {
          const int64_t phe = (ph + variant) % c.KH, pwe = (pw + 1 + variant) % c.KW;
          if (c.IH + ph + phe < c.KH || c.IW + pw + pwe < c.KW) continue;
          Img got = make(c.C, c.M, c.IH, c.IW, c.KH, c.KW, ph, pw, phe, pwe, variant == 0, variant == 1, seed);
          Img ref = make(c.C, c.M, c.IH, c.IW, c.KH, c.KW, ph, pw, phe, pwe, variant == 0, variant == 1, seed);
          ++seed;
          std::shared_ptr<void> scratch =
              netlite::large_buffer(size_t(k::small_c_conv_scratch_floats(got.a)) * sizeof(float), false);
          // Two row ranges, so a range that does not start at row 0 is covered.
          const int64_t split = got.a.OH / 2;
          k::small_c_conv_rows(got.a, 0, split, static_cast<float*>(scratch.get()));
          k::small_c_conv_rows(got.a, split, got.a.OH, static_cast<float*>(scratch.get()));
          k::small_c_conv_rows_reference(ref.a, 0, ref.a.OH);
          double worst = 0;
          for (size_t i = 0; i < ref.y.size(); ++i)
            worst = std::max(worst, std::fabs(double(got.y[i]) - ref.y[i]) / (1.0 + std::fabs(ref.y[i])));
          CHECK_MSG(worst <= 1e-5, "C%lld M%lld %lldx%lld k%lldx%lld pads %lld,%lld/%lld,%lld: worst %.3g (NaN: unwritten)",
                    (long long)c.C, (long long)c.M, (long long)c.IH, (long long)c.IW, (long long)c.KH, (long long)c.KW,
                    (long long)ph, (long long)pw, (long long)phe, (long long)pwe, worst);
          ++checked;
        }
  CHECK(checked > 40);
}

NETLITE_TEST(conv_small_c_reference_matches_double_sum) {
  Img m = make(2, 3, 5, 6, 3, 3, 1, 1, 1, 0, true, false, 77);
  k::small_c_conv_rows_reference(m.a, 0, m.a.OH);
  const k::SmallCConv& a = m.a;
  CHECK(a.OH == 3 && a.OW == 3);
  for (int64_t o = 0; o < a.M; ++o)
    for (int64_t i = 0; i < a.OH; ++i)
      for (int64_t j = 0; j < a.OW; ++j) {
        double s = a.bias[o];
        for (int64_t c = 0; c < a.C; ++c)
          for (int64_t kh = 0; kh < 3; ++kh)
            for (int64_t kw = 0; kw < 3; ++kw) {
              const int64_t ih = 2 * i - 1 + kh, iw = 2 * j - 1 + kw;
              if (ih >= 0 && ih < a.IH && iw >= 0 && iw < a.IW)
                s += double(a.w[((o * 2 + c) * 3 + kh) * 3 + kw]) * a.x[(c * a.IH + ih) * a.IW + iw];
            }
        CHECK_NEAR(m.y[size_t((o * a.OH + i) * a.OW + j)], s, 1e-5);
      }
}

// The Conv op on the path (3 input channels, stride 2): batch 2, uneven pads,
// fused Relu or residual + Clip, 1 to 3 threads, against a double-precision sum.
NETLITE_TEST(conv_op_small_channels_matches_direct) {
  using netlite::Tensor;
  struct Case {
    int64_t N, C, M, H, W, k;
    std::vector<int64_t> pads;
    bool residual;
  };
  const Case cases[] = {
      {2, 3, 10, 23, 29, 3, {1, 1, 1, 1}, false}, {1, 3, 16, 30, 31, 7, {3, 3, 3, 3}, true},
      {2, 1, 5, 9, 70, 3, {0, 1, 1, 0}, true},    {1, 4, 7, 12, 12, 5, {2, 0, 0, 2}, false},
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    const int64_t OH = (c.H + c.pads[0] + c.pads[2] - c.k) / 2 + 1, OW = (c.W + c.pads[1] + c.pads[3] - c.k) / 2 + 1;
    const Tensor x = netlite_test::random_f32({c.N, c.C, c.H, c.W}, seed++);
    const Tensor w = netlite_test::random_f32({c.M, c.C, c.k, c.k}, seed++);
    const Tensor b = netlite_test::random_f32({c.M}, seed++);
    const Tensor r = netlite_test::random_f32({c.N, c.M, OH, OW}, seed++);
    std::vector<double> ref(size_t(c.N * c.M * OH * OW));
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t m = 0; m < c.M; ++m)
        for (int64_t i = 0; i < OH; ++i)
          for (int64_t j = 0; j < OW; ++j) {
            double s = b.ptr<float>()[m];
            for (int64_t ch = 0; ch < c.C; ++ch)
              for (int64_t kh = 0; kh < c.k; ++kh)
                for (int64_t kw = 0; kw < c.k; ++kw) {
                  const int64_t ih = 2 * i - c.pads[0] + kh, iw = 2 * j - c.pads[1] + kw;
                  if (ih >= 0 && ih < c.H && iw >= 0 && iw < c.W)
                    s += double(w.ptr<float>()[((m * c.C + ch) * c.k + kh) * c.k + kw]) *
                         x.ptr<float>()[((n * c.C + ch) * c.H + ih) * c.W + iw];
                }
            const size_t o = size_t(((n * c.M + m) * OH + i) * OW + j);
            ref[o] = c.residual ? std::min(0.7, std::max(-0.4, s + r.ptr<float>()[o])) : std::max(0.0, s);
          }
    for (int threads : {1, 2, 3}) {
      netlite_test::OpHarness h("Conv", 13);
      h.attr_ints("pads", c.pads).attr_ints("strides", {2, 2}).attr_ints("kernel_shape", {c.k, c.k});
      if (c.residual) {
        h.attr_int("netlite_fused_residual", 1).attr_string("netlite_fused_activation", "Clip");
        h.attr_float("netlite_fused_activation_min", -0.4f).attr_float("netlite_fused_activation_max", 0.7f);
      } else {
        h.attr_string("netlite_fused_activation", "Relu");
      }
      h.input(x).const_input(w).const_input(b);
      if (c.residual) h.input(r);
      const std::vector<Tensor> out = h.threads(threads).run();
      if (!CHECK(out[0].shape == netlite::Shape({c.N, c.M, OH, OW}))) continue;
      double worst = 0;
      for (size_t i = 0; i < ref.size(); ++i)
        worst = std::max(worst, std::fabs(out[0].ptr<float>()[i] - ref[i]) / (1.0 + std::fabs(ref[i])));
      CHECK_MSG(worst <= 1e-5, "C%lld k%lld %d threads: worst %.3g", (long long)c.C, (long long)c.k, threads, worst);
    }
  }
}
