// netlite.DepthwiseBlock (passes/fuse_conv.cc fuse_depthwise_block +
// ops/depthwise_block.cc): [1x1 Conv ->] depthwise Conv -> 1x1 Conv [+ Add]
// models built as ONNX, loaded with optimize on (the block, 1 to 3 threads:
// bands, several ranges, and the staged path for small images) against the
// same model with optimize off (three plain Convs), on random data. Tolerance
// 1e-5 relative to 1 + |y|: both sum the same products, in another order.
// Also: which patterns fuse, and that an expand conv read by another node, or
// padding the bands cannot take, leaves a correct graph; and a stem in the expand
// conv's place.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../../native/src/kernels/conv_small_c.h"
#include "check.h"
#include "model_runner.h"
#include "onnx_builder.h"

using namespace netlite_test;

namespace dwblock_test {

struct Case {
  const char* what;
  int64_t N, C, E, P, H, W, k, stride;
  std::vector<int64_t> pads;  // [top, left, bottom, right]
  int64_t dilation;
  bool expand, residual;
  const char* act;        // "Relu" or "Clip" (0..6) after the expand and depthwise convs
  bool fuses;             // a DepthwiseBlock is expected
  bool expand_shared;     // the expand output is also a graph output (so it must stay a Conv)
};

// Random conv weight `name` of `dims` in [-scale, scale] and its bias `name`_b.
void add_weights(GraphSpec& g, uint32_t& seed, const std::string& name, const std::vector<int64_t>& dims, float scale) {
  size_t n = 1;
  for (int64_t d : dims) n *= size_t(d);
  g.initializers.push_back(tensor_f32(name, dims, random_vec(n, seed++, -scale, scale)));
  g.initializers.push_back(tensor_f32(name + "_b", {dims[0]}, random_vec(size_t(dims[0]), seed++, -0.5f, 0.5f)));
}

// A graph with the Clip bounds "lo" (0) and "hi" (6) among its initializers.
GraphSpec graph_with_clip_bounds() {
  GraphSpec g;
  g.initializers.push_back(tensor_f32("lo", {}, {0.0f}));
  g.initializers.push_back(tensor_f32("hi", {}, {6.0f}));
  return g;
}

std::string build(const Case& c, bool free_dims = false) {
  GraphSpec g = graph_with_clip_bounds();
  uint32_t seed = uint32_t(c.C * 131 + c.E * 17 + c.H);
  auto weights = [&](const std::string& name, std::vector<int64_t> dims, float scale) {
    add_weights(g, seed, name, dims, scale);
  };
  auto act = [&](const std::string& in, const std::string& out) {
    if (std::string(c.act) == "Relu") g.nodes.push_back(node("Relu", {in}, {out}));
    else g.nodes.push_back(node("Clip", {in, "lo", "hi"}, {out}));
  };
  std::string x = "x";
  if (c.expand) {
    weights("we", {c.E, c.C, 1, 1}, 0.5f);
    g.nodes.push_back(node("Conv", {"x", "we", "we_b"}, {"e"}, "expand", {attr_ints("kernel_shape", {1, 1})}));
    act("e", "ea");
    x = "ea";
  }
  weights("wd", {c.E, 1, c.k, c.k}, 0.6f);
  g.nodes.push_back(node("Conv", {x, "wd", "wd_b"}, {"d"}, "depthwise",
                         {attr_ints("kernel_shape", {c.k, c.k}), attr_ints("strides", {c.stride, c.stride}),
                          attr_ints("pads", c.pads), attr_ints("dilations", {c.dilation, c.dilation}),
                          attr_int("group", c.E)}));
  act("d", "da");
  weights("wp", {c.P, c.E, 1, 1}, 0.3f);
  g.nodes.push_back(node("Conv", {"da", "wp", "wp_b"}, {c.residual ? "p" : "y"}, "project"));
  if (c.residual) {
    g.nodes.push_back(node("Add", {"p", "x"}, {"s"}));
    g.nodes.push_back(node("Relu", {"s"}, {"y"}));
  }
  g.inputs.push_back(value_info("x", 1, free_dims ? std::vector<int64_t>{-1, -1, -1, -1} : std::vector<int64_t>{-1, c.C, c.H, c.W}));
  g.outputs.push_back(value_info("y", 1, {}));
  if (c.expand_shared) g.outputs.push_back(value_info("ea", 1, {}));
  g.opset = 13;
  return model(g);
}

struct Result {
  std::vector<std::vector<float>> outs;
  std::map<std::string, int> ops;
};

Result run(const std::string& bytes, bool optimize, int threads, const std::vector<float>& x,
           const netlite::Shape& xs) {
  RunResult run = load_and_run(bytes, optimize, threads, {{netlite::DType::Float32, xs, x.data(), x.size() * sizeof(float)}},
                               2);  // a second run reuses the plan and the buffers
  Result r;
  r.ops = std::move(run.ops);
  for (const std::vector<uint8_t>& o : run.outputs) {
    r.outs.emplace_back(o.size() / sizeof(float));
    if (!o.empty()) std::memcpy(r.outs.back().data(), o.data(), o.size());
  }
  return r;
}

// Every output of `got` within 1e-5 of `ref`, relative to 1 + |ref|.
void check_close(const Result& ref, const Result& got, const char* what, int threads) {
  if (!CHECK(got.outs.size() == ref.outs.size())) return;
  for (size_t o = 0; o < ref.outs.size(); ++o) {
    if (!CHECK(got.outs[o].size() == ref.outs[o].size())) continue;
    double worst = 0;
    for (size_t i = 0; i < ref.outs[o].size(); ++i)
      worst = std::max(worst, std::fabs(double(got.outs[o][i]) - ref.outs[o][i]) / (1.0 + std::fabs(ref.outs[o][i])));
    CHECK_MSG(worst <= 1e-5, "%s, %d threads, output %zu: worst rel diff %.3g", what, threads, o, worst);
  }
}

// Running the model (optimize on) on x fails with an error that names the block
// and contains `word`.
bool fails_naming_block(const std::string& bytes, const std::vector<float>& x, const netlite::Shape& xs,
                        const char* word) {
  try {
    run(bytes, true, 1, x, xs);
  } catch (const std::exception& e) {
    const std::string m = e.what();
    const bool named = m.find("DepthwiseBlock 'depthwise'") != std::string::npos && m.find(word) != std::string::npos;
    if (!named) std::printf("  message: %s\n", e.what());
    return named;
  }
  return false;
}

}  // namespace dwblock_test

NETLITE_TEST(depthwise_block_matches_three_convs) {
  using namespace dwblock_test;
  const std::vector<int64_t> p1 = {1, 1, 1, 1};
  const Case cases[] = {
      {"MobileNet-V2 stride 1 + residual", 1, 8, 48, 8, 20, 20, 3, 1, p1, 1, true, true, "Clip", true, false},
      {"stride 2, odd sizes", 1, 8, 24, 16, 23, 17, 3, 2, p1, 1, true, false, "Relu", true, false},
      {"no expand conv", 1, 16, 16, 8, 15, 15, 3, 1, p1, 1, false, false, "Clip", true, false},
      {"5x5 stride 2", 1, 6, 12, 10, 19, 21, 5, 2, {2, 2, 2, 2}, 1, true, false, "Relu", true, false},
      {"dilation 2", 1, 6, 12, 6, 17, 13, 3, 1, {2, 2, 2, 2}, 2, true, true, "Clip", true, false},
      {"uneven pads", 1, 5, 20, 7, 16, 18, 3, 2, {1, 0, 0, 1}, 1, true, false, "Relu", true, false},
      {"batch 3", 3, 8, 32, 8, 12, 12, 3, 1, p1, 1, true, true, "Clip", true, false},
      {"many bands", 1, 4, 64, 4, 64, 72, 3, 1, p1, 1, true, true, "Clip", true, false},
      {"many bands, stride 2", 1, 4, 96, 12, 70, 66, 3, 2, p1, 1, true, false, "Clip", true, false},
      {"small image (stages)", 1, 16, 96, 16, 7, 7, 3, 1, p1, 1, true, true, "Clip", true, false},
      {"1 row", 1, 8, 16, 8, 1, 9, 3, 1, p1, 1, true, true, "Relu", true, false},
      {"empty batch", 0, 8, 16, 8, 9, 9, 3, 1, p1, 1, true, true, "Relu", true, false},
      {"pads past the kernel", 1, 8, 16, 8, 9, 9, 3, 1, {3, 3, 3, 3}, 1, true, false, "Relu", false, false},
      {"expand output also read", 1, 8, 16, 8, 10, 10, 3, 1, p1, 1, true, false, "Relu", true, true},
  };
  for (const Case& c : cases) {
    const std::string bytes = build(c);
    const netlite::Shape xs = {c.N, c.C, c.H, c.W};
    const std::vector<float> x = random_vec(size_t(c.N * c.C * c.H * c.W), uint32_t(c.H * 7 + c.W), -2.0f, 2.0f);
    const Result ref = run(bytes, false, 1, x, xs);
    for (int threads : {1, 2, 3}) {
      const Result got = run(bytes, true, threads, x, xs);
      CHECK_MSG(got.ops.count("DepthwiseBlock") == (c.fuses ? 1u : 0u), "%s: %d DepthwiseBlock nodes", c.what,
                got.ops.count("DepthwiseBlock") ? got.ops.at("DepthwiseBlock") : 0);
      if (c.fuses) CHECK_MSG(got.ops.count("Conv") == (c.expand_shared ? 1u : 0u), "%s: Conv left", c.what);
      check_close(ref, got, c.what, threads);
    }
  }
}

// A wrong channel count (the model leaves it free) is reported naming the block, not a crash.
NETLITE_TEST(depthwise_block_rejects_wrong_channels) {
  using namespace dwblock_test;
  const Case c = {"", 1, 8, 16, 8, 10, 10, 3, 1, {1, 1, 1, 1}, 1, true, false, "Relu", true, false};
  CHECK(fails_naming_block(build(c, true), std::vector<float>(size_t(5 * 10 * 10), 1.0f), {1, 5, 10, 10},
                           "channels"));
}

// Small planes: the project GEMM runs turned around on weights packed in place at the
// first plan, when the Netlite kernels run, the plan runs bands (not stages) and it
// pays (bands of few positions, K = E large enough). Against the same model with
// optimize off on the scalar reference GEMM (nothing packed there), 1-3 threads, two
// runs each; the weight "wp" must be packed exactly when expected, and "we" when the
// block runs channels last (which weights may
// be packed at all: test_conv_small_n).
NETLITE_TEST(depthwise_block_transposed_project) {
  using namespace dwblock_test;
  namespace nk = netlite::kernels;
  const std::vector<int64_t> p1 = {1, 1, 1, 1};
  struct TCase {
    Case c;
    bool packs[3];  // at 1, 2, 3 threads (2-3 threads on 7 rows of one image: stages, packed only channels last)
    bool cl[3];     // channels last (the expand weights packed too): planes of at most 784 positions
  };
  const std::vector<int64_t> p0 = {0, 0, 0, 0};
  const TCase cases[] = {
      {{"7x7 + residual, P = 56 (a partial strip)", 1, 56, 512, 56, 7, 7, 3, 1, p1, 1, true, true, "Clip", true, false},
       {true, true, true}, {true, true, true}},
      {{"14x14 -> 7x7, stride 2", 1, 16, 320, 64, 14, 14, 3, 2, p1, 1, true, false, "Relu", true, false},
       {true, true, true}, {true, true, true}},
      // (The batch is free: the load-time plan, which decides, sees 1 image.)
      {{"batch 2, no expand conv", 2, 384, 384, 64, 7, 7, 3, 1, p1, 1, false, false, "Clip", true, false},
       {true, false, false}, {false, false, false}},
      {{"12x12: two bands of 72 positions at 2 threads", 1, 64, 256, 64, 12, 12, 3, 1, p1, 1, true, true, "Clip", true,
        false},
       {true, true, true}, {true, true, true}},
      {{"14x14: 196 positions at 1 thread, 2 bands of 98 at 2", 1, 32, 576, 96, 14, 14, 3, 1, p1, 1, true, false,
        "Clip", true, false},
       {true, true, true}, {true, true, true}},
      {{"7x7, E = 48 and P = 40 (partial strips)", 1, 8, 48, 40, 7, 7, 3, 1, p1, 1, true, false, "Relu", true, false},
       {true, true, true}, {true, true, true}},
      // 5 project strips: at 2 and 3 threads the shares are cut inside strips.
      {{"7x7 + residual, P = 160 (MobileNet-V2's)", 1, 160, 192, 160, 7, 7, 3, 1, p1, 1, true, true, "Clip", true,
        false},
       {true, true, true}, {true, true, true}},
      {{"5x5 kernel, 9x9, E = 72", 1, 40, 72, 40, 9, 9, 5, 1, {2, 2, 2, 2}, 1, true, true, "Clip", true, false},
       {true, true, true}, {true, true, true}},
      // 29x29 (841 input positions) -> 7x7 (stride 4): bands in the usual layout, so the project
      // weights alone are packed when the transposed GEMM pays: on one thread's 7 rows and
      // three threads' bands of 3 (the ranges' input rows do not overlap at stride 4, so few
      // rows per thread still run in bands), not on two threads' 4 (28 positions).
      {{"29x29 -> 7x7, E = 512, P = 64", 1, 16, 512, 64, 29, 29, 3, 4, p0, 1, true, false, "Clip", true, false},
       {true, false, true}, {false, false, false}},
      {{"29x29 -> 7x7, E = 24: not worth it", 1, 8, 24, 64, 29, 29, 3, 4, p0, 1, true, false, "Relu", true, false},
       {false, false, false}, {false, false, false}},
      {{"29x29 -> 7x7, P = 40: the channels would pad more", 1, 8, 512, 40, 29, 29, 3, 4, p0, 1, true, false,
        "Relu", true, false},
       {false, false, false}, {false, false, false}},
      // 28x28 (784 positions), the largest plane that runs channels last.
      {{"28x28, E = 192, P = 32", 1, 32, 192, 32, 28, 28, 3, 1, p1, 1, true, true, "Clip", true, false},
       {true, true, true}, {true, true, true}},
  };
  auto load = [](const std::string& bytes, bool optimize, int threads, nk::GemmBackend gemm) {
    netlite::ModelOptions o;
    o.optimize = optimize;
    o.threads = threads;
    o.gemm = gemm;
    return netlite::Model::load_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
  };
  auto weight = [](const netlite::Model& m, const char* name = "wp") {
    const netlite::Tensor& t = m.graph().values[size_t(m.graph().find_value(name))].data;
    return std::vector<float>(t.ptr<float>(), t.ptr<float>() + t.numel());
  };
  auto output = [](const netlite::Model& m, const netlite::Shape& xs, const std::vector<float>& x) {
    netlite::Session s(m);
    for (int rep = 0; rep < 2; ++rep) {
      s.set_input(0, netlite::DType::Float32, xs, x.data(), x.size() * sizeof(float));
      s.run();
    }
    const netlite::Tensor& y = s.output(0);
    return std::vector<float>(y.ptr<float>(), y.ptr<float>() + y.numel());
  };
  for (const TCase& tc : cases) {
    const Case& c = tc.c;
    const std::string bytes = build(c);
    const netlite::Shape xs = {c.N, c.C, c.H, c.W};
    const std::vector<float> x = random_vec(size_t(c.N * c.C * c.H * c.W), uint32_t(c.H * 5 + c.C), -2.0f, 2.0f);
    const auto ref_model = load(bytes, false, 1, nk::GemmBackend::Reference);
    const std::vector<float> ref = output(*ref_model, xs, x), wp = weight(*ref_model);
    const std::vector<float> we = c.expand ? weight(*ref_model, "we") : std::vector<float>();
    for (int threads : {1, 2, 3}) {
      const auto m = load(bytes, true, threads, nk::GemmBackend::Auto);
      CHECK_MSG(m->graph().find_value("wp") >= 0, "%s: no value wp", c.what);
      const bool packed = weight(*m) != wp;  // by the load-time plan (the first)
      CHECK_MSG(packed == (tc.packs[threads - 1] && nk::gemm_uses_netlite(nk::GemmBackend::Auto)),
                "%s, %d threads: packed %d", c.what, threads, int(packed));
      if (c.expand) {
        const bool cl = weight(*m, "we") != we;
        CHECK_MSG(cl == (tc.cl[threads - 1] && nk::gemm_uses_netlite(nk::GemmBackend::Auto)),
                  "%s, %d threads: channels last %d", c.what, threads, int(cl));
      }
      const std::vector<float> got = output(*m, xs, x);
      if (!CHECK(got.size() == ref.size())) continue;
      double worst = 0;
      for (size_t i = 0; i < ref.size(); ++i)
        worst = std::max(worst, std::fabs(double(got[i]) - ref[i]) / (1.0 + std::fabs(ref[i])));
      CHECK_MSG(worst <= 1e-5, "%s, %d threads: worst rel diff %.3g", c.what, threads, worst);
    }
  }
}

// An image model's first conv (the stem, <= 4 input channels, stride 2) -> depthwise
// Conv -> 1x1 Conv: where the direct small_c kernel runs, the stem takes the expand
// conv's place in the block (MobileNet-V2's features.0 + features.1), against the same
// model with optimize off, 1-3 threads (one range, several, more threads than rows).
// Stems the kernel does not take, or whose output another node reads, stay Convs.
NETLITE_TEST(depthwise_block_with_stem_matches_convs) {
  using namespace dwblock_test;
  namespace nk = netlite::kernels;
  struct StemCase {
    const char* what;
    int64_t N, C, E, P, H, W, k, stride;
    std::vector<int64_t> pads;  // the stem's [top, left, bottom, right]; empty: auto_pad
    const char* auto_pad;
    int64_t dk;     // the depthwise kernel (stride 1, "same" pads)
    bool act;       // Clip(0, 6) after the stem and the depthwise conv
    bool shared;    // the stem's output is also a graph output
    bool fuses;     // where small_c runs
  };
  const StemCase cases[] = {
      {"MobileNet-V2's stem, 3x3 pad 1", 1, 3, 32, 16, 64, 64, 3, 2, {1, 1, 1, 1}, "", 3, true, false, true},
      {"odd image, no bias clamp", 1, 3, 16, 8, 37, 29, 3, 2, {1, 1, 1, 1}, "", 3, false, false, true},
      {"7x7 pad 3, one channel", 1, 1, 24, 12, 45, 50, 7, 2, {3, 3, 3, 3}, "", 3, true, false, true},
      {"5x5, uneven pads, 4 channels", 2, 4, 20, 9, 33, 31, 5, 2, {2, 1, 1, 2}, "", 5, true, false, true},
      {"SAME_UPPER", 1, 3, 16, 8, 30, 27, 3, 2, {}, "SAME_UPPER", 3, true, false, true},
      {"tiny image (more threads than rows)", 1, 3, 16, 8, 4, 6, 3, 2, {1, 1, 1, 1}, "", 3, true, false, true},
      {"stem output also read", 1, 3, 16, 8, 20, 20, 3, 2, {1, 1, 1, 1}, "", 3, true, true, false},
      {"stride 1 (not a small_c conv)", 1, 3, 16, 8, 20, 20, 3, 1, {1, 1, 1, 1}, "", 3, true, false, false},
      {"5 channels (not a small_c conv)", 1, 5, 16, 8, 20, 20, 3, 2, {1, 1, 1, 1}, "", 3, true, false, false},
  };
  auto build_stem = [](const StemCase& c, bool free_dims) {
    GraphSpec g = graph_with_clip_bounds();
    uint32_t seed = uint32_t(c.C * 31 + c.E * 7 + c.H);
    auto weights = [&](const std::string& name, std::vector<int64_t> dims, float scale) {
      add_weights(g, seed, name, dims, scale);
    };
    weights("ws", {c.E, c.C, c.k, c.k}, 0.4f);
    std::vector<AttrSpec> sa = {attr_ints("kernel_shape", {c.k, c.k}), attr_ints("strides", {c.stride, c.stride})};
    if (!c.pads.empty()) sa.push_back(attr_ints("pads", c.pads));
    if (*c.auto_pad) {
      AttrSpec ap = attr_spec("auto_pad", 3);
      ap.s = c.auto_pad;
      sa.push_back(ap);
    }
    g.nodes.push_back(node("Conv", {"x", "ws", "ws_b"}, {c.act ? "s" : "sa"}, "stem", sa));
    if (c.act) g.nodes.push_back(node("Clip", {"s", "lo", "hi"}, {"sa"}));
    weights("wd", {c.E, 1, c.dk, c.dk}, 0.6f);
    const int64_t dp = c.dk / 2;
    g.nodes.push_back(node("Conv", {"sa", "wd", "wd_b"}, {c.act ? "d" : "da"}, "depthwise",
                           {attr_ints("kernel_shape", {c.dk, c.dk}), attr_ints("pads", {dp, dp, dp, dp}),
                            attr_int("group", c.E)}));
    if (c.act) g.nodes.push_back(node("Clip", {"d", "lo", "hi"}, {"da"}));
    weights("wp", {c.P, c.E, 1, 1}, 0.3f);
    g.nodes.push_back(node("Conv", {"da", "wp", "wp_b"}, {"y"}, "project"));
    g.inputs.push_back(value_info("x", 1, free_dims ? std::vector<int64_t>{-1, -1, -1, -1}
                                                    : std::vector<int64_t>{-1, c.C, c.H, c.W}));
    g.outputs.push_back(value_info("y", 1, {}));
    if (c.shared) g.outputs.push_back(value_info("sa", 1, {}));
    g.opset = 13;
    return model(g);
  };
  for (const StemCase& c : cases) {
    const std::string bytes = build_stem(c, false);
    const netlite::Shape xs = {c.N, c.C, c.H, c.W};
    const std::vector<float> x = random_vec(size_t(c.N * c.C * c.H * c.W), uint32_t(c.H * 3 + c.W), -2.0f, 2.0f);
    const Result ref = run(bytes, false, 1, x, xs);
    const bool fuses = c.fuses && nk::small_c_conv_available();
    for (int threads : {1, 2, 3}) {
      const Result got = run(bytes, true, threads, x, xs);
      CHECK_MSG(got.ops.count("DepthwiseBlock") == 1u, "%s: no DepthwiseBlock", c.what);
      CHECK_MSG(got.ops.count("Conv") == (fuses ? 0u : 1u), "%s, %d threads: %d Conv nodes (fuses: %d)", c.what,
                threads, got.ops.count("Conv") ? got.ops.at("Conv") : 0, int(fuses));
      check_close(ref, got, c.what, threads);
    }
  }
  // A channel count the stem's weight does not take (the model leaves it free) is an
  // error naming the block.
  if (nk::small_c_conv_available())
    CHECK(fails_naming_block(build_stem(cases[0], true), std::vector<float>(size_t(2 * 16 * 16), 1.0f),
                             {1, 2, 16, 16}, "stem weight"));
}
