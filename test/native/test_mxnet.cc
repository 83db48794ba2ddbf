// MXNet import and the MXNet C predict API: the JSON reader and the NDArray-list
// reader under hostile input, every params version loading identically, small
// networks written as MXNet files (mxnet_writer.h) and as ONNX (onnx_builder.h)
// giving the same outputs, MXNet-specific op semantics checked by hand, the
// c_predict_api.h entry points (including their error wall), and the real MTCNN
// cascade in ../shared/mxnet/mtcnn (skipped when absent; NETLITE_MTCNN_DIR overrides).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../native/include/c_predict_api.h"
#include "../../native/include/netlite.h"
#include "check.h"
#include "mxnet/json.h"
#include "mxnet/ndarray_file.h"
#include "mxnet_writer.h"
#include "onnx_builder.h"

using namespace netlite_test;

namespace mxnet_test {

std::vector<float> ramp(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct Output {
  std::vector<int64_t> dims;
  std::vector<float> data;
};

// Loads an MXNet model through netlite.h; null (and a message) on failure.
netlite_model* load_mx(const std::string& json, const std::string& params, const std::vector<std::string>& names = {},
                       const std::vector<std::vector<int64_t>>& dims = {}, netlite_status* status = nullptr) {
  std::vector<const char*> n;
  std::vector<const int64_t*> d;
  std::vector<size_t> nd;
  for (size_t i = 0; i < names.size(); ++i) {
    n.push_back(names[i].c_str());
    d.push_back(dims[i].data());
    nd.push_back(dims[i].size());
  }
  netlite_model* m = nullptr;
  netlite_status s = netlite_model_load_mxnet(json.data(), json.size(), params.empty() ? nullptr : params.data(),
                                              params.size(), n.data(), d.data(), nd.data(), names.size(), nullptr, &m);
  if (status) *status = s;
  return m;
}

netlite_model* load_onnx(const std::string& bytes) {
  netlite_model* m = nullptr;
  netlite_model_load(bytes.data(), bytes.size(), nullptr, &m);
  return m;
}

// Runs a one-input model; empty on failure (the message is printed).
std::vector<Output> run(netlite_model* m, const char* input, const std::vector<int64_t>& dims, const std::vector<float>& x) {
  std::vector<Output> outs;
  netlite_session* s = nullptr;
  if (netlite_session_create(m, &s) != NETLITE_OK ||
      netlite_session_set_input(s, input, NETLITE_DTYPE_FLOAT32, dims.data(), dims.size(), x.data(), x.size() * 4) != NETLITE_OK ||
      netlite_session_run(s) != NETLITE_OK) {
    std::printf("  run failed: %s\n", netlite_last_error());
    netlite_session_free(s);
    return outs;
  }
  size_t n = 0;
  netlite_model_output_count(m, &n);
  for (size_t i = 0; i < n; ++i) {
    netlite_tensor t;
    if (netlite_session_output(s, i, &t) != NETLITE_OK) break;
    Output o;
    o.dims.assign(t.dims, t.dims + t.ndim);
    o.data.assign(static_cast<const float*>(t.data), static_cast<const float*>(t.data) + t.size_bytes / 4);
    outs.push_back(o);
  }
  netlite_session_free(s);
  return outs;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

bool throws_model_error(const std::function<void()>& fn, const char* must_contain = nullptr) {
  try {
    fn();
  } catch (const netlite::Error& e) {
    if (must_contain && !std::strstr(e.what(), must_contain)) {
      std::printf("  message lacks '%s': %s\n", must_contain, e.what());
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    std::printf("  unexpected exception type: %s\n", e.what());
    return false;
  }
  return false;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::string();
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string mtcnn_dir() {
  const char* env = std::getenv("NETLITE_MTCNN_DIR");
  std::vector<std::string> dirs = {env ? env : "", "../shared/mxnet/mtcnn", "../../shared/mxnet/mtcnn", "/work/shared/mxnet/mtcnn"};
  for (const std::string& d : dirs)
    if (!d.empty() && !slurp(d + "/det1-symbol.json").empty()) return d;
  return std::string();
}

// The conv net used by several tests: data (N,3,8,8) -> Convolution 3x3 pad 1 (4 filters)
// -> BatchNorm (fix_gamma default) -> relu -> Pooling max 3x3/2 "full" (4x4) -> FullyConnected 5
// -> SoftmaxOutput. Legacy JSON omits BatchNorm's aux inputs (the 0.8 -> 0.9 upgrade adds them).
struct ConvNet {
  std::vector<float> w = ramp(4 * 3 * 3 * 3, 1), b = ramp(4, 2), gamma = ramp(4, 3), beta = ramp(4, 4),
                     mean = ramp(4, 5), fcw = ramp(5 * 64, 7), fcb = ramp(5, 8);
  std::vector<float> var;
  ConvNet() {
    var = ramp(4, 6);
    for (float& v : var) v = std::fabs(v) + 0.5f;
  }

  std::string json(bool legacy) const {
    mxw::Symbol s;
    int data = s.var("data");
    int cw = s.var("conv0_weight"), cb = s.var("conv0_bias");
    int conv = s.op("Convolution", "conv0",
                    {{"kernel", "(3, 3)"}, {"num_filter", "4"}, {"pad", "(1,1)"}, {"stride", "(1,1)"}, {"no_bias", "False"}},
                    {{data, 0}, {cw, 0}, {cb, 0}});
    int g = s.var("bn0_gamma"), be = s.var("bn0_beta");
    std::vector<std::pair<int, int>> bn_in = {{conv, 0}, {g, 0}, {be, 0}};
    if (!legacy) {
      int mm = s.var("bn0_moving_mean"), mv = s.var("bn0_moving_var");
      bn_in.push_back({mm, 0});
      bn_in.push_back({mv, 0});
    }
    int bn = s.op("BatchNorm", "bn0", {{"eps", "0.001"}}, bn_in);
    int act = s.op("Activation", "relu0", {{"act_type", "relu"}}, {{bn, 0}});
    int pool = s.op("Pooling", "pool0",
                    {{"kernel", "(3,3)"}, {"stride", "(2,2)"}, {"pool_type", "max"}, {"pooling_convention", "full"}},
                    {{act, 0}});
    int fw = s.var("fc0_weight"), fb = s.var("fc0_bias");
    int fc = s.op("FullyConnected", "fc0", {{"num_hidden", "5"}}, {{pool, 0}, {fw, 0}, {fb, 0}});
    int label = s.var("softmax_label");
    int sm = s.op(legacy ? "Softmax" : "SoftmaxOutput", "softmax", {}, {{fc, 0}, {label, 0}});
    s.head(sm);
    return s.json(legacy);
  }

  std::vector<mxw::Array> arrays() const {
    return {mxw::f32("arg:conv0_weight", {4, 3, 3, 3}, w), mxw::f32("arg:conv0_bias", {4}, b),
            mxw::f32("arg:bn0_gamma", {4}, gamma),         mxw::f32("arg:bn0_beta", {4}, beta),
            mxw::f32("aux:bn0_moving_mean", {4}, mean),    mxw::f32("aux:bn0_moving_var", {4}, var),
            mxw::f32("arg:fc0_weight", {5, 64}, fcw),      mxw::f32("arg:fc0_bias", {5}, fcb)};
  }

  // The same network in ONNX, with MXNet's semantics spelled out: gamma fixed at 1,
  // "full" pooling as ceil_mode, SoftmaxOutput as Flatten + Softmax.
  std::string onnx() const {
    GraphSpec g;
    std::vector<float> ones(4, 1.0f);
    g.initializers = {tensor_f32("w", {4, 3, 3, 3}, w), tensor_f32("b", {4}, b), tensor_f32("scale", {4}, ones),
                      tensor_f32("beta", {4}, beta),  tensor_f32("mean", {4}, mean), tensor_f32("var", {4}, var),
                      tensor_f32("fcw", {5, 64}, fcw), tensor_f32("fcb", {5}, fcb)};
    g.nodes = {node("Conv", {"x", "w", "b"}, {"c"}, "conv",
                    {attr_ints("kernel_shape", {3, 3}), attr_ints("pads", {1, 1, 1, 1})}),
               node("BatchNormalization", {"c", "scale", "beta", "mean", "var"}, {"n"}, "bn", {attr_float("epsilon", 1e-3f)}),
               node("Relu", {"n"}, {"r"}, "relu"),
               node("MaxPool", {"r"}, {"p"}, "pool",
                    {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_int("ceil_mode", 1)}),
               node("Flatten", {"p"}, {"f"}, "flat"),
               node("Gemm", {"f", "fcw", "fcb"}, {"g"}, "fc", {attr_int("transB", 1)}),
               node("Softmax", {"g"}, {"y"}, "sm", {attr_int("axis", 1)})};
    g.inputs = {value_info("x", 1, {1, 3, 8, 8})};
    g.outputs = {value_info("y", 1, {1, 5})};
    return model(g);
  }
};

// A one-op MXNet graph "data -> op(attrs) -> out" with optional extra weight inputs.
std::string one_op(const std::string& op, std::vector<std::pair<std::string, std::string>> attrs,
                   const std::vector<std::string>& weights = {}, size_t heads = 1) {
  mxw::Symbol s;
  int data = s.var("data");
  std::vector<std::pair<int, int>> in = {{data, 0}};
  for (const std::string& w : weights) in.push_back({s.var(w), 0});
  int n = s.op(op, "op0", std::move(attrs), in);
  for (size_t h = 0; h < heads; ++h) s.head(n, int(h));
  return s.json(false);
}

// Runs a one-op graph on x with input dims `dims`; outputs or empty.
std::vector<Output> run_op(const std::string& json, const std::vector<mxw::Array>& params, const std::vector<int64_t>& dims,
                           const std::vector<float>& x) {
  netlite_model* m = load_mx(json, params.empty() ? std::string() : mxw::nd_list(params, 2), {"data"}, {dims});
  if (!m) {
    std::printf("  load failed: %s\n", netlite_last_error());
    return {};
  }
  std::vector<Output> o = run(m, "data", dims, x);
  netlite_model_free(m);
  return o;
}

}  // namespace mxnet_test

using namespace mxnet_test;

NETLITE_TEST(mxnet_json_reader_parses_and_rejects_hostile_text) {
  using netlite::json::parse;
  std::string doc = "\xEF\xBB\xBF{\"a\": [1, 2.5, -3e2, true, false, null, \"x\\u00e9\\n\\ud83d\\ude00\"], \"b\": {}}  ";
  netlite::json::Value v = parse(doc.data(), doc.size());
  CHECK(v.is_object());
  const netlite::json::Value* a = v.find("a");
  if (!CHECK(a && a->is_array() && a->items.size() == 7)) return;
  CHECK(a->items[0].is_integer() && a->items[0].number == 1);
  CHECK(!a->items[1].is_integer() && a->items[1].number == 2.5);
  CHECK(a->items[2].number == -300);
  CHECK(a->items[3].boolean && !a->items[4].boolean && a->items[5].is_null());
  CHECK(a->items[6].text == "x\xC3\xA9\n\xF0\x9F\x98\x80");
  CHECK(v.find("b") && v.find("b")->is_object() && !v.find("c"));

  const char* bad[] = {"", "   ", "[1,]", "{\"a\":1,\"a\":2}", "\"abc", "[1] x", "\"\\ud800\"", "01", "[NaN]", "{\"a\" 1}",
                       "[\"\x01\"]", "\"\\q\"", "{1: 2}", "-", "1.", "1e", "[1, 2", "tru", "\"\\u12\""};
  for (const char* b : bad) CHECK_MSG(throws_model_error([&] { parse(b, std::strlen(b), "t"); }, "t: "), "accepted: %s", b);
  // Errors name the byte offset, line and column.
  CHECK(throws_model_error([] { parse("{\n  \"a\": ]", 10, "symbol"); }, "byte 9 (line 2, column 8)"));
  // Depth and count limits.
  std::string deep(200, '[');
  CHECK(throws_model_error([&] { parse(deep.data(), deep.size()); }, "nesting deeper"));
  netlite::json::Limits lim;
  lim.max_values = 10;
  std::string many = "[1,2,3,4,5,6,7,8,9,10,11,12]";
  CHECK(throws_model_error([&] { parse(many.data(), many.size(), "t", lim); }, "more than 10 values"));
  lim = netlite::json::Limits();
  lim.max_bytes = 4;
  CHECK(throws_model_error([&] { parse(many.data(), many.size(), "t", lim); }, "larger than the limit"));
  // Every truncation of a real-looking symbol fails cleanly.
  std::string sym = ConvNet().json(false);
  for (size_t n = 0; n + 2 < sym.size(); n += 7)
    CHECK_MSG(throws_model_error([&] { parse(sym.data(), n); }), "truncation at %zu accepted", n);
}

NETLITE_TEST(mxnet_ndarray_versions_load_identically) {
  std::vector<float> w = ramp(6, 11), b = {0.5f, -1.25f, 3.0f};
  std::vector<mxw::Array> arrays = {mxw::f32("arg:w", {2, 3}, w), mxw::f32("arg:b", {3}, b)};
  mxw::Array none;
  none.name = "arg:none";
  none.none = true;
  arrays.push_back(none);
  for (int version = 0; version <= 3; ++version) {
    for (bool names : {true, false}) {
      std::string file = mxw::nd_list(arrays, version, names);
      std::vector<netlite::mxnet::NDArrayEntry> e;
      try {
        e = netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(file.data()), file.size());
      } catch (const std::exception& ex) {
        CHECK_MSG(false, "version %d: %s", version, ex.what());
        continue;
      }
      if (!CHECK(e.size() == 3)) continue;
      CHECK(e[0].version == version && e[1].version == version);
      CHECK(e[0].name == (names ? "arg:w" : "") && e[2].name == (names ? "arg:none" : ""));
      CHECK((e[0].tensor.shape == std::vector<int64_t>{2, 3}) && (e[1].tensor.shape == std::vector<int64_t>{3}));
      CHECK(std::memcmp(e[0].tensor.data, w.data(), 24) == 0 && std::memcmp(e[1].tensor.data, b.data(), 12) == 0);
      CHECK(e[2].empty && !e[0].empty);
    }
  }
  // float16 and float64 become float32; V3 keeps a 0-d array as a scalar.
  std::vector<float> halves = {0.5f, -2.0f, 1024.0f, 0.0999755859375f};
  std::vector<mxw::Array> typed = {mxw::f16("arg:h", {4}, halves), mxw::f64("arg:d", {2}, {1.5, -0.25}),
                                   mxw::f32("arg:s", {}, {7.0f})};
  std::string file = mxw::nd_list(typed, 3);
  auto e = netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  if (!CHECK(e.size() == 3)) return;
  CHECK(e[0].mx_dtype == 2 && e[0].tensor.dtype == netlite::DType::Float32);
  for (int i = 0; i < 4; ++i) CHECK(e[0].tensor.ptr<float>()[i] == halves[size_t(i)]);
  CHECK(e[1].tensor.ptr<float>()[0] == 1.5f && e[1].tensor.ptr<float>()[1] == -0.25f);
  CHECK(e[2].tensor.shape.empty() && !e[2].empty && e[2].tensor.ptr<float>()[0] == 7.0f);
}

NETLITE_TEST(mxnet_ndarray_truncations_and_corruptions_fail_cleanly) {
  std::vector<mxw::Array> arrays = {mxw::f32("arg:w", {2, 3}, ramp(6, 1)), mxw::f16("aux:m", {3}, {1, 2, 3})};
  for (int version = 0; version <= 3; ++version) {
    std::string file = mxw::nd_list(arrays, version);
    for (size_t n = 0; n < file.size(); ++n) {
      // Names are optional at the very end only as a whole: a cut inside the list must fail.
      bool ok = throws_model_error([&] {
        netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(file.data()), n);
      });
      CHECK_MSG(ok, "version %d: prefix of %zu bytes accepted", version, n);
    }
    std::mt19937 rng(uint32_t(version) + 5);
    for (int trial = 0; trial < 300; ++trial) {
      std::string f = file;
      f[rng() % f.size()] ^= char(1 << (rng() % 8));
      try {
        netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(f.data()), f.size());
      } catch (const netlite::Error&) {
      } catch (const std::exception& ex) {
        CHECK_MSG(false, "bit flip gave a non-netlite exception: %s", ex.what());
      }
    }
  }
  // Counts that the bytes cannot hold are rejected before anything is reserved.
  mxw::Bytes h;
  h.put<uint64_t>(0x112);
  h.put<uint64_t>(0);
  h.put<uint64_t>(uint64_t(1) << 60);
  CHECK(throws_model_error([&] { netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(h.s.data()), h.s.size()); },
                           "only 0 bytes follow"));
  // A V2 array claiming 2^40 elements is a truncation, not an allocation.
  mxw::Bytes big;
  big.put<uint64_t>(0x112);
  big.put<uint64_t>(0);
  big.put<uint64_t>(1);
  big.put<uint32_t>(0xF993FAC9u);
  big.put<int32_t>(0);
  big.put<int32_t>(2);
  big.put<int64_t>(1 << 20);
  big.put<int64_t>(1 << 20);
  big.put<int32_t>(1);
  big.put<int32_t>(0);
  big.put<int32_t>(0);
  CHECK(throws_model_error([&] { netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(big.s.data()), big.s.size()); },
                           "truncated"));
  // Sparse storage and unknown types are named.
  mxw::Bytes sp;
  sp.put<uint64_t>(0x112);
  sp.put<uint64_t>(0);
  sp.put<uint64_t>(1);
  sp.put<uint32_t>(0xF993FAC9u);
  sp.put<int32_t>(1);
  try {
    netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(sp.s.data()), sp.s.size());
    CHECK(false);
  } catch (const netlite::Error& e) {
    CHECK(e.code() == netlite::StatusCode::Unsupported && std::strstr(e.what(), "row_sparse"));
  }
  std::string notnd = "this is not an ndarray file at all";
  CHECK(throws_model_error([&] { netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(notnd.data()), notnd.size()); },
                           "not an MXNet NDArray file"));
}

NETLITE_TEST(mxnet_conv_net_matches_onnx_in_every_format) {
  ConvNet net;
  std::vector<float> x = ramp(3 * 8 * 8, 99);
  netlite_model* om = load_onnx(net.onnx());
  if (!CHECK_MSG(om, "onnx: %s", netlite_last_error())) return;
  std::vector<Output> ref = run(om, "x", {1, 3, 8, 8}, x);
  netlite_model_free(om);
  if (!CHECK(ref.size() == 1 && ref[0].data.size() == 5)) return;
  for (bool legacy : {true, false}) {
    for (int version = 0; version <= 3; ++version) {
      std::string params = mxw::nd_list(net.arrays(), version);
      // With declared input shapes (MXPredCreate style) and without (inputs inferred, rank free).
      for (bool declared : {true, false}) {
        netlite_model* m = declared ? load_mx(net.json(legacy), params, {"data"}, {{1, 3, 8, 8}})
                                    : load_mx(net.json(legacy), params);
        if (!CHECK_MSG(m, "legacy=%d v%d: %s", legacy, version, netlite_last_error())) continue;
        size_t ni = 0;
        netlite_model_input_count(m, &ni);
        netlite_tensor_info in;
        netlite_model_input_info(m, 0, &in);
        CHECK(ni == 1 && std::strcmp(in.name, "data") == 0 && in.ndim == (declared ? 4u : 0u));
        netlite_tensor_info out;
        netlite_model_output_info(m, 0, &out);
        CHECK(std::strcmp(out.name, "softmax_output") == 0);
        std::vector<Output> got = run(m, "data", {1, 3, 8, 8}, x);
        if (CHECK(got.size() == 1)) {
          CHECK((got[0].dims == std::vector<int64_t>{1, 5}));
          CHECK_MSG(max_diff(got[0].data, ref[0].data) < 1e-5, "legacy=%d v%d differs by %g", legacy, version,
                    max_diff(got[0].data, ref[0].data));
        }
        netlite_model_free(m);
      }
    }
  }
  // fix_gamma=False uses the stored gamma: the result must change.
  std::string json = net.json(false);
  size_t at = json.find("\"eps\": \"0.001\"");
  if (CHECK(at != std::string::npos)) {
    json.replace(at, 14, "\"eps\": \"0.001\", \"fix_gamma\": \"False\"");
    netlite_model* m = load_mx(json, mxw::nd_list(net.arrays(), 2));
    if (CHECK_MSG(m, "%s", netlite_last_error())) {
      std::vector<Output> got = run(m, "data", {1, 3, 8, 8}, x);
      CHECK(got.size() == 1 && max_diff(got[0].data, ref[0].data) > 1e-4);
      netlite_model_free(m);
    }
  }
}

NETLITE_TEST(mxnet_branchy_net_matches_onnx) {
  // data (1,4,3,3) -> LRN -> SliceChannel(2) -> [relu | prelu] -> Concat -> _mul_scalar
  // -> FullyConnected(no_bias) -> SoftmaxActivation, against the same net in ONNX.
  std::vector<float> gamma = {0.1f, 0.3f}, w = ramp(3 * 36, 21), x = ramp(36, 22);
  mxw::Symbol s;
  int d = s.var("data");
  int lrn = s.op("LRN", "lrn0", {{"nsize", "3"}, {"alpha", "0.001"}, {"beta", "0.75"}, {"knorm", "1"}}, {{d, 0}});
  int sl = s.op("SliceChannel", "slice0", {{"num_outputs", "2"}}, {{lrn, 0}});
  int r = s.op("Activation", "relu0", {{"act_type", "relu"}}, {{sl, 0}});
  int p = s.op("LeakyReLU", "prelu0", {{"act_type", "prelu"}}, {{sl, 1}, {s.var("prelu0_gamma"), 0}});
  int c = s.op("Concat", "cat0", {{"dim", "1"}, {"num_args", "2"}}, {{r, 0}, {p, 0}});
  int m = s.op("_mul_scalar", "mul0", {{"scalar", "2"}}, {{c, 0}});
  int fc = s.op("FullyConnected", "fc0", {{"num_hidden", "3"}, {"no_bias", "True"}}, {{m, 0}, {s.var("fc0_weight"), 0}});
  int sm = s.op("SoftmaxActivation", "sm0", {}, {{fc, 0}});
  s.head(sm);
  s.head(sl, 1);
  std::vector<mxw::Array> params = {mxw::f32("arg:prelu0_gamma", {2}, gamma), mxw::f32("arg:fc0_weight", {3, 36}, w)};

  GraphSpec g;
  std::vector<float> two = {2.0f};
  g.initializers = {tensor_f32("slope", {2, 1, 1}, gamma), tensor_f32("w", {3, 36}, w), tensor_f32("two", {}, two),
                    tensor_i64("split", {2}, {2, 2})};
  g.nodes = {node("LRN", {"x"}, {"l"}, "lrn", {attr_int("size", 3), attr_float("alpha", 0.001f), attr_float("beta", 0.75f), attr_float("bias", 1.0f)}),
             node("Split", {"l", "split"}, {"a", "b"}, "split", {attr_int("axis", 1)}),
             node("Relu", {"a"}, {"ra"}, "relu"),
             node("PRelu", {"b", "slope"}, {"pb"}, "prelu"),
             node("Concat", {"ra", "pb"}, {"c"}, "cat", {attr_int("axis", 1)}),
             node("Mul", {"c", "two"}, {"m"}, "mul"),
             node("Flatten", {"m"}, {"f"}, "flat"),
             node("Gemm", {"f", "w"}, {"y0"}, "fc", {attr_int("transB", 1)}),
             node("Softmax", {"y0"}, {"y"}, "sm", {attr_int("axis", 1)})};
  g.inputs = {value_info("x", 1, {1, 4, 3, 3})};
  g.outputs = {value_info("y", 1, {1, 3}), value_info("b", 1, {1, 2, 3, 3})};
  netlite_model* om = load_onnx(model(g));
  if (!CHECK_MSG(om, "onnx: %s", netlite_last_error())) return;
  std::vector<Output> ref = run(om, "x", {1, 4, 3, 3}, x);
  netlite_model_free(om);
  for (int version = 0; version <= 3; ++version) {
    netlite_model* mm = load_mx(s.json(version == 0), mxw::nd_list(params, version), {"data"}, {{1, 4, 3, 3}});
    if (!CHECK_MSG(mm, "v%d: %s", version, netlite_last_error())) continue;
    netlite_tensor_info out;
    netlite_model_output_info(mm, 1, &out);
    CHECK(std::strcmp(out.name, "slice0_output1") == 0);
    std::vector<Output> got = run(mm, "data", {1, 4, 3, 3}, x);
    if (CHECK(got.size() == 2 && ref.size() == 2)) {
      CHECK_MSG(max_diff(got[0].data, ref[0].data) < 1e-6, "v%d softmax differs by %g", version, max_diff(got[0].data, ref[0].data));
      CHECK(max_diff(got[1].data, ref[1].data) == 0);
    }
    netlite_model_free(mm);
  }
}

NETLITE_TEST(mxnet_op_semantics_match_mxnet) {
  // LeakyReLU prelu: gamma per channel (axis 1) at rank 4 and rank 2.
  {
    std::vector<float> x = {1, -1, 2, -2, 1, -1, 2, -2};
    auto o = run_op(one_op("LeakyReLU", {{"act_type", "prelu"}}, {"g"}), {mxw::f32("arg:g", {2}, {0.1f, 0.5f})}, {1, 2, 2, 2}, x);
    if (CHECK(o.size() == 1)) CHECK(max_diff(o[0].data, {1, -0.1f, 2, -0.2f, 1, -0.5f, 2, -1.0f}) < 1e-6);
    auto o2 = run_op(one_op("LeakyReLU", {{"act_type", "prelu"}}, {"g"}), {mxw::f32("arg:g", {2}, {0.1f, 0.5f})}, {2, 2}, {-1, -1, 3, -4});
    if (CHECK(o2.size() == 1)) CHECK(max_diff(o2[0].data, {-0.1f, -0.5f, 3, -2.0f}) < 1e-6);
    auto o3 = run_op(one_op("LeakyReLU", {{"act_type", "leaky"}, {"slope", "0.2"}}), {}, {4}, {-1, 1, -5, 0});
    if (CHECK(o3.size() == 1)) CHECK(max_diff(o3[0].data, {-0.2f, 1, -1, 0}) < 1e-6);
    auto o4 = run_op(one_op("LeakyReLU", {{"act_type", "rrelu"}}), {}, {2}, {-1, 1});
    if (CHECK(o4.size() == 1)) CHECK(max_diff(o4[0].data, {-(0.125f + 0.334f) / 2, 1}) < 1e-6);
  }
  // LRN: x / (knorm + alpha/nsize * sum over the window of x^2)^beta.
  {
    std::vector<float> x = {1, 2, 3};
    auto o = run_op(one_op("LRN", {{"nsize", "3"}, {"alpha", "0.3"}, {"beta", "0.75"}, {"knorm", "2"}}), {}, {1, 3, 1, 1}, x);
    std::vector<float> want(3);
    for (int c = 0; c < 3; ++c) {
      float sum = 0;
      for (int k = c - 1; k <= c + 1; ++k) if (k >= 0 && k < 3) sum += x[size_t(k)] * x[size_t(k)];
      want[size_t(c)] = x[size_t(c)] / std::pow(2.0f + 0.3f / 3 * sum, 0.75f);
    }
    if (CHECK(o.size() == 1)) CHECK_MSG(max_diff(o[0].data, want) < 1e-5, "LRN %g %g %g", o[0].data[0], o[0].data[1], o[0].data[2]);
  }
  // Reshape special codes (and the legacy target_shape form).
  {
    std::vector<float> x = ramp(24, 3);
    struct Case { const char* shape; bool reverse; std::vector<int64_t> want; };
    Case cases[] = {{"(0, -1)", false, {2, 12}},    {"(-2,)", false, {2, 3, 4}},   {"(-3, -2)", false, {6, 4}},
                    {"(-4, 1, 2, -2)", false, {1, 2, 3, 4}}, {"(2, -4, -1, 3, 4)", false, {2, 1, 3, 4}},
                    {"(-1, 0)", true, {6, 4}},      {"(0, -3)", false, {2, 12}},   {"(4, 0, -1)", false, {4, 3, 2}}};
    for (const Case& c : cases) {
      auto o = run_op(one_op("Reshape", {{"shape", c.shape}, {"reverse", c.reverse ? "True" : "False"}}), {}, {2, 3, 4}, x);
      if (CHECK_MSG(o.size() == 1, "shape %s", c.shape)) {
        CHECK_MSG(o[0].dims == c.want, "shape %s", c.shape);
        CHECK(max_diff(o[0].data, x) == 0);
      }
    }
    auto legacy = run_op(one_op("Reshape", {{"target_shape", "(0, 0, 4)"}, {"keep_highest", "True"}}), {}, {2, 3, 4}, x);
    if (CHECK(legacy.size() == 1)) CHECK((legacy[0].dims == std::vector<int64_t>{2, 3, 4}));
    auto legacy2 = run_op(one_op("Reshape", {{"target_shape", "(0, 8)"}}), {}, {2, 3, 4}, x);
    if (CHECK(legacy2.size() == 1)) CHECK((legacy2[0].dims == std::vector<int64_t>{3, 8}));
    netlite_model* bad = load_mx(one_op("Reshape", {{"shape", "(-3, 5)"}}), "", {"data"}, {{2, 3, 4}});
    CHECK(!bad && std::strstr(netlite_last_error(), "(-3, 5)"));
    netlite_model_free(bad);
  }
  // SliceChannel with squeeze_axis; outputs named op0_output0, op0_output1.
  {
    std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    auto o = run_op(one_op("SliceChannel", {{"num_outputs", "2"}, {"axis", "1"}, {"squeeze_axis", "True"}}, {}, 2), {}, {2, 2, 3}, x);
    if (CHECK(o.size() == 2)) {
      CHECK((o[0].dims == std::vector<int64_t>{2, 3}) && (o[1].dims == std::vector<int64_t>{2, 3}));
      CHECK(max_diff(o[0].data, {1, 2, 3, 7, 8, 9}) == 0 && max_diff(o[1].data, {4, 5, 6, 10, 11, 12}) == 0);
    }
  }
  // Scalar ops in-graph normalisation: ((x - 127.5) * 0.0078125), then 1 - v, 2 / v, v^2, max(v, 0.5).
  {
    mxw::Symbol s;
    int d = s.var("data");
    int a = s.op("_minus_scalar", "sub", {{"scalar", "127.5"}}, {{d, 0}});
    int b = s.op("_mul_scalar", "mul", {{"scalar", "0.0078125"}}, {{a, 0}});
    int c = s.op("_rminus_scalar", "rsub", {{"scalar", "1"}}, {{b, 0}});
    int e = s.op("_rdiv_scalar", "rdiv", {{"scalar", "2"}}, {{c, 0}});
    int f = s.op("_power_scalar", "pow", {{"scalar", "2"}}, {{e, 0}});
    int g = s.op("_maximum_scalar", "max", {{"scalar", "0.5"}}, {{f, 0}});
    s.head(g);
    s.head(b);
    auto o = run_op(s.json(false), {}, {3}, {255, 127.5f, 0});
    if (CHECK(o.size() == 2)) {
      std::vector<float> v = {(255 - 127.5f) * 0.0078125f, 0, -127.5f * 0.0078125f};
      std::vector<float> want;
      for (float t : v) want.push_back(std::max(std::pow(2 / (1 - t), 2.0f), 0.5f));
      CHECK(max_diff(o[0].data, want) < 1e-4 && max_diff(o[1].data, v) < 1e-6);
    }
  }
  // SoftmaxOutput over the flattened (N, -1) view by default; multi_output over axis 1;
  // SoftmaxActivation channel mode over axis 1.
  {
    std::vector<float> x = {0, 1, 2, 3};
    auto flat = run_op(one_op("SoftmaxOutput", {}), {}, {1, 2, 2, 1}, x);
    auto multi = run_op(one_op("SoftmaxOutput", {{"multi_output", "True"}}), {}, {1, 2, 2, 1}, x);
    auto chan = run_op(one_op("SoftmaxActivation", {{"mode", "channel"}}), {}, {1, 2, 2, 1}, x);
    float z = std::exp(0.0f) + std::exp(1.0f) + std::exp(2.0f) + std::exp(3.0f);
    if (CHECK(flat.size() == 1)) {
      CHECK((flat[0].dims == std::vector<int64_t>{1, 2, 2, 1}));
      CHECK(max_diff(flat[0].data, {1 / z, std::exp(1.0f) / z, std::exp(2.0f) / z, std::exp(3.0f) / z}) < 1e-6);
    }
    float p = 1 / (1 + std::exp(2.0f));
    if (CHECK(multi.size() == 1 && chan.size() == 1)) {
      CHECK(max_diff(multi[0].data, {p, p, 1 - p, 1 - p}) < 1e-6);
      CHECK(max_diff(chan[0].data, multi[0].data) < 1e-7);
    }
  }
  // FullyConnected flatten=False acts on the last axis; Dropout is the identity.
  {
    std::vector<float> w = ramp(5 * 4, 4), b = ramp(5, 5), x = ramp(2 * 3 * 4, 6);
    mxw::Symbol s;
    int d = s.var("data");
    int dr = s.op("Dropout", "drop", {{"p", "0.5"}}, {{d, 0}});
    int fc = s.op("FullyConnected", "fc", {{"num_hidden", "5"}, {"flatten", "False"}}, {{dr, 0}, {s.var("fc_weight"), 0}, {s.var("fc_bias"), 0}});
    s.head(fc);
    auto o = run_op(s.json(false), {mxw::f32("arg:fc_weight", {5, 4}, w), mxw::f32("arg:fc_bias", {5}, b)}, {2, 3, 4}, x);
    std::vector<float> want;
    for (int r = 0; r < 6; ++r)
      for (int j = 0; j < 5; ++j) {
        float acc = b[size_t(j)];
        for (int k = 0; k < 4; ++k) acc += x[size_t(r * 4 + k)] * w[size_t(j * 4 + k)];
        want.push_back(acc);
      }
    if (CHECK(o.size() == 1)) {
      CHECK((o[0].dims == std::vector<int64_t>{2, 3, 5}));
      CHECK(max_diff(o[0].data, want) < 1e-5);
    }
  }
  // Pooling: avg with padding counts the pad (MXNet's default), global avg, sum.
  {
    std::vector<float> x = {1, 2, 3, 4};
    auto avg = run_op(one_op("Pooling", {{"kernel", "(2,2)"}, {"pool_type", "avg"}, {"pad", "(1,1)"}, {"stride", "(2,2)"}}), {}, {1, 1, 2, 2}, x);
    auto gavg = run_op(one_op("Pooling", {{"kernel", "(1,1)"}, {"pool_type", "avg"}, {"global_pool", "True"}}), {}, {1, 1, 2, 2}, x);
    auto sum = run_op(one_op("Pooling", {{"kernel", "(2,2)"}, {"pool_type", "sum"}}), {}, {1, 1, 2, 2}, x);
    if (CHECK(avg.size() == 1)) CHECK(max_diff(avg[0].data, {0.25f, 0.5f, 0.75f, 1.0f}) < 1e-6);
    if (CHECK(gavg.size() == 1)) CHECK(max_diff(gavg[0].data, {2.5f}) < 1e-6);
    if (CHECK(sum.size() == 1)) CHECK(max_diff(sum[0].data, {10.0f}) < 1e-5);
  }
  // UpSampling nearest repeats each pixel scale x scale times.
  {
    auto o = run_op(one_op("UpSampling", {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "1"}}), {}, {1, 1, 2, 2}, {1, 2, 3, 4});
    if (CHECK(o.size() == 1)) {
      CHECK((o[0].dims == std::vector<int64_t>{1, 1, 4, 4}));
      CHECK(max_diff(o[0].data, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}) == 0);
    }
  }
  // L2Normalization (instance) and Concat + elemwise_add + Flatten.
  {
    auto o = run_op(one_op("L2Normalization", {}), {}, {2, 2}, {3, 4, 0, 2});
    if (CHECK(o.size() == 1)) CHECK(max_diff(o[0].data, {0.6f, 0.8f, 0, 1}) < 1e-5);
    mxw::Symbol s;
    int d = s.var("data");
    int a = s.op("elemwise_add", "add", {}, {{d, 0}, {d, 0}});
    int c = s.op("Concat", "cat", {{"dim", "1"}, {"num_args", "2"}}, {{d, 0}, {a, 0}});
    int f = s.op("Flatten", "flat", {}, {{c, 0}});
    s.head(f);
    auto o2 = run_op(s.json(false), {}, {1, 2, 1}, {1, 2});
    if (CHECK(o2.size() == 1)) {
      CHECK((o2[0].dims == std::vector<int64_t>{1, 4}));
      CHECK(max_diff(o2[0].data, {1, 2, 2, 4}) == 0);
    }
  }
}

NETLITE_TEST(mxnet_bad_models_are_clean_errors) {
  ConvNet net;
  std::string json = net.json(false);
  netlite_status st;
  // Args with no params entry are named, all at once, with the key expected.
  std::vector<mxw::Array> partial = net.arrays();
  partial.erase(partial.begin(), partial.begin() + 2);  // no conv0_weight, conv0_bias
  netlite_model* m = load_mx(json, mxw::nd_list(partial, 2), {"data"}, {{1, 3, 8, 8}}, &st);
  CHECK(!m && st == NETLITE_ERR_INVALID_MODEL);
  CHECK(std::strstr(netlite_last_error(), "'conv0_weight'") && std::strstr(netlite_last_error(), "'conv0_bias'") &&
        std::strstr(netlite_last_error(), "arg:conv0_weight"));
  // Even without declared inputs a weight slot is never taken for an input.
  m = load_mx(json, mxw::nd_list(partial, 2), {}, {}, &st);
  CHECK(!m && st == NETLITE_ERR_INVALID_MODEL && std::strstr(netlite_last_error(), "conv0_weight"));
  // Unsupported ops: every one listed.
  mxw::Symbol s;
  int d = s.var("data");
  int a = s.op("SwapAxis", "swap0", {{"dim1", "0"}, {"dim2", "1"}}, {{d, 0}});
  int b = s.op("FancyNewOp", "fancy0", {}, {{a, 0}});
  s.head(b);
  m = load_mx(s.json(false), "", {}, {}, &st);
  CHECK(!m && st == NETLITE_ERR_UNSUPPORTED && std::strstr(netlite_last_error(), "SwapAxis") &&
        std::strstr(netlite_last_error(), "FancyNewOp"));
  // Malformed symbols.
  const char* bad_json[] = {"", "{}", "[]", "{\"nodes\": [], \"heads\": []}", "{\"nodes\": [{\"op\": \"null\", \"name\": \"x\"}], \"heads\": [[5, 0]]}",
                            "{\"nodes\": [{\"op\": \"relu\", \"name\": \"r\", \"inputs\": [[0, 0]]}], \"heads\": [[0, 0]]}",
                            "{\"nodes\": [{\"op\": \"null\", \"name\": \"x\"}, {\"op\": \"relu\", \"name\": \"r\", \"inputs\": [[0, 1]]}], \"heads\": [[1, 0]]}",
                            "{\"nodes\": [{\"name\": \"x\"}], \"heads\": [[0, 0]]}", "{\"nodes\": 3, \"heads\": [[0, 0]]}"};
  for (const char* j : bad_json) {
    m = load_mx(j, "", {}, {}, &st);
    CHECK_MSG(!m && st == NETLITE_ERR_INVALID_MODEL, "accepted or wrong status %d for %s: %s", int(st), j, netlite_last_error());
    netlite_model_free(m);
  }
  // Every truncation of the symbol and of the params fails cleanly.
  std::string params = mxw::nd_list(net.arrays(), 0);
  for (size_t n = 0; n + 1 < json.size(); n += 5) {
    m = load_mx(json.substr(0, n), params, {}, {}, &st);
    CHECK_MSG(!m && st != NETLITE_OK, "symbol truncated at %zu loaded", n);
    netlite_model_free(m);
  }
  for (size_t n = 1; n < params.size(); n += 3) {
    m = load_mx(json, params.substr(0, n), {}, {}, &st);
    CHECK_MSG(!m && st == NETLITE_ERR_INVALID_MODEL, "params truncated at %zu: status %d", n, int(st));
    netlite_model_free(m);
  }
  // Bad attribute values name the node and the attribute.
  std::string badattr = json;
  badattr.replace(badattr.find("(3, 3)"), 6, "(3, x)");
  m = load_mx(badattr, params, {}, {}, &st);
  CHECK(!m && std::strstr(netlite_last_error(), "conv0") && std::strstr(netlite_last_error(), "kernel"));
  // A declared input the symbol lacks is not silently ignored.
  m = load_mx(json, params, {"image"}, {{1, 3, 8, 8}}, &st);
  CHECK(!m && st == NETLITE_ERR_NOT_FOUND && std::strstr(netlite_last_error(), "'image'"));
  // Wrong weight shapes are found at load when the input shape is declared.
  std::vector<mxw::Array> wrong = net.arrays();
  wrong[6] = mxw::f32("arg:fc0_weight", {5, 36}, ramp(5 * 36, 1));
  m = load_mx(json, mxw::nd_list(wrong, 1), {"data"}, {{1, 3, 8, 8}}, &st);
  CHECK(!m && st != NETLITE_OK);
}

namespace mxnet_test {

struct Pred {
  PredictorHandle h = nullptr;
  ~Pred() { MXPredFree(h); }
};

int create(const std::string& json, const std::string& params, std::vector<mx_uint> shape, PredictorHandle* out,
           int dev_type = 1) {
  const char* keys[] = {"data"};
  mx_uint indptr[] = {0, mx_uint(shape.size())};
  return MXPredCreate(json.c_str(), params.data(), int(params.size()), dev_type, 0, 1, keys, indptr, shape.data(), out);
}

std::vector<float> forward(PredictorHandle h, const std::vector<float>& x, mx_uint index = 0) {
  if (MXPredSetInput(h, "data", x.data(), mx_uint(x.size())) != 0 || MXPredForward(h) != 0) {
    std::printf("  forward: %s\n", MXGetLastError());
    return {};
  }
  mx_uint* shape = nullptr;
  mx_uint ndim = 0;
  if (MXPredGetOutputShape(h, index, &shape, &ndim) != 0) return {};
  size_t n = 1;
  for (mx_uint i = 0; i < ndim; ++i) n *= shape[i];
  std::vector<float> out(n);
  if (MXPredGetOutput(h, index, out.data(), mx_uint(n)) != 0) return {};
  return out;
}

}  // namespace mxnet_test

NETLITE_TEST(mxnet_c_predict_api_runs_reshapes_and_shares_weights) {
  ConvNet net;
  std::string json = net.json(true), params = mxw::nd_list(net.arrays(), 0);
  std::vector<float> x = ramp(3 * 8 * 8, 99);
  netlite_model* m = load_mx(json, params);
  std::vector<Output> ref = m ? run(m, "data", {1, 3, 8, 8}, x) : std::vector<Output>();
  netlite_model_free(m);
  if (!CHECK(ref.size() == 1)) return;

  Pred p;
  if (!CHECK_MSG(create(json, params, {1, 3, 8, 8}, &p.h) == 0, "%s", MXGetLastError())) return;
  mx_uint* shape = nullptr;
  mx_uint ndim = 0;
  CHECK(MXPredGetOutputShape(p.h, 0, &shape, &ndim) == 0 && ndim == 2 && shape[0] == 1 && shape[1] == 5);
  int types[3] = {-7, -7, -7};
  CHECK(MXPredGetOutputType(p.h, 0, &types[1]) == 0 && types[0] == -7 && types[1] == 0 && types[2] == -7);
  CHECK(MXPredGetOutputType(p.h, 1, &types[1]) == -1 && std::strstr(MXGetLastError(), "out of range"));
  CHECK(max_diff(forward(p.h, x), ref[0].data) < 1e-6);
  // Outputs before a forward, and after new inputs without one, are errors rather than stale data.
  std::vector<float> out(5);
  CHECK(MXPredSetInput(p.h, "data", x.data(), mx_uint(x.size())) == 0);
  CHECK(MXPredGetOutput(p.h, 0, out.data(), 5) == -1);
  // PartialForward: step 0 runs everything; the countdown still reaches 0.
  int left = -1, steps = 0;
  for (int step = 0; step < 1000; ++step) {
    if (!CHECK(MXPredPartialForward(p.h, step, &left) == 0)) break;
    ++steps;
    if (left == 0) break;
  }
  CHECK(left == 0 && steps >= 1);
  CHECK(MXPredGetOutput(p.h, 0, out.data(), 5) == 0 && max_diff(out, ref[0].data) < 1e-6);
  // Clean errors.
  CHECK(MXPredGetOutput(p.h, 0, out.data(), 4) == -1 && std::strstr(MXGetLastError(), "5 elements"));
  CHECK(MXPredSetInput(p.h, "data", x.data(), 10) == -1 && std::strstr(MXGetLastError(), "192 elements"));
  CHECK(MXPredSetInput(p.h, "image", x.data(), 10) == -1 && std::strstr(MXGetLastError(), "cannot find input key 'image'"));
  CHECK(MXPredSetInput(p.h, "conv0_weight", x.data(), 108) == -1 && std::strstr(MXGetLastError(), "weight"));
  CHECK(MXPredSetInput(p.h, nullptr, x.data(), 10) == -1);
  CHECK(MXPredForward(nullptr) == -1 && std::strstr(MXGetLastError(), "NULL"));
  CHECK(MXPredSetInput(nullptr, "data", x.data(), 1) == -1);
  CHECK(MXPredGetOutputShape(nullptr, 0, &shape, &ndim) == -1);
  CHECK(MXPredGetOutputShape(p.h, 0, nullptr, &ndim) == -1);
  CHECK(MXPredGetOutput(nullptr, 0, out.data(), 5) == -1);
  CHECK(MXPredPartialForward(p.h, 0, nullptr) == -1);
  CHECK(MXPredFree(nullptr) == 0 && MXNDListFree(nullptr) == 0);
  CHECK(MXPredSetMonitorCallback(p.h, nullptr, nullptr, false) == -1);

  // Reshape: a new handle on the same weights; the old one keeps working.
  {
    Pred r;
    const char* keys[] = {"data"};
    mx_uint indptr[] = {0, 4};
    mx_uint shp[] = {2, 3, 8, 8};
    if (CHECK_MSG(MXPredReshape(1, keys, indptr, shp, p.h, &r.h) == 0, "%s", MXGetLastError())) {
      CHECK(MXPredGetOutputShape(r.h, 0, &shape, &ndim) == 0 && shape[0] == 2 && shape[1] == 5);
      std::vector<float> x2 = x;
      x2.insert(x2.end(), x.begin(), x.end());
      std::vector<float> o = forward(r.h, x2);
      if (CHECK(o.size() == 10)) {
        CHECK(max_diff(std::vector<float>(o.begin(), o.begin() + 5), ref[0].data) < 1e-6);
        CHECK(max_diff(std::vector<float>(o.begin() + 5, o.end()), ref[0].data) < 1e-6);
      }
    }
    mx_uint bad_shp[] = {1, 3, 12, 12};  // the FC weights fix the spatial size
    PredictorHandle bad = nullptr;
    CHECK(MXPredReshape(1, keys, indptr, bad_shp, p.h, &bad) == -1 && bad == nullptr);
    const char* wkeys[] = {"conv0_weight"};
    mx_uint wshp[] = {4, 3, 5, 5};
    CHECK(MXPredReshape(1, wkeys, indptr, wshp, p.h, &bad) == -1 && std::strstr(MXGetLastError(), "only the shapes of inputs"));
    CHECK(max_diff(forward(p.h, x), ref[0].data) < 1e-6);
  }
  // PartialOut: internal outputs by key.
  {
    Pred q;
    const char* keys[] = {"data"};
    mx_uint indptr[] = {0, 4};
    mx_uint shp[] = {1, 3, 8, 8};
    const char* outs[] = {"pool0", "conv0"};
    if (CHECK_MSG(MXPredCreatePartialOut(json.c_str(), params.data(), int(params.size()), 1, 0, 1, keys, indptr, shp, 2, outs, &q.h) == 0,
                  "%s", MXGetLastError())) {
      CHECK(MXPredGetOutputShape(q.h, 0, &shape, &ndim) == 0 && ndim == 4 && shape[1] == 4 && shape[2] == 4 && shape[3] == 4);
      CHECK(MXPredGetOutputShape(q.h, 1, &shape, &ndim) == 0 && ndim == 4 && shape[2] == 8);
    }
    const char* missing[] = {"nope"};
    PredictorHandle bad = nullptr;
    CHECK(MXPredCreatePartialOut(json.c_str(), params.data(), int(params.size()), 1, 0, 1, keys, indptr, shp, 1, missing, &bad) == -1 &&
          std::strstr(MXGetLastError(), "nope_output"));
  }
  // Create-time errors.
  {
    PredictorHandle bad = nullptr;
    CHECK(create(json, params, {1, 3, 8, 8}, &bad, 2) == -1 && std::strstr(MXGetLastError(), "gpu") && !bad);
    std::vector<mxw::Array> partial = net.arrays();
    partial.pop_back();
    CHECK(create(json, mxw::nd_list(partial, 2), {1, 3, 8, 8}, &bad) == -1 && std::strstr(MXGetLastError(), "fc0_bias"));
    CHECK(create("{\"nodes\": [", params, {1, 3, 8, 8}, &bad) == -1 && std::strstr(MXGetLastError(), "JSON"));
    CHECK(create(json, params.substr(0, 100), {1, 3, 8, 8}, &bad) == -1 && std::strstr(MXGetLastError(), "truncated"));
    CHECK(MXPredCreate(nullptr, params.data(), int(params.size()), 1, 0, 0, nullptr, nullptr, nullptr, &bad) == -1);
    CHECK(MXPredCreate(json.c_str(), params.data(), int(params.size()), 1, 0, 0, nullptr, nullptr, nullptr, nullptr) == -1);
    // gomxnet's bug: shape lengths in indptr instead of offsets.
    const char* keys2[] = {"data", "softmax_label"};
    mx_uint lens[] = {0, 4, 1};
    mx_uint data2[] = {1, 3, 8, 8, 1};
    CHECK(MXPredCreate(json.c_str(), params.data(), int(params.size()), 1, 0, 2, keys2, lens, data2, &bad) == -1 &&
          std::strstr(MXGetLastError(), "offsets"));
    // A declared label (unused by the outputs) is accepted and ignored, as in MXNet.
    mx_uint offs[] = {0, 4, 5};
    Pred l;
    if (CHECK_MSG(MXPredCreate(json.c_str(), params.data(), int(params.size()), 1, 0, 2, keys2, offs, data2, &l.h) == 0, "%s",
                  MXGetLastError())) {
      float label = 1;
      CHECK(MXPredSetInput(l.h, "softmax_label", &label, 1) == 0);
      CHECK(max_diff(forward(l.h, x), ref[0].data) < 1e-6);
    }
    const char* dnames[] = {"data"};
    int dtypes[] = {2};
    CHECK(MXPredCreateEx(json.c_str(), params.data(), int(params.size()), 1, 0, 1, keys2, offs, data2, 1, dnames, dtypes, &bad) == -1 &&
          std::strstr(MXGetLastError(), "float16"));
    dtypes[0] = 0;
    Pred e;
    CHECK(MXPredCreateEx(json.c_str(), params.data(), int(params.size()), 1, 0, 1, keys2, offs, data2, 1, dnames, dtypes, &e.h) == 0);
  }
}

NETLITE_TEST(mxnet_multithread_predictors_share_weights_and_run_concurrently) {
  ConvNet net;
  std::string json = net.json(false), params = mxw::nd_list(net.arrays(), 2);
  const int n = 4;
  PredictorHandle hs[n] = {};
  const char* keys[] = {"data"};
  mx_uint indptr[] = {0, 4};
  mx_uint shp[] = {1, 3, 8, 8};
  if (!CHECK_MSG(MXPredCreateMultiThread(json.c_str(), params.data(), int(params.size()), 1, 0, 1, keys, indptr, shp, n, hs) == 0,
                 "%s", MXGetLastError()))
    return;
  std::vector<std::vector<float>> inputs, refs(n), got(n);
  for (int i = 0; i < n; ++i) inputs.push_back(ramp(192, uint32_t(100 + i)));
  {
    Pred single;
    create(json, params, {1, 3, 8, 8}, &single.h);
    for (int i = 0; i < n; ++i) refs[size_t(i)] = forward(single.h, inputs[size_t(i)]);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      for (int rep = 0; rep < 20; ++rep) got[size_t(i)] = forward(hs[i], inputs[size_t(i)]);
    });
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < n; ++i) CHECK(!got[size_t(i)].empty() && max_diff(got[size_t(i)], refs[size_t(i)]) == 0);
  // Freed in any order; the weights go with the last handle.
  for (int i = n - 1; i >= 0; --i) CHECK(MXPredFree(hs[i]) == 0);
  PredictorHandle none[2] = {};
  CHECK(MXPredCreateMultiThread(json.c_str(), params.data(), int(params.size()), 1, 0, 1, keys, indptr, shp, 0, none) == -1);
}

NETLITE_TEST(mxnet_ndlist_api_reads_mean_files) {
  std::vector<float> mean = ramp(12, 5);
  std::string file = mxw::nd_list({mxw::f32("mean_img", {3, 2, 2}, mean), mxw::f16("half", {2}, {0.5f, 2.0f})}, 1);
  NDListHandle l = nullptr;
  mx_uint n = 0;
  if (!CHECK_MSG(MXNDListCreate(file.data(), int(file.size()), &l, &n) == 0, "%s", MXGetLastError())) return;
  CHECK(n == 2);
  const char* key = nullptr;
  const mx_float* data = nullptr;
  const mx_uint* shape = nullptr;
  mx_uint ndim = 0;
  CHECK(MXNDListGet(l, 0, &key, &data, &shape, &ndim) == 0 && std::strcmp(key, "mean_img") == 0 && ndim == 3 && shape[0] == 3);
  CHECK(std::memcmp(data, mean.data(), 48) == 0);
  CHECK(MXNDListGet(l, 1, &key, &data, &shape, &ndim) == 0 && std::strcmp(key, "half") == 0 && data[0] == 0.5f && data[1] == 2.0f);
  CHECK(MXNDListGet(l, 2, &key, &data, &shape, &ndim) == -1 && std::strstr(MXGetLastError(), "out of range"));
  CHECK(MXNDListGet(nullptr, 0, &key, &data, &shape, &ndim) == -1);
  CHECK(MXNDListFree(l) == 0);
  CHECK(MXNDListCreate(file.data(), 10, &l, &n) == -1 && l == nullptr);
  CHECK(MXNDListCreate(nullptr, 10, &l, &n) == -1);
}

NETLITE_TEST(mxnet_mtcnn_cascade_loads_in_every_params_version) {
  std::string dir = mtcnn_dir();
  if (dir.empty()) {
    std::printf("  SKIP: ../shared/mxnet/mtcnn not found (set NETLITE_MTCNN_DIR)\n");
    return;
  }
  // First outputs on a fixed synthetic input, from an independent numpy
  // implementation of the MXNet ops (float64).
  struct Net { const char* name; std::vector<mx_uint> shape; std::vector<std::vector<float>> want; };
  std::vector<Net> nets = {
      {"det1", {1, 3, 20, 30}, {{-0.09214f, -0.08406f, -0.12561f}, {0.99990f, 0.99877f, 1.00000f}}},
      {"det2", {2, 3, 24, 24}, {{-0.00817f, -0.12078f, 0.06207f, 0.25418f}, {0.99995f, 0.00005f, 0.99996f, 0.00004f}}},
      {"det3", {1, 3, 48, 48}, {{0.23425f, 0.54725f, 0.42425f}, {0.05817f, 0.00515f, -0.07770f, -0.00135f}, {1.0f, 0.0f}}},
      {"det4", {1, 15, 24, 24}, {{0.21794f, 0.45571f}, {0.14816f, 0.55793f}, {0.18255f, 0.59190f}, {0.01231f, 0.60282f}, {0.03689f, 0.66714f}}},
  };
  for (const Net& net : nets) {
    std::string json = slurp(dir + "/" + net.name + "-symbol.json");
    std::string legacy = slurp(dir + "/" + net.name + "-0001.params");
    size_t n = 1;
    for (mx_uint d : net.shape) n *= d;
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = float((i * 7919) % 255) / 127.5f - 1.0f;
    // Re-encode the legacy file as V1, V2, V3: the same values must give the same outputs.
    auto entries = netlite::mxnet::read_ndarray_list(reinterpret_cast<const uint8_t*>(legacy.data()), legacy.size());
    std::vector<mxw::Array> arrays;
    for (auto& e : entries) {
      std::vector<float> v(e.tensor.ptr<float>(), e.tensor.ptr<float>() + e.tensor.numel());
      arrays.push_back(mxw::f32(e.name, e.tensor.shape, v));
    }
    std::vector<std::vector<float>> first;
    for (int version = -1; version <= 3; ++version) {
      std::string params = version < 0 ? legacy : mxw::nd_list(arrays, version);
      Pred p;
      if (!CHECK_MSG(create(json, params, net.shape, &p.h) == 0, "%s v%d: %s", net.name, version, MXGetLastError())) continue;
      std::vector<std::vector<float>> outs;
      for (size_t o = 0; o < net.want.size(); ++o) outs.push_back(forward(p.h, x, mx_uint(o)));
      if (version < 0) {
        first = outs;
        for (size_t o = 0; o < net.want.size(); ++o)
          for (size_t k = 0; k < net.want[o].size(); ++k)
            CHECK_MSG(outs[o].size() > k && std::fabs(outs[o][k] - net.want[o][k]) < 2e-4, "%s out%zu[%zu] = %g, want %g", net.name, o,
                      k, outs[o].size() > k ? outs[o][k] : -1.0f, net.want[o][k]);
      } else {
        for (size_t o = 0; o < outs.size(); ++o) CHECK_MSG(max_diff(outs[o], first[o]) == 0, "%s v%d out%zu differs", net.name, version, o);
      }
    }
  }
}

NETLITE_TEST(mxnet_every_mapped_op_loads_and_runs) {
  // One small graph per MXNet op family the importer maps: it must load (every ONNX op
  // it becomes is registered), run, and give the expected shape; values where simple.
  struct Case {
    const char* op;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::vector<int64_t> in;
    std::vector<int64_t> out;
    std::vector<mxw::Array> weights;  // names "arg:w0", "arg:w1"... in input order
    std::vector<float> x;             // optional input values (else a ramp)
    std::vector<float> want;          // optional expected values
  };
  std::vector<Case> cases = {
      {"Deconvolution", {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"num_filter", "2"}}, {1, 3, 2, 2}, {1, 2, 4, 4},
       {mxw::f32("arg:w0", {3, 2, 2, 2}, ramp(24, 1))}, {}, {}},
      {"Deconvolution", {{"kernel", "(3,3)"}, {"stride", "(2,2)"}, {"num_filter", "2"}, {"target_shape", "(6,6)"}, {"no_bias", "False"}},
       {1, 3, 3, 3}, {1, 2, 6, 6}, {mxw::f32("arg:w0", {3, 2, 3, 3}, ramp(54, 1)), mxw::f32("arg:w1", {2}, {0, 0})}, {}, {}},
      {"Embedding", {{"input_dim", "3"}, {"output_dim", "2"}}, {2}, {2, 2}, {mxw::f32("arg:w0", {3, 2}, {0, 1, 10, 11, 20, 21})},
       {2, 0}, {20, 21, 0, 1}},
      {"InstanceNorm", {{"eps", "0.001"}}, {1, 2, 2, 1}, {1, 2, 2, 1}, {mxw::f32("arg:w0", {2}, {1, 1}), mxw::f32("arg:w1", {2}, {0, 0})}, {}, {}},
      {"Activation", {{"act_type", "softrelu"}}, {2}, {2}, {}, {0, 1}, {std::log(2.0f), std::log(1 + std::exp(1.0f))}},
      {"Activation", {{"act_type", "softsign"}}, {2}, {2}, {}, {1, -3}, {0.5f, -0.75f}},
      {"Activation", {{"act_type", "sigmoid"}}, {1}, {1}, {}, {0}, {0.5f}},
      {"Activation", {{"act_type", "tanh"}}, {1}, {1}, {}, {0}, {0}},
      {"LeakyReLU", {{"act_type", "elu"}, {"slope", "1"}}, {2}, {2}, {}, {-1, 2}, {std::exp(-1.0f) - 1, 2}},
      {"LeakyReLU", {{"act_type", "selu"}}, {1}, {1}, {}, {1}, {1.0507009873554805f}},
      {"LeakyReLU", {{"act_type", "gelu"}}, {2}, {2}, {}, {0, 1}, {0, 0.8413447f}},
      {"BatchNorm", {{"fix_gamma", "False"}, {"eps", "0"}}, {1, 2, 1, 1}, {1, 2, 1, 1},
       {mxw::f32("arg:w0", {2}, {2, 3}), mxw::f32("arg:w1", {2}, {1, 1}), mxw::f32("aux:w2", {2}, {1, 0}), mxw::f32("aux:w3", {2}, {4, 1})},
       {3, 2}, {3, 7}},
      {"Pad", {{"mode", "constant"}, {"pad_width", "(0,0,0,0,1,1,0,0)"}, {"constant_value", "9"}}, {1, 1, 1, 2}, {1, 1, 3, 2}, {}, {1, 2},
       {9, 9, 1, 2, 9, 9}},
      {"Pad", {{"mode", "edge"}, {"pad_width", "(0,0,0,0,0,0,1,1)"}}, {1, 1, 1, 2}, {1, 1, 1, 4}, {}, {1, 2}, {1, 1, 2, 2}},
      {"clip", {{"a_min", "0"}, {"a_max", "1"}}, {3}, {3}, {}, {-1, 0.5f, 2}, {0, 0.5f, 1}},
      {"softmax", {{"axis", "0"}}, {2}, {2}, {}, {0, 0}, {0.5f, 0.5f}},
      {"log_softmax", {}, {2}, {2}, {}, {0, 0}, {std::log(0.5f), std::log(0.5f)}},
      {"transpose", {{"axes", "(1,0)"}}, {2, 3}, {3, 2}, {}, {1, 2, 3, 4, 5, 6}, {1, 4, 2, 5, 3, 6}},
      {"transpose", {}, {2, 3}, {3, 2}, {}, {}, {}},
      {"expand_dims", {{"axis", "0"}}, {3}, {1, 3}, {}, {}, {}},
      {"squeeze", {{"axis", "(0,)"}}, {1, 3}, {3}, {}, {}, {}},
      {"slice_axis", {{"axis", "1"}, {"begin", "1"}, {"end", "None"}}, {2, 3}, {2, 2}, {}, {1, 2, 3, 4, 5, 6}, {2, 3, 5, 6}},
      {"slice", {{"begin", "(None, 0)"}, {"end", "(None, 2)"}, {"step", "(-1, 1)"}}, {2, 3}, {2, 2}, {}, {1, 2, 3, 4, 5, 6}, {4, 5, 1, 2}},
      {"Cast", {{"dtype", "float32"}}, {2}, {2}, {}, {}, {}},
      {"sum", {{"axis", "(1,)"}}, {2, 3}, {2}, {}, {1, 2, 3, 4, 5, 6}, {6, 15}},
      {"mean", {{"axis", "1"}, {"keepdims", "True"}}, {2, 2}, {2, 1}, {}, {1, 3, 5, 7}, {2, 6}},
      {"max", {}, {2, 2}, {}, {}, {1, 3, 5, 7}, {7}},
      {"min", {{"axis", "(0,)"}}, {2, 2}, {2}, {}, {1, 3, 5, 7}, {1, 3}},
      {"argmax", {{"axis", "1"}}, {2, 3}, {2}, {}, {1, 5, 3, 9, 2, 1}, {1, 0}},
      {"square", {}, {2}, {2}, {}, {3, -2}, {9, 4}},
      {"rsqrt", {}, {1}, {1}, {}, {4}, {0.5f}},
      {"abs", {}, {1}, {1}, {}, {-2}, {2}},
      {"exp", {}, {1}, {1}, {}, {0}, {1}},
      {"log", {}, {1}, {1}, {}, {1}, {0}},
      {"sqrt", {}, {1}, {1}, {}, {9}, {3}},
      {"negative", {}, {1}, {1}, {}, {2}, {-2}},
      {"reciprocal", {}, {1}, {1}, {}, {4}, {0.25f}},
      {"relu", {}, {2}, {2}, {}, {-1, 1}, {0, 1}},
      {"floor", {}, {1}, {1}, {}, {1.5f}, {1}},
      {"ceil", {}, {1}, {1}, {}, {1.5f}, {2}},
      {"hard_sigmoid", {}, {1}, {1}, {}, {0}, {0.5f}},
      {"_greater_scalar", {{"scalar", "1"}}, {3}, {3}, {}, {0, 1, 2}, {0, 0, 1}},
      {"_lesser_equal_scalar", {{"scalar", "1"}}, {3}, {3}, {}, {0, 1, 2}, {1, 1, 0}},
      {"_div_scalar", {{"scalar", "4"}}, {1}, {1}, {}, {2}, {0.5f}},
      {"_plus_scalar", {{"scalar", "1.5"}}, {1}, {1}, {}, {2}, {3.5f}},
      {"_minimum_scalar", {{"scalar", "1"}}, {2}, {2}, {}, {0, 2}, {0, 1}},
      {"_rpower_scalar", {{"scalar", "2"}}, {1}, {1}, {}, {3}, {8}},
      {"BlockGrad", {}, {2}, {2}, {}, {1, 2}, {1, 2}},
      {"LogisticRegressionOutput", {}, {1}, {1}, {}, {0}, {0.5f}},
      {"Pooling", {{"kernel", "(3,3)"}, {"pool_type", "max"}, {"pooling_convention", "same"}, {"stride", "(2,2)"}}, {1, 1, 5, 5}, {1, 1, 3, 3}, {}, {}, {}},
      {"Pooling", {{"kernel", "(2,2)"}, {"pool_type", "max"}, {"global_pool", "True"}}, {1, 1, 2, 2}, {1, 1, 1, 1}, {}, {1, 4, 2, 3}, {4}},
      {"Pooling", {{"kernel", "(2,2)"}, {"pool_type", "sum"}, {"global_pool", "True"}}, {1, 1, 2, 2}, {1, 1, 1, 1}, {}, {1, 4, 2, 3}, {10}},
      {"L2Normalization", {{"mode", "channel"}}, {1, 2, 1, 1}, {1, 2, 1, 1}, {}, {3, 4}, {0.6f, 0.8f}},
      {"L2Normalization", {{"mode", "spatial"}}, {1, 1, 1, 2}, {1, 1, 1, 2}, {}, {3, 4}, {0.6f, 0.8f}},
      {"SoftmaxOutput", {{"preserve_shape", "True"}}, {1, 2}, {1, 2}, {}, {0, 0}, {0.5f, 0.5f}},
      {"Convolution", {{"kernel", "(1,1)"}, {"num_filter", "1"}, {"no_bias", "True"}, {"num_group", "2"}}, {1, 2, 1, 1}, {1, 1, 1, 1},
       {mxw::f32("arg:w0", {1, 1, 1, 1}, {1})}, {}, {}},
  };
  for (const Case& k : cases) {
    mxw::Symbol s;
    int d = s.var("data");
    std::vector<std::pair<int, int>> in = {{d, 0}};
    for (size_t i = 0; i < k.weights.size(); ++i) in.push_back({s.var("w" + std::to_string(i)), 0});
    s.head(s.op(k.op, "op0", k.attrs, in));
    std::vector<float> x = k.x.empty() ? ramp(size_t(netlite::shape_numel(k.in)), 3) : k.x;
    netlite_model* m = load_mx(s.json(false), k.weights.empty() ? "" : mxw::nd_list(k.weights, 2), {"data"}, {k.in});
    if (std::string(k.op) == "Convolution") {
      // num_group=2 with num_filter=1 is invalid: a clean load error, not a crash.
      CHECK_MSG(!m, "grouped conv with 1 filter loaded");
      netlite_model_free(m);
      continue;
    }
    if (!CHECK_MSG(m, "%s: %s", k.op, netlite_last_error())) continue;
    std::vector<Output> o = run(m, "data", k.in, x);
    if (CHECK_MSG(o.size() == 1, "%s did not run", k.op)) {
      CHECK_MSG(o[0].dims == k.out, "%s: output rank %zu", k.op, o[0].dims.size());
      if (!k.want.empty())
        CHECK_MSG(max_diff(o[0].data, k.want) < 1e-5, "%s: got %g %g ...", k.op, o[0].data.empty() ? 0.0 : o[0].data[0],
                  o[0].data.size() > 1 ? o[0].data[1] : 0.0);
    }
    netlite_model_free(m);
  }
}
