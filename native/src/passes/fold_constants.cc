#include "passes.h"

#include "../plan/planner.h"

namespace netlite {
namespace passes {

int fold_constants(Graph& g, ThreadPool& pool) {
  // A node whose output is too large to fold keeps its node, and its kernel is made
  // again later: this one must leave the constants as they are.
  const ScratchKernels scratch;
  int folded = 0;
  // A folded constant may not be much bigger than the constants it came from:
  // a tiny hostile file must not make the loader allocate gigabytes (a large
  // ConstantOfShape or Expand stays a run-time node, under the memory limit).
  size_t constant_bytes = 0;
  for (const Value& v : g.values) if (v.is_constant) constant_bytes += v.data.bytes();
  const size_t fold_budget = constant_bytes * 2 + (size_t(16) << 20);
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (Node& node : g.nodes) {
    const OpDef* def = find_op(node.domain, node.op_type);
    bool all_const = def != nullptr;
    for (int in : node.inputs)
      if (in >= 0 && !g.values[size_t(in)].is_constant) all_const = false;
    std::unique_ptr<OpKernel> k;
    if (all_const) {
      k = def->create(node, g);
      all_const = k->foldable();
    }
    if (!all_const) {
      kept.push_back(std::move(node));
      continue;
    }
    InferContext ic(node);
    ic.threads = pool.threads();
    std::vector<const Tensor*> ins;
    for (int in : node.inputs) {
      TensorMeta m;
      if (in >= 0) {
        const Value& v = g.values[size_t(in)];
        m.present = true;
        m.dtype = v.data.dtype;
        m.shape = v.data.shape;
        m.value = &v.data;
      }
      ic.inputs.push_back(m);
      ins.push_back(m.value);
    }
    for (int out : node.outputs) {
      TensorMeta m;
      m.present = out >= 0;
      ic.outputs.push_back(m);
    }
    k->infer(ic);
    size_t out_bytes = 0;
    for (const TensorMeta& m : ic.outputs)
      if (m.present) out_bytes += size_t(shape_numel(m.shape)) * dtype_size(m.dtype);
    if (out_bytes > fold_budget && !k->aliases_input()) {
      kept.push_back(std::move(node));
      continue;
    }
    std::vector<Tensor> outs;
    if (k->aliases_input()) {
      outs.resize(node.outputs.size());
      outs[0] = *ins[0];
      outs[0].dtype = ic.outputs[0].dtype;
      outs[0].shape = ic.outputs[0].shape;
    } else {
      outs = evaluate_node(node, *k, ic, ins, pool, kernels::GemmBackend::Reference);
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      if (node.outputs[o] < 0) continue;
      Value& v = g.values[size_t(node.outputs[o])];
      v.is_constant = true;
      v.data = std::move(outs[o]);
      v.dtype = v.data.dtype;
      v.shape = v.data.shape;
      v.has_shape = true;
      v.producer = -1;
    }
    ++folded;
  }
  g.nodes = std::move(kept);
  return folded;
}

}  // namespace passes
}  // namespace netlite
