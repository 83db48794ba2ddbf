// netlite.ConvMaxPool (passes/fuse_conv.cc fuse_conv_max_pool +
// ops/conv_max_pool.cc): a first-layer Conv [-> Relu / Clip] -> MaxPool built
// as ONNX, loaded with optimize on (the fused op, 1 to 3 threads: bands, rows
// carried between bands, several ranges per image) against the same model with
// optimize off (Conv, activation and MaxPool as written), on random data. Both
// compute each conv value with the same kernel and pooling only selects values,
// so the outputs must be equal, value for value. Also: which patterns fuse, and
// that a crafted node with a conv it cannot run is refused naming it.
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

namespace conv_max_pool_test {

struct Case {
  const char* what;
  int64_t N, C, M, H, W, k, conv_stride, conv_pad;
  std::vector<AttrSpec> pool;  // MaxPool attributes
  const char* act;             // "Relu", "Clip" (-1..1) or "" (none)
  bool bias;
  bool fuses;
  bool conv_output_read = false;  // the conv output is a graph output too
  bool indices = false;           // the MaxPool has its Indices output
};

std::string build(const Case& c) {
  GraphSpec g;
  const uint32_t seed = uint32_t(c.C * 131 + c.M * 17 + c.H);
  g.initializers.push_back(tensor_f32("w", {c.M, c.C, c.k, c.k}, random_vec(size_t(c.M * c.C * c.k * c.k), seed, -0.5f, 0.5f)));
  std::vector<std::string> conv_in = {"x", "w"};
  if (c.bias) {
    g.initializers.push_back(tensor_f32("b", {c.M}, random_vec(size_t(c.M), seed + 1, -0.5f, 0.5f)));
    conv_in.push_back("b");
  }
  const int64_t p = c.conv_pad;
  g.nodes.push_back(node("Conv", conv_in, {"c"}, "conv1",
                         {attr_ints("kernel_shape", {c.k, c.k}), attr_ints("strides", {c.conv_stride, c.conv_stride}),
                          attr_ints("pads", {p, p, p, p})}));
  std::string pooled_in = "c";
  const std::string act = c.act;
  if (act == "Relu") {
    g.nodes.push_back(node("Relu", {"c"}, {"a"}));
    pooled_in = "a";
  } else if (act == "Clip") {
    g.initializers.push_back(tensor_f32("lo", {}, {-1.0f}));
    g.initializers.push_back(tensor_f32("hi", {}, {1.0f}));
    g.nodes.push_back(node("Clip", {"c", "lo", "hi"}, {"a"}));
    pooled_in = "a";
  }
  std::vector<std::string> outs = {"y"};
  if (c.indices) outs.push_back("idx");
  g.nodes.push_back(node("MaxPool", {pooled_in}, outs, "pool", c.pool));
  g.inputs.push_back(value_info("x", 1, {-1, c.C, c.H, c.W}));
  g.outputs.push_back(value_info("y", 1, {}));
  if (c.indices) g.outputs.push_back(value_info("idx", 7, {}));
  if (c.conv_output_read) g.outputs.push_back(value_info(pooled_in, 1, {}));
  g.opset = 13;
  return model(g);
}

RunResult run(const std::string& bytes, bool optimize, int threads, const std::vector<float>& x,
              const netlite::Shape& xs) {
  return load_and_run(bytes, optimize, threads, {{netlite::DType::Float32, xs, x.data(), x.size() * sizeof(float)}},
                      2);  // a second run reuses the plan and the buffers
}

AttrSpec auto_pad(const char* v) {
  AttrSpec a = attr_spec("auto_pad", 3);
  a.s = v;
  return a;
}

}  // namespace conv_max_pool_test

NETLITE_TEST(conv_max_pool_matches_conv_then_pool) {
  using namespace conv_max_pool_test;
  const bool direct = netlite::kernels::small_c_conv_available();  // the pass fuses only where the kernel runs
  const AttrSpec k3 = attr_ints("kernel_shape", {3, 3}), s2 = attr_ints("strides", {2, 2});
  const Case cases[] = {
      {"SqueezeNet-like (3x3, ceil mode)", 1, 3, 16, 35, 37, 3, 2, 0, {k3, s2, attr_int("ceil_mode", 1)}, "Relu", true,
       true},
      {"ResNet-like (7x7 pad 3, pool pad 1)", 1, 3, 8, 40, 38, 7, 2, 3, {k3, s2, attr_ints("pads", {1, 1, 1, 1})},
       "Relu", true, true},
      {"2x2 pool, Clip, no bias, one channel", 1, 1, 5, 33, 29, 3, 2, 1, {attr_ints("kernel_shape", {2, 2}), s2},
       "Clip", false, true},
      {"overlapping windows (stride 1)", 1, 4, 6, 30, 26, 5, 2, 2,
       {k3, attr_ints("pads", {1, 1, 1, 1})}, "", true, true},
      {"dilated pool, uneven pads", 1, 2, 7, 31, 27, 3, 2, 1,
       {attr_ints("kernel_shape", {2, 3}), s2, attr_ints("dilations", {2, 1}), attr_ints("pads", {0, 1, 1, 0})},
       "Relu", true, true},
      {"SAME_UPPER pool", 1, 3, 9, 29, 31, 3, 2, 1, {k3, s2, auto_pad("SAME_UPPER")}, "Relu", true, true},
      {"batch 3", 3, 3, 12, 26, 22, 3, 2, 1, {k3, s2}, "Relu", true, true},
      {"many bands", 1, 3, 64, 220, 204, 3, 2, 1, {k3, s2, attr_int("ceil_mode", 1)}, "Relu", true, true},
      {"tiny image", 1, 3, 4, 5, 5, 3, 2, 0, {k3, s2, attr_ints("pads", {1, 1, 1, 1})}, "Relu", true, true},
      {"empty batch", 0, 3, 8, 20, 20, 3, 2, 1, {k3, s2}, "Relu", true, true},
      {"stride-1 conv (not the direct kernel)", 1, 3, 8, 20, 20, 3, 1, 1, {k3, s2}, "Relu", true, false},
      {"five input channels", 1, 5, 8, 20, 20, 3, 2, 1, {k3, s2}, "Relu", true, false},
      {"conv output also read", 1, 3, 8, 20, 20, 3, 2, 1, {k3, s2}, "Relu", true, false, true},
      {"pool Indices output", 1, 3, 8, 20, 20, 3, 2, 1, {k3, s2}, "Relu", true, false, false, true},
  };
  for (const Case& c : cases) {
    const std::string bytes = build(c);
    const netlite::Shape xs = {c.N, c.C, c.H, c.W};
    const std::vector<float> x = random_vec(size_t(c.N * c.C * c.H * c.W), uint32_t(c.H * 7 + c.W), -2.0f, 2.0f);
    const RunResult ref = run(bytes, false, 1, x, xs);
    for (int threads : {1, 2, 3}) {
      const RunResult got = run(bytes, true, threads, x, xs);
      const bool fused = got.ops.count("ConvMaxPool") != 0;
      CHECK_MSG(fused == (c.fuses && direct), "%s: %s", c.what, fused ? "fused" : "not fused");
      if (fused) CHECK_MSG(got.ops.count("MaxPool") == 0 && got.ops.count("Conv") == 0, "%s: nodes left", c.what);
      if (!CHECK(got.outputs.size() == ref.outputs.size())) continue;
      for (size_t o = 0; o < ref.outputs.size(); ++o) {
        if (!CHECK_MSG(got.outputs[o].size() == ref.outputs[o].size(), "%s: output %zu size", c.what, o)) continue;
        if (o == 1 && c.indices) {
          CHECK_MSG(got.outputs[o] == ref.outputs[o], "%s: indices differ", c.what);
          continue;
        }
        const size_t n = ref.outputs[o].size() / sizeof(float);
        std::vector<float> a(n), b(n);
        if (n) {
          std::memcpy(a.data(), got.outputs[o].data(), n * sizeof(float));
          std::memcpy(b.data(), ref.outputs[o].data(), n * sizeof(float));
        }
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; ++i)
          if (!(a[i] == b[i]) && bad++ == 0) first = i;
        CHECK_MSG(bad == 0, "%s, %d threads, output %zu: %zu of %zu values differ (first at %zu: %g vs %g)", c.what,
                  threads, o, bad, n, first, bad ? double(a[first]) : 0.0, bad ? double(b[first]) : 0.0);
      }
    }
  }
}

// A netlite.ConvMaxPool node written into a model with a conv the op does not
// take (8 input channels) is refused at plan time naming the node, not run.
NETLITE_TEST(conv_max_pool_rejects_unsupported_conv) {
  using namespace conv_max_pool_test;
  GraphSpec g;
  g.initializers.push_back(tensor_f32("w", {4, 8, 3, 3}, random_vec(4 * 8 * 9, 3, -1.0f, 1.0f)));
  g.nodes.push_back(node("ConvMaxPool", {"x", "w"}, {"y"}, "crafted",
                         {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}),
                          attr_ints("pool.kernel_shape", {2, 2})},
                         "netlite"));
  g.inputs.push_back(value_info("x", 1, {1, 8, 16, 16}));
  g.outputs.push_back(value_info("y", 1, {}));
  g.opset = 13;
  g.domains = {{"netlite", 1}};
  const std::vector<float> x(8 * 16 * 16, 1.0f);
  bool threw = false;
  try {
    run(model(g), true, 1, x, {1, 8, 16, 16});
  } catch (const std::exception& e) {
    const std::string m = e.what();
    threw = m.find("crafted") != std::string::npos && m.find("input channels") != std::string::npos;
    if (!threw) std::printf("  message: %s\n", e.what());
  }
  CHECK(threw);
}
