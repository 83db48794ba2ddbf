// Replays every input the fuzzer ever crashed on (test/fuzz/crashers/, see test/fuzz/run.sh):
// each must load, or fail with a status and a message, and a model that loads must run on
// zero inputs at its declared shapes (free dims as 1) or fail cleanly, like fuzz_load.cc.
// A crash or a sanitizer report here is a regression. Found by path relative to this file.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "../../native/include/netlite.h"
#include "check.h"

namespace fuzz_regressions_test {

namespace fs = std::filesystem;

fs::path crashers_dir() { return fs::path(__FILE__).parent_path().parent_path() / "fuzz" / "crashers"; }

size_t elem_size(int32_t dtype) {
  switch (dtype) {
    case NETLITE_DTYPE_INT64: return 8;
    case NETLITE_DTYPE_FLOAT32: case NETLITE_DTYPE_INT32: return 4;
    default: return 1;
  }
}

// Loads and (when it loads) runs one input; returns false if a status and its message disagree.
bool replay(const std::vector<uint8_t>& bytes, std::string* what) {
  netlite_options opt;
  netlite_options_init(&opt);
  opt.threads = 1;
  opt.memory_limit = 64u << 20;
  netlite_model* model = nullptr;
  netlite_status st = netlite_model_load(bytes.data(), bytes.size(), &opt, &model);
  if (st != NETLITE_OK) {
    *what = netlite_last_error();
    return model == nullptr && !what->empty() && st != NETLITE_ERR_INTERNAL;
  }
  bool clean = true;
  netlite_session* session = nullptr;
  size_t n_in = 0;
  if (netlite_session_create(model, &session) == NETLITE_OK && netlite_model_input_count(model, &n_in) == NETLITE_OK) {
    std::vector<std::vector<uint8_t>> buffers(n_in);
    bool bound = true;
    for (size_t i = 0; i < n_in && bound; ++i) {
      netlite_tensor_info info;
      if (netlite_model_input_info(model, i, &info) != NETLITE_OK) { bound = false; break; }
      std::vector<int64_t> dims(info.dims, info.dims + info.ndim);
      uint64_t count = 1;
      for (int64_t& d : dims) {
        if (d < 0) d = 1;
        count *= uint64_t(d);
        if (count > (1u << 20)) { bound = false; break; }
      }
      if (!bound) break;
      buffers[i].assign(size_t(count) * elem_size(info.dtype) + 1, 0);
      // An empty input is bound as a null pointer, as the fuzzer's empty vector binds it.
      if (netlite_session_set_input(session, info.name, info.dtype, dims.data(), dims.size(),
                                    count ? buffers[i].data() : nullptr, size_t(count) * elem_size(info.dtype)) !=
          NETLITE_OK)
        bound = false;
    }
    if (bound) {
      netlite_status rs = netlite_session_run(session);
      if (rs == NETLITE_OK) {
        size_t n_out = 0;
        netlite_model_output_count(model, &n_out);
        for (size_t o = 0; o < n_out; ++o) {
          netlite_tensor t;
          if (netlite_session_output(session, o, &t) != NETLITE_OK) clean = false;
        }
        *what = "loaded and ran";
      } else {
        *what = netlite_last_error();
        if (what->empty() || rs == NETLITE_ERR_INTERNAL) clean = false;
      }
    }
  }
  netlite_session_free(session);
  netlite_model_free(model);
  return clean;
}

}  // namespace fuzz_regressions_test

NETLITE_TEST(fuzz_crashers_load_or_fail_cleanly) {
  namespace fs = fuzz_regressions_test::fs;
  const fs::path dir = fuzz_regressions_test::crashers_dir();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;  // not in this checkout: nothing to replay
  int replayed = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() == ".md" || e.path().filename().string()[0] == '.') continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string what;
    CHECK_MSG(fuzz_regressions_test::replay(bytes, &what), "%s: %s", e.path().filename().c_str(), what.c_str());
    ++replayed;
  }
  std::printf("  replayed %d fuzzer input(s) from %s\n", replayed, dir.c_str());
}

// ---------------------------------------------------------------- zero-size tensors
// The first finding of the CI fuzzer (UBSan: memcpy from a null pointer in Gather) came
// from a dim of size 0. Empty tensors are legal ONNX; through the whole executor (plan,
// arena, kernels) each model below must run and give the spec's answer: an empty output,
// or a full one computed from empty inputs (a sum over nothing is 0).
#include "onnx_builder.h"

namespace fuzz_regressions_test {

struct ZeroCase {
  const char* what;
  std::string model;
  std::vector<std::pair<std::vector<int64_t>, std::vector<float>>> inputs;  // float inputs x0, x1...
  std::vector<int64_t> want_shape;
  std::vector<float> want;
};

bool run_zero_case(const ZeroCase& c, std::string* err) {
  netlite_options opt;
  netlite_options_init(&opt);
  opt.threads = 2;
  netlite_model* model = nullptr;
  netlite_session* session = nullptr;
  bool ok = netlite_model_load(c.model.data(), c.model.size(), &opt, &model) == NETLITE_OK &&
            netlite_session_create(model, &session) == NETLITE_OK;
  for (size_t i = 0; ok && i < c.inputs.size(); ++i) {
    const std::string name = "x" + std::to_string(i);
    const auto& in = c.inputs[i];
    ok = netlite_session_set_input(session, name.c_str(), NETLITE_DTYPE_FLOAT32, in.first.data(), in.first.size(),
                                   in.second.empty() ? nullptr : in.second.data(), in.second.size() * 4) == NETLITE_OK;
  }
  netlite_tensor t;
  ok = ok && netlite_session_run(session) == NETLITE_OK && netlite_session_output(session, 0, &t) == NETLITE_OK;
  if (!ok) {
    *err = netlite_last_error();
  } else if (std::vector<int64_t>(t.dims, t.dims + t.ndim) != c.want_shape || t.size_bytes != c.want.size() * 4 ||
             (t.size_bytes && std::memcmp(t.data, c.want.data(), t.size_bytes) != 0)) {
    *err = "wrong output";
    ok = false;
  }
  netlite_session_free(session);
  netlite_model_free(model);
  return ok;
}

}  // namespace fuzz_regressions_test

NETLITE_TEST(zero_size_tensors_run_through_the_executor) {
  using namespace netlite_test;
  using fuzz_regressions_test::ZeroCase;
  const int F = 1;  // TensorProto FLOAT
  auto one = [](const std::string& n, const std::vector<std::string>& in, const std::vector<std::string>& ins,
                const std::vector<std::string>& inits, const std::vector<AttrSpec>& attrs = {}, int64_t opset = 13) {
    GraphSpec g;
    g.nodes = {node(n, in, {"y"}, n + "_0", attrs)};
    g.inputs = ins;
    g.initializers = inits;
    g.outputs = {value_info("y", 1, {})};
    g.opset = opset;
    return model(g);
  };
  std::vector<ZeroCase> cases;
  cases.push_back({"Gather rows of a [5,0] tensor",
                   one("Gather", {"x0", "i"}, {value_info("x0", F, {5, 0})}, {tensor_i64("i", {2}, {1, 3})}),
                   {{{5, 0}, {}}}, {2, 0}, {}});
  cases.push_back({"Concat of an empty and a full tensor",
                   one("Concat", {"x0", "x1"}, {value_info("x0", F, {0, 3}), value_info("x1", F, {2, 3})}, {},
                       {attr_int("axis", 0)}),
                   {{{0, 3}, {}}, {{2, 3}, {1, 2, 3, 4, 5, 6}}}, {2, 3}, {1, 2, 3, 4, 5, 6}});
  cases.push_back({"MatMul with a reduction of length 0",
                   one("MatMul", {"x0", "x1"}, {value_info("x0", F, {2, 0}), value_info("x1", F, {0, 3})}, {}),
                   {{{2, 0}, {}}, {{0, 3}, {}}}, {2, 3}, std::vector<float>(6, 0.0f)});
  cases.push_back({"Gemm with K = 0 is C",
                   one("Gemm", {"x0", "x1", "c"}, {value_info("x0", F, {2, 0}), value_info("x1", F, {0, 3})},
                       {tensor_f32("c", {3}, {1, 2, 3})}),
                   {{{2, 0}, {}}, {{0, 3}, {}}}, {2, 3}, {1, 2, 3, 1, 2, 3}});
  cases.push_back({"ReduceSum over an empty axis",
                   one("ReduceSum", {"x0", "a"}, {value_info("x0", F, {2, 0})}, {tensor_i64("a", {1}, {1})}),
                   {{{2, 0}, {}}}, {2, 1}, {0, 0}});
  cases.push_back({"Conv on a batch of 0",
                   one("Conv", {"x0", "w"}, {value_info("x0", F, {0, 1, 4, 4})},
                       {tensor_f32("w", {2, 1, 3, 3}, std::vector<float>(18, 1.0f))}),
                   {{{0, 1, 4, 4}, {}}}, {0, 2, 2, 2}, {}});
  cases.push_back({"Pad of an empty tensor",
                   one("Pad", {"x0", "p"}, {value_info("x0", F, {0, 2})}, {tensor_i64("p", {4}, {1, 0, 1, 0})}),
                   {{{0, 2}, {}}}, {2, 2}, {0, 0, 0, 0}});
  cases.push_back({"Add broadcasting an empty tensor",
                   one("Add", {"x0", "x1"}, {value_info("x0", F, {0, 3}), value_info("x1", F, {1, 3})}, {}),
                   {{{0, 3}, {}}, {{1, 3}, {1, 2, 3}}}, {0, 3}, {}});
  cases.push_back({"Softmax of [2,0]", one("Softmax", {"x0"}, {value_info("x0", F, {2, 0})}, {}), {{{2, 0}, {}}},
                   {2, 0}, {}});
  // Windows over an empty plane that only padding covers (the CI fuzzer's second find:
  // AveragePool formed pointers from the null data of a [1,3,28,0] input).
  cases.push_back({"AveragePool of an empty plane, padded",
                   one("AveragePool", {"x0"}, {value_info("x0", F, {1, 1, 3, 0})}, {},
                       {attr_ints("kernel_shape", {3, 3}), attr_ints("pads", {2, 2, 2, 2}),
                        attr_int("count_include_pad", 1)}),
                   {{{1, 1, 3, 0}, {}}}, {1, 1, 5, 2}, std::vector<float>(10, 0.0f)});
  cases.push_back({"MaxPool of an empty plane, padded",
                   one("MaxPool", {"x0"}, {value_info("x0", F, {1, 1, 0, 4})}, {},
                       {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_ints("pads", {2, 1, 2, 1})}),
                   {{{1, 1, 0, 4}, {}}}, {1, 1, 1, 2}, std::vector<float>(2, std::numeric_limits<float>::lowest())});
  cases.push_back({"Conv of an empty plane, padded",
                   one("Conv", {"x0", "w"}, {value_info("x0", F, {1, 1, 4, 0})},
                       {tensor_f32("w", {2, 1, 3, 3}, std::vector<float>(18, 1.0f))}, {attr_ints("pads", {1, 2, 1, 2})}),
                   {{{1, 1, 4, 0}, {}}}, {1, 2, 4, 2}, std::vector<float>(16, 0.0f)});
  for (const ZeroCase& c : cases) {
    std::string err;
    CHECK_MSG(fuzz_regressions_test::run_zero_case(c, &err), "%s: %s", c.what, err.c_str());
  }
}
