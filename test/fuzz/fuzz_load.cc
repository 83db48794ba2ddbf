// libFuzzer target: model bytes -> load -> (if it loads) bind zero inputs at the
// declared shapes -> run. Anything but a clean status is a bug: a crash, a
// sanitizer report, a hang, or an allocation far beyond the input's size.
//
// A tiny model can still ask for a lot of honest work (a Conv whose weight is a
// graph input of 250k elements, or pads in the thousands): that is not a hang.
// So the run step is bounded: inputs of at most 64k elements (256 KB of float),
// and a memory limit that bounds every activation. A run within those bounds that
// exceeds -timeout is a finding.
//
// Build (see test/fuzz/run.sh): clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined
//   -Inative/include test/fuzz/fuzz_load.cc native/amalgamation/netlite.cc
#include <cstddef>
#include <cstdint>
#include <vector>

#include "netlite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netlite_options opt;
  netlite_options_init(&opt);
  opt.threads = 1;
  opt.memory_limit = 32u << 20;  // a fuzzed model may not make netlite allocate more than this
  netlite_model* model = nullptr;
  if (netlite_model_load(data, size, &opt, &model) != NETLITE_OK) return 0;
  netlite_session* session = nullptr;
  size_t n_in = 0;
  if (netlite_session_create(model, &session) == NETLITE_OK && netlite_model_input_count(model, &n_in) == NETLITE_OK) {
    std::vector<std::vector<uint8_t>> buffers(n_in);
    bool ok = true;
    for (size_t i = 0; i < n_in && ok; ++i) {
      netlite_tensor_info info;
      if (netlite_model_input_info(model, i, &info) != NETLITE_OK) { ok = false; break; }
      std::vector<int64_t> dims(info.dims, info.dims + info.ndim);
      uint64_t count = 1;
      for (int64_t& d : dims) {
        if (d < 0) d = 1;
        count *= uint64_t(d);
        if (count > (1u << 16)) { ok = false; break; }
      }
      if (!ok) break;
      size_t elem = info.dtype == NETLITE_DTYPE_INT64 ? 8 : (info.dtype == NETLITE_DTYPE_FLOAT32 || info.dtype == NETLITE_DTYPE_INT32) ? 4 : 1;
      buffers[i].assign(size_t(count) * elem, 0);
      if (netlite_session_set_input(session, info.name, info.dtype, dims.data(), dims.size(), buffers[i].data(),
                                    buffers[i].size()) != NETLITE_OK)
        ok = false;
    }
    if (ok && netlite_session_run(session) == NETLITE_OK) {
      size_t n_out = 0;
      netlite_model_output_count(model, &n_out);
      for (size_t o = 0; o < n_out; ++o) {
        netlite_tensor t;
        netlite_session_output(session, o, &t);
      }
    }
  }
  netlite_session_free(session);
  netlite_model_free(model);
  return 0;
}
