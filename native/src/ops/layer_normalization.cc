// LayerNormalization (ai.onnx 17-22), float32: over the dims [axis, rank),
//   Mean = mean(X), InvStdDev = 1 / sqrt(mean((X - Mean)^2) + epsilon)
//   Y = (X - Mean) * InvStdDev * Scale + B
// Scale and the optional B broadcast unidirectionally to X. Statistics are
// accumulated in double and stored as float (stash_type 1); the optional Mean and
// InvStdDev outputs have shape X.shape[:axis] + [1] * (rank - axis).
#include <algorithm>
#include <cmath>

#include "op.h"

namespace netlite {
namespace ops {
namespace layer_normalization_detail {

constexpr int kMaxRank = 16;

// Element strides of `s` broadcast (right-aligned) to `out`; 0 where s has 1.
inline void broadcast_strides(const Shape& s, const Shape& out, int64_t* st) {
  const size_t r = out.size(), off = r - s.size();
  int64_t acc = 1;
  for (size_t i = r; i-- > 0;) {
    const int64_t d = i >= off ? s[i - off] : 1;
    st[i] = d == 1 ? 0 : acc;
    acc *= d;
  }
}

// True when `s`, ignoring leading 1s, is exactly out[axis:] (a row-contiguous parameter).
inline bool matches_tail(const Shape& s, const Shape& out, int axis) {
  size_t lead = 0;
  while (lead < s.size() && s.size() - lead > out.size() - size_t(axis) && s[lead] == 1) ++lead;
  if (s.size() - lead != out.size() - size_t(axis)) return false;
  for (size_t i = lead; i < s.size(); ++i)
    if (s[i] != out[size_t(axis) + i - lead]) return false;
  return true;
}

class LayerNormalization final : public OpKernel {
 public:
  explicit LayerNormalization(const Node& node) {
    axis_ = node.attr_int("axis", -1);
    epsilon_ = node.attr_float("epsilon", 1e-5f);
    stash_type_ = node.attr_int("stash_type", 1);
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    ctx.expect_dtype(1, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    if (xs.empty()) fail(StatusCode::ShapeMismatch, node.describe(), ": input X must have rank >= 1");
    if (xs.size() > size_t(kMaxRank))
      fail(StatusCode::Unsupported, node.describe(), ": rank above ", kMaxRank, " is not supported");
    int axis = 0;
    try {
      axis = normalize_axis(axis_, xs.size());
    } catch (const Error&) {
      fail(StatusCode::InvalidModel, node.describe(), ": axis ", axis_, " is out of range for rank ", xs.size());
    }
    for (size_t i = 1; i < 3; ++i) {
      if (!ctx.has_input(i)) continue;
      ctx.expect_dtype(i, {DType::Float32});
      const Shape& s = ctx.input(i).shape;
      bool ok = s.size() <= xs.size();
      for (size_t j = 0; ok && j < s.size(); ++j) {
        const int64_t d = s[s.size() - 1 - j];
        ok = d == 1 || d == xs[xs.size() - 1 - j];
      }
      if (!ok)
        fail(StatusCode::ShapeMismatch, node.describe(), ": ", i == 1 ? "Scale " : "B ", shape_str(s),
             " cannot be broadcast to X ", shape_str(xs));
    }
    ctx.set_output(0, DType::Float32, xs);
    Shape stat(xs.begin(), xs.begin() + axis);
    stat.resize(xs.size(), 1);
    for (size_t i = 1; i < 3; ++i) {
      if (!ctx.has_output(i)) continue;
      if (stash_type_ != 1)
        fail(StatusCode::Unsupported, node.describe(), ": stash_type ", stash_type_,
             " outputs are not supported (float32 only)");
      ctx.set_output(i, DType::Float32, stat);
    }
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const Shape& xs = x.shape;
    const int axis = normalize_axis(axis_, xs.size());
    int64_t rows = 1, D = 1;
    for (int i = 0; i < int(xs.size()); ++i) (i < axis ? rows : D) *= xs[size_t(i)];
    const float* xp = x.ptr<float>();
    float* yp = ctx.out(0).ptr<float>();
    const Tensor& scale = ctx.in(1);
    const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    float* mean_out = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->ptr<float>() : nullptr;
    float* inv_out = ctx.outputs.size() > 2 && ctx.outputs[2] ? ctx.outputs[2]->ptr<float>() : nullptr;
    // Parameters either run along the row (fast path) or broadcast in general.
    const bool scale_row = matches_tail(scale.shape, xs, axis) || scale.numel() == 1;
    const bool bias_row = !bias || matches_tail(bias->shape, xs, axis) || bias->numel() == 1;
    int64_t sst[kMaxRank] = {}, bst[kMaxRank] = {}, xst[kMaxRank] = {};
    broadcast_strides(scale.shape, xs, sst);
    if (bias) broadcast_strides(bias->shape, xs, bst);
    {
      int64_t acc = 1;
      for (size_t i = xs.size(); i-- > 0;) { xst[i] = acc; acc *= xs[i]; }
    }
    const float* sp = scale.ptr<float>();
    const float* bp = bias ? bias->ptr<float>() : nullptr;
    const int64_t s_step = scale.numel() == 1 ? 0 : 1, b_step = bias && bias->numel() == 1 ? 0 : 1;
    const int rank = int(xs.size());
    const double eps = epsilon_;
    ctx.pool->parallel_for(rows, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = xp + r * D;
        float* yr = yp + r * D;
        double sum = 0.0;
        for (int64_t i = 0; i < D; ++i) sum += xr[i];
        const double mean = D ? sum / double(D) : 0.0;
        double sq = 0.0;
        for (int64_t i = 0; i < D; ++i) {
          const double d = xr[i] - mean;
          sq += d * d;
        }
        const double inv = 1.0 / std::sqrt((D ? sq / double(D) : 0.0) + eps);
        if (mean_out) mean_out[r] = float(mean);
        if (inv_out) inv_out[r] = float(inv);
        const float fm = float(mean), fi = float(inv);
        if (scale_row && bias_row) {
          for (int64_t i = 0; i < D; ++i) {
            const float v = (xr[i] - fm) * fi * sp[i * s_step];
            yr[i] = bp ? v + bp[i * b_step] : v;
          }
        } else {
          for (int64_t i = 0; i < D; ++i) {
            int64_t flat = r * D + i, so = 0, bo = 0;
            for (int k = rank - 1; k >= 0; --k) {
              const int64_t idx = (flat / xst[k]) % xs[size_t(k)];
              so += idx * sst[k];
              bo += idx * bst[k];
            }
            const float v = (xr[i] - fm) * fi * sp[so];
            yr[i] = bp ? v + bp[bo] : v;
          }
        }
      }
    }, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, D)));
  }

 private:
  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
  int64_t stash_type_ = 1;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<LayerNormalization>(node);
}

}  // namespace layer_normalization_detail

extern const OpDef kOp_LayerNormalization = {
    "LayerNormalization", "", 17, 22, "float32; Scale/B broadcast to X; optional Mean/InvStdDev outputs",
    layer_normalization_detail::create};

}  // namespace ops
}  // namespace netlite
