// fuse_qdq: QDQ (QuantizeLinear / DequantizeLinear) patterns become integer ops
// of the "netlite" domain, so that quantized models compute on 8-bit data:
//
//   Q(act(Conv(DQ(x), DQ(W), DQ(B))))        -> netlite.QConv
//   Q(act(MatMul(DQ(a), DQ(W)) [+ DQ(B)]))   -> netlite.QMatMul
//   Q(act(Gemm(DQ(a), DQ(W), [DQ(B)])))      -> netlite.QMatMul (alpha = beta = 1, no transA)
//   Q(act(DQ(a) + DQ(b)))                    -> netlite.QAdd
//   Q(GlobalAveragePool(DQ(x)))              -> netlite.QGlobalAveragePool
//   then, after any of these (same scale and zero point on both sides):
//   DQ -> Relu | Clip | Min(c) | Max(c) -> Q -> folded into the op's output bounds
//   Q(Pad(DQ(x))) -> QConv                    -> folded into the QConv's pads
//   Q(move(DQ(x))), same parameters           -> move(x) on 8-bit data (Transpose,
//       Reshape, Slice, Concat, MaxPool, ReduceMax, Pad, nearest Resize, ...)
//   finally, for what is left:
//   Q(f(DQ(x))), Q(DQ(x))                     -> netlite.QLookup (256-entry table)
//
// act is Relu or Clip with constant bounds. W and B are constants (W int8, or
// uint8 whose values minus the zero point fit int8; B int32 with zero point 0, or
// float). Activations are per tensor; weights per tensor or per output channel.
//
// Equivalence. The reference is the float graph under ONNX semantics. Q is
// monotone, so Q(clip(v, a, b)) = clamp(Q(v), Q(a), Q(b)) and Q(min(v, c)) =
// min(Q(v), Q(c)); and Q(DQ(q)) = q when both use the same scale and zero point.
// Hence the bound folding is exact, padding with a value that quantizes to the
// zero point equals padding with the zero point, moving or selecting 8-bit
// values equals doing so in float, and a table built by running
// the float op on all 256 inputs is bit-identical. The integer ops compute the
// sums exactly and differ from the float graph only in the rounding of its float
// arithmetic (at most 1 LSB where a value lands near a rounding boundary).
// A pattern is rewritten only when every intermediate value has that single
// consumer and is not a graph output; anything else stays float, so mixed graphs
// keep working.
//
// Runs first in optimize(): weights must still be int8 behind their DQ (constant
// folding would turn them into float). Constant nodes are read in place.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../kernels/quantize.h"
#include "../ops/common/quant_util.h"
#include "../plan/planner.h"
#include "passes.h"

namespace netlite {
namespace passes {
namespace fuse_qdq_detail {

constexpr int kGraphOutputUse = 1000000;

// Quantization parameters of one DQ or Q node.
struct QParams {
  std::vector<float> scale;    // 1 value (per tensor) or one per channel
  std::vector<int64_t> zero;   // same length as scale
  DType type = DType::Undefined;  // the quantized type
  int64_t axis = 1;            // as written (per-channel only)
  bool per_tensor() const { return scale.size() == 1; }
  bool same_as(const QParams& o) const {
    return per_tensor() && o.per_tensor() && type == o.type && zero[0] == o.zero[0] &&
           std::memcmp(&scale[0], &o.scale[0], sizeof(float)) == 0;
  }
};

bool is8(DType t) { return t == DType::UInt8 || t == DType::Int8; }
int64_t qmin(DType t) { return t == DType::Int8 ? -128 : 0; }
int64_t qmax(DType t) { return t == DType::Int8 ? 127 : 255; }

Attribute attr_float(float f) { Attribute a; a.kind = Attribute::Kind::Float; a.f = f; return a; }
Attribute attr_int(int64_t i) { Attribute a; a.kind = Attribute::Kind::Int; a.i = i; return a; }
Attribute attr_floats(std::vector<float> v) { Attribute a; a.kind = Attribute::Kind::Floats; a.floats = std::move(v); return a; }
Attribute attr_ints(std::vector<int64_t> v) { Attribute a; a.kind = Attribute::Kind::Ints; a.ints = std::move(v); return a; }

// Q(v) exactly as QuantizeLinear computes it.
int64_t quantize(float v, float scale, int64_t zero, DType type) {
  if (type == DType::Int8) {
    int8_t q;
    kernels::quantize_f32_s8_reference(&v, &q, 1, scale, int32_t(zero));
    return q;
  }
  uint8_t q;
  kernels::quantize_f32_u8_reference(&v, &q, 1, scale, int32_t(zero));
  return q;
}

class Fuser {
 public:
  explicit Fuser(Graph& g) : g_(g) {}

  int run() {
    int total = 0;
    refresh();
    total += for_each_q([this](size_t qi) { return fuse_compute(qi); });
    for (int n = 1; n > 0;) {
      n = fold_bounds();
      total += n;
    }
    total += fold_pads();
    total += for_each_q([this](size_t qi) { return fuse_movement(qi); });
    total += for_each_q([this](size_t qi) { return fuse_lookup(qi); });
    return total;
  }

 private:
  // ---- graph bookkeeping -------------------------------------------------------

  void refresh() {
    uses_.assign(g_.values.size(), 0);
    producer_.assign(g_.values.size(), -1);
    consumer_.assign(g_.values.size(), -1);
    for (size_t n = 0; n < g_.nodes.size(); ++n) {
      for (int i : g_.nodes[n].inputs)
        if (i >= 0 && ++uses_[size_t(i)] == 1) consumer_[size_t(i)] = int(n);
      for (int o : g_.nodes[n].outputs) if (o >= 0) producer_[size_t(o)] = int(n);
    }
    for (int o : g_.outputs) uses_[size_t(o)] += kGraphOutputUse;
    drop_.assign(g_.nodes.size(), 0);
  }

  // Removes dropped nodes, then nodes nothing reads any more (the DQs a rewrite
  // bypassed), so that use counts only see live consumers.
  void compact() {
    for (bool again = true; again;) {
      std::vector<Node> kept;
      kept.reserve(g_.nodes.size());
      for (size_t n = 0; n < g_.nodes.size(); ++n) if (!drop_[n]) kept.push_back(std::move(g_.nodes[n]));
      g_.nodes = std::move(kept);
      refresh();
      again = false;
      for (size_t n = 0; n < g_.nodes.size(); ++n) {
        bool used = false;
        for (int o : g_.nodes[n].outputs) used = used || (o >= 0 && uses_[size_t(o)] > 0);
        if (!used) drop_[n] = 1, again = true;
      }
    }
  }

  // Runs f on every live QuantizeLinear; f returns true when it rewrote.
  template <typename F>
  int for_each_q(F&& f) {
    int count = 0;
    for (size_t n = 0; n < g_.nodes.size(); ++n)
      if (!drop_[n] && is_op(g_.nodes[n], "QuantizeLinear") && f(n)) ++count;
    compact();
    return count;
  }

  static bool is_op(const Node& n, const char* type) { return n.domain.empty() && n.op_type == type; }

  // The live node producing v when it is an ONNX op of `type`, else null.
  const Node* producer_of(int v, const char* type) const {
    if (v < 0) return nullptr;
    const int p = producer_[size_t(v)];
    if (p < 0 || drop_[size_t(p)] || !is_op(g_.nodes[size_t(p)], type)) return nullptr;
    return &g_.nodes[size_t(p)];
  }

  bool single_use(int v) const { return v >= 0 && uses_[size_t(v)] == 1; }

  // Contents of v when it is a constant (an initializer or a Constant node's tensor).
  const Tensor* constant(int v) const {
    if (v < 0) return nullptr;
    const Value& val = g_.values[size_t(v)];
    if (val.is_constant) return &val.data;
    const Node* c = producer_of(v, "Constant");
    return c ? c->attr_tensor("value") : nullptr;
  }

  // A constant value index holding v's contents (v itself for initializers).
  int constant_value(int v) {
    if (g_.values[size_t(v)].is_constant) return v;
    Tensor t = *constant(v);
    const int nv = g_.add_value(g_.values[size_t(v)].name + "/const");
    Value& val = g_.values[size_t(nv)];
    val.is_constant = true;
    val.dtype = t.dtype;
    val.shape = t.shape;
    val.has_shape = true;
    val.data = std::move(t);
    uses_.push_back(0);
    producer_.push_back(-1);
    consumer_.push_back(-1);
    return nv;
  }

  // A constant float scalar (a Clip bound, a Pad value): false when not one.
  bool const_scalar(int v, float* out) const {
    const Tensor* t = constant(v);
    if (!t || t->numel() != 1 || t->dtype != DType::Float32) return false;
    *out = t->ptr<float>()[0];
    return true;
  }

  // Scale/zero point inputs 1 and 2 of a DQ or Q node. `data_rank` (-1 when
  // unknown) resolves a per-axis axis; per-axis needs a 1-D scale.
  bool read_params(const Node& n, QParams* p, int64_t data_rank) const {
    if (n.inputs.size() < 2 || n.attr_int("block_size", 0) != 0) return false;
    const Tensor* s = constant(n.inputs[1]);
    if (!s || s->dtype != DType::Float32 || s->numel() < 1) return false;
    const int64_t count = s->numel();
    if (count > 1 && (s->rank() != 1 || n.opset < 13)) return false;
    p->scale.assign(s->ptr<float>(), s->ptr<float>() + count);
    for (float v : p->scale) if (!(v > 0.0f) || !std::isfinite(v)) return false;
    p->zero.assign(size_t(count), 0);
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const Tensor* z = constant(n.inputs[2]);
      if (!z || z->numel() != count) return false;
      for (int64_t i = 0; i < count; ++i) p->zero[size_t(i)] = read_int(*z, i);
      p->type = z->dtype;
    }
    p->axis = n.opset >= 13 ? n.attr_int("axis", 1) : 1;
    if (count > 1) {
      if (data_rank < 0) return false;
      if (p->axis < 0) p->axis += data_rank;
      if (p->axis < 0 || p->axis >= data_rank) return false;
    }
    return true;
  }

  // A DequantizeLinear feeding v; `data` gets its 8/32-bit input value.
  bool read_dq(int v, QParams* p, int* data, int64_t data_rank = -1) const {
    const Node* dq = producer_of(v, "DequantizeLinear");
    if (!dq || dq->inputs.empty() || dq->inputs[0] < 0) return false;
    const int64_t out_type = dq->attr_int("output_dtype", 0);
    if (out_type != 0 && DType(out_type) != DType::Float32) return false;
    if (!read_params(*dq, p, data_rank)) return false;
    if (p->type == DType::Undefined) {
      const Tensor* c = constant(dq->inputs[0]);
      p->type = c ? c->dtype : g_.values[size_t(dq->inputs[0])].dtype;
    }
    *data = dq->inputs[0];
    return p->type != DType::Undefined;
  }

  // An 8-bit per-tensor DQ feeding v (an activation).
  bool read_dq_act(int v, QParams* p, int* data) const {
    return read_dq(v, p, data) && p->per_tensor() && is8(p->type) && p->zero[0] >= qmin(p->type) &&
           p->zero[0] <= qmax(p->type);
  }

  // A per-tensor QuantizeLinear to 8 bits.
  bool read_q(const Node& q, QParams* p) const {
    if (q.inputs.empty() || q.inputs[0] < 0 || q.outputs.empty() || q.outputs[0] < 0) return false;
    const int64_t precision = q.attr_int("precision", 0);
    if (precision != 0 && DType(precision) != DType::Float32) return false;
    if (!read_params(q, p, -1) || !p->per_tensor()) return false;
    if (p->type == DType::Undefined)
      p->type = q.opset >= 21 && q.attr_int("output_dtype", 0) != 0 ? DType(q.attr_int("output_dtype", 0)) : DType::UInt8;
    if (q.opset >= 21 && q.attr_int("output_dtype", 0) != 0 && DType(q.attr_int("output_dtype", 0)) != p->type)
      return false;
    return is8(p->type) && p->zero[0] >= qmin(p->type) && p->zero[0] <= qmax(p->type);
  }

  // Output bounds are kept as a range [lo, hi] of the quantized domain that
  // every later Max(a) / Min(b) narrows by composition: clamp(clamp(v, l, h), a, b)
  // = clamp(v, clamp(l, a, b), clamp(h, a, b)), so lo <= hi always holds.
  static void apply_max(int64_t a, int64_t* lo, int64_t* hi) { *lo = std::max(*lo, a); *hi = std::max(*hi, a); }
  static void apply_min(int64_t b, int64_t* lo, int64_t* hi) { *lo = std::min(*lo, b); *hi = std::min(*hi, b); }

  // Applies a Relu / Clip node with constant bounds to [lo, hi] (Q's domain).
  bool activation_bounds(const Node& act, const QParams& out, int64_t* lo, int64_t* hi) const {
    if (is_op(act, "Relu")) {
      apply_max(quantize(0.0f, out.scale[0], out.zero[0], out.type), lo, hi);
      return true;
    }
    if (!is_op(act, "Clip")) return false;
    float a = -std::numeric_limits<float>::infinity(), b = std::numeric_limits<float>::infinity();
    if (act.opset < 11) {
      a = act.attr_float("min", a);
      b = act.attr_float("max", b);
    } else {
      if (act.inputs.size() > 1 && act.inputs[1] >= 0 && !const_scalar(act.inputs[1], &a)) return false;
      if (act.inputs.size() > 2 && act.inputs[2] >= 0 && !const_scalar(act.inputs[2], &b)) return false;
    }
    if (std::isnan(a) || std::isnan(b)) return false;
    // Clip is min(max(x, a), b).
    if (a > -std::numeric_limits<float>::infinity()) apply_max(quantize(a, out.scale[0], out.zero[0], out.type), lo, hi);
    if (b < std::numeric_limits<float>::infinity()) apply_min(quantize(b, out.scale[0], out.zero[0], out.type), lo, hi);
    return true;
  }

  static void set_output_attrs(Node& n, const QParams& out, int64_t lo, int64_t hi) {
    n.attrs["y_scale"] = attr_float(out.scale[0]);
    n.attrs["y_zero_point"] = attr_int(out.zero[0]);
    n.attrs["y_type"] = attr_int(int64_t(out.type));
    n.attrs["y_min"] = attr_ints({lo});
    n.attrs["y_max"] = attr_ints({hi});
  }

  // Smallest and largest of n bytes (a branch-free loop the compiler vectorizes).
  template <typename T>
  static void extremes(const T* p, int64_t n, int64_t* lo, int64_t* hi) {
    T mn = std::numeric_limits<T>::max(), mx = std::numeric_limits<T>::min();
    for (int64_t i = 0; i < n; ++i) {
      mn = std::min(mn, p[i]);
      mx = std::max(mx, p[i]);
    }
    *lo = mn;
    *hi = mx;
  }

  // Per-channel weight parameters expanded to `channels` values; false unless
  // per tensor or per axis `axis` with `channels` entries, and every weight
  // minus its zero point fits int8.
  static bool weight_params(const Tensor& w, const QParams& p, int64_t axis, int64_t channels,
                            std::vector<float>* scale, std::vector<int64_t>* zero) {
    if (!(w.dtype == DType::Int8 || w.dtype == DType::UInt8)) return false;
    if (!p.per_tensor() && (p.axis != axis || int64_t(p.scale.size()) != channels)) return false;
    *scale = p.per_tensor() ? std::vector<float>(size_t(channels), p.scale[0]) : p.scale;
    *zero = p.per_tensor() ? std::vector<int64_t>(size_t(channels), p.zero[0]) : p.zero;
    int64_t inner = 1;
    for (size_t d = size_t(axis) + 1; d < w.rank(); ++d) inner *= w.shape[d];
    const int64_t n = w.numel();
    if (n == 0 || channels <= 0) return true;
    return w.dtype == DType::Int8 ? weights_fit(w.ptr<int8_t>(), n, channels, inner, *zero)
                                  : weights_fit(w.ptr<uint8_t>(), n, channels, inner, *zero);
  }

  // Whether every weight minus its channel's zero point fits int8; element i is
  // in channel (i / inner) % channels. One zero point for all: one pass of
  // extremes (none for int8 with zero point 0); long runs of one channel: their
  // extremes each; short runs (a per-column [K, N] MatMul weight has inner 1):
  // running extremes per (channel, inner) position, row after row.
  template <typename T>
  static bool weights_fit(const T* p, int64_t n, int64_t channels, int64_t inner, const std::vector<int64_t>& zero) {
    const bool is_signed = std::numeric_limits<T>::is_signed;
    auto fits = [](int64_t lo, int64_t hi, int64_t z) { return lo - z >= -128 && hi - z <= 127; };
    if (std::all_of(zero.begin(), zero.end(), [&](int64_t z) { return z == zero[0]; })) {
      if (is_signed && zero[0] == 0) return true;
      int64_t lo = 0, hi = 0;
      extremes(p, n, &lo, &hi);
      return fits(lo, hi, zero[0]);
    }
    const int64_t row = channels * inner;  // one index of the axes before `axis`
    if (inner >= 64 || n < 2 * row) {
      for (int64_t i0 = 0; i0 < n; i0 += row)
        for (int64_t c = 0; c < channels && i0 + c * inner < n; ++c) {
          const int64_t z = zero[size_t(c)], b = i0 + c * inner, e = std::min(n, b + inner);
          if (is_signed && z == 0) continue;
          int64_t lo = 0, hi = 0;
          extremes(p + b, e - b, &lo, &hi);
          if (!fits(lo, hi, z)) return false;
        }
      return true;
    }
    std::vector<T> mn(size_t(row), std::numeric_limits<T>::max()), mx(size_t(row), std::numeric_limits<T>::min());
    T* __restrict pmn = mn.data();
    T* __restrict pmx = mx.data();
    int64_t i0 = 0;
    for (; i0 + row <= n; i0 += row) {
      const T* __restrict r = p + i0;
      for (int64_t j = 0; j < row; ++j) {
        pmn[j] = std::min(pmn[j], r[j]);
        pmx[j] = std::max(pmx[j], r[j]);
      }
    }
    for (int64_t j = 0; i0 + j < n; ++j) {  // a partial last row (numel not a multiple of channels * inner)
      pmn[j] = std::min(pmn[j], p[i0 + j]);
      pmx[j] = std::max(pmx[j], p[i0 + j]);
    }
    for (int64_t j = 0; j < row; ++j)
      if (mn[size_t(j)] <= mx[size_t(j)] && !fits(mn[size_t(j)], mx[size_t(j)], zero[size_t(j / inner)])) return false;
    return true;
  }

  // A bias input: a float32 constant of `channels` values, or DQ(int32 constant)
  // with zero point 0 and a per-tensor or per-channel scale.
  bool read_bias(int v, int64_t channels, int* value, std::vector<float>* scale) {
    if (const Tensor* t = constant(v)) {
      if (t->dtype != DType::Float32 || t->numel() != channels) return false;
      for (int64_t d : t->shape) if (d != 1 && d != channels) return false;
      *value = constant_value(v);
      scale->clear();
      return true;
    }
    QParams p;
    int data = -1;
    if (!read_dq(v, &p, &data, 1)) return false;
    const Tensor* b = constant(data);
    if (!b || b->dtype != DType::Int32 || b->numel() != channels) return false;
    for (int64_t d : b->shape) if (d != 1 && d != channels) return false;
    for (int64_t z : p.zero) if (z != 0) return false;
    if (!p.per_tensor() && (int64_t(p.scale.size()) != channels || b->rank() != 1)) return false;
    *scale = p.per_tensor() ? std::vector<float>(1, p.scale[0]) : p.scale;
    *value = constant_value(data);
    return true;
  }

  // ---- phase 1: compute ops anchored at their output Q ------------------------

  bool fuse_compute(size_t qi) {
    QParams out;
    if (!read_q(g_.nodes[qi], &out)) return false;
    int y = g_.nodes[qi].inputs[0];
    if (!single_use(y) || producer_[size_t(y)] < 0) return false;
    int64_t lo = qmin(out.type), hi = qmax(out.type);
    int act = -1;
    const int p0 = producer_[size_t(y)];
    const Node& first = g_.nodes[size_t(p0)];
    if ((is_op(first, "Relu") || is_op(first, "Clip")) && !first.inputs.empty()) {
      if (!activation_bounds(first, out, &lo, &hi)) return false;
      act = p0;
      y = first.inputs[0];
      if (!single_use(y) || producer_[size_t(y)] < 0) return false;
    }
    const int op = producer_[size_t(y)];
    const Node& node = g_.nodes[size_t(op)];
    if (drop_[size_t(op)] || node.outputs.size() != 1) return false;
    Node fused;
    if (is_op(node, "Conv")) {
      if (!make_qconv(node, &fused)) return false;
    } else if (is_op(node, "MatMul")) {
      if (!make_qmatmul(node, -1, &fused)) return false;
    } else if (is_op(node, "Add")) {
      // MatMul + bias, or a plain quantized Add.
      bool done = false;
      for (int side = 0; side < 2 && !done && node.inputs.size() == 2; ++side) {
        const int mm = node.inputs[size_t(side)];
        const Node* m = producer_of(mm, "MatMul");
        if (m && single_use(mm) && make_qmatmul(*m, node.inputs[size_t(1 - side)], &fused)) {
          drop_[size_t(producer_[size_t(mm)])] = 1;
          done = true;
        }
      }
      if (!done && !make_qadd(node, &fused)) return false;
    } else if (is_op(node, "Gemm")) {
      // Y = A * op(B) + C with alpha = beta = 1 and A not transposed: a MatMul plus bias.
      const bool has_c = node.inputs.size() > 2 && node.inputs[2] >= 0;
      if (node.attr_int("transA", 0) != 0 || node.attr_float("alpha", 1.0f) != 1.0f ||
          (has_c && node.attr_float("beta", 1.0f) != 1.0f))
        return false;
      if (!make_qmatmul(node, has_c ? node.inputs[2] : -1, &fused, node.attr_int("transB", 0) != 0)) return false;
    } else if (is_op(node, "GlobalAveragePool")) {
      if (!make_qgap(node, &fused)) return false;
    } else {
      return false;
    }
    fused.domain = "netlite";
    fused.opset = 1;
    fused.name = node.name;
    fused.outputs = {g_.nodes[qi].outputs[0]};
    set_output_attrs(fused, out, lo, hi);
    if (act >= 0) drop_[size_t(act)] = 1;
    drop_[size_t(op)] = 1;
    g_.nodes[qi] = std::move(fused);  // at the Q's position: every input is defined earlier
    return true;
  }

  bool make_qconv(const Node& conv, Node* f) {
    if (conv.inputs.size() < 2) return false;
    QParams xp, wp;
    int x = -1, w = -1;
    if (!read_dq_act(conv.inputs[0], &xp, &x)) return false;
    const Node* wdq = producer_of(conv.inputs[1], "DequantizeLinear");
    const Tensor* wt = wdq && !wdq->inputs.empty() ? constant(wdq->inputs[0]) : nullptr;
    if (!wt || wt->rank() != 4 || !read_dq(conv.inputs[1], &wp, &w, 4)) return false;
    const int64_t M = wt->shape[0];
    if (wt->shape[1] * wt->shape[2] * wt->shape[3] > ops::kQMaxReduction) return false;
    std::vector<float> w_scale;
    std::vector<int64_t> w_zero;
    if (!weight_params(*wt, wp, 0, M, &w_scale, &w_zero)) return false;
    int bias = -1;
    std::vector<float> b_scale;
    if (conv.inputs.size() > 2 && conv.inputs[2] >= 0 && !read_bias(conv.inputs[2], M, &bias, &b_scale)) return false;
    f->op_type = "QConv";
    for (const char* a : {"auto_pad", "kernel_shape", "strides", "dilations", "pads", "group"})
      if (conv.has_attr(a)) f->attrs[a] = conv.attrs.at(a);
    f->inputs = {x, constant_value(w), bias};
    f->attrs["x_scale"] = attr_float(xp.scale[0]);
    f->attrs["x_zero_point"] = attr_int(xp.zero[0]);
    f->attrs["w_scale"] = attr_floats(w_scale);
    f->attrs["w_zero_point"] = attr_ints(w_zero);
    if (!b_scale.empty()) f->attrs["b_scale"] = attr_floats(b_scale);
    return true;
  }

  // MatMul(DQ(a), DQ(W const [K, N])) with an optional bias value (-1: none);
  // trans_w: W is [N, K] (Gemm with transB = 1).
  bool make_qmatmul(const Node& mm, int bias_in, Node* f, bool trans_w = false) {
    if (mm.inputs.size() < 2) return false;
    QParams ap, wp;
    int a = -1, w = -1;
    if (!read_dq_act(mm.inputs[0], &ap, &a)) return false;
    const Node* wdq = producer_of(mm.inputs[1], "DequantizeLinear");
    const Tensor* wt = wdq && !wdq->inputs.empty() ? constant(wdq->inputs[0]) : nullptr;
    if (!wt || wt->rank() != 2 || !read_dq(mm.inputs[1], &wp, &w, 2)) return false;
    const int64_t K = wt->shape[trans_w ? 1 : 0], N = wt->shape[trans_w ? 0 : 1];
    if (K > ops::kQMaxReduction) return false;
    std::vector<float> w_scale;
    std::vector<int64_t> w_zero;
    if (!weight_params(*wt, wp, trans_w ? 0 : 1, N, &w_scale, &w_zero)) return false;
    int bias = -1;
    std::vector<float> b_scale;
    if (bias_in >= 0) {
      // Only a bias along the last dim (shape [N] or [1, ..., N]) keeps the output shape.
      const Tensor* bt = constant(bias_in);
      if (!bt) {
        QParams bp;
        int bd = -1;
        if (read_dq(bias_in, &bp, &bd, 1)) bt = constant(bd);
      }
      if (!bt || bt->rank() < 1 || bt->shape.back() != N || bt->numel() != N) return false;
      if (!read_bias(bias_in, N, &bias, &b_scale)) return false;
    }
    f->op_type = "QMatMul";
    f->inputs = {a, constant_value(w), bias};
    if (trans_w) f->attrs["w_transposed"] = attr_int(1);
    f->attrs["a_scale"] = attr_float(ap.scale[0]);
    f->attrs["a_zero_point"] = attr_int(ap.zero[0]);
    f->attrs["w_scale"] = attr_floats(w_scale);
    f->attrs["w_zero_point"] = attr_ints(w_zero);
    if (!b_scale.empty()) f->attrs["b_scale"] = attr_floats(b_scale);
    return true;
  }

  bool make_qadd(const Node& add, Node* f) {
    if (add.inputs.size() != 2) return false;
    QParams ap, bp;
    int a = -1, b = -1;
    if (!read_dq_act(add.inputs[0], &ap, &a) || !read_dq_act(add.inputs[1], &bp, &b)) return false;
    f->op_type = "QAdd";
    f->inputs = {constant(a) ? constant_value(a) : a, constant(b) ? constant_value(b) : b};
    f->attrs["a_scale"] = attr_float(ap.scale[0]);
    f->attrs["a_zero_point"] = attr_int(ap.zero[0]);
    f->attrs["b_scale"] = attr_float(bp.scale[0]);
    f->attrs["b_zero_point"] = attr_int(bp.zero[0]);
    return true;
  }

  bool make_qgap(const Node& gap, Node* f) {
    if (gap.inputs.size() != 1) return false;
    QParams xp;
    int x = -1;
    if (!read_dq_act(gap.inputs[0], &xp, &x)) return false;
    f->op_type = "QGlobalAveragePool";
    f->inputs = {x};
    f->attrs["x_scale"] = attr_float(xp.scale[0]);
    f->attrs["x_zero_point"] = attr_int(xp.zero[0]);
    return true;
  }

  // ---- phase 2: DQ -> Relu/Clip/Min/Max -> Q after a fused op -------------------

  static bool is_fused(const Node& n) {
    return n.domain == "netlite" &&
           (n.op_type == "QConv" || n.op_type == "QAdd" || n.op_type == "QMatMul" || n.op_type == "QGlobalAveragePool");
  }

  static QParams output_params(const Node& n) {
    QParams p;
    p.scale = {n.attr_float("y_scale", 1.0f)};
    p.zero = {n.attr_int("y_zero_point", 0)};
    p.type = DType(n.attr_int("y_type", int64_t(DType::UInt8)));
    return p;
  }

  // Channels of the fused op's output bounds may be per channel (QConv: axis 1 of NCHW).
  int64_t bound_channels(const Node& n) const {
    if (n.op_type != "QConv") return 1;
    const Tensor* w = constant(n.inputs[1]);
    return w ? w->shape[0] : 1;
  }

  // Values of a Min/Max constant operand, as one per bound channel (false when
  // it broadcasts other than per tensor or per channel of a rank-4 NCHW output).
  bool bound_operand(int v, int64_t channels, std::vector<float>* vals) const {
    const Tensor* t = constant(v);
    std::vector<float> f;
    const Tensor* shape_of = t;
    if (t) {
      if (t->dtype != DType::Float32) return false;
      f.assign(t->ptr<float>(), t->ptr<float>() + t->numel());
    } else {
      QParams p;
      int d = -1;
      if (!read_dq(v, &p, &d) || !p.per_tensor() || !is8(p.type)) return false;
      const Tensor* c = constant(d);
      if (!c || c->dtype != p.type) return false;
      f.resize(size_t(c->numel()));
      if (p.type == DType::Int8)
        kernels::dequantize_s8_f32_reference(c->ptr<int8_t>(), f.data(), c->numel(), p.scale[0], int32_t(p.zero[0]));
      else
        kernels::dequantize_u8_f32_reference(c->ptr<uint8_t>(), f.data(), c->numel(), p.scale[0], int32_t(p.zero[0]));
      shape_of = c;
    }
    if (f.size() == 1) {
      vals->assign(size_t(channels), f[0]);
      return true;
    }
    if (channels == 1 || int64_t(f.size()) != channels || shape_of->rank() > 4) return false;
    const size_t r = shape_of->rank();
    for (size_t d = 0; d < r; ++d) {
      const bool channel_dim = d + 4 - r == 1;
      if (shape_of->shape[d] != 1 && !(channel_dim && shape_of->shape[d] == channels)) return false;
    }
    *vals = f;
    return true;
  }

  int fold_bounds() {
    int count = 0;
    for (size_t n = 0; n < g_.nodes.size(); ++n) {
      if (drop_[n] || !is_fused(g_.nodes[n])) continue;
      Node& fn = g_.nodes[n];
      const int v = fn.outputs[0];
      if (!single_use(v)) continue;
      const QParams out = output_params(fn);
      // v -> DQ -> op -> Q, each link single-use, same parameters at both ends.
      const int dq_i = consumer_[size_t(v)];
      if (dq_i < 0 || drop_[size_t(dq_i)] || !is_op(g_.nodes[size_t(dq_i)], "DequantizeLinear") ||
          g_.nodes[size_t(dq_i)].inputs[0] != v)
        continue;
      const Node& dq = g_.nodes[size_t(dq_i)];
      QParams dp;
      if (!read_params(dq, &dp, -1) || dq.outputs.empty() || dq.outputs[0] < 0 || !single_use(dq.outputs[0])) continue;
      if (dp.type == DType::Undefined) dp.type = out.type;
      if (!dp.same_as(out)) continue;
      const int dv = dq.outputs[0];
      const int op_i = consumer_[size_t(dv)];
      if (op_i < 0 || drop_[size_t(op_i)]) continue;
      const Node& op = g_.nodes[size_t(op_i)];
      if (op.outputs.size() != 1 || !single_use(op.outputs[0])) continue;
      const int q_i = consumer_[size_t(op.outputs[0])];
      if (q_i < 0 || drop_[size_t(q_i)] || !is_op(g_.nodes[size_t(q_i)], "QuantizeLinear") ||
          g_.nodes[size_t(q_i)].inputs[0] != op.outputs[0])
        continue;
      QParams qp;
      if (!read_q(g_.nodes[size_t(q_i)], &qp) || !qp.same_as(out)) continue;

      const int64_t channels = bound_channels(fn);
      std::vector<int64_t> lo = fn.attr_ints("y_min"), hi = fn.attr_ints("y_max");
      if (lo.size() == 1) lo.assign(size_t(channels), lo[0]);
      if (hi.size() == 1) hi.assign(size_t(channels), hi[0]);
      if (int64_t(lo.size()) != channels || int64_t(hi.size()) != channels) continue;
      if (is_op(op, "Relu") || is_op(op, "Clip")) {
        if (op.inputs.empty() || op.inputs[0] != dv) continue;
        bool ok = true;
        for (size_t c = 0; c < lo.size() && ok; ++c) ok = activation_bounds(op, out, &lo[c], &hi[c]);
        if (!ok) continue;
      } else if (is_op(op, "Min") || is_op(op, "Max")) {
        if (op.inputs.size() != 2 || (op.inputs[0] == dv) == (op.inputs[1] == dv)) continue;
        std::vector<float> vals;
        if (!bound_operand(op.inputs[0] == dv ? op.inputs[1] : op.inputs[0], channels, &vals)) continue;
        bool nan = false;
        for (float f : vals) nan = nan || std::isnan(f);
        if (nan) continue;
        const bool is_min = is_op(op, "Min");
        for (size_t c = 0; c < lo.size(); ++c) {
          const int64_t q = quantize(vals[c], out.scale[0], out.zero[0], out.type);
          if (is_min) apply_min(q, &lo[c], &hi[c]);
          else apply_max(q, &lo[c], &hi[c]);
        }
      } else {
        continue;
      }
      auto compress = [](std::vector<int64_t>& b) {
        if (std::all_of(b.begin(), b.end(), [&](int64_t x) { return x == b[0]; })) b.resize(1);
      };
      compress(lo);
      compress(hi);
      fn.attrs["y_min"] = attr_ints(lo);
      fn.attrs["y_max"] = attr_ints(hi);
      fn.outputs[0] = g_.nodes[size_t(q_i)].outputs[0];
      drop_[size_t(dq_i)] = drop_[size_t(op_i)] = drop_[size_t(q_i)] = 1;
      ++count;
    }
    compact();
    return count;
  }

  // ---- phase 3: Q(Pad(DQ(x))) -> QConv becomes QConv pads ----------------------

  int fold_pads() {
    int count = 0;
    for (size_t n = 0; n < g_.nodes.size(); ++n) {
      Node& qc = g_.nodes[n];
      if (drop_[n] || qc.domain != "netlite" || qc.op_type != "QConv") continue;
      const std::string ap = qc.attr_string("auto_pad", "NOTSET");
      if (ap != "NOTSET" && !ap.empty()) continue;
      const int xq = qc.inputs[0];
      const Node* q = producer_of(xq, "QuantizeLinear");
      if (!q || !single_use(xq)) continue;
      QParams qp;
      if (!read_q(*q, &qp)) continue;
      if (qp.scale[0] != qc.attr_float("x_scale", 0.0f) || qp.zero[0] != qc.attr_int("x_zero_point", 0)) continue;
      const int pv = q->inputs[0];
      const Node* pad = producer_of(pv, "Pad");
      if (!pad || !single_use(pv) || pad->inputs.empty() || pad->attr_string("mode", "constant") != "constant") continue;
      QParams dp;
      int src = -1;
      if (!read_dq_act(pad->inputs[0], &dp, &src) || !dp.same_as(qp)) continue;
      std::vector<int64_t> pads;
      float value = 0.0f;
      if (pad->opset < 11) {
        pads = pad->attr_ints("pads");
        value = pad->attr_float("value", 0.0f);
      } else {
        const Tensor* pt = pad->inputs.size() > 1 ? constant(pad->inputs[1]) : nullptr;
        if (!pt || pt->rank() != 1) continue;
        for (int64_t i = 0; i < pt->numel(); ++i) pads.push_back(read_int(*pt, i));
        if (pad->inputs.size() > 2 && pad->inputs[2] >= 0 && !const_scalar(pad->inputs[2], &value)) continue;
        if (pad->inputs.size() > 3 && pad->inputs[3] >= 0) continue;  // axes
      }
      if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5]) continue;
      if (pads[2] < 0 || pads[3] < 0 || pads[6] < 0 || pads[7] < 0) continue;
      if (std::isnan(value) || quantize(value, qp.scale[0], qp.zero[0], qp.type) != qp.zero[0]) continue;
      std::vector<int64_t> cp = qc.attr_ints("pads", {0, 0, 0, 0});
      if (cp.size() != 4) continue;
      cp[0] += pads[2];
      cp[1] += pads[3];
      cp[2] += pads[6];
      cp[3] += pads[7];
      qc.attrs["pads"] = attr_ints(cp);
      qc.inputs[0] = src;
      drop_[size_t(producer_[size_t(xq)])] = drop_[size_t(producer_[size_t(pv)])] = 1;
      ++count;
    }
    compact();
    return count;
  }

  // ---- phase 4: data movement and selection on the 8-bit values ----------------

  // Ops that only move, select or compare elements: with the same scale and zero
  // point on both sides, Q(op(DQ(x))) = op(x), since DQ and Q are monotone and
  // Q(DQ(q)) = q. (Their 8-bit support in netlite is checked by ops' infer().)
  static bool moves_elements(const Node& n) {
    static const char* const kOps[] = {"Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Slice",
                                       "Gather", "Expand", "Tile", "SpaceToDepth", "DepthToSpace", "MaxPool",
                                       "ReduceMax", "ReduceMin", "Pad", "Resize", "Concat"};
    if (!n.domain.empty() || n.outputs.size() != 1) return false;
    for (const char* k : kOps) if (n.op_type == k) return true;
    return false;
  }

  bool fuse_movement(size_t qi) {
    QParams out;
    if (!read_q(g_.nodes[qi], &out)) return false;
    const int y = g_.nodes[qi].inputs[0];
    if (!single_use(y) || producer_[size_t(y)] < 0) return false;
    const int op_i = producer_[size_t(y)];
    Node& op = g_.nodes[size_t(op_i)];
    if (drop_[size_t(op_i)] || !moves_elements(op) || op.inputs.empty()) return false;
    // The data inputs (all of Concat's, else input 0) come from DQs with Q's parameters.
    const size_t data_inputs = op.op_type == "Concat" ? op.inputs.size() : 1;
    std::vector<int> src(data_inputs, -1);
    for (size_t i = 0; i < data_inputs; ++i) {
      QParams p;
      if (!read_dq_act(op.inputs[i], &p, &src[i]) || !p.same_as(out)) return false;
    }
    for (size_t i = data_inputs; i < op.inputs.size(); ++i)
      if (op.inputs[i] >= 0 && producer_of(op.inputs[i], "DequantizeLinear")) return false;
    int pad_value = -1;
    if (op.op_type == "Pad") {
      // The constant becomes Q(value) of the 8-bit type (absent: Q(0), the zero point).
      if (op.opset < 11 || op.inputs.size() > 3) return false;
      if (op.attr_string("mode", "constant") != "constant") {
        if (op.inputs.size() > 2 && op.inputs[2] >= 0) return false;  // an unused float constant_value
      } else {
        float v = 0.0f;
        if (op.inputs.size() > 2 && op.inputs[2] >= 0 && !const_scalar(op.inputs[2], &v)) return false;
        if (std::isnan(v)) return false;
        Tensor t = Tensor::allocate(out.type, {});
        const int64_t q = quantize(v, out.scale[0], out.zero[0], out.type);
        if (out.type == DType::Int8) t.ptr<int8_t>()[0] = int8_t(q);
        else t.ptr<uint8_t>()[0] = uint8_t(q);
        pad_value = g_.add_value(op.name + "/qpad_value");
        Value& val = g_.values[size_t(pad_value)];
        val.is_constant = true;
        val.dtype = out.type;
        val.has_shape = true;
        val.data = std::move(t);
        uses_.push_back(1);
        producer_.push_back(-1);
        consumer_.push_back(op_i);
      }
    }
    if (op.op_type == "Resize" && (op.attr_string("mode", "nearest") != "nearest" ||
                                   op.attr_string("coordinate_transformation_mode", "") == "tf_crop_and_resize"))
      return false;
    for (size_t i = 0; i < data_inputs; ++i) op.inputs[i] = src[i];
    if (pad_value >= 0) {
      if (op.inputs.size() < 3) op.inputs.resize(3, -1);
      op.inputs[2] = pad_value;
    }
    op.outputs[0] = g_.nodes[qi].outputs[0];
    drop_[qi] = 1;
    return true;
  }

  // ---- phase 5: the rest of DQ -> unary f -> Q as a table ----------------------

  static bool is_unary_elementwise(const Node& n) {
    static const char* const kOps[] = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
                                       "Elu", "Selu", "Softplus", "Abs", "Neg", "Exp", "Log", "Sqrt", "Erf",
                                       "Gelu", "Identity", "Floor", "Ceil", "Reciprocal", "Celu", "Mish", "Softsign"};
    if (!n.domain.empty() || n.outputs.size() != 1) return false;
    for (const char* k : kOps) if (n.op_type == k) return true;
    return false;
  }

  bool fuse_lookup(size_t qi) {
    QParams out;
    if (!read_q(g_.nodes[qi], &out)) return false;
    const int y = g_.nodes[qi].inputs[0];
    if (!single_use(y) || producer_[size_t(y)] < 0) return false;
    int f_i = -1;
    int dqv = y;
    const Node& p = g_.nodes[size_t(producer_[size_t(y)])];
    if (is_unary_elementwise(p)) {
      if (p.inputs.empty() || !single_use(p.inputs[0])) return false;
      for (size_t k = 1; k < p.inputs.size(); ++k)
        if (p.inputs[k] >= 0 && !constant(p.inputs[k])) return false;
      f_i = producer_[size_t(y)];
      dqv = p.inputs[0];
    }
    QParams xp;
    int x = -1;
    if (!read_dq_act(dqv, &xp, &x)) return false;
    // The 256 inputs through DQ and f exactly as the float graph runs them.
    Tensor in = Tensor::allocate(DType::Float32, {256});
    uint8_t codes[256];
    for (int i = 0; i < 256; ++i) codes[i] = uint8_t(i);
    if (xp.type == DType::Int8)
      kernels::dequantize_s8_f32_reference(reinterpret_cast<const int8_t*>(codes), in.ptr<float>(), 256, xp.scale[0],
                                           int32_t(xp.zero[0]));
    else
      kernels::dequantize_u8_f32_reference(codes, in.ptr<float>(), 256, xp.scale[0], int32_t(xp.zero[0]));
    Tensor fx = in;
    if (f_i >= 0) {
      const Node& f = g_.nodes[size_t(f_i)];
      const OpDef* def = find_op(f.domain, f.op_type);
      if (!def) return false;
      try {
        const ScratchKernels scratch;  // this kernel only computes a table
        std::unique_ptr<OpKernel> k = def->create(f, g_);
        InferContext ic(f);
        std::vector<const Tensor*> ins;
        for (size_t i = 0; i < f.inputs.size(); ++i) {
          TensorMeta m;
          const Tensor* t = i == 0 ? &in : (f.inputs[i] >= 0 ? constant(f.inputs[i]) : nullptr);
          if (t) {
            m.present = true;
            m.dtype = t->dtype;
            m.shape = t->shape;
            m.value = t;
          }
          ic.inputs.push_back(m);
          ins.push_back(t);
        }
        TensorMeta om;
        om.present = true;
        ic.outputs.push_back(om);
        k->infer(ic);
        if (ic.outputs[0].dtype != DType::Float32 || ic.outputs[0].shape != in.shape) return false;
        ThreadPool pool(1);
        fx = evaluate_node(f, *k, ic, ins, pool, kernels::GemmBackend::Reference)[0];
      } catch (const Error&) {
        return false;
      }
    }
    Tensor table = Tensor::allocate(out.type, {256});
    if (out.type == DType::Int8)
      kernels::quantize_f32_s8_reference(fx.ptr<float>(), table.ptr<int8_t>(), 256, out.scale[0], int32_t(out.zero[0]));
    else
      kernels::quantize_f32_u8_reference(fx.ptr<float>(), table.ptr<uint8_t>(), 256, out.scale[0], int32_t(out.zero[0]));
    const int tv = g_.add_value(g_.values[size_t(g_.nodes[qi].outputs[0])].name + "/table");
    Value& tval = g_.values[size_t(tv)];
    tval.is_constant = true;
    tval.dtype = out.type;
    tval.shape = {256};
    tval.has_shape = true;
    tval.data = std::move(table);
    uses_.push_back(1);
    producer_.push_back(-1);
    consumer_.push_back(-1);
    Node lk;
    lk.op_type = "QLookup";
    lk.domain = "netlite";
    lk.opset = 1;
    lk.name = f_i >= 0 ? g_.nodes[size_t(f_i)].name : g_.nodes[qi].name;
    lk.inputs = {x, tv};
    lk.outputs = {g_.nodes[qi].outputs[0]};
    if (f_i >= 0) drop_[size_t(f_i)] = 1;
    g_.nodes[qi] = std::move(lk);
    return true;
  }

  Graph& g_;
  std::vector<int> uses_, producer_;
  std::vector<int> consumer_;  // the first node reading each value (the only one when uses_ is 1)
  std::vector<char> drop_;
};

}  // namespace fuse_qdq_detail

int fuse_qdq(Graph& g) {
  fuse_qdq_detail::Fuser f(g);
  const int n = f.run();
  if (n) {
    g.toposort();
    g.prune();
  }
  return n;
}

}  // namespace passes
}  // namespace netlite
