// Load-time work: a model is planned at load at its declared shapes (free dims
// as 1) and its sessions come ready (plan bound, arena resident); other shapes
// keep planning at their first run. Weights are copied once from the file, whose
// pages the importer releases as it goes, and are reported at their real size.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/include/netlite.h"
#include "check.h"
#include "onnx_builder.h"

using namespace netlite_test;

namespace runtime_load_test {

// y = Relu(x + w), w an initializer of `n` floats (0, 1, 2, ...), x of dims `dims`.
std::string add_relu(const std::vector<int64_t>& dims, int64_t n) {
  GraphSpec g;
  std::vector<float> w(static_cast<size_t>(n));
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(i % 97) - 40.0f;
  g.initializers.push_back(tensor_f32("w", {n}, w));
  g.nodes.push_back(node("Add", {"x", "w"}, {"t"}, "add"));
  g.nodes.push_back(node("Relu", {"t"}, {"y"}, "relu"));
  g.inputs.push_back(value_info("x", 1, dims));
  g.outputs.push_back(value_info("y", 1, dims));
  return model(g);
}

netlite_model* load(const std::string& bytes) {
  netlite_model* m = nullptr;
  netlite_status st = netlite_model_load(bytes.data(), bytes.size(), nullptr, &m);
  CHECK_MSG(st == NETLITE_OK, "%s", netlite_last_error());
  return m;
}

// Runs x = 0.5, 1.5, ... through a session and checks y = Relu(x + w).
bool run_and_check(netlite_session* s, int64_t rows, int64_t n) {
  std::vector<float> x(size_t(rows * n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 13) + 0.5f - 6.0f;
  int64_t dims[2] = {rows, n};
  if (!CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 2, x.data(), x.size() * 4) == NETLITE_OK))
    return false;
  if (!CHECK_MSG(netlite_session_run(s) == NETLITE_OK, "%s", netlite_last_error())) return false;
  netlite_tensor out;
  if (!CHECK(netlite_session_output(s, 0, &out) == NETLITE_OK)) return false;
  const float* y = static_cast<const float*>(out.data);
  bool ok = out.size_bytes == x.size() * 4;
  for (size_t i = 0; ok && i < x.size(); ++i) {
    float w = float(int64_t(i % size_t(n)) % 97) - 40.0f;
    float want = x[i] + w > 0 ? x[i] + w : 0.0f;
    ok = y[i] == want;
  }
  return CHECK(ok);
}

}  // namespace runtime_load_test

NETLITE_TEST(runtime_fixed_shapes_are_planned_at_load) {
  using namespace runtime_load_test;
  netlite_model* m = load(add_relu({2, 1000}, 1000));
  if (!m) return;
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  CHECK(mem.arena_bytes >= 2 * 1000 * 4);
  // Several sessions share the load-time plan; each has its own arena from the start.
  netlite_session* a = nullptr;
  netlite_session* b = nullptr;
  CHECK(netlite_session_create(m, &a) == NETLITE_OK);
  CHECK(netlite_session_create(m, &b) == NETLITE_OK);
  uint64_t arena_a = 0, arena_b = 0;
  CHECK(netlite_session_arena_bytes(a, &arena_a) == NETLITE_OK);
  CHECK(netlite_session_arena_bytes(b, &arena_b) == NETLITE_OK);
  CHECK_MSG(arena_a == mem.arena_bytes && arena_b == mem.arena_bytes, "arena %llu / %llu, model %llu",
            (unsigned long long)arena_a, (unsigned long long)arena_b, (unsigned long long)mem.arena_bytes);
  for (int k = 0; k < 3; ++k) {
    run_and_check(a, 2, 1000);
    run_and_check(b, 2, 1000);
  }
  netlite_session_free(a);
  netlite_session_free(b);
  netlite_model_free(m);
}

NETLITE_TEST(runtime_free_dims_are_planned_at_one_and_replanned_lazily) {
  using namespace runtime_load_test;
  netlite_model* m = load(add_relu({-1, 2048}, 2048));
  if (!m) return;
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  netlite_session* s = nullptr;
  CHECK(netlite_session_create(m, &s) == NETLITE_OK);
  uint64_t arena = 0;
  CHECK(netlite_session_arena_bytes(s, &arena) == NETLITE_OK);
  CHECK(arena == mem.arena_bytes);  // ready for a batch of one
  run_and_check(s, 1, 2048);
  run_and_check(s, 3, 2048);  // another batch size plans at its first run
  CHECK(netlite_session_arena_bytes(s, &arena) == NETLITE_OK);
  CHECK(arena >= 3 * 2048 * 4);
  run_and_check(s, 5, 2048);
  run_and_check(s, 1, 2048);
  netlite_session_free(s);
  netlite_model_free(m);
}

NETLITE_TEST(runtime_warm_up_runs_on_zeros_and_leaves_nothing_behind) {
  using namespace runtime_load_test;
  CHECK(netlite_session_warm_up(nullptr) == NETLITE_ERR_INVALID_ARGUMENT);
  for (int64_t rows : {int64_t(2), int64_t(-1)}) {  // fixed dims; a free dim (warmed up at 1)
    netlite_model* m = load(add_relu({rows, 1000}, 1000));
    if (!m) return;
    netlite_session* s = nullptr;
    CHECK(netlite_session_create(m, &s) == NETLITE_OK);
    CHECK_MSG(netlite_session_warm_up(s) == NETLITE_OK, "%s", netlite_last_error());
    // Nothing readable and nothing bound afterwards: a run needs its inputs again.
    netlite_tensor out;
    CHECK(netlite_session_output(s, 0, &out) != NETLITE_OK);
    CHECK(netlite_session_run(s) != NETLITE_OK);
    CHECK(std::strstr(netlite_last_error(), "'x' is not set") != nullptr);
    run_and_check(s, 2, 1000);
    CHECK(netlite_session_warm_up(s) == NETLITE_OK);  // again, after real runs
    CHECK(netlite_session_output(s, 0, &out) != NETLITE_OK);
    run_and_check(s, rows < 0 ? 3 : 2, 1000);
    netlite_session_free(s);
    netlite_model_free(m);
  }
}

NETLITE_TEST(runtime_weights_loaded_from_file_are_exact) {
  using namespace runtime_load_test;
  // Large enough for the huge-page path (> 2 MiB of initializer) and for the
  // importer to release file pages as it copies; the run checks every weight.
  const int64_t n = 1 << 20;
  std::string bytes = add_relu({1, n}, n);
  char path[] = "/tmp/netlite_runtime_load_XXXXXX";
  int fd = mkstemp(path);
  if (!CHECK(fd >= 0)) return;
  FILE* f = fdopen(fd, "wb");
  CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  std::fclose(f);
  netlite_model* m = nullptr;
  netlite_status st = netlite_model_load_file(path, nullptr, &m);
  if (!CHECK_MSG(st == NETLITE_OK, "%s", netlite_last_error())) {
    std::remove(path);
    return;
  }
#if defined(__linux__)
  {
    // The load maps the file (c_api.cc, ModelFile): the mapping is gone when it returns.
    std::FILE* maps = std::fopen("/proc/self/maps", "r");
    if (CHECK(maps != nullptr)) {
      char line[4096];
      bool mapped = false;
      while (std::fgets(line, sizeof line, maps)) mapped = mapped || std::strstr(line, path) != nullptr;
      std::fclose(maps);
      CHECK_MSG(!mapped, "%s is still mapped after the load", path);
    }
  }
#endif
  // The weights are the model's own: truncating the file afterwards changes nothing.
  std::FILE* trunc = std::fopen(path, "wb");
  if (CHECK(trunc != nullptr)) std::fclose(trunc);
  std::remove(path);
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  CHECK(mem.weights_bytes >= uint64_t(n) * 4 && mem.weights_bytes < uint64_t(n) * 4 + 4096);
  netlite_session* s = nullptr;
  CHECK(netlite_session_create(m, &s) == NETLITE_OK);
  run_and_check(s, 1, n);
  netlite_session_free(s);
  netlite_model_free(m);
  // A directory is an I/O error, not an allocation failure.
  CHECK(netlite_model_load_file("/tmp", nullptr, &m) == NETLITE_ERR_IO);
  CHECK(m == nullptr);
}

namespace runtime_load_test {

// 3x3 stride-1 convs over C x S x S (batch free when `free_batch`): one conv on `w`,
// or two convs that both read it (`shared`, their outputs added).
std::string conv3x3_model(int64_t C, int64_t M, int64_t S, const std::vector<float>& w, bool shared,
                          bool free_batch) {
  GraphSpec g;
  g.initializers.push_back(tensor_f32("w", {M, C, 3, 3}, w));
  const int64_t n = free_batch ? -1 : 1;
  if (shared) {
    g.nodes.push_back(node("Conv", {"x", "w"}, {"a"}, "conv_a", {attr_ints("pads", {1, 1, 1, 1})}));
    g.nodes.push_back(node("Conv", {"x", "w"}, {"b"}, "conv_b", {attr_ints("pads", {1, 1, 1, 1})}));
    g.nodes.push_back(node("Add", {"a", "b"}, {"y"}, "add"));
  } else {
    g.nodes.push_back(node("Conv", {"x", "w"}, {"y"}, "conv", {attr_ints("pads", {1, 1, 1, 1})}));
  }
  g.inputs.push_back(value_info("x", 1, {n, C, S, S}));
  g.outputs.push_back(value_info("y", 1, {n, M, S, S}));
  return model(g);
}

// Runs N images through the model and compares with a direct convolution in double
// (times `copies` for the shared model).
bool conv3x3_matches_direct(netlite_model* m, int64_t N, int64_t C, int64_t M, int64_t S, const std::vector<float>& w,
                            int copies) {
  std::vector<float> x(size_t(N * C * S * S));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 23) - 11) * 0.125f;
  netlite_session* s = nullptr;
  if (!CHECK(netlite_session_create(m, &s) == NETLITE_OK)) return false;
  const int64_t dims[4] = {N, C, S, S};
  bool ok = CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 4, x.data(), x.size() * 4) ==
                  NETLITE_OK) &&
            CHECK_MSG(netlite_session_run(s) == NETLITE_OK, "%s", netlite_last_error());
  netlite_tensor out;
  ok = ok && CHECK(netlite_session_output(s, 0, &out) == NETLITE_OK) &&
       CHECK(out.size_bytes == size_t(N * M * S * S) * 4);
  double worst = 0;
  for (int64_t n = 0; ok && n < N; ++n)
    for (int64_t o = 0; o < M; ++o)
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j < S; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t a = 0; a < 3; ++a)
              for (int64_t b = 0; b < 3; ++b) {
                const int64_t ii = i + a - 1, jj = j + b - 1;
                if (ii < 0 || ii >= S || jj < 0 || jj >= S) continue;
                acc += double(w[size_t(((o * C + c) * 3 + a) * 3 + b)]) * x[size_t(((n * C + c) * S + ii) * S + jj)];
              }
          const double got = static_cast<const float*>(out.data)[((n * M + o) * S + i) * S + j];
          worst = std::max(worst, std::abs(got - copies * acc) / (1.0 + std::abs(copies * acc)));
        }
  netlite_session_free(s);
  return ok && CHECK_MSG(worst < 1e-4, "worst relative error %g", worst);
}

}  // namespace runtime_load_test

NETLITE_TEST(runtime_memory_counts_kernel_copies_and_gemm_workspaces) {
  using namespace runtime_load_test;
  // A 3x3 stride-1 conv over 32x32: Winograd F(4x4) at the load-time plan, so
  // the model also holds 36 x M x C transformed weights. The conv alone reads the
  // weight, so it commits to that path and gives the original 9 x M x C floats'
  // pages back; read by two convs (each with its own transformed copy), it stays.
  const int64_t C = 32, M = 32;
  std::vector<float> w(size_t(M * C * 9));
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 7) - 3) * 0.25f;
  const uint64_t plain = uint64_t(w.size()) * 4, transformed = uint64_t(36 * M * C) * 4;

  for (int backend : {NETLITE_GEMM_NETLITE, NETLITE_GEMM_REFERENCE})
    for (bool shared : {false, true}) {
      const std::string bytes = conv3x3_model(C, M, 32, w, shared, false);
      netlite_options opt;
      netlite_options_init(&opt);
      opt.threads = 2;
      opt.gemm_backend = backend;
      netlite_model* m = nullptr;
      if (!CHECK_MSG(netlite_model_load(bytes.data(), bytes.size(), &opt, &m) == NETLITE_OK, "%s",
                     netlite_last_error()))
        return;
      netlite_memory_info mem;
      CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
      // Released: the whole pages inside the weight's bytes (all but at most two pages' worth).
      const uint64_t lo = shared ? plain + 2 * transformed : transformed,
                     hi = shared ? lo + 4096 : transformed + 2 * 4096 + 4096;
      CHECK_MSG(mem.weights_bytes >= lo && mem.weights_bytes < hi, "%s weights %llu, want [%llu, %llu)",
                shared ? "shared" : "single", (unsigned long long)mem.weights_bytes, (unsigned long long)lo,
                (unsigned long long)hi);
      // Two threads: two packing workspaces of at least one A and one B block each.
      if (backend == NETLITE_GEMM_NETLITE)
        CHECK_MSG(mem.workspace_bytes >= 2 * 64 * 1024 && mem.workspace_bytes % 2 == 0, "workspace %llu",
                  (unsigned long long)mem.workspace_bytes);
      else
        CHECK(mem.workspace_bytes == 0);
      conv3x3_matches_direct(m, 1, C, M, 32, w, shared ? 2 : 1);
      netlite_model_free(m);
    }

  // A model that multiplies no matrices reserves nothing.
  netlite_model* m = load(add_relu({1, 8}, 8));
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  CHECK(mem.workspace_bytes == 0);
  netlite_model_free(m);
}

NETLITE_TEST(runtime_winograd_weights_released_serve_every_later_run) {
  using namespace runtime_load_test;
  // Batch free, planes fixed: the load-time plan (batch 1) commits the conv to
  // F(4x4) and releases the original weight; runs at other batch sizes re-plan on
  // the transformed copy alone, on several sessions, and stay exact.
  const int64_t C = 24, M = 40, S = 20;
  std::vector<float> w(size_t(M * C * 9));
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i * 31 % 17) - 8) * 0.0625f;
  const std::string bytes = conv3x3_model(C, M, S, w, false, true);
  netlite_model* m = load(bytes);
  if (!m) return;
  netlite_memory_info mem;
  CHECK(netlite_model_memory(m, &mem) == NETLITE_OK);
  const uint64_t transformed = uint64_t(36 * M * C) * 4;
  CHECK_MSG(mem.weights_bytes < transformed + 3 * 4096, "weights %llu", (unsigned long long)mem.weights_bytes);
  for (int64_t N : {1, 3, 2}) conv3x3_matches_direct(m, N, C, M, S, w, 1);
  netlite_model_free(m);
}
