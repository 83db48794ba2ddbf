// Reductions along axes (ReduceSum/Mean/Max/Min), axis geometry for ops that
// work along one axis (ArgMax, TopK, Softmax), and the Softmax/LogSoftmax kernel.
//
// A reduction first collapses the input shape: dims of size 1 are dropped and
// adjacent dims that are all reduced or all kept are merged. Two loops then
// cover every case without scratch memory:
//   - last collapsed dim reduced: each output element folds a contiguous run
//     (times the other reduced dims, walked with a counter);
//   - last collapsed dim kept: each output row accumulates whole input rows
//     (vectorisable), in blocks of kReduceBlock columns held on the stack.
// Float sums accumulate in double; an empty reduction yields the identity
// (sum 0, mean NaN, max -inf / type minimum, min +inf / type maximum).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "elementwise.h"

namespace netlite {
namespace ops {

enum class ReduceKind { Sum, Mean, Max, Min };

// One axis splits a shape into [outer, n, inner] (row-major).
struct AxisSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
inline AxisSplit split_at_axis(const Shape& s, int axis) {
  AxisSplit a;
  for (int i = 0; i < axis; ++i) a.outer *= s[size_t(i)];
  a.n = s[size_t(axis)];
  for (size_t i = size_t(axis) + 1; i < s.size(); ++i) a.inner *= s[i];
  return a;
}

// The collapsed geometry of a reduction.
struct ReduceGeometry {
  int ndim = 0;
  int64_t dims[kMaxBroadcastRank];
  int64_t strides[kMaxBroadcastRank];  // input element strides
  bool reduced[kMaxBroadcastRank];
  int64_t out_count = 1;     // output elements
  int64_t reduce_count = 1;  // input elements folded into each output element
};

// `mask[d]` says whether input dim d is reduced. No allocation.
inline void make_reduce_geometry(ReduceGeometry& g, const Shape& in, const bool* mask) {
  g.ndim = 0;
  g.out_count = 1;
  g.reduce_count = 1;
  int64_t dims[kMaxBroadcastRank];
  bool red[kMaxBroadcastRank];
  int nd = 0;
  for (size_t d = 0; d < in.size(); ++d) {
    if (mask[d]) g.reduce_count *= in[d];
    else g.out_count *= in[d];
    if (in[d] == 1) continue;
    if (nd > 0 && red[nd - 1] == mask[d]) {
      dims[nd - 1] *= in[d];
    } else {
      dims[nd] = in[d];
      red[nd] = mask[d];
      ++nd;
    }
  }
  int64_t st = 1;
  for (int d = nd - 1; d >= 0; --d) {
    g.dims[d] = dims[d];
    g.reduced[d] = red[d];
    g.strides[d] = st;
    st *= dims[d];
  }
  g.ndim = nd;
}

// Accumulator policy per reduction and element type.
template <ReduceKind K, typename T>
struct Reducer {
  // Sum / Mean: double for float, wrapping int64 for integers.
  using Acc = typename std::conditional<std::is_floating_point<T>::value, double, int64_t>::type;
  static Acc init() { return Acc(0); }
  static Acc step(Acc a, T v) {
    if (std::is_floating_point<T>::value) return a + Acc(v);
    return Acc(uint64_t(a) + uint64_t(int64_t(v)));
  }
  static T finish(Acc a, int64_t count) {
    if (K == ReduceKind::Sum) return T(a);
    if (std::is_floating_point<T>::value) return T(double(a) / double(count));
    return count == 0 ? T(0) : T(int64_t(a) / count);
  }
};
template <typename T>
struct Reducer<ReduceKind::Max, T> {
  using Acc = T;
  static Acc init() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  }
  static Acc step(Acc a, T v) { return (a != a) ? a : ((v != v || v > a) ? v : a); }
  static T finish(Acc a, int64_t) { return a; }
};
template <typename T>
struct Reducer<ReduceKind::Min, T> {
  using Acc = T;
  static Acc init() {
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  static Acc step(Acc a, T v) { return (a != a) ? a : ((v != v || v < a) ? v : a); }
  static T finish(Acc a, int64_t) { return a; }
};

constexpr int64_t kReduceBlock = 64;

// y[out_count] = reduction of x over the geometry's reduced dims.
template <ReduceKind K, typename T>
void reduce_kernel(const ReduceGeometry& g, const T* x, T* y, ThreadPool* pool) {
  using R = Reducer<K, T>;
  using Acc = typename R::Acc;
  const int64_t count = g.reduce_count;
  if (g.out_count == 0) return;
  if (count == 0 || g.ndim == 0) {
    // Empty reduction: the identity. Nothing reduced (all dims 1): each output copies its input.
    for (int64_t i = 0; i < g.out_count; ++i) y[i] = count == 0 ? R::finish(R::init(), 0) : R::finish(R::step(R::init(), x[i]), 1);
    return;
  }
  const int nd = g.ndim;
  const bool last_reduced = g.reduced[nd - 1];
  const int64_t last = g.dims[nd - 1];
  // Outer kept dims (all kept dims except a kept last one) and the other reduced dims.
  int64_t kdims[kMaxBroadcastRank], kstr[kMaxBroadcastRank], rdims[kMaxBroadcastRank], rstr[kMaxBroadcastRank];
  int nk = 0, nr = 0;
  for (int d = 0; d < nd - 1; ++d) {
    if (g.reduced[d]) { rdims[nr] = g.dims[d]; rstr[nr] = g.strides[d]; ++nr; }
    else { kdims[nk] = g.dims[d]; kstr[nk] = g.strides[d]; ++nk; }
  }
  int64_t groups = 1;
  for (int i = 0; i < nk; ++i) groups *= kdims[i];
  const int64_t inner = last_reduced ? 1 : last;  // output elements per group
  const int64_t rest = last_reduced ? count / last : count;  // reduced combos walked by the counter
  auto group_base = [&](int64_t gi) {
    int64_t off = 0;
    for (int i = nk - 1; i >= 0; --i) {
      off += (gi % kdims[i]) * kstr[i];
      gi /= kdims[i];
    }
    return off;
  };
  // Calls f(offset) for every combination of the reduced dims other than the last.
  auto for_each_rest = [&](int64_t base, auto&& f) {
    int64_t idx[kMaxBroadcastRank] = {0};
    int64_t off = base;
    for (int64_t r = 0; r < rest; ++r) {
      f(off);
      for (int i = nr - 1; i >= 0; --i) {
        off += rstr[i];
        if (++idx[i] < rdims[i]) break;
        off -= rstr[i] * rdims[i];
        idx[i] = 0;
      }
    }
  };
  const int64_t work_per_group = count * inner;
  int64_t grain = work_per_group > 0 ? (int64_t(1) << 15) / work_per_group : 1;
  if (grain < 1) grain = 1;
  pool->parallel_for(groups, [&](int64_t gb, int64_t ge) {
    for (int64_t gi = gb; gi < ge; ++gi) {
      const int64_t base = group_base(gi);
      T* out = y + gi * inner;
      if (last_reduced) {
        Acc acc = R::init();
        for_each_rest(base, [&](int64_t off) {
          const T* p = x + off;
          for (int64_t i = 0; i < last; ++i) acc = R::step(acc, p[i]);
        });
        out[0] = R::finish(acc, count);
      } else {
        for (int64_t c0 = 0; c0 < inner; c0 += kReduceBlock) {
          const int64_t w = inner - c0 < kReduceBlock ? inner - c0 : kReduceBlock;
          Acc acc[kReduceBlock];
          for (int64_t j = 0; j < w; ++j) acc[j] = R::init();
          for_each_rest(base + c0, [&](int64_t off) {
            const T* p = x + off;
            for (int64_t j = 0; j < w; ++j) acc[j] = R::step(acc[j], p[j]);
          });
          for (int64_t j = 0; j < w; ++j) out[c0 + j] = R::finish(acc[j], count);
        }
      }
    }
  }, grain);
}

// ReduceSum / ReduceMean / ReduceMax / ReduceMin. `axes_input_since` is the
// opset from which axes come from input 1 (13 for ReduceSum, 18 for the rest).
class ReduceKernel final : public OpKernel {
 public:
  ReduceKernel(const Node& node, ReduceKind kind, int axes_input_since);
  void infer(InferContext& ctx) const override;
  void run(RunContext& ctx) const override;

 private:
  // Fills mask[rank] from the axes (attribute or input 1); returns false for a no-op
  // (empty axes with noop_with_empty_axes). Validates when `ctx` is non-null.
  bool axes_mask(const Shape& in, const Tensor* axes_input, bool* mask, const InferContext* ctx) const;
  ReduceKind kind_;
  bool axes_from_input_;
  std::vector<int64_t> axes_attr_;
  bool keepdims_;
  bool noop_with_empty_axes_;
};

// Softmax / LogSoftmax: before opset 13 the input is coerced to 2-D at `axis`
// (default 1) and normalised over each row; from 13 along `axis` (default -1).
class SoftmaxKernel final : public OpKernel {
 public:
  SoftmaxKernel(const Node& node, bool log_softmax);
  void infer(InferContext& ctx) const override;
  void run(RunContext& ctx) const override;

 private:
  int resolve_axis(const Shape& s) const;  // validated in infer()
  bool log_;
  bool coerce_2d_;
  int64_t axis_;
};

}  // namespace ops
}  // namespace netlite
