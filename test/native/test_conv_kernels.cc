// Fast float conv/pool kernels against their scalar references: random shapes
// with odd sizes, column tails, pads, strides, dilations and ceil-mode edges.
// Exact equality where the fast kernel does the same operations in the same
// order (max pooling), a relative tolerance where it reassociates sums.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kernels/conv.h"
#include "kernels/dw_channels_last.h"
#include "kernels/pool.h"

namespace {

namespace nk = netlite::kernels;

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 7) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  int64_t range(int64_t lo, int64_t hi) { return lo + int64_t(next() % uint64_t(hi - lo + 1)); }
  float uniform() { return float(next() >> 40) / float(1 << 24) * 2.0f - 1.0f; }
};

// A 2-D window geometry with output sizes by the floor rule, or ceil (last
// window starting inside input + left pad) when `ceil_mode`.
nk::ConvShape make_shape(Rng& r, bool ceil_mode) {
  nk::ConvShape g;
  g.nd = 2;
  for (int d = 0; d < 2; ++d) {
    g.kernel[d] = r.range(1, 5);
    g.stride[d] = r.range(1, 3);
    g.dilation[d] = r.next() % 4 == 0 ? 2 : 1;
    const int64_t span = (g.kernel[d] - 1) * g.dilation[d] + 1;
    g.in[d] = r.range(span, span + (d == 1 ? 70 : 12));
    g.pad[d] = r.range(0, g.kernel[d] - 1);
    const int64_t pad_end = r.range(0, g.kernel[d] - 1);
    const int64_t total = g.in[d] + g.pad[d] + pad_end - span;
    int64_t out = total / g.stride[d] + 1;
    if (ceil_mode && total % g.stride[d] != 0 && (out * g.stride[d]) < g.in[d] + g.pad[d]) ++out;
    g.out[d] = out;
  }
  return g;
}

}  // namespace

NETLITE_TEST(max_pool_fast_matches_reference) {
  Rng r(11);
  int fast_shapes = 0;
  for (int t = 0; t < 400; ++t) {
    nk::ConvShape g = make_shape(r, t % 2 == 1);
    if (t % 3 == 0) g.stride[1] = 2;  // the vector path's strides
    if (t % 3 == 1) g.stride[1] = 1;
    // Recompute the output width for the forced stride (floor rule, no end pad).
    const int64_t span = (g.kernel[1] - 1) * g.dilation[1] + 1;
    if (g.in[1] + g.pad[1] < span) continue;
    g.out[1] = (g.in[1] + g.pad[1] - span) / g.stride[1] + 1 + (t % 5 == 0 ? 1 : 0);
    std::vector<float> x(size_t(g.in_size()));
    for (float& v : x) v = r.uniform();
    if (t % 7 == 0) x[size_t(r.range(0, int64_t(x.size()) - 1))] = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(size_t(g.out_size()), 123.0f), ref(size_t(g.out_size()), -123.0f);
    nk::max_pool_plane(g, x.data(), y.data(), nullptr, 0, false);
    nk::max_pool_plane_reference(g, x.data(), ref.data(), nullptr, 0, false);
    if (std::memcmp(y.data(), ref.data(), y.size() * sizeof(float)) != 0) {
      CHECK(false);
      std::printf("  shape in %lldx%lld k %lldx%lld s %lldx%lld d %lldx%lld p %lldx%lld out %lldx%lld\n",
                  (long long)g.in[0], (long long)g.in[1], (long long)g.kernel[0], (long long)g.kernel[1],
                  (long long)g.stride[0], (long long)g.stride[1], (long long)g.dilation[0],
                  (long long)g.dilation[1], (long long)g.pad[0], (long long)g.pad[1], (long long)g.out[0],
                  (long long)g.out[1]);
      return;
    }
    if (g.out[1] >= 6 && g.stride[1] <= 2) ++fast_shapes;
  }
  CHECK(fast_shapes > 20);
}

// Max pooling with windows 3 columns wide at stride 2 (SqueezeNet's and ResNet's
// 3x3 stride-2 pools) takes the AVX-512 path that covers whole rows, padded edges
// included (x86::max_pool_plane_k3s2_avx512): every width (full 16-column blocks
// and tails), pads 0-2, ceil-mode extra columns, 1-3 rows, vertical stride 1-2,
// NaNs, all-negative planes (a padded lane must never win), and a row too wide for
// it (over 1024 outputs, the generic rows). Nothing is written past the output.
NETLITE_TEST(max_pool_3x3_s2_matches_reference) {
  Rng r(31);
  int k3s2 = 0;
  for (int64_t iw = 3; iw <= 140; ++iw)
    for (int64_t pad = 0; pad <= 2; ++pad) {
      nk::ConvShape g;
      g.nd = 2;
      for (int d = 0; d < 2; ++d) {
        g.kernel[d] = d == 0 ? 1 + iw % 3 : 3;
        g.stride[d] = d == 0 ? 1 + iw % 2 : 2;
        g.dilation[d] = 1;
        g.pad[d] = std::min<int64_t>(pad, g.kernel[d] - 1);
        g.in[d] = d == 0 ? 9 + iw % 4 : (iw == 140 ? 2100 : iw);
        g.out[d] = (g.in[d] + 2 * g.pad[d] - g.kernel[d]) / g.stride[d] + 1 + (iw % 3 == 0 ? 1 : 0);
      }
      std::vector<float> x(size_t(g.in_size()));
      const float shift = iw % 4 == 1 ? -10.0f : 0.0f;  // all negative: a padded 0 would show
      for (float& v : x) v = r.uniform() + shift;
      if (iw % 5 == 0) x[size_t(r.range(0, int64_t(x.size()) - 1))] = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> y(size_t(g.out_size()) + 16, 123.0f), ref(size_t(g.out_size()), -123.0f);
      nk::max_pool_plane(g, x.data(), y.data(), nullptr, 0, false);
      nk::max_pool_plane_reference(g, x.data(), ref.data(), nullptr, 0, false);
      if (!CHECK_MSG(std::memcmp(y.data(), ref.data(), ref.size() * sizeof(float)) == 0,
                     "in %lldx%lld k %lld s %lld pad %lld", (long long)g.in[0], (long long)g.in[1],
                     (long long)g.kernel[0], (long long)g.stride[0], (long long)pad))
        return;
      for (size_t i = ref.size(); i < y.size(); ++i) CHECK(y[i] == 123.0f);
      std::vector<float> y2(size_t(g.out_size()));
      if (nk::pool_avx512_available() && nk::x86::max_pool_plane_k3s2_avx512(g, x.data(), y2.data())) ++k3s2;
    }
  if (nk::pool_avx512_available()) CHECK(k3s2 == 137 * 3);
}

namespace {

// Depthwise plane: the dispatching padded kernel (AVX-512 3x3, AVX2, scalar)
// against the direct scalar reference, with bias and a clamp epilogue.
void check_depthwise(const nk::ConvShape& g, Rng& r, bool clamp) {
  std::vector<float> x(size_t(g.in_size())), w(size_t(g.kernel_size()));
  for (float& v : x) v = r.uniform();
  for (float& v : w) v = r.uniform();
  nk::Epilogue e;
  e.clamp = clamp;
  e.lo = -0.5f;
  e.hi = 0.75f;
  const float bias = r.uniform();
  std::vector<float> y(size_t(g.out_size()) + 1, 7.0f), ref(size_t(g.out_size()));
  std::vector<float> scratch(size_t(nk::depthwise_scratch_floats(g)) + 1, 3.0f);
  scratch.back() = 99.0f;
  y.back() = 99.0f;
  nk::depthwise_conv2d_plane_padded(g, x.data(), w.data(), bias, e, y.data(), scratch.data());
  nk::depthwise_conv2d_plane_reference(g, x.data(), w.data(), bias, e, ref.data());
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!(std::fabs(y[i] - ref[i]) <= 1e-5f * (1.0f + std::fabs(ref[i])))) {
      CHECK_NEAR(y[i], ref[i], 1e-5);
      std::printf("  in %lldx%lld k %lldx%lld s %lldx%lld p %lldx%lld out %lldx%lld at %zu\n", (long long)g.in[0],
                  (long long)g.in[1], (long long)g.kernel[0], (long long)g.kernel[1], (long long)g.stride[0],
                  (long long)g.stride[1], (long long)g.pad[0], (long long)g.pad[1], (long long)g.out[0],
                  (long long)g.out[1], i);
      return;
    }
  }
  CHECK(y.back() == 99.0f);        // no write past the output
  CHECK(scratch.back() == 99.0f);  // nor past the scratch
}

}  // namespace

NETLITE_TEST(depthwise_3x3_fast_matches_reference) {
  Rng r(5);
  for (int64_t s = 1; s <= 2; ++s)
    for (int64_t pad = 0; pad <= 1; ++pad)
      // Widths of one, two and three 32-column blocks and their partial ones (a
      // stride-1 row is NB + 1 loads of 16 columns shifted into the taps).
      for (int64_t ow = 1; ow <= 81; ow += (ow < 18 ? 1 : 7))
        for (int64_t oh = 1; oh <= 13; ++oh) {  // every remainder of the 6-, 4- and 2-row passes
          nk::ConvShape g;
          g.nd = 2;
          for (int d = 0; d < 2; ++d) {
            g.kernel[d] = 3;
            g.stride[d] = s;
            g.dilation[d] = 1;
            g.pad[d] = pad;
            g.out[d] = d == 0 ? oh : ow;
            // An input with the output size by the floor rule, sometimes one extra column/row.
            g.in[d] = (g.out[d] - 1) * s + 3 - 2 * pad + ((oh + ow) % 2 == 0 && s == 2 ? 1 : 0);
            if (g.in[d] < 1) g.in[d] = 1;
          }
          check_depthwise(g, r, (ow + oh) % 3 == 0);
        }
}

// Small "same" planes (3x3, stride 1, pad 1, in = out, narrow) take the
// AVX-512 flat-plane kernel: every width up to and past its limit (wider
// planes take the row kernel), short and tall planes.
NETLITE_TEST(depthwise_3x3_small_same_planes_match_reference) {
  Rng r(29);
  for (int64_t ow = 1; ow <= 18; ++ow)
    for (int64_t oh : {1, 2, 3, 5, 7, 14, 33, 300}) {
      nk::ConvShape g;
      g.nd = 2;
      for (int d = 0; d < 2; ++d) {
        g.kernel[d] = 3;
        g.stride[d] = 1;
        g.dilation[d] = 1;
        g.pad[d] = 1;
        g.out[d] = g.in[d] = d == 0 ? oh : ow;
      }
      check_depthwise(g, r, (ow + oh) % 2 == 0);
    }
}

NETLITE_TEST(depthwise_random_shapes_match_reference) {
  Rng r(17);
  for (int t = 0; t < 200; ++t) {
    nk::ConvShape g = make_shape(r, false);
    if (t % 2 == 0) {  // the AVX-512 3x3 geometry with random sizes
      g.kernel[0] = g.kernel[1] = 3;
      g.dilation[0] = g.dilation[1] = 1;
      g.stride[1] = g.stride[0] = 1 + t % 4 / 2;
      for (int d = 0; d < 2; ++d) {
        g.pad[d] = std::min<int64_t>(g.pad[d], 2);
        if (g.in[d] + 2 * g.pad[d] < 3) g.in[d] = 3;
        g.out[d] = (g.in[d] + 2 * g.pad[d] - 3) / g.stride[d] + 1;
      }
    }
    check_depthwise(g, r, t % 3 == 0);
  }
}

// Channels-last depthwise (kernels/dw_channels_last.h): the dispatched form (AVX-512
// here) against the scalar reference (the plane-at-a-time one, channel by channel),
// on random geometries (every kernel size, stride, dilation and pad, the
// 3-wide fast path with narrow, edge-only and wide rows), channel ranges that are
// and are not multiples of 16 and 64, position strides wider than the channels (a
// gap that must stay untouched), with and without bias and clamp.
NETLITE_TEST(depthwise_channels_last_matches_reference) {
  Rng r(41);
  for (int t = 0; t < 300; ++t) {
    nk::ConvShape g = make_shape(r, false);
    if (t % 3 != 0) {  // the 3-wide fast geometry
      g.kernel[1] = 3;
      g.dilation[1] = 1;
      g.stride[1] = 1 + t % 2;
      g.pad[1] = std::min<int64_t>(g.pad[1], 2);
      if (g.in[1] + 2 * g.pad[1] < 3) g.in[1] = 3;
      g.in[1] = std::min<int64_t>(g.in[1], 1 + t % 20);  // down to the edges alone
      if (g.in[1] + 2 * g.pad[1] < 3) g.pad[1] = 1;
      g.out[1] = (g.in[1] + 2 * g.pad[1] - 3) / g.stride[1] + 1;
    }
    const int64_t C = r.range(1, 150), c0 = t % 4 == 0 ? r.range(0, C - 1) : 0, c1 = t % 5 == 0 ? r.range(c0 + 1, C) : C;
    const int64_t ldx = C + (t % 2 ? 0 : r.range(1, 20)), ldy = C + (t % 3 ? 0 : r.range(1, 20));
    const int64_t P = g.in[0] * g.in[1], Q = g.out[0] * g.out[1], taps = g.kernel[0] * g.kernel[1];
    std::vector<float> x(size_t(P * ldx)), w(size_t(C * taps)), wt(size_t(C * taps)), b(static_cast<size_t>(C));
    for (float& v : x) v = r.uniform() * 2.0f;
    for (float& v : w) v = r.uniform();
    for (float& v : b) v = r.uniform();
    nk::depthwise_taps_major(w.data(), C, taps, wt.data());
    nk::DwChannelsLast a;
    a.x = x.data();
    a.ldx = ldx;
    a.w = wt.data();
    a.ldw = C;
    a.bias = t % 7 == 3 ? nullptr : b.data();
    a.c0 = c0;
    a.c1 = c1;
    a.clamp = t % 2 == 0;
    a.lo = -0.5f;
    a.hi = 1.5f;
    a.ldy = ldy;
    const float sentinel = 1234.5f;
    std::vector<float> got(size_t(Q * ldy), sentinel), want(size_t(Q * ldy), sentinel);
    a.y = got.data();
    nk::depthwise_channels_last(g, a);
    a.y = want.data();
    nk::depthwise_channels_last_reference(g, a);
    double worst = 0;
    bool gaps = true;
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t c = 0; c < ldy; ++c) {
        const float gv = got[size_t(q * ldy + c)], wv = want[size_t(q * ldy + c)];
        if (c < c0 || c >= c1) {
          gaps = gaps && gv == sentinel && wv == sentinel;
          continue;
        }
        worst = std::max(worst, double(std::fabs(gv - wv)) / (1.0 + std::fabs(wv)));
      }
    CHECK_MSG(gaps, "case %d: a channel outside [%lld, %lld) or a gap was written", t, (long long)c0, (long long)c1);
    CHECK_MSG(worst <= 1e-5, "case %d (k %lldx%lld s %lld,%lld d %lld,%lld in %lldx%lld C %lld): worst %.3g", t,
              (long long)g.kernel[0], (long long)g.kernel[1], (long long)g.stride[0], (long long)g.stride[1],
              (long long)g.dilation[0], (long long)g.dilation[1], (long long)g.in[0], (long long)g.in[1], (long long)C,
              worst);
  }
}

// channels_last_bias_act against its reference: bias or none, clamp or none,
// channel counts around the vector width, a position stride with a gap.
NETLITE_TEST(channels_last_bias_act_matches_reference) {
  Rng r(43);
  for (int t = 0; t < 60; ++t) {
    const int64_t n = r.range(1, 40), C = r.range(1, 100), ld = C + (t % 2 ? 0 : r.range(1, 9));
    std::vector<float> b(static_cast<size_t>(C)), y(size_t(n * ld));
    for (float& v : b) v = r.uniform();
    for (float& v : y) v = r.uniform() * 3.0f;
    std::vector<float> want = y;
    const bool clamp = t % 3 != 0;
    const float* bias = t % 4 == 1 ? nullptr : b.data();
    nk::channels_last_bias_act(y.data(), n, C, ld, bias, clamp, 0.0f, 1.0f);
    nk::channels_last_bias_act_reference(want.data(), n, C, ld, bias, clamp, 0.0f, 1.0f);
    CHECK_MSG(y == want, "case %d (n %lld, C %lld, ld %lld)", t, (long long)n, (long long)C, (long long)ld);
  }
}

// im2col (AVX-512 for column strides 1 and 2: one masked load and store per row
// of at most 16 columns) and its portable form against the N-d reference, on
// random windows, pads, dilations and tiles, into panels with a gap (ld > on)
// that must stay untouched.
NETLITE_TEST(im2col_fast_matches_reference) {
  Rng r(23);
  for (int t = 0; t < 400; ++t) {
    nk::ConvShape g = make_shape(r, false);
    if (t % 4 == 0) g.stride[1] = 2;  // the AVX-512 stride-2 rows
    if (t % 4 == 1) g.stride[1] = 1;
    if (t % 8 == 2) g.in[1] = r.range(1, 9);  // rows of a few columns: padding on both sides
    const int64_t span = (g.kernel[1] - 1) * g.dilation[1] + 1;
    if (g.in[1] + g.pad[1] < span) continue;
    g.out[1] = (g.in[1] + 2 * g.pad[1] - span) / g.stride[1] + 1;
    const int64_t channels = r.range(1, 3);
    std::vector<float> x(size_t(channels * g.in_size()));
    for (float& v : x) v = r.uniform();
    const int64_t o0 = r.range(0, g.out_size() - 1), on = r.range(1, g.out_size() - o0);
    const int64_t K = g.kernel_size(), ld = on + r.range(0, 3);
    std::vector<float> col(size_t(channels * K * ld) + 1, 5.0f), ref(col.size(), 5.0f);
    col.back() = ref.back() = 99.0f;
    std::vector<float> scalar(col);
    nk::im2col(g, x.data(), channels, o0, on, col.data(), ld);
    nk::im2col_scalar(g, x.data(), channels, o0, on, scalar.data(), ld);
    nk::im2col_reference(g, x.data(), channels, o0, on, ref.data(), ld);
    if (std::memcmp(col.data(), ref.data(), col.size() * sizeof(float)) != 0 ||
        std::memcmp(scalar.data(), ref.data(), col.size() * sizeof(float)) != 0) {
      CHECK(false);
      return;
    }
  }
}
