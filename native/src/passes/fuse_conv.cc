// Conv-centred rewrites:
//  - fold_batchnorm_into_conv: Conv (constant weights) -> BatchNormalization
//    (constant statistics) becomes one Conv with rescaled weights and a bias.
//  - fold_add_into_conv: Conv -> Add(constant, one value per output channel or
//    one for all) becomes one Conv with that constant in its bias (exporters that
//    write the bias as a separate Add: the ONNX zoo's MNIST model).
//  - fuse_conv_activation: Conv -> Relu / Clip (constant bounds) becomes one
//    Conv whose epilogue applies the activation while the output is in cache.
//  - fuse_conv_residual: Conv -> Add(other) [-> Relu / Clip] becomes one Conv
//    with `other` as an internal fourth input (netlite_fused_residual), added
//    while each output block is in cache (ResNet's and MobileNet-V2's skips).
//  - fuse_depthwise_block: [1x1 Conv ->] depthwise Conv -> 1x1 Conv (each with
//    its fused activation, the last with its fused residual) becomes one
//    netlite.DepthwiseBlock, run band by band (ops/depthwise_block.cc). In place
//    of the 1x1 Conv it also takes an image model's first Conv when the direct
//    small_c kernel runs it (MobileNet-V2's stem: "stem." attributes).
//  - fuse_conv_max_pool: a first-layer Conv the direct small_c kernel runs
//    (<= 4 input channels, stride 2) [with its fused activation] -> MaxPool
//    becomes one netlite.ConvMaxPool, run band by band (ops/conv_max_pool.cc).
// All only fire when the Conv output has exactly one consumer and is not a
// graph output, so no other reader can see the changed values.
#include <cmath>
#include <limits>

#include "../kernels/conv_small_c.h"
#include "passes.h"

namespace netlite {
namespace passes {
namespace fuse_conv_detail {

std::vector<int> consumer_counts(const Graph& g) {
  std::vector<int> uses(g.values.size(), 0);
  for (const Node& n : g.nodes)
    for (int i : n.inputs) if (i >= 0) ++uses[size_t(i)];
  for (int o : g.outputs) uses[size_t(o)] += 1000000;  // never fuse away a graph output
  return uses;
}

const Tensor* const_f32(const Graph& g, const Node& n, size_t i) {
  const Tensor* t = constant_input(n, g, i);
  return t && t->dtype == DType::Float32 ? t : nullptr;
}

int add_constant(Graph& g, const std::string& name, Tensor t) {
  int v = g.add_value(name);
  Value& val = g.values[size_t(v)];
  val.is_constant = true;
  val.dtype = t.dtype;
  val.shape = t.shape;
  val.has_shape = true;
  val.data = std::move(t);
  return v;
}

// Finds the single node consuming value v (uses[v] == 1).
int sole_consumer(const Graph& g, int v, size_t* input_slot) {
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (size_t k = 0; k < g.nodes[n].inputs.size(); ++k)
      if (g.nodes[n].inputs[k] == v) { *input_slot = k; return int(n); }
  return -1;
}

// Removes the nodes marked in drop (indices of g.nodes).
void remove_dropped(Graph& g, const std::vector<char>& drop) {
  std::vector<Node> kept;
  for (size_t n = 0; n < g.nodes.size(); ++n) if (!drop[n]) kept.push_back(std::move(g.nodes[n]));
  g.nodes = std::move(kept);
}

// Conv node ci takes its consumer's (node `consumer`) output, with the weight value w
// (unless -1) and the bias value b as its inputs.
void take_output(Graph& g, size_t ci, size_t consumer, int w, int b) {
  Node& c = g.nodes[ci];
  c.inputs.resize(3);
  if (w >= 0) c.inputs[1] = w;
  c.inputs[2] = b;
  c.outputs[0] = g.nodes[consumer].outputs[0];
}

bool is_plain_conv(const Node& n) {
  return n.domain.empty() && n.op_type == "Conv" && n.outputs.size() == 1 && n.outputs[0] >= 0 &&
         !n.has_attr("netlite_fused_activation");
}

// Calls absorb(conv, consumer, slot) for each plain Conv whose output has exactly one
// reader, node `consumer` (through its input `slot`), and is not a graph output;
// absorb returns whether the conv took the consumer over (may add values, not nodes).
// The consumers taken over are removed. Returns how many.
template <typename Absorb>
int absorb_sole_consumers(Graph& g, Absorb&& absorb) {
  const std::vector<int> uses = consumer_counts(g);
  std::vector<char> drop(g.nodes.size(), 0);
  int taken = 0;
  for (size_t ci = 0; ci < g.nodes.size(); ++ci) {
    const Node& conv = g.nodes[ci];
    if (drop[ci] || !is_plain_conv(conv) || uses[size_t(conv.outputs[0])] != 1) continue;
    size_t slot = 0;
    const int consumer = sole_consumer(g, conv.outputs[0], &slot);
    if (consumer < 0 || drop[size_t(consumer)] || !absorb(ci, size_t(consumer), slot)) continue;
    drop[size_t(consumer)] = 1;
    ++taken;
  }
  if (taken) remove_dropped(g, drop);
  return taken;
}

// The clamp bounds of a Relu / Clip node (constant bounds), false for anything else.
bool activation_bounds(const Graph& g, const Node& act, Attribute* kind, float* lo, float* hi) {
  if (!act.domain.empty() || act.outputs.empty() || act.outputs[0] < 0) return false;
  kind->kind = Attribute::Kind::String;
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (act.op_type == "Relu") {
    kind->s = "Relu";
    return true;
  }
  if (act.op_type != "Clip") return false;
  kind->s = "Clip";
  if (act.opset < 11) {
    *lo = act.attr_float("min", *lo);
    *hi = act.attr_float("max", *hi);
    return true;
  }
  for (size_t k = 1; k < act.inputs.size() && k < 3; ++k) {
    if (act.inputs[k] < 0) continue;
    const Tensor* t = const_f32(g, act, k);
    if (!t || t->numel() != 1) return false;
    (k == 1 ? *lo : *hi) = t->ptr<float>()[0];
  }
  return true;
}

void set_activation(Node& conv, const Attribute& kind, float lo, float hi) {
  Attribute amin, amax;
  amin.kind = amax.kind = Attribute::Kind::Float;
  amin.f = lo;
  amax.f = hi;
  conv.attrs["netlite_fused_activation"] = kind;
  conv.attrs["netlite_fused_activation_min"] = amin;
  conv.attrs["netlite_fused_activation_max"] = amax;
}

// Whether a value's declared shape rules out "same shape as the conv output":
// the output has the weights' rank; a known shape of another rank, or with a
// channel count other than the weights', cannot match.
bool shape_excludes(const Value& v, const Tensor& w) {
  if (!v.has_shape) return false;
  if (v.shape.size() != w.shape.size()) return true;
  return v.shape.size() > 1 && v.shape[1] >= 0 && v.shape[1] != w.shape[0];
}

// A Conv node with constant float weights of rank 4, no fused residual unless
// `residual_ok`; null otherwise.
const Tensor* conv2d_weights(const Graph& g, const Node& n, bool residual_ok) {
  if (!n.domain.empty() || n.op_type != "Conv" || n.outputs.size() != 1 || n.outputs[0] < 0) return nullptr;
  if (!residual_ok && n.has_attr("netlite_fused_residual")) return nullptr;
  const Tensor* w = const_f32(g, n, 1);
  return w && w->rank() == 4 && w->numel() > 0 ? w : nullptr;
}

bool all_equal(const std::vector<int64_t>& v, int64_t x) {
  for (int64_t e : v) if (e != x) return false;
  return true;
}

// A 1x1, stride-1, unpadded, ungrouped Conv (dilations do not matter for 1x1).
bool is_pointwise_conv(const Node& n, const Tensor& w) {
  if (w.shape[2] != 1 || w.shape[3] != 1 || n.attr_int("group", 1) != 1) return false;
  const std::string ap = n.attr_string("auto_pad", "NOTSET");
  return all_equal(n.attr_ints("kernel_shape"), 1) && all_equal(n.attr_ints("strides"), 1) &&
         all_equal(n.attr_ints("pads"), 0) && (ap == "NOTSET" || ap.empty() || ap == "VALID" || ap == "SAME_UPPER" ||
                                               ap == "SAME_LOWER");
}

// A 2-D depthwise Conv (group == channels, weights [M,1,KH,KW]) whose explicit
// vertical pads are smaller than the kernel's extent (DepthwiseBlock's bands
// need every output row to read an input row; SAME pads always are).
bool is_depthwise_conv(const Node& n, const Tensor& w) {
  if (w.shape[1] != 1 || n.attr_int("group", 1) != w.shape[0] || w.shape[0] < 1) return false;
  const std::vector<int64_t> ks = n.attr_ints("kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != w.shape[2] || ks[1] != w.shape[3])) return false;
  const std::vector<int64_t> dil = n.attr_ints("dilations"), pads = n.attr_ints("pads");
  if (!dil.empty() && dil.size() != 2) return false;
  if (!pads.empty() && pads.size() != 4) return false;
  const int64_t extent = (w.shape[2] - 1) * (dil.empty() ? 1 : dil[0]) + 1;
  return pads.empty() || (pads[0] < extent && pads[2] < extent);
}

// A first-layer Conv the direct small_c kernel runs (<= 4 input channels, stride
// 2, no dilation, ungrouped, kernel within its limits), on the CPU that has it.
bool is_small_c_conv(const Node& n, const Tensor& w) {
  const std::vector<int64_t> strides = n.attr_ints("strides"), ks = n.attr_ints("kernel_shape");
  if (n.attr_int("group", 1) != 1 || strides.size() != 2 || !all_equal(strides, 2) ||
      !all_equal(n.attr_ints("dilations"), 1))
    return false;
  if (!ks.empty() && (ks.size() != 2 || ks[0] != w.shape[2] || ks[1] != w.shape[3])) return false;
  const std::vector<int64_t> pads = n.attr_ints("pads");
  if (!pads.empty() && pads.size() != 4) return false;
  return kernels::small_c_conv_applies(w.shape[1], w.shape[2], w.shape[3], 2, 2, 1, 1);
}

// Copies a conv's (or pool's) window attributes onto `fused` under `prefix`.
void copy_window_attrs(const Node& from, const std::string& prefix, Node* fused) {
  for (const char* a : {"kernel_shape", "strides", "pads", "dilations", "auto_pad"})
    if (from.has_attr(a)) fused->attrs[prefix + a] = from.attrs.at(a);
}

// Copies conv's fused-activation attributes onto `fused` under `prefix`.
void copy_activation(const Node& conv, const std::string& prefix, Node* fused) {
  for (const char* name : {"netlite_fused_activation", "netlite_fused_activation_min", "netlite_fused_activation_max"})
    if (conv.has_attr(name)) fused->attrs[prefix + name] = conv.attrs.at(name);
}

}  // namespace fuse_conv_detail

int fold_batchnorm_into_conv(Graph& g) {
  using namespace fuse_conv_detail;
  return absorb_sole_consumers(g, [&](size_t ci, size_t bi, size_t slot) {
    const Node& conv = g.nodes[ci];
    const Node& bn = g.nodes[bi];
    if (slot != 0 || !bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() < 5) return false;
    if (bn.attr_int("training_mode", 0) != 0 || bn.attr_int("spatial", 1) != 1) return false;
    for (size_t o = 1; o < bn.outputs.size(); ++o)
      if (bn.outputs[o] >= 0) return false;  // training outputs
    if (bn.outputs.empty() || bn.outputs[0] < 0) return false;
    const Tensor* w = const_f32(g, conv, 1);
    const Tensor* b = conv.inputs.size() > 2 && conv.inputs[2] >= 0 ? const_f32(g, conv, 2) : nullptr;
    if (!w || w->rank() < 3 || (conv.inputs.size() > 2 && conv.inputs[2] >= 0 && !b)) return false;
    const Tensor *scale = const_f32(g, bn, 1), *beta = const_f32(g, bn, 2), *mean = const_f32(g, bn, 3),
                 *var = const_f32(g, bn, 4);
    const int64_t m = w->shape[0];
    auto is_vec = [m](const Tensor* t) { return t && t->rank() == 1 && t->shape[0] == m; };
    if (!is_vec(scale) || !is_vec(beta) || !is_vec(mean) || !is_vec(var) || (b && !is_vec(b))) return false;
    const float eps = bn.attr_float("epsilon", 1e-5f);
    Tensor nw = Tensor::allocate(DType::Float32, w->shape);
    Tensor nb = Tensor::allocate(DType::Float32, {m});
    const int64_t per = w->numel() / std::max<int64_t>(m, 1);
    for (int64_t oc = 0; oc < m; ++oc) {
      const float s = scale->ptr<float>()[oc] / std::sqrt(var->ptr<float>()[oc] + eps);
      for (int64_t k = 0; k < per; ++k) nw.ptr<float>()[oc * per + k] = w->ptr<float>()[oc * per + k] * s;
      const float b0 = b ? b->ptr<float>()[oc] : 0.0f;
      nb.ptr<float>()[oc] = (b0 - mean->ptr<float>()[oc]) * s + beta->ptr<float>()[oc];
    }
    const std::string base = conv.name + "/bn_folded";
    const int wv = add_constant(g, base + "/W", std::move(nw));
    const int bv = add_constant(g, base + "/B", std::move(nb));
    take_output(g, ci, bi, wv, bv);
    return true;
  });
}

int fold_add_into_conv(Graph& g) {
  using namespace fuse_conv_detail;
  return absorb_sole_consumers(g, [&](size_t ci, size_t ai, size_t slot) {
    const Node& conv = g.nodes[ci];
    const Node& add = g.nodes[ai];
    // Opset 7 on: numpy-style broadcasting (before it, a "broadcast" attribute with an axis).
    if (!add.domain.empty() || add.op_type != "Add" || add.opset < 7 || add.inputs.size() != 2 || slot > 1 ||
        add.outputs.size() != 1 || add.outputs[0] < 0)
      return false;
    const Tensor* k = const_f32(g, add, 1 - slot);
    const Tensor* w = const_f32(g, conv, 1);
    const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] >= 0;
    const Tensor* b = has_bias ? const_f32(g, conv, 2) : nullptr;
    if (!k || !w || w->rank() < 3 || (has_bias && !b)) return false;
    const int64_t m = w->shape[0], rank = int64_t(w->rank());
    if (b && (b->rank() != 1 || b->shape[0] != m)) return false;
    // The constant must be one value per output channel: right-aligned against the
    // output [N, M, spatial...], every dim 1 but the channel dim, which is 1 or M.
    if (int64_t(k->rank()) > rank) return false;
    for (int64_t d = 0; d < int64_t(k->rank()); ++d) {
      const int64_t axis = rank - int64_t(k->rank()) + d, n = k->shape[size_t(d)];
      if (n != 1 && !(axis == 1 && n == m)) return false;
    }
    const bool one = k->numel() == 1;
    Tensor nb = Tensor::allocate(DType::Float32, {m});
    for (int64_t oc = 0; oc < m; ++oc)
      nb.ptr<float>()[oc] = (b ? b->ptr<float>()[oc] : 0.0f) + k->ptr<float>()[one ? 0 : oc];
    take_output(g, ci, ai, -1, add_constant(g, conv.name + "/add_folded/B", std::move(nb)));
    return true;
  });
}

int fuse_conv_activation(Graph& g) {
  using namespace fuse_conv_detail;
  return absorb_sole_consumers(g, [&](size_t ci, size_t ai, size_t slot) {
    Attribute kind;
    float lo = 0.0f, hi = 0.0f;
    if (slot != 0 || !activation_bounds(g, g.nodes[ai], &kind, &lo, &hi)) return false;
    Node& conv = g.nodes[ci];
    set_activation(conv, kind, lo, hi);
    conv.outputs[0] = g.nodes[ai].outputs[0];
    return true;
  });
}

int fuse_conv_residual(Graph& g) {
  using namespace fuse_conv_detail;
  std::vector<int> uses = consumer_counts(g);
  std::vector<char> drop(g.nodes.size(), 0);
  int fused = 0;
  for (size_t ci = 0; ci < g.nodes.size(); ++ci) {
    Node& conv = g.nodes[ci];
    if (drop[ci] || !is_plain_conv(conv) || conv.has_attr("netlite_fused_residual") || conv.inputs.size() > 3 ||
        uses[size_t(conv.outputs[0])] != 1)
      continue;
    const Tensor* w = const_f32(g, conv, 1);
    if (!w || w->rank() < 3) continue;
    size_t slot = 0;
    const int ai = sole_consumer(g, conv.outputs[0], &slot);
    if (ai < 0 || drop[size_t(ai)]) continue;
    const Node& add = g.nodes[size_t(ai)];
    if (!add.domain.empty() || add.op_type != "Add" || add.has_attr("broadcast") || add.inputs.size() != 2 ||
        add.outputs.size() != 1 || add.outputs[0] < 0)
      continue;
    const int other = add.inputs[1 - slot];
    // A constant operand is a broadcast bias, not a skip connection; the
    // residual must have the output's shape (checked again when planning).
    if (other < 0 || other == conv.outputs[0] || g.values[size_t(other)].is_constant) continue;
    if (shape_excludes(g.values[size_t(other)], *w)) continue;
    int out = add.outputs[0];
    int drop_act = -1;
    Attribute kind;
    float lo = 0.0f, hi = 0.0f;
    if (uses[size_t(out)] == 1) {
      size_t aslot = 0;
      const int ri = sole_consumer(g, out, &aslot);
      if (ri >= 0 && aslot == 0 && !drop[size_t(ri)] && activation_bounds(g, g.nodes[size_t(ri)], &kind, &lo, &hi)) {
        drop_act = ri;
        out = g.nodes[size_t(ri)].outputs[0];
      }
    }
    Attribute flag;
    flag.kind = Attribute::Kind::Int;
    flag.i = 1;
    conv.attrs["netlite_fused_residual"] = flag;
    if (drop_act >= 0) set_activation(conv, kind, lo, hi);
    conv.inputs.resize(4, -1);
    conv.inputs[3] = other;
    conv.outputs[0] = out;
    drop[size_t(ai)] = 1;
    if (drop_act >= 0) drop[size_t(drop_act)] = 1;
    ++fused;
  }
  if (fused) {
    remove_dropped(g, drop);
    g.toposort();  // the residual's producer may come after the conv in node order
  }
  return fused;
}

int fuse_depthwise_block(Graph& g) {
  using namespace fuse_conv_detail;
  std::vector<int> uses = consumer_counts(g);
  std::vector<char> drop(g.nodes.size(), 0);
  std::vector<Node> added;
  std::vector<int> producer(g.values.size(), -1);  // Value::producer may be stale after the passes above
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int o : g.nodes[n].outputs) if (o >= 0) producer[size_t(o)] = int(n);
  int fused = 0;
  for (size_t di = 0; di < g.nodes.size(); ++di) {
    const Node& dw = g.nodes[di];
    const Tensor* wd = drop[di] ? nullptr : conv2d_weights(g, dw, false);
    if (!wd || !is_depthwise_conv(dw, *wd) || dw.inputs[0] < 0 || uses[size_t(dw.outputs[0])] != 1) continue;
    size_t slot = 0;
    const int pi = sole_consumer(g, dw.outputs[0], &slot);
    if (pi < 0 || slot != 0 || drop[size_t(pi)]) continue;
    const Node& proj = g.nodes[size_t(pi)];
    const Tensor* wp = conv2d_weights(g, proj, true);
    if (!wp || !is_pointwise_conv(proj, *wp) || wp->shape[1] != wd->shape[0]) continue;
    // The expand conv: the depthwise conv's input, when a 1x1 Conv read by nothing else writes
    // it; or the stem, a small_c Conv (then the block reads the image).
    int ei = producer[size_t(dw.inputs[0])];
    bool stem = false;
    if (ei >= 0) {
      const Node& ex = g.nodes[size_t(ei)];
      const Tensor* we = drop[size_t(ei)] ? nullptr : conv2d_weights(g, ex, false);
      stem = we && !is_pointwise_conv(ex, *we) && is_small_c_conv(ex, *we);
      if (!we || !(stem || is_pointwise_conv(ex, *we)) || we->shape[0] != wd->shape[0] || ex.inputs[0] < 0 ||
          uses[size_t(dw.inputs[0])] != 1)
        ei = -1;
    }
    Node f;
    f.name = dw.name;
    f.op_type = "DepthwiseBlock";
    f.domain = "netlite";
    f.opset = 1;
    copy_window_attrs(dw, "", &f);
    auto in = [](const Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : -1; };
    if (ei >= 0) {
      const Node& ex = g.nodes[size_t(ei)];
      f.inputs = {ex.inputs[0], ex.inputs[1], in(ex, 2)};
      copy_activation(ex, "expand.", &f);
      if (stem) copy_window_attrs(ex, "stem.", &f);
    } else {
      f.inputs = {dw.inputs[0], -1, -1};
    }
    f.inputs.insert(f.inputs.end(), {dw.inputs[1], in(dw, 2), proj.inputs[1], in(proj, 2), in(proj, 3)});
    copy_activation(dw, "depthwise.", &f);
    copy_activation(proj, "project.", &f);
    f.outputs = proj.outputs;
    while (!f.inputs.empty() && f.inputs.back() < 0) f.inputs.pop_back();
    drop[di] = drop[size_t(pi)] = 1;
    if (ei >= 0) drop[size_t(ei)] = 1;
    added.push_back(std::move(f));
    ++fused;
  }
  if (fused) {
    remove_dropped(g, drop);
    for (Node& n : added) g.nodes.push_back(std::move(n));
    g.toposort();
  }
  return fused;
}

int fuse_conv_max_pool(Graph& g) {
  using namespace fuse_conv_detail;
  // Only where the direct kernel runs: elsewhere the conv is im2col + GEMM, which
  // this op does not do (it would run the scalar reference).
  if (!kernels::small_c_conv_available()) return 0;
  std::vector<int> uses = consumer_counts(g);
  int fused = 0;
  for (size_t ci = 0; ci < g.nodes.size(); ++ci) {
    const Node& conv = g.nodes[ci];
    const Tensor* w = conv2d_weights(g, conv, false);
    if (!w || conv.inputs[0] < 0 || uses[size_t(conv.outputs[0])] != 1) continue;
    if (!is_small_c_conv(conv, *w)) continue;
    size_t slot = 0;
    const int pi = sole_consumer(g, conv.outputs[0], &slot);
    if (pi < 0 || slot != 0) continue;
    const Node& pool = g.nodes[size_t(pi)];
    if (!pool.domain.empty() || pool.op_type != "MaxPool" || pool.outputs.empty() || pool.outputs[0] < 0 ||
        (pool.outputs.size() > 1 && pool.outputs[1] >= 0) || pool.attr_ints("kernel_shape").size() != 2)
      continue;
    Node f;
    f.name = conv.name;
    f.op_type = "ConvMaxPool";
    f.domain = "netlite";
    f.opset = 1;
    for (const auto& kv : conv.attrs) f.attrs[kv.first] = kv.second;  // window, group, fused activation
    copy_window_attrs(pool, "pool.", &f);
    if (pool.has_attr("ceil_mode")) f.attrs["pool.ceil_mode"] = pool.attrs.at("ceil_mode");
    f.inputs = conv.inputs;
    f.outputs = {pool.outputs[0]};
    g.nodes[ci] = std::move(f);
    g.nodes.erase(g.nodes.begin() + pi);  // after ci in topological order
    uses = consumer_counts(g);
    ++fused;
  }
  return fused;
}

}  // namespace passes
}  // namespace netlite
