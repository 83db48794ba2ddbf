#include "passes.h"

#include "../plan/planner.h"

namespace netlite {
namespace passes {

int fold_constants(Graph& g, ThreadPool& pool) {
  int folded = 0;
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
