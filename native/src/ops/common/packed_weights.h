// InPlacePackedWeights: a kernel's constant weight W [M][K...] (row-major, M rows of
// K values) repacked in place, once, into the GEMM's prepacked-B strips of W^T
// (kernels::GemmArgs::packed_b), for kernels that run a small plane's GEMM turned
// around: Y^T [positions x M] = X^T [positions x K] * W^T, positions on the
// micro-kernel's rows (see gemm_kernel_mr_for) and output channels on its columns.
// Conv's transposed path and DepthwiseBlock's project GEMM use it.
//
// In place, because a copy would hold the weights twice. So only a weight that the
// kernel alone reads and that the model owns may be packed (prepare() checks), and
// only at the kernel's first plan, before any run can read the weight (pack_once()).
// From then on every run of the kernel must read the packed layout, whatever its
// shapes: callers check packed() at run time, never the plan's decision.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "../../graph/graph.h"
#include "../../kernels/gemm.h"

namespace netlite {
namespace ops {

// The transposed GEMM is taken when its useful-FMA fraction is at least this
// many times today's and the FMAs it saves per output value (K times the
// difference of the inverse fractions) pay for storing Y^T back transposed.
// bench_models, 1 thread, with 8-row tiles: ResNet-18's 3x3 convs on 7x7 (751
// saved per value) and 14x14 -> 7x7 (375) gained 15-17%, layer3.0.conv1 (141) a
// little; its 1x1 stride-2 downsamples (16-42) lost 15-30%, so did MobileNet-V2's
// last 1x1 conv (52). With the 7-row tiles that conv saves 98 per value and gains 10%.
constexpr double kTransposedMinGain = 1.05;
constexpr double kTransposedMinSavedFmas = 64;

// Whether the transposed GEMM (positions x channels) does clearly more useful
// work per FMA than the usual one (channels x positions) for a GEMM with M output
// channels and depth K over `positions` output positions, by enough to pay for
// the transposed store: the micro-kernel's MR x NR tile pads the positions to NR
// in the usual layout and to MR transposed, where the channels pad to NR instead.
// (Positions below 2 MR: a plane too small to decide on, such as the load-time
// plan of a model whose spatial dims are free, planned as 1 x 1.)
inline bool transposed_gemm_pays(int64_t M, int64_t K, int64_t positions) {
  const int64_t mr = kernels::gemm_kernel_mr_for(positions), nr = kernels::gemm_packed_b_nr();
  if (M < nr || positions < 2 * mr) return false;
  auto round_up = [](int64_t v, int64_t m) { return (v + m - 1) / m * m; };
  const double today = double(positions) / double(round_up(positions, nr));
  const double turned = double(positions) / double(round_up(positions, mr)) * double(M) / double(round_up(M, nr));
  return turned > today * kTransposedMinGain && double(K) * (1.0 / today - 1.0 / turned) >= kTransposedMinSavedFmas;
}

// Input `index` of `node` when it is a constant that only this node reads (one
// use, not a graph output, no other constant sharing its bytes) and that the
// model owns (its weights slab, or storage nobody else holds, such as a pass's
// folded weights): the conditions for changing its bytes, or for giving its pages
// back once the kernel holds a copy in its own layout. Null otherwise (tests' and
// callers' tensors are not the model's), and always inside a ScratchKernels scope.
const Tensor* sole_owned_constant(const Node& node, const Graph& graph, size_t index);

// For a kernel that copied constant input `index` into a layout of its own at
// construction and never reads it again: gives the whole pages of the original
// back (core/memory.h release_pages) when sole_owned_constant allows. Returns the
// bytes released (0 when not allowed or not possible, or the input is absent).
size_t release_copied_constant(const Node& node, const Graph& graph, size_t index);

class InPlacePackedWeights {
 public:
  // At kernel construction: records input `index` of `node` when it may be packed
  // in place: a float constant of rank >= 2, 64-byte aligned, that
  // sole_owned_constant() allows changing.
  void prepare(const Node& node, const Graph& graph, size_t index);

  // At plan time: when `w` is the recorded weight and want() is true, packs it, once
  // for the kernel's lifetime (later calls do nothing). Returns packed().
  template <class Want>
  bool pack_once(const Tensor* w, Want&& want) const {
    if (w0_ == nullptr) return false;
    std::call_once(once_, [&] {
      if (w != nullptr && w->ptr<float>() == w0_ && want()) pack();
    });
    return packed();
  }

  // Whether prepare() found the weight to be the model's own and read by this node
  // alone (the conditions for changing its bytes), and the weight's first float.
  bool owned() const { return w0_ != nullptr; }
  const float* weight() const { return w0_; }

  // Whether the weight is packed: written only under pack_once(), before any run.
  bool packed() const { return strips_ != nullptr; }
  int64_t rows() const { return m_; }  // M: the GEMM's N (output channels)
  int64_t cols() const { return k_; }  // K
  // Points g at output channels [c0, ...) of the packed weight (c0 on a strip
  // boundary), and at its depth from k0 (a GEMM over [k0, k0 + g.K) of K).
  void set_b(kernels::GemmArgs& g, int64_t c0, int64_t k0 = 0) const {
    const int64_t at = k0 * kernels::gemm_packed_b_nr();
    g.packed_b = strips_ + c0 * k_ + at;
    g.packed_b_tail = tail_ ? tail_ + at : nullptr;
    g.packed_b_k = k_;
  }
  // Bytes held besides the weight itself (the last partial strip's buffer).
  size_t held_bytes() const { return held_.load(); }

 private:
  void pack() const;

  int64_t m_ = 0, k_ = 0;
  const float* w0_ = nullptr;  // the weight's bytes when they may be packed
  mutable std::once_flag once_;
  mutable const float* strips_ = nullptr;  // the full strips, at w0_
  mutable const float* tail_ = nullptr;    // the last partial strip (M % NR != 0)
  mutable std::shared_ptr<void> tail_buf_;  // owns tail_
  mutable std::atomic<size_t> held_{0};
};

}  // namespace ops
}  // namespace netlite
