// nn ops (Conv, ConvTranspose, pooling, normalisation, Gemm, MatMul) against
// plain reference loops written here from the ONNX operator specs, on fixed-seed
// random data, with 1 and 2 threads. Tolerance: 1e-4 absolute + 1e-4 relative
// (float sums in a different order), tighter where the op is exact.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../../native/src/kernels/conv.h"
#include "../../native/src/ops/common/conv_util.h"
#include "check.h"
#include "op_harness.h"

namespace nn_test {

using netlite::DType;
using netlite::Shape;
using netlite::StatusCode;
using netlite::Tensor;
using netlite_test::OpHarness;
using netlite_test::random_f32;
using netlite_test::tensor_f32;

bool all_close(const Tensor& got, const std::vector<float>& want, double atol = 1e-4, double rtol = 1e-4) {
  if (got.numel() != int64_t(want.size())) {
    std::printf("  size mismatch: got %lld, want %zu\n", (long long)got.numel(), want.size());
    return false;
  }
  const float* g = got.ptr<float>();
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(double(g[i]) - double(want[i]));
    const bool both_nan = std::isnan(g[i]) && std::isnan(want[i]);
    if (!both_nan && !(d <= atol + rtol * std::fabs(double(want[i])))) {
      std::printf("  element %zu: got %.7g want %.7g\n", i, double(g[i]), double(want[i]));
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Conv reference

struct ConvCase {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;
  std::string auto_pad;
  bool bias = true;
};

// Direct N-d convolution from the spec's definition; pads (begin..., end...) explicit.
std::vector<float> conv_ref(const Tensor& x, const Tensor& w, const float* b, int64_t group,
                            const std::vector<int64_t>& strides, const std::vector<int64_t>& dil,
                            const std::vector<int64_t>& pads, Shape* out_shape) {
  const int nd = int(x.rank()) - 2;
  const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
  const int64_t Cg = C / group, Mg = M / group;
  std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end()), k(w.shape.begin() + 2, w.shape.end()), out;
  out.resize(size_t(nd));
  for (int i = 0; i < nd; ++i) {
    size_t u = size_t(i);
    out[u] = (in[u] + pads[u] + pads[u + size_t(nd)] - dil[u] * (k[u] - 1) - 1) / strides[u] + 1;
  }
  *out_shape = {N, M};
  for (int64_t o : out) out_shape->push_back(o);
  int64_t osz = 1, isz = 1, ksz = 1;
  for (int i = 0; i < nd; ++i) { osz *= out[size_t(i)]; isz *= in[size_t(i)]; ksz *= k[size_t(i)]; }
  std::vector<float> y(size_t(N * M * osz));
  const float* xp = x.ptr<float>();
  const float* wp = w.ptr<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t g = m / Mg;
      for (int64_t o = 0; o < osz; ++o) {
        std::vector<int64_t> oi;
        oi.resize(size_t(nd));
        int64_t r = o;
        for (int i = nd - 1; i >= 0; --i) { oi[size_t(i)] = r % out[size_t(i)]; r /= out[size_t(i)]; }
        double acc = b ? b[m] : 0.0;
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t kk = 0; kk < ksz; ++kk) {
            std::vector<int64_t> ki;
            ki.resize(size_t(nd));
            int64_t rr = kk;
            for (int i = nd - 1; i >= 0; --i) { ki[size_t(i)] = rr % k[size_t(i)]; rr /= k[size_t(i)]; }
            int64_t off = 0;
            bool inside = true;
            for (int i = 0; i < nd; ++i) {
              size_t u = size_t(i);
              int64_t p = oi[u] * strides[u] - pads[u] + ki[u] * dil[u];
              if (p < 0 || p >= in[u]) { inside = false; break; }
              off = off * in[u] + p;
            }
            if (!inside) continue;
            acc += double(xp[(n * C + g * Cg + c) * isz + off]) * double(wp[(m * Cg + c) * ksz + kk]);
          }
        y[size_t((n * M + m) * osz + o)] = float(acc);
      }
    }
  return y;
}

void check_conv(const ConvCase& cc, uint32_t seed, int threads, const char* what) {
  Tensor x = random_f32(cc.x, seed);
  Tensor w = random_f32(cc.w, seed + 1);
  Tensor b = random_f32({cc.w[0]}, seed + 2);
  const int nd = int(cc.x.size()) - 2;
  std::vector<int64_t> strides = cc.strides.empty() ? std::vector<int64_t>(size_t(nd), 1) : cc.strides;
  std::vector<int64_t> dil = cc.dilations.empty() ? std::vector<int64_t>(size_t(nd), 1) : cc.dilations;
  std::vector<int64_t> pads = cc.pads.empty() ? std::vector<int64_t>(size_t(2 * nd), 0) : cc.pads;
  OpHarness h("Conv", 13);
  h.attr_int("group", cc.group);
  if (!cc.strides.empty()) h.attr_ints("strides", cc.strides);
  if (!cc.dilations.empty()) h.attr_ints("dilations", cc.dilations);
  if (!cc.pads.empty()) h.attr_ints("pads", cc.pads);
  h.input(x).const_input(w);
  if (cc.bias) h.const_input(b);
  h.threads(threads);
  std::vector<Tensor> out = h.run();
  Shape want_shape;
  std::vector<float> want = conv_ref(x, w, cc.bias ? b.ptr<float>() : nullptr, cc.group, strides, dil, pads, &want_shape);
  CHECK_MSG(out[0].shape == want_shape, "%s: shape %s vs %s", what, netlite::shape_str(out[0].shape).c_str(),
            netlite::shape_str(want_shape).c_str());
  CHECK_MSG(all_close(out[0], want, 1e-4, 1e-4), "%s (threads %d)", what, threads);
}

}  // namespace nn_test

NETLITE_TEST(nn_conv_paths_match_reference) {
  using nn_test::ConvCase;
  const std::vector<std::pair<const char*, ConvCase>> cases = {
      {"2d 3x3 pad1", {{1, 3, 9, 11}, {4, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", true}},
      {"2d 3x3 stride2 asym pads", {{2, 4, 10, 9}, {5, 4, 3, 3}, 1, {2, 2}, {}, {1, 0, 2, 1}, "", true}},
      {"2d dilated", {{1, 2, 12, 12}, {3, 2, 3, 3}, 1, {1, 1}, {2, 3}, {2, 3, 2, 3}, "", false}},
      {"2d pointwise", {{2, 16, 7, 5}, {8, 16, 1, 1}, 1, {}, {}, {}, "", true}},
      {"2d pointwise big", {{1, 32, 40, 40}, {24, 32, 1, 1}, 1, {}, {}, {}, "", true}},
      {"2d pointwise stride2", {{1, 8, 9, 9}, {6, 8, 1, 1}, 1, {2, 2}, {}, {}, "", true}},
      {"2d grouped", {{2, 6, 8, 8}, {9, 2, 3, 3}, 3, {1, 1}, {}, {1, 1, 1, 1}, "", true}},
      {"2d depthwise 3x3", {{2, 8, 13, 11}, {8, 1, 3, 3}, 8, {1, 1}, {}, {1, 1, 1, 1}, "", true}},
      {"2d depthwise s2", {{1, 5, 40, 37}, {5, 1, 3, 3}, 5, {2, 2}, {}, {1, 1, 1, 1}, "", true}},
      {"2d depthwise 5x5 dil", {{1, 3, 20, 21}, {3, 1, 5, 5}, 3, {2, 1}, {1, 2}, {2, 4, 1, 3}, "", false}},
      {"2d depthwise x2 mult", {{1, 4, 9, 9}, {8, 1, 3, 3}, 4, {1, 1}, {}, {1, 1, 1, 1}, "", true}},
      {"2d large tiles", {{1, 3, 70, 70}, {16, 3, 7, 7}, 1, {2, 2}, {}, {3, 3, 3, 3}, "", true}},
      {"2d many channels", {{1, 64, 14, 14}, {32, 64, 3, 3}, 1, {1, 1}, {}, {1, 1, 1, 1}, "", true}},
      {"1d", {{2, 3, 17}, {4, 3, 4}, 1, {2}, {1}, {1, 2}, "", true}},
      {"1d depthwise", {{1, 4, 17}, {4, 1, 3}, 4, {1}, {}, {1, 1}, "", true}},
      {"3d", {{1, 2, 5, 6, 7}, {3, 2, 2, 3, 2}, 1, {1, 2, 1}, {1, 1, 2}, {0, 1, 1, 1, 0, 1}, "", true}},
      {"3d grouped", {{2, 4, 4, 5, 4}, {4, 2, 3, 3, 3}, 2, {}, {}, {1, 1, 1, 1, 1, 1}, "", false}},
  };
  uint32_t seed = 1;
  for (const auto& c : cases)
    for (int threads : {1, 2}) nn_test::check_conv(c.second, seed++, threads, c.first);
}

NETLITE_TEST(nn_conv_auto_pad_and_fused_activation) {
  using namespace nn_test;
  // SAME_UPPER 3x3 stride 2 on 7x7: out 4x4, total pad 2 -> (1, 1); on 8x8: total 1 -> (0, 1).
  for (int64_t side : {7, 8}) {
    Tensor x = random_f32({1, 2, side, side}, 7);
    Tensor w = random_f32({3, 2, 3, 3}, 8);
    for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
      std::vector<Tensor> out =
          OpHarness("Conv", 11).attr_string("auto_pad", mode).attr_ints("strides", {2, 2}).input(x).const_input(w).run();
      std::vector<int64_t> pads;
      const std::string m = mode;
      if (m == "VALID") pads = {0, 0, 0, 0};
      else {
        const int64_t o = (side + 1) / 2, total = std::max<int64_t>(0, (o - 1) * 2 + 3 - side);
        const int64_t lo = m == "SAME_UPPER" ? total / 2 : total - total / 2;
        pads = {lo, lo, total - lo, total - lo};
      }
      Shape s;
      std::vector<float> want = conv_ref(x, w, nullptr, 1, {2, 2}, {1, 1}, pads, &s);
      CHECK_MSG(out[0].shape == s, "%s %lld", mode, (long long)side);
      CHECK_MSG(all_close(out[0], want), "%s %lld", mode, (long long)side);
    }
  }
  // Fused Relu / Clip through node attributes, on each path.
  for (int path = 0; path < 3; ++path) {
    Shape xs = {1, 4, 9, 9}, ws = path == 0 ? Shape{4, 1, 3, 3} : path == 1 ? Shape{6, 4, 1, 1} : Shape{6, 4, 3, 3};
    const int64_t group = path == 0 ? 4 : 1;
    Tensor x = random_f32(xs, 20 + path), w = random_f32(ws, 30 + path), b = random_f32({ws[0]}, 40 + path);
    const std::vector<int64_t> pads = path == 1 ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{1, 1, 1, 1};
    Shape s;
    std::vector<float> ref = conv_ref(x, w, b.ptr<float>(), group, {1, 1}, {1, 1}, pads, &s);
    for (int act = 0; act < 2; ++act) {
      OpHarness h("Conv", 13);
      h.attr_int("group", group).attr_ints("pads", pads).input(x).const_input(w).const_input(b);
      h.attr_string(netlite::ops::kFusedActivationAttr, act == 0 ? "Relu" : "Clip");
      if (act == 1) h.attr_float(netlite::ops::kFusedActivationMinAttr, -0.25f).attr_float(netlite::ops::kFusedActivationMaxAttr, 0.5f);
      std::vector<float> want = ref;
      for (float& v : want) v = act == 0 ? std::max(v, 0.0f) : std::min(std::max(v, -0.25f), 0.5f);
      CHECK_MSG(all_close(h.run()[0], want), "path %d act %d", path, act);
    }
  }
}

NETLITE_TEST(nn_conv_errors) {
  using namespace nn_test;
  std::string msg;
  // Channel mismatch.
  StatusCode c = netlite_test::expect_error([] {
    OpHarness("Conv", 13).input(random_f32({1, 3, 5, 5}, 1)).input(random_f32({2, 2, 3, 3}, 2)).run();
  }, &msg);
  CHECK(c == StatusCode::ShapeMismatch);
  CHECK(msg.find("test_Conv") != std::string::npos);
  // Window larger than the input.
  c = netlite_test::expect_error([] {
    OpHarness("Conv", 13).input(random_f32({1, 1, 2, 2}, 1)).input(random_f32({1, 1, 3, 3}, 2)).run();
  });
  CHECK(c == StatusCode::ShapeMismatch);
  // Bad attribute values.
  c = netlite_test::expect_error([] {
    OpHarness("Conv", 13).attr_ints("strides", {0, 1}).input(random_f32({1, 1, 4, 4}, 1)).input(random_f32({1, 1, 3, 3}, 2)).run();
  });
  CHECK(c == StatusCode::InvalidModel);
  c = netlite_test::expect_error([] {
    OpHarness("Conv", 13).input(netlite_test::make_tensor<int32_t>({1, 1, 4, 4}, {})).input(random_f32({1, 1, 3, 3}, 2)).run();
  });
  CHECK(c == StatusCode::TypeMismatch);
}

NETLITE_TEST(nn_conv_kernels_simd_match_reference) {
  using namespace nn_test;
  // Depthwise plane kernel (with its AVX2 rows when available) vs the scalar reference.
  netlite::kernels::ConvShape g;
  g.nd = 2;
  for (int64_t stride : {1, 2, 3})
    for (int64_t W : {5, 7, 16, 33, 57, 112}) {
      g.in[0] = 11; g.in[1] = W;
      g.kernel[0] = 3; g.kernel[1] = 3;
      g.stride[0] = stride; g.stride[1] = stride;
      g.dilation[0] = 1; g.dilation[1] = 1;
      g.pad[0] = 1; g.pad[1] = 1;
      g.out[0] = (11 + 2 - 3) / stride + 1;
      g.out[1] = (W + 2 - 3) / stride + 1;
      Tensor x = random_f32({11, W}, uint32_t(W + stride));
      Tensor w = random_f32({9}, 3);
      netlite::kernels::Epilogue e;
      std::vector<float> a(size_t(g.out_size())), b(size_t(g.out_size()));
      netlite::kernels::depthwise_conv2d_plane(g, x.ptr<float>(), w.ptr<float>(), 0.5f, e, a.data());
      netlite::kernels::depthwise_conv2d_plane_reference(g, x.ptr<float>(), w.ptr<float>(), 0.5f, e, b.data());
      bool ok = true;
      for (size_t i = 0; i < a.size(); ++i) ok = ok && std::fabs(a[i] - b[i]) <= 1e-5f;
      CHECK_MSG(ok, "depthwise stride %lld width %lld", (long long)stride, (long long)W);
      // Padded-plane kernel (vectorised across columns), with dilation and asymmetric pads too.
      for (int64_t dil : {1, 2}) {
        netlite::kernels::ConvShape h = g;
        h.dilation[0] = h.dilation[1] = dil;
        h.pad[0] = dil; h.pad[1] = 2;
        h.out[0] = (11 + 2 * dil - 2 * dil - 1) / stride + 1;
        h.out[1] = (W + 2 + 1 - 2 * dil - 1) / stride + 1;
        netlite::kernels::Epilogue ce;
        ce.clamp = true; ce.lo = -0.5f; ce.hi = 0.75f;
        std::vector<float> c1(size_t(h.out_size())), c2(size_t(h.out_size()));
        std::vector<float> pad(size_t(netlite::kernels::depthwise_scratch_floats(h)));
        netlite::kernels::depthwise_conv2d_plane_padded(h, x.ptr<float>(), w.ptr<float>(), 0.25f, ce, c1.data(), pad.data());
        netlite::kernels::depthwise_conv2d_plane_reference(h, x.ptr<float>(), w.ptr<float>(), 0.25f, ce, c2.data());
        bool same = true;
        for (size_t i = 0; i < c1.size(); ++i) same = same && std::fabs(c1[i] - c2[i]) <= 1e-5f;
        CHECK_MSG(same, "padded depthwise stride %lld width %lld dil %lld", (long long)stride, (long long)W, (long long)dil);
      }
      // im2col fast path vs the N-d reference on a tile in the middle.
      const int64_t o0 = 3, on = g.out_size() - 5;
      if (on > 0) {
        std::vector<float> c1(size_t(9 * on)), c2(size_t(9 * on));
        netlite::kernels::im2col(g, x.ptr<float>(), 1, o0, on, c1.data(), on);
        netlite::kernels::im2col_reference(g, x.ptr<float>(), 1, o0, on, c2.data(), on);
        CHECK(c1 == c2);
      }
    }
}

// ---------------------------------------------------------------- ConvTranspose

namespace nn_test {

// Scatter definition: y[n, g*Mg+m, i*s - pad + k*d] += x[n, g*Cg+c, i] * w[g*Cg+c, m, k] (2-D).
std::vector<float> conv_transpose_ref(const Tensor& x, const Tensor& w, const float* b, int64_t group,
                                      const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                                      const std::vector<int64_t>& pads, const std::vector<int64_t>& out_hw) {
  const int64_t N = x.shape[0], C = x.shape[1], IH = x.shape[2], IW = x.shape[3];
  const int64_t Mg = w.shape[1], KH = w.shape[2], KW = w.shape[3], Cg = C / group, M = Mg * group;
  const int64_t OH = out_hw[0], OW = out_hw[1];
  std::vector<float> y(size_t(N * M * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < OH * OW; ++o) y[size_t((n * M + m) * OH * OW + o)] = b ? b[m] : 0.0f;
  const float* xp = x.ptr<float>();
  const float* wp = w.ptr<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ih = 0; ih < IH; ++ih)
        for (int64_t iw = 0; iw < IW; ++iw)
          for (int64_t m = 0; m < Mg; ++m)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t oh = ih * s[0] - pads[0] + kh * d[0], ow = iw * s[1] - pads[1] + kw * d[1];
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const int64_t mo = (c / Cg) * Mg + m;
                y[size_t(((n * M + mo) * OH + oh) * OW + ow)] +=
                    xp[((n * C + c) * IH + ih) * IW + iw] * wp[((c * Mg + m) * KH + kh) * KW + kw];
              }
  return y;
}

}  // namespace nn_test

NETLITE_TEST(nn_conv_transpose) {
  using namespace nn_test;
  // Spec example: 3x3 input 0..8, ones 3x3 kernel, 2 output channels.
  {
    Tensor x = tensor_f32({1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
    Tensor w = tensor_f32({1, 2, 3, 3}, std::vector<float>(18, 1.0f));
    std::vector<Tensor> out = OpHarness("ConvTranspose", 11).input(x).const_input(w).run();
    const std::vector<float> plane = {0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8};
    std::vector<float> want = plane;
    want.insert(want.end(), plane.begin(), plane.end());
    CHECK(out[0].shape == (Shape{1, 2, 5, 5}));
    CHECK(all_close(out[0], want, 0, 0));
  }
  struct Case {
    const char* name;
    Shape x, w;
    int64_t group;
    std::vector<int64_t> strides, dil, pads, output_padding, output_shape;
    std::string auto_pad;
  };
  const std::vector<Case> cases = {
      {"stride2 pads", {2, 3, 4, 5}, {3, 2, 3, 3}, 1, {2, 2}, {1, 1}, {1, 0, 1, 2}, {}, {}, ""},
      {"output_padding", {1, 2, 3, 3}, {2, 3, 3, 3}, 1, {3, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, {}, ""},
      {"group dilation", {1, 4, 5, 4}, {4, 2, 2, 3}, 2, {1, 2}, {2, 1}, {0, 1, 1, 0}, {}, {}, ""},
      {"output_shape", {1, 1, 3, 3}, {1, 2, 3, 3}, 1, {3, 2}, {1, 1}, {}, {}, {10, 8}, ""},
      {"output_shape smaller", {1, 2, 4, 4}, {2, 2, 3, 3}, 1, {2, 2}, {1, 1}, {}, {}, {8, 7}, ""},
      {"same_upper", {1, 2, 3, 4}, {2, 1, 3, 3}, 1, {2, 2}, {1, 1}, {}, {}, {}, "SAME_UPPER"},
      {"same_lower", {1, 2, 3, 4}, {2, 1, 3, 3}, 1, {2, 2}, {1, 1}, {}, {}, {}, "SAME_LOWER"},
  };
  uint32_t seed = 500;
  for (const Case& c : cases)
    for (int threads : {1, 2}) {
      Tensor x = random_f32(c.x, seed++), w = random_f32(c.w, seed++), b = random_f32({c.w[1] * c.group}, seed++);
      OpHarness h("ConvTranspose", 11);
      h.attr_int("group", c.group).attr_ints("strides", c.strides).attr_ints("dilations", c.dil);
      if (!c.pads.empty()) h.attr_ints("pads", c.pads);
      if (!c.output_padding.empty()) h.attr_ints("output_padding", c.output_padding);
      if (!c.output_shape.empty()) h.attr_ints("output_shape", c.output_shape);
      if (!c.auto_pad.empty()) h.attr_string("auto_pad", c.auto_pad);
      h.input(x).const_input(w).const_input(b).threads(threads);
      std::vector<Tensor> out = h.run();
      // Expected geometry per the spec's formulas.
      std::vector<int64_t> pads = c.pads.empty() ? std::vector<int64_t>{0, 0, 0, 0} : c.pads, out_hw(2);
      for (size_t i = 0; i < 2; ++i) {
        const int64_t op = c.output_padding.empty() ? 0 : c.output_padding[i];
        const int64_t full = c.strides[i] * (c.x[i + 2] - 1) + op + (c.w[i + 2] - 1) * c.dil[i] + 1;
        if (!c.output_shape.empty() || !c.auto_pad.empty()) {
          out_hw[i] = !c.output_shape.empty() ? c.output_shape[i] : c.x[i + 2] * c.strides[i];
          const int64_t total = std::max<int64_t>(0, full - out_hw[i]);
          pads[i] = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        } else {
          out_hw[i] = full - pads[i] - pads[i + 2];
        }
      }
      std::vector<float> want = conv_transpose_ref(x, w, b.ptr<float>(), c.group, c.strides, c.dil, pads, out_hw);
      CHECK_MSG(out[0].shape == (Shape{c.x[0], c.w[1] * c.group, out_hw[0], out_hw[1]}), "%s shape %s", c.name,
                netlite::shape_str(out[0].shape).c_str());
      CHECK_MSG(all_close(out[0], want), "%s threads %d", c.name, threads);
    }
}

// ---------------------------------------------------------------- pooling

namespace nn_test {

// Brute-force 2-D pooling with explicit pads and output size; max ignores pads,
// avg divides by in-bounds taps or (include_pad) taps inside the padded extent.
std::vector<float> pool2d_ref(const Tensor& x, bool is_max, bool include_pad, const std::vector<int64_t>& k,
                              const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                              const std::vector<int64_t>& pads, int64_t OH, int64_t OW, std::vector<int64_t>* idx) {
  const int64_t P = x.shape[0] * x.shape[1], IH = x.shape[2], IW = x.shape[3];
  std::vector<float> y;
  for (int64_t p = 0; p < P; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double acc = is_max ? -INFINITY : 0.0;
        int64_t count = 0, padded = 0, at = -1;
        for (int64_t kh = 0; kh < k[0]; ++kh)
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            const int64_t ih = oh * s[0] - pads[0] + kh * d[0], iw = ow * s[1] - pads[1] + kw * d[1];
            if (ih >= -pads[0] && ih < IH + pads[2] && iw >= -pads[1] && iw < IW + pads[3]) ++padded;
            if (ih < 0 || ih >= IH || iw < 0 || iw >= IW) continue;
            const float v = x.ptr<float>()[(p * IH + ih) * IW + iw];
            ++count;
            if (is_max) {
              if (v > acc) { acc = v; at = (p * IH + ih) * IW + iw; }
            } else {
              acc += v;
            }
          }
        y.push_back(is_max ? float(acc) : float(acc / double(include_pad ? padded : count)));
        if (idx) idx->push_back(at);
      }
  return y;
}

}  // namespace nn_test

NETLITE_TEST(nn_pool_spec_examples) {
  using namespace nn_test;
  std::vector<float> seq16, seq25;
  for (int i = 1; i <= 16; ++i) seq16.push_back(float(i));
  for (int i = 1; i <= 25; ++i) seq25.push_back(float(i));
  // maxpool_2d_ceil: 4x4, kernel 3, stride 2, ceil_mode -> 2x2.
  std::vector<Tensor> out = OpHarness("MaxPool", 12).attr_ints("kernel_shape", {3, 3}).attr_ints("strides", {2, 2})
                                .attr_int("ceil_mode", 1).input(tensor_f32({1, 1, 4, 4}, seq16)).run();
  CHECK(out[0].shape == (Shape{1, 1, 2, 2}));
  CHECK(all_close(out[0], {11, 12, 15, 16}, 0, 0));
  // averagepool_2d_ceil.
  out = OpHarness("AveragePool", 12).attr_ints("kernel_shape", {3, 3}).attr_ints("strides", {2, 2})
            .attr_int("ceil_mode", 1).input(tensor_f32({1, 1, 4, 4}, seq16)).run();
  CHECK(all_close(out[0], {6, 7.5f, 12, 13.5f}, 1e-6, 0));
  // maxpool_with_argmax_2d_precomputed_strides: storage_order 1.
  out = OpHarness("MaxPool", 12).attr_ints("kernel_shape", {2, 2}).attr_ints("strides", {2, 2})
            .attr_int("storage_order", 1).input(tensor_f32({1, 1, 5, 5}, seq25)).outputs(2).run();
  CHECK(all_close(out[0], {7, 9, 17, 19}, 0, 0));
  CHECK(out[1].dtype == DType::Int64);
  const int64_t* ip = out[1].ptr<int64_t>();
  CHECK(ip[0] == 6 && ip[1] == 16 && ip[2] == 8 && ip[3] == 18);
  // maxpool_with_argmax_2d_precomputed_pads: 5x5, kernel 5, pads 2 -> indices row-major.
  out = OpHarness("MaxPool", 12).attr_ints("kernel_shape", {5, 5}).attr_ints("pads", {2, 2, 2, 2})
            .input(tensor_f32({1, 1, 5, 5}, seq25)).outputs(2).run();
  CHECK(all_close(out[0], {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25}, 0, 0));
  CHECK(out[1].ptr<int64_t>()[0] == 12 && out[1].ptr<int64_t>()[24] == 24);
  // averagepool_2d_precomputed_same_upper: 5x5, kernel 3, strides 2.
  out = OpHarness("AveragePool", 12).attr_ints("kernel_shape", {3, 3}).attr_ints("strides", {2, 2})
            .attr_string("auto_pad", "SAME_UPPER").input(tensor_f32({1, 1, 5, 5}, seq25)).run();
  CHECK(all_close(out[0], {4, 5.5f, 7, 11.5f, 13, 14.5f, 19, 20.5f, 22}, 1e-6, 0));
  // averagepool_2d_precomputed_pads_count_include_pad: 5x5, kernel 5, pads 2.
  out = OpHarness("AveragePool", 12).attr_ints("kernel_shape", {5, 5}).attr_ints("pads", {2, 2, 2, 2})
            .attr_int("count_include_pad", 1).input(tensor_f32({1, 1, 5, 5}, seq25)).run();
  CHECK(all_close(out[0], {2.52f, 3.6f, 4.8f, 4.08f, 3.24f, 4.56f, 6.4f, 8.4f, 7.04f, 5.52f, 7.2f, 10, 13, 10.8f, 8.4f,
                           6.96f, 9.6f, 12.4f, 10.24f, 7.92f, 6.12f, 8.4f, 10.8f, 8.88f, 6.84f}, 1e-5, 0));
  // 1-D and 3-D default (kernel 2).
  out = OpHarness("MaxPool", 12).attr_ints("kernel_shape", {2}).input(tensor_f32({1, 1, 5}, {3, 1, 4, 1, 5})).run();
  CHECK(all_close(out[0], {3, 4, 4, 5}, 0, 0));
  out = OpHarness("AveragePool", 12).attr_ints("kernel_shape", {2, 2, 2}).input(tensor_f32({1, 1, 2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})).run();
  CHECK(all_close(out[0], {6, 7}, 1e-6, 0));
  // Global pools.
  out = OpHarness("GlobalAveragePool", 12).input(tensor_f32({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})).run();
  CHECK(out[0].shape == (Shape{1, 2, 1, 1}));
  CHECK(all_close(out[0], {2.5f, 6.5f}, 0, 0));
  out = OpHarness("GlobalMaxPool", 12).input(tensor_f32({1, 2, 3}, {1, 9, 3, -4, -5, -6})).run();
  CHECK(out[0].shape == (Shape{1, 2, 1}));
  CHECK(all_close(out[0], {9, -4}, 0, 0));
  // int8 MaxPool.
  out = OpHarness("MaxPool", 12).attr_ints("kernel_shape", {2, 2}).input(netlite_test::make_tensor<int8_t>({1, 1, 2, 2}, {-5, 3, -128, 7})).run();
  CHECK(out[0].dtype == DType::Int8 && out[0].ptr<int8_t>()[0] == 7);
}

NETLITE_TEST(nn_pool_random_vs_reference) {
  using namespace nn_test;
  struct Case { Shape x; std::vector<int64_t> k, s, d, pads; bool ceil; };
  const std::vector<Case> cases = {
      {{2, 3, 13, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, false},
      {{1, 2, 13, 11}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, true},
      {{1, 2, 14, 9}, {2, 3}, {3, 2}, {2, 1}, {1, 0, 0, 2}, true},
      {{1, 1, 7, 7}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, false},
      {{1, 4, 56, 56}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, false},
  };
  uint32_t seed = 900;
  for (const Case& c : cases) {
    Tensor x = random_f32(c.x, seed++);
    std::vector<int64_t> o(2);
    for (size_t i = 0; i < 2; ++i) {
      const int64_t span = c.x[i + 2] + c.pads[i] + c.pads[i + 2] - (c.k[i] - 1) * c.d[i] - 1;
      o[i] = (c.ceil ? (span + c.s[i] - 1) / c.s[i] : span / c.s[i]) + 1;
      if (c.ceil && (o[i] - 1) * c.s[i] >= c.x[i + 2] + c.pads[i]) --o[i];
    }
    for (int kind = 0; kind < 3; ++kind) {
      const bool is_max = kind == 0, include = kind == 2;
      OpHarness h(is_max ? "MaxPool" : "AveragePool", 19);
      h.attr_ints("kernel_shape", c.k).attr_ints("strides", c.s).attr_ints("dilations", c.d).attr_ints("pads", c.pads);
      h.attr_int("ceil_mode", c.ceil ? 1 : 0);
      if (!is_max) h.attr_int("count_include_pad", include ? 1 : 0);
      h.input(x).threads(2);
      if (is_max) h.outputs(2);
      std::vector<Tensor> out = h.run();
      std::vector<int64_t> idx;
      std::vector<float> want = pool2d_ref(x, is_max, include, c.k, c.s, c.d, c.pads, o[0], o[1], is_max ? &idx : nullptr);
      CHECK(out[0].shape == (Shape{c.x[0], c.x[1], o[0], o[1]}));
      CHECK_MSG(all_close(out[0], want, 1e-6, 1e-6), "kind %d shape %s", kind, netlite::shape_str(c.x).c_str());
      if (is_max) {
        bool same = true;
        for (size_t i = 0; i < idx.size(); ++i) same = same && out[1].ptr<int64_t>()[i] == idx[i];
        CHECK(same);
      }
    }
  }
  // Errors: kernel rank mismatch, window too large.
  CHECK(netlite_test::expect_error([] {
    OpHarness("MaxPool", 12).attr_ints("kernel_shape", {2}).input(random_f32({1, 1, 4, 4}, 1)).run();
  }) == StatusCode::ShapeMismatch);
  CHECK(netlite_test::expect_error([] {
    OpHarness("AveragePool", 12).attr_ints("kernel_shape", {5, 5}).input(random_f32({1, 1, 4, 4}, 1)).run();
  }) == StatusCode::ShapeMismatch);
  CHECK(netlite_test::expect_error([] { OpHarness("MaxPool", 12).input(random_f32({1, 1, 4, 4}, 1)).run(); }) ==
        StatusCode::InvalidModel);
}

// ---------------------------------------------------------------- Gemm / MatMul

namespace nn_test {

std::vector<float> matmul_ref(const float* a, const float* b, int64_t M, int64_t K, int64_t N, bool ta, bool tb) {
  std::vector<float> y(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += double(ta ? a[k * M + i] : a[i * K + k]) * double(tb ? b[j * K + k] : b[k * N + j]);
      y[size_t(i * N + j)] = float(s);
    }
  return y;
}

}  // namespace nn_test

NETLITE_TEST(nn_gemm) {
  using namespace nn_test;
  const int64_t M = 5, K = 7, N = 6;
  uint32_t seed = 1200;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const Shape& cs : {Shape{}, Shape{1}, Shape{N}, Shape{1, N}, Shape{M, 1}, Shape{M, N}}) {
        Tensor a = random_f32(ta ? Shape{K, M} : Shape{M, K}, seed++), b = random_f32(tb ? Shape{N, K} : Shape{K, N}, seed++);
        Tensor c = random_f32(cs, seed++);
        std::vector<Tensor> out = OpHarness("Gemm", 13).attr_int("transA", ta).attr_int("transB", tb)
                                      .attr_float("alpha", 0.5f).attr_float("beta", 2.0f)
                                      .input(a).const_input(b).input(c).run();
        std::vector<float> want = matmul_ref(a.ptr<float>(), b.ptr<float>(), M, K, N, ta, tb);
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            const int64_t ci = cs.size() == 2 ? (cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j) : (cs.empty() || cs[0] == 1 ? 0 : j);
            want[size_t(i * N + j)] = 0.5f * want[size_t(i * N + j)] + 2.0f * c.ptr<float>()[ci];
          }
        CHECK_MSG(all_close(out[0], want), "ta %d tb %d C %s", ta, tb, netlite::shape_str(cs).c_str());
      }
  // No C (opset 11+), and the error before 11.
  Tensor a = random_f32({3, 4}, 1), b = random_f32({4, 2}, 2);
  std::vector<Tensor> out = OpHarness("Gemm", 13).input(a).input(b).run();
  CHECK(all_close(out[0], matmul_ref(a.ptr<float>(), b.ptr<float>(), 3, 4, 2, false, false)));
  CHECK(netlite_test::expect_error([&] { OpHarness("Gemm", 9).input(a).input(b).run(); }) == StatusCode::InvalidModel);
  CHECK(netlite_test::expect_error([&] { OpHarness("Gemm", 13).input(a).input(a).run(); }) == StatusCode::ShapeMismatch);
  CHECK(netlite_test::expect_error([&] { OpHarness("Gemm", 13).input(a).input(b).input(random_f32({3, 3}, 1)).run(); }) ==
        StatusCode::ShapeMismatch);
}

NETLITE_TEST(nn_matmul) {
  using namespace nn_test;
  struct Case { Shape a, b, y; };
  const std::vector<Case> cases = {
      {{3, 4}, {4, 5}, {3, 5}},
      {{4}, {4}, {}},
      {{4}, {2, 4, 3}, {2, 3}},
      {{2, 3, 4}, {4}, {2, 3}},
      {{2, 3, 4}, {4, 5}, {2, 3, 5}},
      {{3, 4}, {2, 4, 5}, {2, 3, 5}},
      {{2, 1, 3, 4}, {1, 3, 4, 2}, {2, 3, 3, 2}},
      {{5, 3, 4}, {5, 4, 2}, {5, 3, 2}},
      {{2, 3, 0}, {0, 4}, {2, 3, 4}},
      {{40, 8, 16}, {40, 16, 8}, {40, 8, 8}},
  };
  uint32_t seed = 1500;
  for (const Case& c : cases)
    for (int threads : {1, 2}) {
      Tensor a = random_f32(c.a, seed++), b = random_f32(c.b, seed++);
      std::vector<Tensor> out = OpHarness("MatMul", 13).input(a).input(b).threads(threads).run();
      CHECK_MSG(out[0].shape == c.y, "%s x %s -> %s", netlite::shape_str(c.a).c_str(), netlite::shape_str(c.b).c_str(),
                netlite::shape_str(out[0].shape).c_str());
      // Reference: promote, broadcast batch dims by hand.
      Shape pa = c.a, pb = c.b;
      if (pa.size() == 1) pa.insert(pa.begin(), 1);
      if (pb.size() == 1) pb.push_back(1);
      const int64_t M = pa[pa.size() - 2], K = pa.back(), N = pb.back();
      Shape ba(pa.begin(), pa.end() - 2), bb(pb.begin(), pb.end() - 2);
      Shape bo = netlite::broadcast_shapes(ba, bb);
      std::vector<float> want;
      const int64_t nb = netlite::shape_numel(bo);
      for (int64_t i = 0; i < nb; ++i) {
        int64_t r = i, oa = 0, ob = 0, sa = 1, sb = 1;
        for (size_t k = bo.size(); k-- > 0;) {
          const int64_t idx = r % bo[k];
          r /= bo[k];
          const size_t ka = k + ba.size() - bo.size(), kb = k + bb.size() - bo.size();
          if (k + ba.size() >= bo.size()) { oa += (ba[ka] == 1 ? 0 : idx) * sa; sa *= ba[ka]; }
          if (k + bb.size() >= bo.size()) { ob += (bb[kb] == 1 ? 0 : idx) * sb; sb *= bb[kb]; }
        }
        std::vector<float> part = matmul_ref(a.ptr<float>() + oa * M * K, b.ptr<float>() + ob * K * N, M, K, N, false, false);
        want.insert(want.end(), part.begin(), part.end());
      }
      CHECK_MSG(all_close(out[0], want), "%s x %s threads %d", netlite::shape_str(c.a).c_str(), netlite::shape_str(c.b).c_str(), threads);
    }
  CHECK(netlite_test::expect_error([] { OpHarness("MatMul", 13).input(random_f32({2, 3}, 1)).input(random_f32({4, 2}, 2)).run(); }) ==
        StatusCode::ShapeMismatch);
  CHECK(netlite_test::expect_error([] { OpHarness("MatMul", 13).input(random_f32({2, 2, 3}, 1)).input(random_f32({3, 3, 2}, 2)).run(); }) ==
        StatusCode::ShapeMismatch);
}

// ---------------------------------------------------------------- normalisation

NETLITE_TEST(nn_batchnorm_instancenorm_layernorm_lrn) {
  using namespace nn_test;
  // BatchNormalization spec example (batchnorm_example).
  {
    Tensor x = tensor_f32({1, 2, 1, 3}, {-1, 0, 1, 2, 3, 4});
    Tensor s = tensor_f32({2}, {1.0f, 1.5f}), b = tensor_f32({2}, {0, 1}), m = tensor_f32({2}, {0, 3}), v = tensor_f32({2}, {1, 1.5f});
    std::vector<Tensor> out = OpHarness("BatchNormalization", 15).input(x).input(s).input(b).input(m).input(v).run();
    std::vector<float> want;
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 3; ++i) {
        const float xv = x.ptr<float>()[c * 3 + i];
        want.push_back((xv - m.ptr<float>()[c]) / std::sqrt(v.ptr<float>()[c] + 1e-5f) * s.ptr<float>()[c] + b.ptr<float>()[c]);
      }
    CHECK(all_close(out[0], want, 1e-6, 1e-6));
    CHECK(netlite_test::expect_error([&] {
      OpHarness("BatchNormalization", 15).attr_int("training_mode", 1).input(x).input(s).input(b).input(m).input(v).run();
    }) == StatusCode::Unsupported);
    CHECK(netlite_test::expect_error([&] {
      OpHarness("BatchNormalization", 15).input(x).input(tensor_f32({3}, {1, 1, 1})).input(b).input(m).input(v).run();
    }) == StatusCode::ShapeMismatch);
    // Opset 7 spatial=0: statistics per activation [C, H, W].
    Tensor s0 = random_f32({2, 1, 3}, 5, 0.5f, 1.5f), b0 = random_f32({2, 1, 3}, 6), m0 = random_f32({2, 1, 3}, 7), v0 = random_f32({2, 1, 3}, 8, 0.1f, 1.0f);
    out = OpHarness("BatchNormalization", 7).attr_int("spatial", 0).input(x).input(s0).input(b0).input(m0).input(v0).run();
    want.clear();
    for (int i = 0; i < 6; ++i)
      want.push_back((x.ptr<float>()[i] - m0.ptr<float>()[i]) / std::sqrt(v0.ptr<float>()[i] + 1e-5f) * s0.ptr<float>()[i] + b0.ptr<float>()[i]);
    CHECK(all_close(out[0], want, 1e-5, 1e-5));
  }
  // InstanceNormalization spec example.
  {
    Tensor x = tensor_f32({1, 2, 1, 3}, {-1, 0, 1, 2, 3, 4});
    Tensor s = tensor_f32({2}, {1.0f, 1.5f}), b = tensor_f32({2}, {0, 1});
    std::vector<Tensor> out = OpHarness("InstanceNormalization", 6).input(x).input(s).input(b).run();
    const float k = 1.0f / std::sqrt(2.0f / 3.0f + 1e-5f);
    CHECK(all_close(out[0], {-k, 0, k, 1 - 1.5f * k, 1, 1 + 1.5f * k}, 1e-5, 1e-5));
  }
  // LayerNormalization: axis -1 and axis 1 with Mean/InvStdDev outputs, and a broadcast Scale.
  for (int64_t axis : {-1, 1}) {
    Tensor x = random_f32({2, 3, 4}, 77);
    const Shape pshape = axis == -1 ? Shape{4} : Shape{3, 4};
    Tensor s = random_f32(pshape, 78), b = random_f32(pshape, 79);
    std::vector<Tensor> out = OpHarness("LayerNormalization", 17).attr_int("axis", axis).input(x).input(s).input(b).outputs(3).run();
    const int64_t D = axis == -1 ? 4 : 12, rows = 24 / D;
    std::vector<float> want, wm, wi;
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < D; ++i) mean += x.ptr<float>()[r * D + i];
      mean /= double(D);
      for (int64_t i = 0; i < D; ++i) var += (x.ptr<float>()[r * D + i] - mean) * (x.ptr<float>()[r * D + i] - mean);
      const double inv = 1.0 / std::sqrt(var / double(D) + 1e-5);
      for (int64_t i = 0; i < D; ++i)
        want.push_back(float((x.ptr<float>()[r * D + i] - mean) * inv * s.ptr<float>()[i] + b.ptr<float>()[i]));
      wm.push_back(float(mean));
      wi.push_back(float(inv));
    }
    CHECK(all_close(out[0], want, 1e-5, 1e-5));
    CHECK(all_close(out[1], wm, 1e-6, 1e-6));
    CHECK(all_close(out[2], wi, 1e-5, 1e-5));
    CHECK(out[1].shape == (axis == -1 ? Shape{2, 3, 1} : Shape{2, 1, 1}));
    if (axis == 1) {
      // Scale [1, 4] broadcasts over the normalized [3, 4] (general path).
      Tensor s2 = random_f32({1, 4}, 80);
      std::vector<Tensor> o2 = OpHarness("LayerNormalization", 17).attr_int("axis", 1).input(x).input(s2).run();
      std::vector<float> w2;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < D; ++i) w2.push_back((want[size_t(r * D + i)] - b.ptr<float>()[i]) / s.ptr<float>()[i] * s2.ptr<float>()[i % 4]);
      CHECK(all_close(o2[0], w2, 1e-4, 1e-4));
    }
  }
  // LRN against the spec formula.
  {
    Tensor x = random_f32({2, 5, 3, 2}, 99);
    const int64_t size = 3;
    const float alpha = 2e-3f, beta = 0.75f, bias = 1.5f;
    std::vector<Tensor> out = OpHarness("LRN", 13).attr_int("size", size).attr_float("alpha", alpha).attr_float("beta", beta)
                                  .attr_float("bias", bias).input(x).run();
    std::vector<float> want;
    const float* xp = x.ptr<float>();
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = 0; c < 5; ++c)
        for (int64_t i = 0; i < 6; ++i) {
          double sq = 0;
          for (int64_t j = std::max<int64_t>(0, c - 1); j <= std::min<int64_t>(4, c + 1); ++j) sq += double(xp[(n * 5 + j) * 6 + i]) * xp[(n * 5 + j) * 6 + i];
          want.push_back(float(xp[(n * 5 + c) * 6 + i] / std::pow(bias + alpha / size * sq, beta)));
        }
    CHECK(all_close(out[0], want, 1e-6, 1e-6));
  }
}
