// InPlacePackedWeights (see packed_weights.h).
#include "packed_weights.h"

#include <algorithm>
#include <cstring>

#include "../../core/memory.h"
#include "../op.h"

namespace netlite {
namespace ops {

const Tensor* sole_owned_constant(const Node& node, const Graph& graph, size_t index) {
  if (ScratchKernels::active()) return nullptr;  // a pass's kernel, perhaps thrown away
  const Tensor* w = constant_input(node, graph, index);
  if (!w || w->bytes() == 0) return nullptr;
  if (slab_bytes(w->owner) == 0 && w->owner.use_count() != 1) return nullptr;
  const int v = node.inputs[index];
  int uses = 0;
  for (const Node& n : graph.nodes)
    for (int in : n.inputs) uses += in == v;
  if (uses != 1) return nullptr;
  for (int o : graph.outputs)
    if (o == v) return nullptr;
  const uint8_t* b0 = static_cast<const uint8_t*>(w->data);
  const uint8_t* b1 = b0 + w->bytes();
  for (size_t i = 0; i < graph.values.size(); ++i) {
    const Value& o = graph.values[i];
    if (int(i) == v || !o.is_constant || o.data.bytes() == 0) continue;
    const uint8_t* o0 = static_cast<const uint8_t*>(o.data.data);
    if (o0 < b1 && b0 < o0 + o.data.bytes()) return nullptr;
  }
  return w;
}

size_t release_copied_constant(const Node& node, const Graph& graph, size_t index) {
  const Tensor* w = sole_owned_constant(node, graph, index);
  return w ? release_pages(w->data, w->bytes()) : 0;
}

void InPlacePackedWeights::prepare(const Node& node, const Graph& graph, size_t index) {
  const Tensor* w = sole_owned_constant(node, graph, index);
  if (!w || w->dtype != DType::Float32 || w->rank() < 2 || w->numel() == 0 || w->shape[0] < 1) return;
  if (reinterpret_cast<uintptr_t>(w->data) % 64 != 0) return;  // the packed strips are read aligned
  m_ = w->shape[0];
  k_ = w->numel() / m_;
  w0_ = w->ptr<float>();
}

// W [M][K] -> column strips of NR channels over all of K (gemm_pack_b_full of
// W^T). A block of NR channels takes the same bytes in both layouts, so each
// goes through a copy of itself; a last partial block needs a whole strip and
// gets a buffer of its own. Everything that can fail is allocated first.
void InPlacePackedWeights::pack() const {
  const int64_t nr = kernels::gemm_packed_b_nr(), M = m_, K = k_;
  const int64_t full = M / nr;
  std::shared_ptr<void> tmp = aligned_buffer(size_t(std::min(M, nr) * K) * sizeof(float), false);
  std::shared_ptr<void> tail;
  const size_t tail_bytes = M % nr ? size_t(kernels::gemm_packed_b_floats(M % nr, K)) * sizeof(float) : 0;
  if (tail_bytes) tail = aligned_buffer(tail_bytes, false);
  float* w = const_cast<float*>(w0_);  // see prepare(): only this kernel reads these bytes
  float* t = static_cast<float*>(tmp.get());
  for (int64_t s = 0; s < full; ++s) {
    float* block = w + s * nr * K;
    std::memcpy(t, block, size_t(nr * K) * sizeof(float));
    kernels::gemm_pack_b_full(true, t, K, K, nr, block);
  }
  if (tail) kernels::gemm_pack_b_full(true, w + full * nr * K, K, K, M % nr, static_cast<float*>(tail.get()));
  tail_buf_ = std::move(tail);
  tail_ = static_cast<const float*>(tail_buf_.get());
  held_ += tail_bytes;
  strips_ = w;
}

}  // namespace ops
}  // namespace netlite
