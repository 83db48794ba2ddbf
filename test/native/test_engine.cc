// Engine tests through the C API: import, planning, arena reuse, re-planning on
// new shapes, and the error wall on malformed models.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../native/include/netlite.h"
#include "check.h"
#include "onnx_builder.h"
#include "onnx/protobuf.h"

using namespace netlite_test;

namespace engine_test {

// x -> Relu -> ... (n times) -> y, with a symbolic batch dim.
std::string relu_chain(int n, std::vector<int64_t> dims = {-1, 4}) {
  GraphSpec g;
  for (int i = 0; i < n; ++i)
    g.nodes.push_back(node("Relu", {i == 0 ? "x" : "t" + std::to_string(i - 1)},
                           {i == n - 1 ? "y" : "t" + std::to_string(i)}, "relu" + std::to_string(i)));
  g.inputs.push_back(value_info("x", 1, dims));
  g.outputs.push_back(value_info("y", 1, dims));
  return model(g);
}

netlite_model* load(const std::string& bytes, netlite_status* st = nullptr) {
  netlite_model* m = nullptr;
  netlite_status s = netlite_model_load(bytes.data(), bytes.size(), nullptr, &m);
  if (st) *st = s;
  return m;
}

}  // namespace engine_test

NETLITE_TEST(engine_runs_relu_chain_and_reports_symbolic_dims) {
  netlite_model* m = engine_test::load(engine_test::relu_chain(3));
  if (!CHECK_MSG(m, "%s", netlite_last_error())) return;
  netlite_tensor_info info;
  CHECK(netlite_model_input_info(m, 0, &info) == NETLITE_OK);
  CHECK(std::string(info.name) == "x");
  CHECK(info.ndim == 2 && info.dims[0] == -1 && info.dims[1] == 4);
  netlite_session* s = nullptr;
  CHECK(netlite_session_create(m, &s) == NETLITE_OK);
  for (int64_t batch : {2, 5, 1}) {
    std::vector<float> x(size_t(batch * 4));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) - 5.0f;
    int64_t dims[2] = {batch, 4};
    CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 2, x.data(), x.size() * 4) == NETLITE_OK);
    CHECK_MSG(netlite_session_run(s) == NETLITE_OK, "%s", netlite_last_error());
    netlite_tensor out;
    CHECK(netlite_session_output(s, 0, &out) == NETLITE_OK);
    CHECK(out.ndim == 2 && out.dims[0] == batch && out.dims[1] == 4);
    const float* y = static_cast<const float*>(out.data);
    for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f));
  }
  // A run consumes the bindings: running again without binding is an error, not a stale read.
  CHECK(netlite_session_run(s) == NETLITE_ERR_RUNTIME);
  netlite_session_free(s);
  netlite_model_free(m);
}

NETLITE_TEST(planner_reuses_activation_memory_by_lifetime) {
  // 20 Relus over [1,1024] floats: a naive plan needs 19 intermediate buffers
  // plus the output; lifetime reuse needs two plus the output.
  netlite_model* m = engine_test::load(engine_test::relu_chain(20, {1, 1024}));
  if (!CHECK_MSG(m, "%s", netlite_last_error())) return;
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  CHECK_MSG(mem.arena_bytes <= 3 * 4096, "arena %llu bytes", (unsigned long long)mem.arena_bytes);
  CHECK(mem.arena_bytes >= 2 * 4096);
  netlite_model_free(m);
}

NETLITE_TEST(planner_writes_concat_inputs_in_place_at_batch_one) {
  // y = Concat(Relu(x), -x, |x|) on channels, plus views of two of its inputs
  // (Reshapes made before the Concat) as outputs. At batch 1 the inputs are
  // written straight into y (no copy, no buffers of their own); at batch 2 they
  // are not contiguous in y and the Concat copies. Both give the same values.
  GraphSpec g;
  g.initializers.push_back(tensor_i64("flat", {2}, {-1, 64}));
  g.nodes.push_back(node("Relu", {"x"}, {"r"}, "relu"));
  g.nodes.push_back(node("Reshape", {"r", "flat"}, {"rs"}, "view_r"));
  g.nodes.push_back(node("Neg", {"x"}, {"n"}, "neg"));
  g.nodes.push_back(node("Reshape", {"n", "flat"}, {"ns"}, "view_n"));
  g.nodes.push_back(node("Abs", {"x"}, {"a"}, "abs"));
  g.nodes.push_back(node("Concat", {"r", "n", "a"}, {"y"}, "concat", {attr_int("axis", 1)}));
  g.inputs.push_back(value_info("x", 1, {-1, 4, 4, 4}));
  g.outputs.push_back(value_info("y", 1, {-1, 12, 4, 4}));
  g.outputs.push_back(value_info("rs", 1, {-1, 64}));
  g.outputs.push_back(value_info("ns", 1, {-1, 64}));
  netlite_model* m = engine_test::load(model(g));
  if (!CHECK_MSG(m, "%s", netlite_last_error())) return;
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  // Planned at batch 1: y (768 bytes) and nothing else; copying would need 3 x 256 more.
  CHECK_MSG(mem.arena_bytes <= 1024, "arena %llu bytes", (unsigned long long)mem.arena_bytes);
  netlite_session* s = nullptr;
  CHECK(netlite_session_create(m, &s) == NETLITE_OK);
  for (int64_t batch : {1, 2, 1}) {
    std::vector<float> x(size_t(batch * 64));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 37 % 23) - 11) * 0.5f;
    int64_t dims[4] = {batch, 4, 4, 4};
    CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 4, x.data(), x.size() * 4) == NETLITE_OK);
    if (!CHECK_MSG(netlite_session_run(s) == NETLITE_OK, "%s", netlite_last_error())) break;
    netlite_tensor y, rs, ns;
    CHECK(netlite_session_output(s, 0, &y) == NETLITE_OK);
    CHECK(netlite_session_output(s, 1, &rs) == NETLITE_OK);
    CHECK(netlite_session_output(s, 2, &ns) == NETLITE_OK);
    CHECK(y.size_bytes == size_t(batch) * 192 * 4 && rs.size_bytes == size_t(batch) * 256);
    const float* yv = static_cast<const float*>(y.data);
    const float* rv = static_cast<const float*>(rs.data);
    const float* nv = static_cast<const float*>(ns.data);
    bool ok = true;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < 64; ++i) {
        const float v = x[size_t(b * 64 + i)];
        const float* yb = yv + b * 192;
        ok = ok && yb[i] == (v > 0 ? v : 0.0f) && yb[64 + i] == -v && yb[128 + i] == std::fabs(v);
        ok = ok && rv[b * 64 + i] == (v > 0 ? v : 0.0f) && nv[b * 64 + i] == -v;
      }
    CHECK_MSG(ok, "batch %lld", (long long)batch);
  }
  netlite_session_free(s);
  netlite_model_free(m);
}

NETLITE_TEST(wrong_inputs_are_clean_errors) {
  netlite_model* m = engine_test::load(engine_test::relu_chain(1));
  if (!CHECK(m)) return;
  netlite_session* s = nullptr;
  netlite_session_create(m, &s);
  float x[8] = {0};
  int64_t dims[2] = {2, 4};
  CHECK(netlite_session_set_input(s, "nope", NETLITE_DTYPE_FLOAT32, dims, 2, x, sizeof x) == NETLITE_ERR_NOT_FOUND);
  CHECK(std::strstr(netlite_last_error(), "nope") != nullptr);
  CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_INT32, dims, 2, x, sizeof x) == NETLITE_ERR_DTYPE);
  int64_t bad[2] = {2, 5};
  CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, bad, 2, x, sizeof x) == NETLITE_ERR_SHAPE);
  CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 1, x, sizeof x) == NETLITE_ERR_SHAPE);
  CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 2, x, 4) == NETLITE_ERR_SHAPE);
  CHECK(netlite_session_run(s) == NETLITE_ERR_RUNTIME);  // input never bound
  CHECK(std::strstr(netlite_last_error(), "'x'") != nullptr);
  netlite_tensor t;
  CHECK(netlite_session_output(s, 0, &t) == NETLITE_ERR_RUNTIME);
  CHECK(netlite_session_output(s, 7, &t) == NETLITE_ERR_NOT_FOUND);
  netlite_session_free(s);
  netlite_model_free(m);
}

NETLITE_TEST(null_arguments_are_rejected) {
  netlite_model* m = nullptr;
  CHECK(netlite_model_load(nullptr, 10, nullptr, &m) == NETLITE_ERR_INVALID_ARGUMENT);
  CHECK(netlite_model_load("x", 1, nullptr, nullptr) == NETLITE_ERR_INVALID_ARGUMENT);
  CHECK(netlite_session_run(nullptr) == NETLITE_ERR_INVALID_ARGUMENT);
  CHECK(netlite_model_load_file("/nonexistent/model.onnx", nullptr, &m) == NETLITE_ERR_IO);
  size_t n;
  CHECK(netlite_model_input_count(nullptr, &n) == NETLITE_ERR_INVALID_ARGUMENT);
  netlite_model_free(nullptr);
  netlite_session_free(nullptr);
}

NETLITE_TEST(unsupported_ops_are_all_named_at_load) {
  GraphSpec g;
  g.nodes.push_back(node("FancyOp", {"x"}, {"a"}, "first_bad"));
  g.nodes.push_back(node("Relu", {"a"}, {"b"}, "ok"));
  g.nodes.push_back(node("OtherOp", {"b"}, {"y"}, "second_bad", {}, "com.example"));
  g.inputs.push_back(value_info("x", 1, {1, 4}));
  g.outputs.push_back(value_info("y", 1, {1, 4}));
  // com.example must be imported for the file to be valid.
  std::string bytes = model(g);
  PbWriter extra;
  extra.bytes_field(1, "com.example");
  extra.int_field(2, 1);
  PbWriter w;
  w.bytes_field(8, extra.bytes);
  bytes += w.bytes;
  netlite_status st;
  netlite_model* m = engine_test::load(bytes, &st);
  CHECK(m == nullptr);
  CHECK(st == NETLITE_ERR_UNSUPPORTED);
  std::string msg = netlite_last_error();
  CHECK_MSG(msg.find("first_bad") != std::string::npos && msg.find("second_bad") != std::string::npos &&
                msg.find("com.example") != std::string::npos && msg.find("'ok'") == std::string::npos,
            "%s", msg.c_str());
}

NETLITE_TEST(graph_errors_name_the_node) {
  {  // dangling input
    GraphSpec g;
    g.nodes.push_back(node("Relu", {"ghost"}, {"y"}, "r"));
    g.inputs.push_back(value_info("x", 1, {1}));
    g.outputs.push_back(value_info("y", 1, {1}));
    netlite_status st;
    CHECK(engine_test::load(model(g), &st) == nullptr);
    CHECK(st == NETLITE_ERR_INVALID_MODEL);
    CHECK(std::strstr(netlite_last_error(), "ghost") != nullptr);
  }
  {  // cycle
    GraphSpec g;
    g.nodes.push_back(node("Relu", {"b"}, {"a"}, "r1"));
    g.nodes.push_back(node("Relu", {"a"}, {"b"}, "r2"));
    g.inputs.push_back(value_info("x", 1, {1}));
    g.outputs.push_back(value_info("b", 1, {1}));
    netlite_status st;
    CHECK(engine_test::load(model(g), &st) == nullptr);
    CHECK(st == NETLITE_ERR_INVALID_MODEL);
    CHECK(std::strstr(netlite_last_error(), "cycle") != nullptr);
  }
  {  // output produced twice
    GraphSpec g;
    g.nodes.push_back(node("Relu", {"x"}, {"y"}, "r1"));
    g.nodes.push_back(node("Relu", {"x"}, {"y"}, "r2"));
    g.inputs.push_back(value_info("x", 1, {1}));
    g.outputs.push_back(value_info("y", 1, {1}));
    netlite_status st;
    CHECK(engine_test::load(model(g), &st) == nullptr);
    CHECK(st == NETLITE_ERR_INVALID_MODEL);
  }
  {  // initializer claiming far more elements than its bytes
    GraphSpec g;
    PbWriter t;
    t.int_field(1, int64_t(1) << 30);
    t.int_field(1, int64_t(1) << 30);
    t.int_field(2, 1);
    t.bytes_field(8, "w");
    t.bytes_field(9, std::string(16, '\0'));
    g.initializers.push_back(t.bytes);
    g.nodes.push_back(node("Relu", {"w"}, {"y"}, "r"));
    g.outputs.push_back(value_info("y", 1, {1}));
    netlite_status st;
    CHECK(engine_test::load(model(g), &st) == nullptr);
    CHECK(st == NETLITE_ERR_INVALID_MODEL);
    CHECK_MSG(std::strstr(netlite_last_error(), "'w'") != nullptr, "%s", netlite_last_error());
  }
}

NETLITE_TEST(every_truncation_and_many_bit_flips_fail_cleanly) {
  std::string good = engine_test::relu_chain(3);
  size_t ok = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    netlite_model* m = engine_test::load(good.substr(0, n));
    if (m) { ++ok; netlite_model_free(m); }
    else CHECK(netlite_last_error()[0] != '\0');
  }
  CHECK(ok < good.size());
  std::mt19937 rng(1234);
  for (int k = 0; k < 2000; ++k) {
    std::string b = good;
    int flips = 1 + int(rng() % 3);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= char(1u << (rng() % 8));
    netlite_model* m = engine_test::load(b);
    if (m) {
      // A model that still loads must also run or fail cleanly.
      netlite_session* s = nullptr;
      if (netlite_session_create(m, &s) == NETLITE_OK) {
        float x[4] = {1, -1, 2, -2};
        int64_t dims[2] = {1, 4};
        netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 2, x, sizeof x);
        netlite_session_run(s);
        netlite_session_free(s);
      }
      netlite_model_free(m);
    }
  }
}

NETLITE_TEST(protobuf_reader_rejects_overlong_lengths) {
  // field 7 (graph), length 1000, but only 3 bytes follow
  const uint8_t bytes[] = {0x3a, 0xe8, 0x07, 1, 2, 3};
  netlite_model* m = nullptr;
  CHECK(netlite_model_load(bytes, sizeof bytes, nullptr, &m) == NETLITE_ERR_INVALID_MODEL);
  CHECK(std::strstr(netlite_last_error(), "byte") != nullptr);
  const uint8_t varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  CHECK(netlite_model_load(varint, sizeof varint, nullptr, &m) == NETLITE_ERR_INVALID_MODEL);
}
