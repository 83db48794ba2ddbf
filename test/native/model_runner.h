// Loads an ONNX model built by a test (onnx_builder.h) and runs it through the
// runtime: the op types of the loaded graph, after the passes, and the bytes
// of every output. Shared by the tests that compare a fused graph (optimize
// on) with the graph as written (optimize off).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../../native/src/runtime/model.h"
#include "../../native/src/runtime/session.h"

namespace netlite_test {

struct Feed {
  netlite::DType dtype;
  netlite::Shape shape;
  const void* data;
  size_t bytes;
};

struct RunResult {
  std::map<std::string, int> ops;             // op type -> nodes of the loaded graph
  std::vector<std::vector<uint8_t>> outputs;  // each graph output's bytes
};

// n floats in [lo, hi) from a fixed LCG: the same data for the same seed on every platform.
inline std::vector<float> random_vec(size_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 7u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * float(s >> 8) / float(1 << 24);
  }
  return v;
}

// Binds feeds[i] to input i and runs `runs` times (a later run reuses the plan and buffers).
inline RunResult load_and_run(const std::string& bytes, bool optimize, int threads, const std::vector<Feed>& feeds,
                              int runs = 1) {
  netlite::ModelOptions o;
  o.optimize = optimize;
  o.threads = threads;
  auto m = netlite::Model::load_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
  RunResult r;
  for (const netlite::Node& n : m->graph().nodes) r.ops[n.op_type]++;
  netlite::Session s(*m);
  for (int rep = 0; rep < runs; ++rep) {
    for (size_t i = 0; i < feeds.size(); ++i) s.set_input(i, feeds[i].dtype, feeds[i].shape, feeds[i].data, feeds[i].bytes);
    s.run();
  }
  for (size_t i = 0; i < m->graph().outputs.size(); ++i) {
    const netlite::Tensor& y = s.output(i);
    r.outputs.emplace_back(static_cast<const uint8_t*>(y.data), static_cast<const uint8_t*>(y.data) + y.bytes());
  }
  return r;
}

}  // namespace netlite_test
