// Replays every input the fuzzer ever crashed on (test/fuzz/crashers/, see test/fuzz/run.sh):
// each must load, or fail with a status and a message, and a model that loads must run on
// zero inputs at its declared shapes (free dims as 1) or fail cleanly, like fuzz_load.cc.
// A crash or a sanitizer report here is a regression. Found by path relative to this file.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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
      if (netlite_session_set_input(session, info.name, info.dtype, dims.data(), dims.size(), buffers[i].data(),
                                    size_t(count) * elem_size(info.dtype)) != NETLITE_OK)
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
