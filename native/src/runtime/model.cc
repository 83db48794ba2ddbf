#include "model.h"

#include <algorithm>
#include <set>

#include "../onnx/onnx_import.h"
#include "../passes/passes.h"
#include "../plan/planner.h"
#include "../core/memory.h"

namespace netlite {

void check_ops_supported(const Graph& graph) {
  std::string missing;
  std::set<std::string> listed;
  size_t count = 0;
  for (const Node& n : graph.nodes) {
    const OpDef* d = find_op(n.domain, n.op_type);
    std::string why;
    if (!d) why = "unknown op";
    else if (n.opset < d->since_version || n.opset > d->max_version)
      why = "opset " + std::to_string(n.opset) + " not supported (netlite supports " + std::to_string(d->since_version) +
            "-" + std::to_string(d->max_version) + ")";
    if (why.empty()) continue;
    std::string dom = n.domain.empty() ? "ai.onnx" : n.domain;
    std::string line = n.op_type + " (domain " + dom + ", opset " + std::to_string(n.opset) + "): " + why;
    ++count;
    if (listed.size() < 50 && listed.insert(line + n.name).second) {
      missing += "\n  node '" + n.name + "': " + line;
    }
  }
  if (count) fail(StatusCode::Unsupported, "model uses ", count, " node(s) netlite does not support:", missing);
}

uint64_t Model::weights_bytes() const {
  uint64_t n = weights_bytes_;
  for (const std::unique_ptr<OpKernel>& k : kernels_) n += k->held_bytes();
  return n;
}

int Model::find_input(const std::string& name) const {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].name == name) return int(i);
  return -1;
}

std::unique_ptr<Model> Model::load_onnx(const uint8_t* data, size_t size, const ModelOptions& options,
                                        const ConsumedBytesFn& consumed) {
  return from_graph(import_onnx(data, size, consumed), options);
}

std::unique_ptr<Model> Model::from_graph(Graph graph, const ModelOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->options_ = options;
  int threads = options.threads > 0 ? options.threads : hardware_threads();
  m->options_.threads = threads;
  m->pool_.reset(new ThreadPool(threads));

  for (int o : graph.outputs) {
    const Value& v = graph.values[size_t(o)];
    bool is_input = std::find(graph.inputs.begin(), graph.inputs.end(), o) != graph.inputs.end();
    if (!v.is_constant && v.producer < 0 && !is_input)
      fail(StatusCode::InvalidModel, "graph output '", v.name, "' is not produced by any node");
  }
  for (int i : graph.inputs) {
    const Value& v = graph.values[size_t(i)];
    if (!dtype_supported(v.dtype))
      fail(StatusCode::Unsupported, "graph input '", v.name, "' has type ", dtype_name(v.dtype), ", which netlite does not support");
  }
  check_ops_supported(graph);
  passes::optimize(graph, *m->pool_, options.optimize);
  graph.toposort();

  bool sgemm = false;
  for (const Node& n : graph.nodes) {
    m->kernels_.push_back(find_op(n.domain, n.op_type)->create(n, graph));
    sgemm = sgemm || m->kernels_.back()->uses_sgemm();
  }
  // One packing workspace per thread of this model, resident before the first run.
  if (sgemm) m->gemm_workspace_bytes_ = kernels::gemm_reserve(threads, options.gemm);
  // Memory actually held: a weights slab counts once and in full (passes may
  // have replaced some of its tensors, whose bytes it still holds).
  std::set<const void*> slabs;
  for (const Value& v : graph.values) {
    if (!v.is_constant) continue;
    size_t slab = slab_bytes(v.data.owner);
    if (!slab) m->weights_bytes_ += v.data.bytes();
    else if (slabs.insert(std::get_deleter<WeightSlab::Deleter>(v.data.owner)).second) m->weights_bytes_ += slab;
  }
  if (options.memory_limit && m->weights_bytes_ > options.memory_limit)
    fail(StatusCode::OutOfMemory, "model weights take ", m->weights_bytes_, " bytes, over the memory limit of ",
         options.memory_limit, " bytes");

  for (int i : graph.inputs) {
    const Value& v = graph.values[size_t(i)];
    IoInfo io;
    io.name = v.name;
    io.dtype = v.dtype;
    io.shape = v.shape;
    io.value = i;
    m->inputs_.push_back(io);
  }
  for (int o : graph.outputs) {
    const Value& v = graph.values[size_t(o)];
    IoInfo io;
    io.name = v.name;
    io.dtype = v.is_constant ? v.data.dtype : v.dtype;
    io.shape = v.is_constant ? v.data.shape : v.shape;
    io.value = o;
    m->outputs_.push_back(io);
  }
  m->graph_ = std::move(graph);

  // Plan once at the declared shapes (free dims as 1) to validate the whole graph
  // at load and to report the arena size. A model whose declared shapes are all
  // fixed must plan; one with free dims may legitimately need other values.
  bool all_fixed = true;
  bool rank_known = true;
  std::vector<InputMeta> metas;
  for (const IoInfo& io : m->inputs_) {
    InputMeta im;
    im.dtype = io.dtype;
    im.shape = io.shape;
    for (int64_t& d : im.shape) if (d < 0) { d = 1; all_fixed = false; }
    if (!m->graph_.values[size_t(io.value)].has_shape) all_fixed = rank_known = false;  // MXNet without input shapes
    metas.push_back(im);
  }
  bool value_dependent = false;
  for (const InputMeta& im : metas) value_dependent = value_dependent || input_is_shape_like(im.dtype, im.shape);
  try {
    std::shared_ptr<Plan> p = std::make_shared<Plan>(make_plan(*m, metas));
    m->declared_arena_bytes_ = p->arena_bytes;
    // Output types the file left undeclared come from the plan.
    for (IoInfo& io : m->outputs_) {
      const Plan::Slot& s = p->slots[size_t(io.value)];
      if (io.dtype == DType::Undefined) io.dtype = s.dtype;
      if (io.shape.empty() && !m->graph_.values[size_t(io.value)].has_shape) {
        io.shape = s.shape;
        if (!all_fixed) for (int64_t& d : io.shape) d = -1;
      }
    }
    // Keep the plan for the sessions: with fixed shapes every run has exactly
    // these; with free dims it serves runs where they are 1 (the common batch
    // of one), and any other size re-plans at its first run as before.
    if (rank_known && !value_dependent) m->load_plan_ = std::move(p);
  } catch (const Error& e) {
    // Inputs whose values may decide shapes (small integer tensors) are not
    // known at load; without them only the run can tell whether the graph plans.
    if (e.code() == StatusCode::Internal || (!value_dependent && (all_fixed || e.code() == StatusCode::Unsupported))) throw;
  }
  return m;
}

}  // namespace netlite
