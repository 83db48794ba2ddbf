#include "passes.h"

namespace netlite {
namespace passes {

int eliminate_identity(Graph& g) {
  std::vector<char> is_output(g.values.size(), 0);
  for (int o : g.outputs) is_output[size_t(o)] = 1;
  // replacement[v] = the value consumers of v should read instead.
  std::vector<int> replacement(g.values.size());
  for (size_t v = 0; v < replacement.size(); ++v) replacement[v] = int(v);
  auto resolve = [&](int v) {
    while (v >= 0 && replacement[size_t(v)] != v) v = replacement[size_t(v)];
    return v;
  };
  int removed = 0;
  std::vector<Node> kept;
  for (Node& node : g.nodes) {
    for (int& in : node.inputs) in = in >= 0 ? resolve(in) : in;
    bool forward = node.domain.empty() && (node.op_type == "Identity" || node.op_type == "Dropout") &&
                   !node.inputs.empty() && node.inputs[0] >= 0 && !node.outputs.empty() && node.outputs[0] >= 0;
    if (forward && node.op_type == "Dropout") {
      // A requested mask output (all true in inference) keeps the node; so does
      // training_mode given as a non-constant input (the op then decides).
      for (size_t o = 1; o < node.outputs.size(); ++o) if (node.outputs[o] >= 0) forward = false;
      if (node.inputs.size() > 2 && node.inputs[2] >= 0) forward = false;
    }
    if (forward && is_output[size_t(node.outputs[0])]) forward = false;
    if (forward) {
      replacement[size_t(node.outputs[0])] = node.inputs[0];
      ++removed;
      continue;
    }
    kept.push_back(std::move(node));
  }
  g.nodes = std::move(kept);
  return removed;
}

void optimize(Graph& g, ThreadPool& pool, bool enabled) {
  // With optimisation off the graph runs as written (the planner still
  // evaluates shape math at plan time, which needs no pass).
  if (!enabled) return;
  fuse_qdq(g);
  fold_constants(g, pool);
  eliminate_identity(g);
  g.toposort();
  fold_batchnorm_into_conv(g);
  fold_add_into_conv(g);
  fuse_conv_activation(g);
  fuse_conv_residual(g);
  fuse_depthwise_block(g);
  fuse_conv_max_pool(g);
  g.prune();
}

}  // namespace passes
}  // namespace netlite
