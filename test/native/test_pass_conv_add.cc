// passes::fold_add_into_conv: Conv -> Add(constant) becomes one Conv whose bias
// includes the constant when the constant is one value per output channel
// ([M,1,1], [1,M,1,1]) or one value ([1], a scalar), on either side of the Add,
// with or without a conv bias; the Relu after it then fuses too. Shapes that
// broadcast along another axis ([M] runs along W), a non-constant operand and a
// conv output that is also a graph output stay an Add. Each model runs with
// optimize on and off and the outputs must agree.
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "check.h"
#include "model_runner.h"
#include "onnx_builder.h"

using namespace netlite_test;

namespace conv_add_test {

struct Case {
  const char* what;
  std::vector<int64_t> k_dims;  // the Add's constant
  bool k_first;                 // Add(k, conv) instead of Add(conv, k)
  bool conv_bias;
  bool conv_is_output;  // the conv output is also a graph output
  int64_t opset;
  bool folds;
};

constexpr int64_t kC = 3, kM = 4, kH = 6, kW = kM;  // W == M: an [M] constant is valid, and runs along W

std::string build(const Case& c) {
  GraphSpec g;
  uint32_t seed = 7;
  g.initializers.push_back(tensor_f32("w", {kM, kC, 3, 3}, random_vec(size_t(kM * kC * 9), seed++, -0.5f, 0.5f)));
  std::vector<std::string> conv_in = {"x", "w"};
  if (c.conv_bias) {
    g.initializers.push_back(tensor_f32("b", {kM}, random_vec(size_t(kM), seed++, -0.5f, 0.5f)));
    conv_in.push_back("b");
  }
  size_t kn = 1;
  for (int64_t d : c.k_dims) kn *= size_t(d);
  g.initializers.push_back(tensor_f32("k", c.k_dims, random_vec(kn, seed++, -1.0f, 1.0f)));
  g.nodes.push_back(node("Conv", conv_in, {"c"}, "conv", {attr_ints("kernel_shape", {3, 3}), attr_ints("pads", {1, 1, 1, 1})}));
  g.nodes.push_back(node("Add", c.k_first ? std::vector<std::string>{"k", "c"} : std::vector<std::string>{"c", "k"}, {"a"}, "add"));
  g.nodes.push_back(node("Relu", {"a"}, {"y"}, "relu"));
  g.inputs.push_back(value_info("x", 1, {1, kC, kH, kW}));
  g.outputs.push_back(value_info("y", 1, {}));
  if (c.conv_is_output) g.outputs.push_back(value_info("c", 1, {}));
  g.opset = c.opset;
  return model(g);
}

std::vector<float> floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

}  // namespace conv_add_test

NETLITE_TEST(pass_fold_add_into_conv) {
  using namespace conv_add_test;
  const Case cases[] = {
      {"[1,M,1,1]", {1, kM, 1, 1}, false, true, false, 13, true},
      {"[M,1,1] first", {kM, 1, 1}, true, true, false, 13, true},
      {"[M,1,1] without a conv bias", {kM, 1, 1}, false, false, false, 8, true},
      {"[1]", {1}, false, true, false, 13, true},
      {"scalar", {}, true, false, false, 13, true},
      {"[M] (along W)", {kM}, false, true, false, 13, false},
      {"[1,M,1,W]", {1, kM, 1, kW}, false, true, false, 13, false},
      {"[1,1,H,1]", {1, 1, kH, 1}, false, true, false, 13, false},
      {"[2,M,1,1] (broadcasts the batch)", {2, kM, 1, 1}, false, true, false, 13, false},
      {"conv output also a graph output", {1, kM, 1, 1}, false, true, true, 13, false},
  };
  const std::vector<float> x = random_vec(size_t(kC * kH * kW), 99, -1.0f, 1.0f);
  const std::vector<Feed> feeds = {{netlite::DType::Float32, {1, kC, kH, kW}, x.data(), x.size() * sizeof(float)}};
  for (const Case& c : cases) {
    const std::string bytes = build(c);
    const RunResult ref = load_and_run(bytes, false, 1, feeds);
    RunResult got;
    try {
      got = load_and_run(bytes, true, 1, feeds);
    } catch (const std::exception& e) {
      CHECK_MSG(false, "%s: %s", c.what, e.what());
      continue;
    }
    const bool folded = got.ops.count("Add") == 0;
    CHECK_MSG(folded == c.folds, "%s: Add %s", c.what, folded ? "folded" : "kept");
    // Folded, the Relu fuses into the Conv as well: one node left.
    if (c.folds) CHECK_MSG(got.ops.size() == 1 && got.ops["Conv"] == 1, "%s: %zu op types left", c.what, got.ops.size());
    if (!CHECK(got.outputs.size() == ref.outputs.size())) continue;
    for (size_t o = 0; o < ref.outputs.size(); ++o) {
      const std::vector<float> r = floats(ref.outputs[o]), y = floats(got.outputs[o]);
      if (!CHECK(r.size() == y.size() && !r.empty())) continue;
      double worst = 0;
      for (size_t i = 0; i < r.size(); ++i) worst = std::max(worst, std::fabs(double(y[i]) - r[i]) / (1.0 + std::fabs(r[i])));
      CHECK_MSG(worst <= 1e-5, "%s, output %zu: worst rel diff %.3g", c.what, o, worst);
    }
  }
}
