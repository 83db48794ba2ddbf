// Math ops (elementwise, activations, reductions, softmax, ArgMax/TopK, Cast,
// Identity/Dropout/Constant, Quantize/DequantizeLinear) against plain references
// written here from the ONNX specs (and the specs' own examples), with 1 and 3-4
// threads and shapes large enough to split across chunks.
// Tolerances: exact for integer, selection and data-movement results; 1e-6
// relative for float arithmetic that the reference computes the same way; 2e-6
// where the reference uses a different but equivalent formula (e.g. double sums).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../../native/src/kernels/quantize.h"
#include "check.h"
#include "op_harness.h"

namespace math_test {

using netlite::DType;
using netlite::Shape;
using netlite::StatusCode;
using netlite::Tensor;
using netlite_test::expect_error;
using netlite_test::make_tensor;
using netlite_test::OpHarness;
using netlite_test::random_f32;
using netlite_test::tensor_f32;

template <typename T>
std::vector<T> vals(const Tensor& t) {
  return std::vector<T>(t.ptr<T>(), t.ptr<T>() + t.numel());
}

Tensor scalar_f32(float v) { return tensor_f32({}, {v}); }
Tensor i64v(const std::vector<int64_t>& v) { return make_tensor<int64_t>({int64_t(v.size())}, v); }

// Relative+absolute closeness, NaN equal to NaN, inf equal to the same inf.
bool close(double a, double b, double rtol = 1e-6, double atol = 1e-7) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

bool all_close(const Tensor& got, const std::vector<float>& want, double rtol = 1e-6, double atol = 1e-7) {
  if (got.dtype != DType::Float32 || size_t(got.numel()) != want.size()) {
    std::printf("  got %s %s, want %zu floats\n", netlite::dtype_name(got.dtype), netlite::shape_str(got.shape).c_str(),
                want.size());
    return false;
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (!close(got.ptr<float>()[i], want[i], rtol, atol)) {
      std::printf("  element %zu: got %.9g want %.9g\n", i, double(got.ptr<float>()[i]), double(want[i]));
      return false;
    }
  }
  return true;
}

// numpy broadcast reference: index of output element `i` in an input of shape `in`.
int64_t bcast_index(const Shape& out, const Shape& in, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const int64_t coord = i % out[d];
    i /= out[d];
    const size_t off = out.size() - in.size();
    if (d >= off) {
      const int64_t dim = in[d - off];
      if (dim != 1) idx += coord * stride;
      stride *= dim;
    }
  }
  return idx;
}

Shape bcast_shape(const Shape& a, const Shape& b) { return netlite::broadcast_shapes(a, b); }

// ---- binary arithmetic and broadcasting -------------------------------------------

void check_binary_f32(const char* op, const std::function<float(float, float)>& ref, const Shape& sa, const Shape& sb,
                      int threads, uint32_t seed) {
  Tensor a = random_f32(sa, seed, -2.0f, 2.0f);
  Tensor b = random_f32(sb, seed + 1, 0.5f, 3.0f);
  auto out = OpHarness(op, 14).input(a).input(b).threads(threads).run();
  const Shape so = bcast_shape(sa, sb);
  CHECK_MSG(out[0].shape == so, "%s %s vs %s", op, netlite::shape_str(out[0].shape).c_str(), netlite::shape_str(so).c_str());
  std::vector<float> want(size_t(netlite::shape_numel(so)));
  for (int64_t i = 0; i < int64_t(want.size()); ++i)
    want[size_t(i)] = ref(a.ptr<float>()[bcast_index(so, sa, i)], b.ptr<float>()[bcast_index(so, sb, i)]);
  CHECK_MSG(all_close(out[0], want, 0, 0), "%s %s with %s, %d threads", op, netlite::shape_str(sa).c_str(),
            netlite::shape_str(sb).c_str(), threads);
}

NETLITE_TEST(math_binary_broadcast_shapes) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {2, 3, 4}},    {{2, 3, 4}, {}},         {{}, {2, 3, 4}},       {{2, 3, 4}, {4}},
      {{2, 3, 4}, {3, 1}},       {{2, 3, 4, 5}, {3, 1, 1}}, {{2, 1, 4}, {3, 1}},  {{1, 3, 1}, {2, 1, 5}},
      {{5, 1}, {1, 6}},          {{}, {}},                {{1}, {1, 1, 1}},      {{0, 3}, {3}},
      {{2, 0, 3}, {1, 1, 3}},    {{3, 70001}, {70001}},   {{4, 3, 9000}, {3, 1}}, {{2, 50000}, {2, 1}},
      {{1, 16, 56, 56}, {1, 16, 1, 1}}, {{7, 1, 1, 3}, {1, 5, 4, 1}},
  };
  for (int threads : {1, 3}) {
    uint32_t seed = 1;
    for (const auto& c : cases) {
      check_binary_f32("Add", [](float x, float y) { return x + y; }, c.first, c.second, threads, seed++);
      check_binary_f32("Sub", [](float x, float y) { return x - y; }, c.first, c.second, threads, seed++);
      check_binary_f32("Mul", [](float x, float y) { return x * y; }, c.first, c.second, threads, seed++);
      check_binary_f32("Div", [](float x, float y) { return x / y; }, c.first, c.second, threads, seed++);
    }
  }
}

NETLITE_TEST(math_binary_int_types) {
  // Spec: integer Div truncates toward zero (test_div_int32_trunc).
  auto d = OpHarness("Div", 14).input(make_tensor<int32_t>({6}, {-7, 7, -7, 7, 5, 0}))
               .input(make_tensor<int32_t>({6}, {2, 2, -2, -2, 0, 3})).run();
  CHECK(d[0].dtype == DType::Int32);
  CHECK((vals<int32_t>(d[0]) == std::vector<int32_t>{-3, 3, 3, -3, 0, 0}));
  // INT_MIN / -1 wraps instead of trapping.
  auto w = OpHarness("Div", 14).input(make_tensor<int64_t>({1}, {std::numeric_limits<int64_t>::min()}))
               .input(make_tensor<int64_t>({}, {-1})).run();
  CHECK(vals<int64_t>(w[0])[0] == std::numeric_limits<int64_t>::min());
  // int64 shape math with broadcasting.
  auto m = OpHarness("Mul", 14).input(i64v({1, 2, 3})).input(make_tensor<int64_t>({2, 1}, {10, -1})).run();
  CHECK((m[0].shape == Shape{2, 3}));
  CHECK((vals<int64_t>(m[0]) == std::vector<int64_t>{10, 20, 30, -1, -2, -3}));
  auto a = OpHarness("Add", 14).input(make_tensor<uint8_t>({3}, {250, 1, 2})).input(make_tensor<uint8_t>({}, {10})).run();
  CHECK((vals<uint8_t>(a[0]) == std::vector<uint8_t>{4, 11, 12}));  // wraps like numpy
  auto s = OpHarness("Sub", 14).input(make_tensor<int8_t>({2}, {-128, 5})).input(make_tensor<int8_t>({2}, {1, 7})).run();
  CHECK((vals<int8_t>(s[0]) == std::vector<int8_t>{127, -2}));
}

NETLITE_TEST(math_binary_errors) {
  CHECK(expect_error([] { OpHarness("Add", 14).input(tensor_f32({2, 3}, {})).input(tensor_f32({4}, {})).run(); }) ==
        StatusCode::ShapeMismatch);
  std::string msg;
  CHECK(expect_error([] { OpHarness("Add", 14).input(tensor_f32({2}, {})).input(i64v({1, 2})).run(); }, &msg) ==
        StatusCode::TypeMismatch);
  CHECK(msg.find("test_Add") != std::string::npos);
  CHECK(expect_error([] {
          OpHarness("Add", 14).input(make_tensor<uint8_t>({1}, {1})).input(make_tensor<uint8_t>({1}, {1})).run();
        }) == StatusCode::Ok);
}

NETLITE_TEST(math_pow) {
  Tensor x = tensor_f32({3}, {1, 2, 3});
  auto p = OpHarness("Pow", 15).input(x).input(tensor_f32({3}, {4, 5, 6})).run();
  CHECK(all_close(p[0], {1, 32, 729}));
  auto b = OpHarness("Pow", 15).input(tensor_f32({2, 3}, {1, 2, 3, 4, 5, 6})).input(tensor_f32({3}, {1, 2, 3})).run();
  CHECK(all_close(b[0], {1, 4, 27, 4, 25, 216}));
  auto mixed = OpHarness("Pow", 15).input(tensor_f32({3}, {2, -2, 0.5f})).input(i64v({3, 2, -1})).run();
  CHECK(all_close(mixed[0], {8, 4, 2}));
  auto ii = OpHarness("Pow", 15).input(i64v({2, -3, 2, 1, -1})).input(i64v({10, 3, -1, -5, -3})).run();
  CHECK((vals<int64_t>(ii[0]) == std::vector<int64_t>{1024, -27, 0, 1, -1}));
  auto fi = OpHarness("Pow", 15).input(make_tensor<int32_t>({2}, {4, 9})).input(tensor_f32({}, {0.5f})).run();
  CHECK((vals<int32_t>(fi[0]) == std::vector<int32_t>{2, 3}));
  CHECK(expect_error([] { OpHarness("Pow", 7).input(tensor_f32({1}, {1})).input(i64v({1})).run(); }) ==
        StatusCode::TypeMismatch);
}

// ---- variadic, comparison, logic ----------------------------------------------------

NETLITE_TEST(math_variadic) {
  Tensor a = tensor_f32({3}, {3, 2, 1});
  Tensor b = tensor_f32({3}, {1, 4, 4});
  Tensor c = tensor_f32({3}, {2, 5, 0});
  // Spec examples.
  CHECK(all_close(OpHarness("Sum", 13).input(a).input(b).input(c).run()[0], {6, 11, 5}));
  CHECK(all_close(OpHarness("Sum", 13).input(a).run()[0], {3, 2, 1}));
  CHECK(all_close(OpHarness("Max", 13).input(a).input(b).input(c).run()[0], {3, 5, 4}));
  CHECK(all_close(OpHarness("Min", 13).input(a).input(b).input(c).run()[0], {1, 2, 0}));
  CHECK(all_close(OpHarness("Mean", 13).input(a).input(b).input(c).run()[0], {2, 11.0f / 3, 5.0f / 3}));
  // Broadcasting across all inputs: [3] , [2,1], [] -> [2,3].
  auto s = OpHarness("Sum", 13).input(a).input(tensor_f32({2, 1}, {10, 20})).input(scalar_f32(100)).threads(3).run();
  CHECK((s[0].shape == Shape{2, 3}));
  CHECK(all_close(s[0], {113, 112, 111, 123, 122, 121}));
  auto one = OpHarness("Max", 13).input(tensor_f32({1, 2}, {1, 2})).run();
  CHECK(all_close(one[0], {1, 2}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto mx = OpHarness("Max", 13).input(tensor_f32({3}, {nan, 1, 2})).input(tensor_f32({3}, {0, nan, 1})).run();
  CHECK(std::isnan(mx[0].ptr<float>()[0]) && std::isnan(mx[0].ptr<float>()[1]) && mx[0].ptr<float>()[2] == 2);
  auto mi = OpHarness("Min", 13).input(i64v({5, -3})).input(make_tensor<int64_t>({}, {0})).run();
  CHECK((vals<int64_t>(mi[0]) == std::vector<int64_t>{0, -3}));
  auto mu = OpHarness("Max", 13).input(make_tensor<uint8_t>({2}, {3, 200})).input(make_tensor<uint8_t>({2}, {100, 7})).run();
  CHECK((vals<uint8_t>(mu[0]) == std::vector<uint8_t>{100, 200}));
  CHECK(expect_error([] { OpHarness("Max", 8).input(i64v({1})).input(i64v({2})).run(); }) == StatusCode::TypeMismatch);
}

NETLITE_TEST(math_comparison_logic_where) {
  Tensor x = tensor_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = tensor_f32({3}, {2, 2, 2});
  auto e = OpHarness("Equal", 13).input(x).input(y).run();
  auto g = OpHarness("Greater", 13).input(x).input(y).run();
  auto l = OpHarness("Less", 13).input(x).input(y).run();
  CHECK(e[0].dtype == DType::Bool && (e[0].shape == Shape{2, 3}));
  CHECK((vals<uint8_t>(e[0]) == std::vector<uint8_t>{0, 1, 0, 0, 0, 0}));
  CHECK((vals<uint8_t>(g[0]) == std::vector<uint8_t>{0, 0, 1, 1, 1, 1}));
  CHECK((vals<uint8_t>(l[0]) == std::vector<uint8_t>{1, 0, 0, 0, 0, 0}));
  auto eb = OpHarness("Equal", 13).input(make_tensor<bool>({2}, {true, false})).input(make_tensor<bool>({}, {true})).run();
  CHECK((vals<uint8_t>(eb[0]) == std::vector<uint8_t>{1, 0}));
  auto ei = OpHarness("Equal", 13).input(i64v({1, 2, 3})).input(i64v({3, 2, 1})).run();
  CHECK((vals<uint8_t>(ei[0]) == std::vector<uint8_t>{0, 1, 0}));
  auto n = OpHarness("Not", 1).input(make_tensor<bool>({3}, {true, false, true})).run();
  CHECK(n[0].dtype == DType::Bool && (vals<uint8_t>(n[0]) == std::vector<uint8_t>{0, 1, 0}));
  // Where spec example and a broadcast one.
  auto w = OpHarness("Where", 16).input(make_tensor<bool>({2, 2}, {true, false, true, true}))
               .input(tensor_f32({2, 2}, {1, 2, 3, 4})).input(tensor_f32({2, 2}, {9, 8, 7, 6})).run();
  CHECK(all_close(w[0], {1, 8, 3, 4}));
  auto wb = OpHarness("Where", 16).input(make_tensor<bool>({3, 1}, {true, false, true}))
                .input(i64v({1, 2})).input(make_tensor<int64_t>({}, {-1})).threads(3).run();
  CHECK((wb[0].shape == Shape{3, 2}));
  CHECK((vals<int64_t>(wb[0]) == std::vector<int64_t>{1, 2, -1, -1, 1, 2}));
  CHECK(expect_error([] { OpHarness("Where", 16).input(tensor_f32({1}, {1})).input(tensor_f32({1}, {1})).input(tensor_f32({1}, {1})).run(); }) ==
        StatusCode::TypeMismatch);
}

// ---- activations ---------------------------------------------------------------------

void check_unary(const char* op, int opset, const std::function<double(double)>& ref, float lo, float hi,
                 std::vector<std::pair<std::string, float>> attrs = {}, double rtol = 2e-6, double atol = 1e-7) {
  for (int threads : {1, 4}) {
    Tensor x = random_f32({3, 50001}, 7, lo, hi);
    float* p = x.ptr<float>();
    p[0] = 0.0f;
    p[1] = lo;
    p[2] = hi;
    OpHarness h(op, opset);
    for (const auto& a : attrs) h.attr_float(a.first, a.second);
    auto out = h.input(x).threads(threads).run();
    std::vector<float> want(size_t(x.numel()));
    for (size_t i = 0; i < want.size(); ++i) want[i] = float(ref(double(p[i])));
    CHECK_MSG(all_close(out[0], want, rtol, atol), "%s", op);
  }
}

NETLITE_TEST(math_activations) {
  check_unary("Relu", 14, [](double v) { return v > 0 ? v : 0; }, -3, 3);
  check_unary("LeakyRelu", 16, [](double v) { return v < 0 ? double(0.01f) * v : v; }, -3, 3);
  check_unary("LeakyRelu", 16, [](double v) { return v < 0 ? double(0.1f) * v : v; }, -3, 3, {{"alpha", 0.1f}});
  check_unary("Elu", 6, [](double v) { return v < 0 ? 2.0 * (std::exp(v) - 1) : v; }, -5, 3, {{"alpha", 2.0f}});
  const double sa = 1.67326319217681884765625, sg = 1.05070102214813232421875;
  check_unary("Selu", 6, [&](double v) { return v > 0 ? sg * v : sg * (sa * std::exp(v) - sa); }, -5, 3);
  check_unary("Sigmoid", 13, [](double v) { return 1 / (1 + std::exp(-v)); }, -100, 100, {}, 2e-6, 1e-30);
  check_unary("HardSigmoid", 6, [](double v) { return std::max(0.0, std::min(1.0, double(0.2f) * v + 0.5)); }, -4, 4);
  check_unary("HardSigmoid", 6, [](double v) { return std::max(0.0, std::min(1.0, double(0.5f) * v + double(0.6f))); },
              -4, 4, {{"alpha", 0.5f}, {"beta", 0.6f}});
  check_unary("HardSwish", 14, [](double v) { return v * std::max(0.0, std::min(1.0, v / 6 + 0.5)); }, -5, 5);
  check_unary("Tanh", 13, [](double v) { return std::tanh(v); }, -10, 10);
  check_unary("Softplus", 1, [](double v) { return v > 30 ? v : std::log1p(std::exp(v)); }, -100, 100, {}, 2e-6, 1e-30);
  check_unary("Gelu", 20, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, -6, 6, {}, 2e-6, 1e-6);
  check_unary("Erf", 13, [](double v) { return std::erf(v); }, -4, 4);
  check_unary("Sqrt", 13, [](double v) { return std::sqrt(v); }, 0, 100);
  check_unary("Exp", 13, [](double v) { return std::exp(v); }, -50, 50);
  check_unary("Log", 13, [](double v) { return std::log(v); }, 0, 100);
  check_unary("Abs", 13, [](double v) { return std::fabs(v); }, -3, 3);
  check_unary("Neg", 13, [](double v) { return -v; }, -3, 3);
  check_unary("Reciprocal", 13, [](double v) { return 1 / v; }, 0.1f, 4);
  check_unary("Floor", 13, [](double v) { return std::floor(v); }, -5, 5);
  check_unary("Ceil", 13, [](double v) { return std::ceil(v); }, -5, 5);
  // Gelu tanh approximation.
  auto gt = OpHarness("Gelu", 20).attr_string("approximate", "tanh").input(tensor_f32({3}, {-1, 0.5f, 2})).run();
  std::vector<float> want;
  for (double v : {-1.0, 0.5, 2.0})
    want.push_back(float(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))));
  CHECK(all_close(gt[0], want, 2e-6));
  CHECK(expect_error([] { OpHarness("Gelu", 20).attr_string("approximate", "fast").input(tensor_f32({1}, {1})).run(); }) ==
        StatusCode::InvalidModel);
  // Integer Relu / Abs / Neg.
  CHECK((vals<int32_t>(OpHarness("Relu", 14).input(make_tensor<int32_t>({3}, {-5, 0, 7})).run()[0]) ==
         std::vector<int32_t>{0, 0, 7}));
  CHECK((vals<int64_t>(OpHarness("Abs", 13).input(i64v({-5, 0, 7})).run()[0]) == std::vector<int64_t>{5, 0, 7}));
  CHECK((vals<int8_t>(OpHarness("Neg", 13).input(make_tensor<int8_t>({2}, {-128, 3})).run()[0]) ==
         std::vector<int8_t>{-128, -3}));
  // NaN passes through Relu and Sigmoid.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(OpHarness("Relu", 14).input(tensor_f32({1}, {nan})).run()[0].ptr<float>()[0]));
  CHECK(std::isnan(OpHarness("Sigmoid", 13).input(tensor_f32({1}, {nan})).run()[0].ptr<float>()[0]));
  CHECK(expect_error([] { OpHarness("Sigmoid", 13).input(i64v({1})).run(); }) == StatusCode::TypeMismatch);
}

NETLITE_TEST(math_prelu) {
  // Channel slope [C,1,1] on NCHW, and the spec's same-shape and broadcast examples.
  Tensor x = random_f32({2, 3, 4, 5}, 3, -2, 2);
  Tensor s = tensor_f32({3, 1, 1}, {0.1f, 0.2f, 0.3f});
  auto out = OpHarness("PRelu", 16).input(x).input(s).threads(3).run();
  std::vector<float> want(size_t(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x.ptr<float>()[i];
    want[size_t(i)] = v < 0 ? v * s.ptr<float>()[(i / 20) % 3] : v;
  }
  CHECK(all_close(out[0], want, 0, 0));
  auto row = OpHarness("PRelu", 9).input(tensor_f32({2, 2}, {-1, -2, 3, -4})).input(tensor_f32({2}, {0.5f, 2})).run();
  CHECK(all_close(row[0], {-0.5f, -4, 3, -8}));
  CHECK(expect_error([] { OpHarness("PRelu", 16).input(tensor_f32({2}, {})).input(tensor_f32({2, 2}, {})).run(); }) ==
        StatusCode::ShapeMismatch);
}

NETLITE_TEST(math_clip) {
  Tensor x = tensor_f32({5}, {-3, -1, 0, 1, 3});
  // Opset 6: attributes.
  CHECK(all_close(OpHarness("Clip", 6).attr_float("min", -1).attr_float("max", 1).input(x).run()[0], {-1, -1, 0, 1, 1}));
  CHECK(all_close(OpHarness("Clip", 6).attr_float("max", 0.5f).input(x).run()[0], {-3, -1, 0, 0.5f, 0.5f}));
  // Opset 11+: optional inputs.
  CHECK(all_close(OpHarness("Clip", 13).input(x).input(scalar_f32(-1)).input(scalar_f32(2)).run()[0], {-1, -1, 0, 1, 2}));
  CHECK(all_close(OpHarness("Clip", 13).input(x).no_input().input(scalar_f32(0)).run()[0], {-3, -1, 0, 0, 0}));
  CHECK(all_close(OpHarness("Clip", 13).input(x).input(scalar_f32(0)).run()[0], {0, 0, 0, 1, 3}));
  CHECK(all_close(OpHarness("Clip", 13).input(x).run()[0], {-3, -1, 0, 1, 3}));
  // min > max: everything becomes max.
  CHECK(all_close(OpHarness("Clip", 13).input(x).input(scalar_f32(2)).input(scalar_f32(1)).run()[0], {1, 1, 1, 1, 1}));
  // Integer types from opset 12.
  auto ci = OpHarness("Clip", 12).input(make_tensor<int32_t>({4}, {-100, 5, 50, 300}))
                .input(make_tensor<int32_t>({}, {0})).input(make_tensor<int32_t>({}, {255})).run();
  CHECK((vals<int32_t>(ci[0]) == std::vector<int32_t>{0, 5, 50, 255}));
  auto cu = OpHarness("Clip", 13).input(make_tensor<uint8_t>({3}, {0, 100, 250})).no_input()
                .input(make_tensor<uint8_t>({}, {200})).run();
  CHECK((vals<uint8_t>(cu[0]) == std::vector<uint8_t>{0, 100, 200}));
  CHECK(expect_error([] { OpHarness("Clip", 11).input(i64v({1})).run(); }) == StatusCode::TypeMismatch);
  CHECK(expect_error([] { OpHarness("Clip", 13).input(tensor_f32({1}, {1})).input(tensor_f32({2}, {0, 1})).run(); }) ==
        StatusCode::ShapeMismatch);
  // Large input across threads.
  Tensor big = random_f32({100000}, 9, -10, 10);
  auto cb = OpHarness("Clip", 13).input(big).input(scalar_f32(0)).input(scalar_f32(6)).threads(4).run();
  std::vector<float> want;
  for (float v : vals<float>(big)) want.push_back(std::min(6.0f, std::max(0.0f, v)));
  CHECK(all_close(cb[0], want, 0, 0));
}

// ---- softmax ---------------------------------------------------------------------------

// Reference softmax over [outer, n, inner] in double.
std::vector<float> ref_softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  std::vector<float> y(size_t(x.numel()));
  const float* p = x.ptr<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < n; ++k) m = std::max(m, double(p[(o * n + k) * inner + j]));
      for (int64_t k = 0; k < n; ++k) s += std::exp(double(p[(o * n + k) * inner + j]) - m);
      for (int64_t k = 0; k < n; ++k) {
        const double v = double(p[(o * n + k) * inner + j]) - m;
        y[size_t((o * n + k) * inner + j)] = float(log ? v - std::log(s) : std::exp(v) / s);
      }
    }
  return y;
}

NETLITE_TEST(math_softmax) {
  Tensor x = random_f32({3, 4, 70}, 5, -5, 5);
  for (bool lg : {false, true}) {
    const char* op = lg ? "LogSoftmax" : "Softmax";
    for (int threads : {1, 3}) {
      // Opset 13: along one axis.
      CHECK_MSG(all_close(OpHarness(op, 13).input(x).threads(threads).run()[0], ref_softmax(x, 12, 70, 1, lg), 2e-6, 1e-6),
                "%s default axis", op);
      CHECK_MSG(all_close(OpHarness(op, 13).attr_int("axis", 1).input(x).threads(threads).run()[0],
                          ref_softmax(x, 3, 4, 70, lg), 2e-6, 1e-6), "%s axis 1", op);
      CHECK_MSG(all_close(OpHarness(op, 13).attr_int("axis", 0).input(x).threads(threads).run()[0],
                          ref_softmax(x, 1, 3, 280, lg), 2e-6, 1e-6), "%s axis 0", op);
      // Opset 11: coerced to 2-D at axis (default 1).
      CHECK_MSG(all_close(OpHarness(op, 11).input(x).threads(threads).run()[0], ref_softmax(x, 3, 280, 1, lg), 2e-6, 1e-6),
                "%s opset 11 default", op);
      CHECK_MSG(all_close(OpHarness(op, 11).attr_int("axis", 2).input(x).threads(threads).run()[0],
                          ref_softmax(x, 12, 70, 1, lg), 2e-6, 1e-6), "%s opset 11 axis 2", op);
      CHECK_MSG(all_close(OpHarness(op, 11).attr_int("axis", 0).input(x).threads(threads).run()[0],
                          ref_softmax(x, 1, 840, 1, lg), 2e-6, 1e-6), "%s opset 11 axis 0", op);
    }
  }
  // Large numbers stay finite (test_softmax_large_number).
  Tensor large = tensor_f32({2, 4}, {1, 2, 3, 4, 10000, 10001, 10002, 10003});
  auto big = OpHarness("Softmax", 13).input(large).run();
  CHECK(all_close(big[0], ref_softmax(large, 2, 4, 1, false), 2e-6));
  CHECK(all_close(big[0], {0.032058604f, 0.08714432f, 0.23688284f, 0.6439143f, 0.032058604f, 0.08714432f, 0.23688284f,
                           0.6439143f}, 1e-5));
  CHECK(expect_error([] { OpHarness("Softmax", 13).attr_int("axis", 3).input(tensor_f32({2, 2, 2}, {})).run(); }) ==
        StatusCode::InvalidArgument);
}

// ---- reductions ------------------------------------------------------------------------

// Reference reduction with numpy semantics: kind 0 sum, 1 mean, 2 max, 3 min.
std::vector<double> ref_reduce(const Tensor& x, const std::vector<bool>& mask, int kind) {
  const Shape& s = x.shape;
  Shape os;
  for (size_t d = 0; d < s.size(); ++d) os.push_back(mask[d] ? 1 : s[d]);
  const int64_t on = netlite::shape_numel(os);
  std::vector<double> acc(size_t(on), kind == 2 ? -INFINITY : kind == 3 ? INFINITY : 0.0);
  std::vector<int64_t> cnt(size_t(on), 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rem = i, oi = 0, ost = 1;
    for (size_t d = s.size(); d-- > 0;) {
      const int64_t c = rem % s[d];
      rem /= s[d];
      if (!mask[d]) oi += c * ost;
      ost *= os[d];
    }
    const double v = netlite::read_scalar(x, i);
    double& a = acc[size_t(oi)];
    if (kind <= 1) a += v;
    else if (kind == 2) a = std::max(a, v);
    else a = std::min(a, v);
    ++cnt[size_t(oi)];
  }
  if (kind == 1)
    for (size_t i = 0; i < acc.size(); ++i) acc[i] /= double(cnt[i]);
  return acc;
}

NETLITE_TEST(math_reduce) {
  Tensor x = random_f32({3, 4, 5, 6}, 11, -3, 3);
  const char* ops[4] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"};
  const std::vector<std::vector<int64_t>> axes_sets = {{}, {0}, {1}, {3}, {-1}, {1, 2}, {0, 2}, {1, 3}, {0, 1, 2, 3}, {0, 3}};
  for (int kind = 0; kind < 4; ++kind) {
    for (const auto& axes : axes_sets) {
      for (int keep : {0, 1}) {
        std::vector<bool> mask(4, axes.empty());
        for (int64_t a : axes) mask[size_t(a < 0 ? a + 4 : a)] = true;
        Shape want_shape;
        for (size_t d = 0; d < 4; ++d)
          if (!mask[d]) want_shape.push_back(x.shape[d]);
          else if (keep) want_shape.push_back(1);
        const std::vector<double> ref = ref_reduce(x, mask, kind);
        std::vector<float> want(ref.begin(), ref.end());
        // Attribute form (opset 11) and input form (opset 18).
        for (int opset : {11, 18}) {
          OpHarness h(ops[kind], opset);
          h.attr_int("keepdims", keep).threads(opset == 18 ? 3 : 1);
          if (opset == 11) {
            if (!axes.empty()) h.attr_ints("axes", axes);
            h.input(x);
          } else {
            h.input(x);
            if (!axes.empty()) h.const_input(i64v(axes));
          }
          auto out = h.run();
          CHECK_MSG(out[0].shape == want_shape, "%s shape %s", ops[kind], netlite::shape_str(out[0].shape).c_str());
          CHECK_MSG(all_close(out[0], want, 2e-6, 1e-6), "%s opset %d keep %d axes %zu", ops[kind], opset, keep,
                    axes.size());
        }
      }
    }
  }
  // Spec example: ReduceMean axes [1] keepdims 1 on [3,2,2].
  Tensor e = tensor_f32({3, 2, 2}, {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2});
  auto m = OpHarness("ReduceMean", 13).attr_ints("axes", {1}).input(e).run();
  CHECK((m[0].shape == Shape{3, 1, 2}));
  CHECK(all_close(m[0], {12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f}));
  // Opset 18: axes as an input whose value the planner knows (the conformance cases feed it as a graph input).
  auto m18 = OpHarness("ReduceMean", 18).input(e).value_input(i64v({-2})).run();
  CHECK((m18[0].shape == Shape{3, 1, 2}) && all_close(m18[0], {12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f}));
  auto m18all = OpHarness("ReduceMean", 18).attr_int("keepdims", 0).input(e).value_input(i64v({})).run();
  CHECK(m18all[0].shape.empty() && all_close(m18all[0], {18.25f}));
  // ReduceSum's axes became an input at 13; noop_with_empty_axes.
  auto s13 = OpHarness("ReduceSum", 13).attr_int("keepdims", 0).input(e).const_input(i64v({0, 2})).run();
  CHECK(all_close(s13[0], {5 + 1 + 30 + 1 + 55 + 1, 20 + 2 + 40 + 2 + 60 + 2}));
  auto noop = OpHarness("ReduceSum", 13).attr_int("noop_with_empty_axes", 1).input(e).run();
  CHECK((noop[0].shape == e.shape) && all_close(noop[0], vals<float>(e)));
  auto noop2 = OpHarness("ReduceMax", 18).attr_int("noop_with_empty_axes", 1).input(e).const_input(i64v({})).run();
  CHECK((noop2[0].shape == e.shape));
  // Integer reductions.
  Tensor xi = make_tensor<int64_t>({2, 3}, {1, -2, 3, 4, 5, -6});
  CHECK((vals<int64_t>(OpHarness("ReduceSum", 13).attr_int("keepdims", 0).input(xi).const_input(i64v({1})).run()[0]) ==
         std::vector<int64_t>{2, 3}));
  CHECK((vals<int64_t>(OpHarness("ReduceMax", 13).attr_int("keepdims", 0).attr_ints("axes", {0}).input(xi).run()[0]) ==
         std::vector<int64_t>{4, 5, 3}));
  CHECK((vals<int8_t>(OpHarness("ReduceMin", 13).input(make_tensor<int8_t>({3}, {5, -7, 2})).run()[0]) ==
         std::vector<int8_t>{-7}));
  CHECK((vals<int32_t>(OpHarness("ReduceMean", 13).input(make_tensor<int32_t>({3}, {1, 2, 4})).run()[0]) ==
         std::vector<int32_t>{2}));
  // Empty reduction: sum 0, max -inf.
  Tensor empty = tensor_f32({2, 0, 3}, {});
  auto es = OpHarness("ReduceSum", 13).input(empty).const_input(i64v({1})).run();
  CHECK((es[0].shape == Shape{2, 1, 3}) && all_close(es[0], {0, 0, 0, 0, 0, 0}));
  auto em = OpHarness("ReduceMax", 18).attr_int("keepdims", 0).input(empty).const_input(i64v({1})).run();
  CHECK(em[0].numel() == 6 && std::isinf(em[0].ptr<float>()[0]) && em[0].ptr<float>()[0] < 0);
  // Errors.
  CHECK(expect_error([&] { OpHarness("ReduceMean", 13).attr_ints("axes", {4}).input(x).run(); }) ==
        StatusCode::InvalidArgument);
  CHECK(expect_error([&] { OpHarness("ReduceMean", 13).attr_ints("axes", {1, -3}).input(x).run(); }) ==
        StatusCode::InvalidModel);
  CHECK(expect_error([&] { OpHarness("ReduceSum", 13).input(x).input(i64v({1})).run(); }) == StatusCode::Unsupported);
}

// ---- ArgMax, TopK ------------------------------------------------------------------------

NETLITE_TEST(math_argmax) {
  // Spec examples.
  Tensor d = tensor_f32({2, 2}, {2, 1, 3, 10});
  auto k = OpHarness("ArgMax", 13).input(d).run();
  CHECK(k[0].dtype == DType::Int64 && (k[0].shape == Shape{1, 2}) && (vals<int64_t>(k[0]) == std::vector<int64_t>{1, 1}));
  auto a1 = OpHarness("ArgMax", 13).attr_int("axis", 1).attr_int("keepdims", 0).input(d).run();
  CHECK((a1[0].shape == Shape{2}) && (vals<int64_t>(a1[0]) == std::vector<int64_t>{0, 1}));
  Tensor t = tensor_f32({2, 2}, {2, 2, 3, 10});
  auto first = OpHarness("ArgMax", 13).attr_int("axis", 1).input(t).run();
  auto last = OpHarness("ArgMax", 13).attr_int("axis", 1).attr_int("select_last_index", 1).input(t).run();
  CHECK((vals<int64_t>(first[0]) == std::vector<int64_t>{0, 1}));
  CHECK((vals<int64_t>(last[0]) == std::vector<int64_t>{1, 1}));
  // Random vs reference on a middle axis (strided) and the last axis.
  Tensor x = random_f32({4, 7, 100}, 21);
  for (int axis : {0, 1, 2, -1}) {
    const int ax = axis < 0 ? axis + 3 : axis;
    auto out = OpHarness("ArgMax", 13).attr_int("axis", axis).attr_int("keepdims", 0).input(x).threads(3).run();
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; ++i) outer *= x.shape[size_t(i)];
    for (int i = ax + 1; i < 3; ++i) inner *= x.shape[size_t(i)];
    const int64_t n = x.shape[size_t(ax)];
    bool ok = true;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        int64_t best = 0;
        for (int64_t q = 1; q < n; ++q)
          if (x.ptr<float>()[(o * n + q) * inner + j] > x.ptr<float>()[(o * n + best) * inner + j]) best = q;
        ok = ok && out[0].ptr<int64_t>()[o * inner + j] == best;
      }
    CHECK_MSG(ok, "ArgMax axis %d", axis);
  }
  auto ai = OpHarness("ArgMax", 13).input(make_tensor<int32_t>({3}, {-5, 9, 9})).run();
  CHECK(vals<int64_t>(ai[0])[0] == 1);
}

NETLITE_TEST(math_topk) {
  // Spec example: k = 3 along the last axis of 0..11 in [3,4].
  Tensor x = tensor_f32({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  auto out = OpHarness("TopK", 11).outputs(2).input(x).const_input(i64v({3})).run();
  CHECK((out[0].shape == Shape{3, 3}));
  CHECK(all_close(out[0], {3, 2, 1, 7, 6, 5, 11, 10, 9}));
  CHECK((vals<int64_t>(out[1]) == std::vector<int64_t>{3, 2, 1, 3, 2, 1, 3, 2, 1}));
  // Opset 1: k attribute.
  auto o1 = OpHarness("TopK", 1).outputs(2).attr_int("k", 2).input(x).run();
  CHECK(all_close(o1[0], {3, 2, 7, 6, 11, 10}));
  // Smallest, negative axis, ties keep the lower index first.
  Tensor t = tensor_f32({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8});
  auto sm = OpHarness("TopK", 11).outputs(2).attr_int("largest", 0).attr_int("axis", -1).input(t).const_input(i64v({3})).run();
  CHECK(all_close(sm[0], {0, 1, 2, 4, 5, 6, 8, 9, 10}));
  CHECK((vals<int64_t>(sm[1]) == std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 2, 1}));
  Tensor ties = tensor_f32({6}, {1, 3, 3, 2, 3, 1});
  auto tt = OpHarness("TopK", 11).outputs(2).input(ties).const_input(i64v({4})).run();
  CHECK(all_close(tt[0], {3, 3, 3, 2}));
  CHECK((vals<int64_t>(tt[1]) == std::vector<int64_t>{1, 2, 4, 3}));
  auto ts = OpHarness("TopK", 11).outputs(2).attr_int("largest", 0).input(ties).const_input(i64v({3})).run();
  CHECK((vals<int64_t>(ts[1]) == std::vector<int64_t>{0, 5, 3}));
  // Axis 0 (strided), many slices, threads.
  Tensor r = random_f32({50, 300}, 4);
  auto ra = OpHarness("TopK", 11).outputs(2).attr_int("axis", 0).input(r).const_input(i64v({5})).threads(4).run();
  bool ok = ra[0].shape == Shape({5, 300});
  for (int64_t j = 0; j < 300 && ok; ++j) {
    std::vector<std::pair<float, int64_t>> col;
    for (int64_t i = 0; i < 50; ++i) col.push_back({-r.ptr<float>()[i * 300 + j], i});
    std::sort(col.begin(), col.end());
    for (int64_t q = 0; q < 5; ++q) {
      ok = ok && ra[0].ptr<float>()[q * 300 + j] == -col[size_t(q)].first;
      ok = ok && ra[1].ptr<int64_t>()[q * 300 + j] == col[size_t(q)].second;
    }
  }
  CHECK(ok);
  // Values only (indices output omitted); k = 0; k too large.
  auto vo = OpHarness("TopK", 11).input(x).const_input(i64v({1})).run();
  CHECK(all_close(vo[0], {3, 7, 11}));
  auto k0 = OpHarness("TopK", 11).outputs(2).input(x).const_input(i64v({0})).run();
  CHECK((k0[0].shape == Shape{3, 0}));
  CHECK(expect_error([&] { OpHarness("TopK", 11).outputs(2).input(x).const_input(i64v({5})).run(); }) ==
        StatusCode::InvalidArgument);
  CHECK(expect_error([&] { OpHarness("TopK", 11).outputs(2).input(x).input(i64v({2})).run(); }) == StatusCode::Unsupported);
}

// ---- Cast, Identity, Dropout, Constant -----------------------------------------------------

NETLITE_TEST(math_cast) {
  Tensor f = tensor_f32({6}, {-2.7f, -0.5f, 0, 0.9f, 2.5f, 300.2f});
  auto to_i32 = OpHarness("Cast", 13).attr_int("to", int64_t(DType::Int32)).input(f).run();
  CHECK(to_i32[0].dtype == DType::Int32 && (vals<int32_t>(to_i32[0]) == std::vector<int32_t>{-2, 0, 0, 0, 2, 300}));
  auto to_i64 = OpHarness("Cast", 13).attr_int("to", int64_t(DType::Int64)).input(f).run();
  CHECK((vals<int64_t>(to_i64[0]) == std::vector<int64_t>{-2, 0, 0, 0, 2, 300}));
  auto to_b = OpHarness("Cast", 13).attr_int("to", int64_t(DType::Bool)).input(f).run();
  CHECK(to_b[0].dtype == DType::Bool && (vals<uint8_t>(to_b[0]) == std::vector<uint8_t>{1, 1, 0, 1, 1, 1}));
  auto b2f = OpHarness("Cast", 13).attr_int("to", int64_t(DType::Float32)).input(make_tensor<bool>({2}, {true, false})).run();
  CHECK(all_close(b2f[0], {1, 0}));
  auto i2f = OpHarness("Cast", 13).attr_int("to", int64_t(DType::Float32)).input(i64v({-3, 16777217})).run();
  CHECK(all_close(i2f[0], {-3, 16777216.0f}));
  auto i2u8 = OpHarness("Cast", 13).attr_int("to", int64_t(DType::UInt8)).input(i64v({-1, 256, 7})).run();
  CHECK((vals<uint8_t>(i2u8[0]) == std::vector<uint8_t>{255, 0, 7}));
  auto u2i8 = OpHarness("Cast", 13).attr_int("to", int64_t(DType::Int8)).input(make_tensor<uint8_t>({2}, {200, 5})).run();
  CHECK((vals<int8_t>(u2i8[0]) == std::vector<int8_t>{-56, 5}));
  auto same = OpHarness("Cast", 19).attr_int("to", int64_t(DType::Int64)).input(i64v({4, 5})).run();
  CHECK((vals<int64_t>(same[0]) == std::vector<int64_t>{4, 5}));
  CHECK(expect_error([&] { OpHarness("Cast", 13).attr_int("to", int64_t(DType::Float16)).input(f).run(); }) ==
        StatusCode::TypeMismatch);
  CHECK(expect_error([&] { OpHarness("Cast", 13).input(f).run(); }) == StatusCode::InvalidModel);
}

NETLITE_TEST(math_identity_dropout_constant) {
  Tensor x = random_f32({2, 3}, 2);
  {
    const netlite::OpDef* def = netlite::find_op("", "Identity");
    netlite::Node n;
    n.op_type = "Identity";
    n.opset = 16;
    n.inputs = {0};
    n.outputs = {1};
    netlite::Graph g;
    CHECK(def->create(n, g)->aliases_input());
    n.op_type = "Dropout";
    CHECK(netlite::find_op("", "Dropout")->create(n, g)->aliases_input());
    n.outputs = {1, 2};
    CHECK(!netlite::find_op("", "Dropout")->create(n, g)->aliases_input());
  }
  CHECK(all_close(OpHarness("Identity", 16).input(x).run()[0], vals<float>(x), 0, 0));
  auto id64 = OpHarness("Identity", 16).input(i64v({1, 2})).run();
  CHECK((vals<int64_t>(id64[0]) == std::vector<int64_t>{1, 2}));
  // Dropout with mask: y = x, mask all true (bool from opset 10, T before).
  auto dm = OpHarness("Dropout", 13).outputs(2).input(x).run();
  CHECK(all_close(dm[0], vals<float>(x), 0, 0));
  CHECK(dm[1].dtype == DType::Bool && (vals<uint8_t>(dm[1]) == std::vector<uint8_t>(6, 1)));
  auto d7 = OpHarness("Dropout", 7).outputs(2).attr_float("ratio", 0.2f).input(x).run();
  CHECK(all_close(d7[1], std::vector<float>(6, 1.0f)));
  auto dr = OpHarness("Dropout", 13).input(x).const_input(scalar_f32(0.3f)).run();
  CHECK(all_close(dr[0], vals<float>(x), 0, 0));
  CHECK(expect_error([&] {
          OpHarness("Dropout", 13).input(x).const_input(scalar_f32(0.3f)).const_input(make_tensor<bool>({}, {true})).run();
        }) == StatusCode::Unsupported);
  CHECK(expect_error([&] {
          OpHarness("Dropout", 13).input(x).const_input(scalar_f32(0.3f)).const_input(make_tensor<bool>({}, {false})).run();
        }) == StatusCode::Ok);
  // Constant.
  Tensor v = tensor_f32({2, 2}, {1, 2, 3, 4});
  auto c = OpHarness("Constant", 13).attr_tensor("value", v).run();
  CHECK((c[0].shape == Shape{2, 2}) && all_close(c[0], {1, 2, 3, 4}));
  auto cf = OpHarness("Constant", 13).attr_floats("value_floats", {0.5f, 1.5f}).run();
  CHECK((cf[0].shape == Shape{2}) && all_close(cf[0], {0.5f, 1.5f}));
  auto cs = OpHarness("Constant", 13).attr_float("value_float", 2.5f).run();
  CHECK(cs[0].shape.empty() && all_close(cs[0], {2.5f}));
  auto ci = OpHarness("Constant", 13).attr_int("value_int", -7).run();
  CHECK(ci[0].dtype == DType::Int64 && ci[0].shape.empty() && vals<int64_t>(ci[0])[0] == -7);
  auto cis = OpHarness("Constant", 13).attr_ints("value_ints", {3, 4, 5}).run();
  CHECK((vals<int64_t>(cis[0]) == std::vector<int64_t>{3, 4, 5}));
  CHECK(expect_error([] { OpHarness("Constant", 13).run(); }) == StatusCode::InvalidModel);
  CHECK(expect_error([] { OpHarness("Constant", 13).attr_string("value_string", "x").run(); }) == StatusCode::Unsupported);
}

// ---- QuantizeLinear, DequantizeLinear -------------------------------------------------------

NETLITE_TEST(math_quantize) {
  // Spec example (uint8, per tensor).
  Tensor x = tensor_f32({6}, {0, 2, 3, 1000, -254, -1000});
  auto q = OpHarness("QuantizeLinear", 13).input(x).input(scalar_f32(2)).input(make_tensor<uint8_t>({}, {128})).run();
  CHECK(q[0].dtype == DType::UInt8 && (vals<uint8_t>(q[0]) == std::vector<uint8_t>{128, 129, 130, 255, 1, 0}));
  // Round half to even; int8 saturation; no zero point -> uint8 with zp 0.
  Tensor h = tensor_f32({8}, {1, 3, 5, -1, -3, 300, -300, 7});
  auto qi = OpHarness("QuantizeLinear", 13).input(h).input(scalar_f32(2)).input(make_tensor<int8_t>({}, {0})).run();
  CHECK(qi[0].dtype == DType::Int8 && (vals<int8_t>(qi[0]) == std::vector<int8_t>{0, 2, 2, 0, -2, 127, -128, 4}));
  auto qn = OpHarness("QuantizeLinear", 10).input(h).input(scalar_f32(2)).run();
  CHECK(qn[0].dtype == DType::UInt8 && (vals<uint8_t>(qn[0]) == std::vector<uint8_t>{0, 2, 2, 0, 0, 150, 0, 4}));
  // Spec per-axis example: x [1,3,3,2], axis 1.
  Tensor xa = tensor_f32({1, 3, 3, 2}, {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470});
  auto qa = OpHarness("QuantizeLinear", 13).input(xa).input(tensor_f32({3}, {2, 4, 5}))
                .input(make_tensor<uint8_t>({3}, {84, 24, 196})).threads(2).run();
  CHECK((vals<uint8_t>(qa[0]) == std::vector<uint8_t>{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102}));
  // Channels last (axis -1) uses the row kernels; check against the per-element formula.
  Tensor xc = random_f32({50, 7, 3}, 8, -20, 20);
  Tensor sc = tensor_f32({3}, {0.1f, 0.2f, 0.3f});
  Tensor zc = make_tensor<int8_t>({3}, {-3, 0, 5});
  auto qc = OpHarness("QuantizeLinear", 13).attr_int("axis", -1).input(xc).input(sc).input(zc).threads(3).run();
  bool ok = true;
  for (int64_t i = 0; i < xc.numel(); ++i) {
    const int64_t c = i % 3;
    float v = std::nearbyint(xc.ptr<float>()[i] / sc.ptr<float>()[c]) + float(zc.ptr<int8_t>()[c]);
    v = std::min(127.0f, std::max(-128.0f, v));
    ok = ok && qc[0].ptr<int8_t>()[i] == int8_t(v);
  }
  CHECK(ok);
  // Large per-tensor input over threads (both rounding directions).
  Tensor big = random_f32({200000}, 12, -300, 300);
  auto qb = OpHarness("QuantizeLinear", 19).input(big).input(scalar_f32(0.75f)).input(make_tensor<uint8_t>({}, {100})).threads(4).run();
  ok = true;
  for (int64_t i = 0; i < big.numel(); ++i) {
    float v = std::nearbyint(big.ptr<float>()[i] / 0.75f) + 100.0f;
    v = std::min(255.0f, std::max(0.0f, v));
    ok = ok && qb[0].ptr<uint8_t>()[i] == uint8_t(v);
  }
  CHECK(ok);
  // Errors.
  CHECK(expect_error([&] { OpHarness("QuantizeLinear", 21).attr_int("block_size", 2).input(x).input(scalar_f32(1)).run(); }) ==
        StatusCode::Unsupported);
  CHECK(expect_error([&] { OpHarness("QuantizeLinear", 13).input(xa).input(tensor_f32({2}, {1, 2})).run(); }) ==
        StatusCode::ShapeMismatch);
  CHECK(expect_error([&] { OpHarness("QuantizeLinear", 10).input(xa).input(tensor_f32({3}, {1, 2, 3})).run(); }) ==
        StatusCode::InvalidModel);
  auto od = OpHarness("QuantizeLinear", 21).attr_int("output_dtype", int64_t(DType::Int8)).input(h).input(scalar_f32(2)).run();
  CHECK(od[0].dtype == DType::Int8);
}

NETLITE_TEST(math_dequantize) {
  // Spec example.
  auto d = OpHarness("DequantizeLinear", 13).input(make_tensor<uint8_t>({4}, {0, 3, 128, 255})).input(scalar_f32(2))
               .input(make_tensor<uint8_t>({}, {128})).run();
  CHECK(all_close(d[0], {-256, -250, 0, 254}, 0, 0));
  // Spec per-axis example: x [1,3,3,2] uint8, axis 1.
  Tensor xa = make_tensor<uint8_t>({1, 3, 3, 2}, {3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102});
  auto da = OpHarness("DequantizeLinear", 13).input(xa).input(tensor_f32({3}, {2, 4, 5}))
                .input(make_tensor<uint8_t>({3}, {84, 24, 196})).run();
  CHECK(all_close(da[0], {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470}, 0, 0));
  // int8, no zero point; int32; channels-last per axis.
  auto di = OpHarness("DequantizeLinear", 10).input(make_tensor<int8_t>({3}, {-128, 0, 127})).input(scalar_f32(0.5f)).run();
  CHECK(all_close(di[0], {-64, 0, 63.5f}, 0, 0));
  auto d32 = OpHarness("DequantizeLinear", 13).input(make_tensor<int32_t>({2}, {-1000, 7})).input(scalar_f32(0.25f)).run();
  CHECK(all_close(d32[0], {-250, 1.75f}, 0, 0));
  Tensor xc = make_tensor<int8_t>({2, 3}, {1, 2, 3, -1, -2, -3});
  auto dc = OpHarness("DequantizeLinear", 13).attr_int("axis", 1).input(xc).input(tensor_f32({3}, {1, 10, 100}))
                .input(make_tensor<int8_t>({3}, {1, 0, -1})).run();
  CHECK(all_close(dc[0], {0, 20, 400, -2, -20, -200}, 0, 0));
  CHECK(expect_error([] { OpHarness("DequantizeLinear", 13).input(tensor_f32({1}, {1})).input(scalar_f32(1)).run(); }) ==
        StatusCode::Unsupported);
  CHECK(expect_error([] {
          OpHarness("DequantizeLinear", 13).input(make_tensor<uint8_t>({1}, {1})).input(scalar_f32(1))
              .input(make_tensor<int8_t>({}, {0})).run();
        }) == StatusCode::TypeMismatch);
}

// The dispatched (AVX2 where available) per-tensor kernels against the scalar
// reference: bit-identical on random data, exact .5 ties, NaN, infinities and
// out-of-range values, for lengths that exercise the vector body and the tail.
NETLITE_TEST(math_quantize_kernels_match_reference) {
  namespace k = netlite::kernels;
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {0, 1, 15, 16, 31, 32, 33, 100, 1000, 4099}) {
    Tensor r = random_f32({n}, uint32_t(n) + 3, -200, 200);
    float* x = r.ptr<float>();
    for (int64_t i = 0; i < n; i += 7) x[i] = float(i % 40 - 20) * 0.25f;  // exact halves of scale 0.5
    if (n > 5) { x[1] = std::numeric_limits<float>::quiet_NaN(); x[2] = inf; x[3] = -inf; x[4] = 1e30f; x[5] = -1e30f; }
    for (float scale : {0.5f, 0.0235f, 3.0f}) {
      for (int32_t zp : {0, 17, 255}) {
        std::vector<uint8_t> a(size_t(n) + 1), b(size_t(n) + 1);
        k::quantize_f32_u8(x, a.data(), n, scale, zp);
        k::quantize_f32_u8_reference(x, b.data(), n, scale, zp);
        CHECK_MSG(a == b, "u8 n=%lld scale=%g zp=%d", (long long)n, double(scale), zp);
        std::vector<float> fa(size_t(n) + 1), fb(size_t(n) + 1);
        k::dequantize_u8_f32(a.data(), fa.data(), n, scale, zp);
        k::dequantize_u8_f32_reference(a.data(), fb.data(), n, scale, zp);
        CHECK_MSG(std::memcmp(fa.data(), fb.data(), size_t(n) * 4) == 0, "dq u8 n=%lld", (long long)n);
      }
      for (int32_t zp : {0, -128, 5, 127}) {
        std::vector<int8_t> a(size_t(n) + 1), b(size_t(n) + 1);
        k::quantize_f32_s8(x, a.data(), n, scale, zp);
        k::quantize_f32_s8_reference(x, b.data(), n, scale, zp);
        CHECK_MSG(a == b, "s8 n=%lld scale=%g zp=%d", (long long)n, double(scale), zp);
        std::vector<float> fa(size_t(n) + 1), fb(size_t(n) + 1);
        k::dequantize_s8_f32(a.data(), fa.data(), n, scale, zp);
        k::dequantize_s8_f32_reference(a.data(), fb.data(), n, scale, zp);
        CHECK_MSG(std::memcmp(fa.data(), fb.data(), size_t(n) * 4) == 0, "dq s8 n=%lld", (long long)n);
      }
    }
  }
  // The reference itself on ties and specials: round half to even, NaN -> lowest, saturation.
  const float v[8] = {0.25f, 0.75f, -0.25f, -0.75f, std::numeric_limits<float>::quiet_NaN(), inf, -inf, 1.25f};
  uint8_t q[8];
  k::quantize_f32_u8_reference(v, q, 8, 0.5f, 10);
  CHECK((std::vector<uint8_t>(q, q + 8) == std::vector<uint8_t>{10, 12, 10, 8, 0, 255, 0, 12}));
}

}  // namespace math_test
