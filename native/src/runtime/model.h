// Model: an imported, optimised, immutable graph with one kernel per node, the
// intra-op thread pool, and the declared inputs/outputs. Shared read-only by
// every Session (run context) created from it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/threadpool.h"
#include "../graph/graph.h"
#include "../kernels/gemm.h"
#include "../onnx/onnx_import.h"
#include "../ops/op.h"

namespace netlite {

struct Plan;

struct ModelOptions {
  int threads = 0;  // <= 0: hardware threads
  kernels::GemmBackend gemm = kernels::GemmBackend::Auto;
  bool optimize = true;
  uint64_t memory_limit = 0;  // 0: none
};

struct IoInfo {
  std::string name;
  DType dtype = DType::Undefined;
  Shape shape;  // -1 for dims the model leaves free
  int value = -1;
};

class Model {
 public:
  // Imports ONNX bytes, checks every op against the registry (listing all the
  // unsupported ones at once), runs graph passes, creates kernels, and plans once
  // at the declared shapes (free dims taken as 1) to validate the graph.
  // `consumed` is told when initializer bytes have been copied (see import_onnx).
  static std::unique_ptr<Model> load_onnx(const uint8_t* data, size_t size, const ModelOptions& options,
                                          const ConsumedBytesFn& consumed = nullptr);
  // Builds a model from an already-imported graph (used by other importers too).
  static std::unique_ptr<Model> from_graph(Graph graph, const ModelOptions& options);

  const Graph& graph() const { return graph_; }
  const OpKernel& kernel(size_t node) const { return *kernels_[node]; }
  const std::vector<IoInfo>& inputs() const { return inputs_; }
  const std::vector<IoInfo>& outputs() const { return outputs_; }
  ThreadPool& pool() const { return *pool_; }
  const ModelOptions& options() const { return options_; }
  // Constant tensors, plus what kernels hold transformed or packed for their
  // kernels (Winograd weights, int8 panels: these may appear at a later plan).
  uint64_t weights_bytes() const;
  // GEMM packing workspaces reserved at load for this model's threads; they are
  // process-wide and shared with other models (kernels::gemm_reserve).
  uint64_t gemm_workspace_bytes() const { return gemm_workspace_bytes_; }
  uint64_t declared_arena_bytes() const { return declared_arena_bytes_; }
  int find_input(const std::string& name) const;
  // The plan made at load for the declared input shapes (free dims as 1), when
  // every input's rank is known and no input's values can change shapes.
  // Sessions share it (read-only) and bind it at creation; a run whose shapes
  // differ (another batch size) re-plans lazily in its session, as before.
  // Null otherwise.
  const std::shared_ptr<const Plan>& load_plan() const { return load_plan_; }

 private:
  Model() = default;
  Graph graph_;
  std::vector<std::unique_ptr<OpKernel>> kernels_;
  std::vector<IoInfo> inputs_, outputs_;
  std::unique_ptr<ThreadPool> pool_;
  ModelOptions options_;
  uint64_t weights_bytes_ = 0;  // constants only (weights_bytes() adds the kernels')
  uint64_t gemm_workspace_bytes_ = 0;
  uint64_t declared_arena_bytes_ = 0;
  std::shared_ptr<const Plan> load_plan_;
};

// Checks that every node's op is registered for its opset; throws Unsupported
// listing every offending node (name, op, domain, opset) in one message.
void check_ops_supported(const Graph& graph);

}  // namespace netlite
