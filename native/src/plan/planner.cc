#include "planner.h"

#include <algorithm>
#include <cstring>

#include "../runtime/model.h"

namespace netlite {
namespace planner_detail {

constexpr size_t kArenaAlign = 64;
// Nodes whose inputs are all known at plan time are evaluated there when their
// outputs are at most this many elements (shape math); bigger ones stay run-time
// steps so a plan never holds large copies of activations.
constexpr int64_t kFoldLimit = 1 << 16;

size_t align_up(size_t n) { return (n + kArenaAlign - 1) / kArenaAlign * kArenaAlign; }

struct Interval {
  size_t first, last;  // steps during which the buffer must stay intact (inclusive)
  size_t bytes;
  size_t offset = 0;
  int owner;           // value index, or -(step+1) for a step's scratch
  bool slot = false;   // a step's per-thread scratch (one thread), or with owner 0 the region (several)
};

// Greedy by size (largest first), each buffer at the lowest offset not in use by
// any already-placed buffer whose lifetime overlaps - the "greedy by size"
// strategy of TFLite's arena planner.
size_t place(std::vector<Interval>& bufs) {
  std::vector<size_t> order(bufs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (bufs[a].bytes != bufs[b].bytes) return bufs[a].bytes > bufs[b].bytes;
    return bufs[a].first < bufs[b].first;
  });
  std::vector<size_t> placed;
  size_t total = 0;
  std::vector<std::pair<size_t, size_t>> busy;
  for (size_t idx : order) {
    Interval& b = bufs[idx];
    busy.clear();
    for (size_t p : placed) {
      const Interval& o = bufs[p];
      if (o.first <= b.last && b.first <= o.last) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t off = 0;
    for (auto& r : busy) {
      if (off + b.bytes <= r.first) break;
      off = std::max(off, align_up(r.second));
    }
    b.offset = off;
    total = std::max(total, off + b.bytes);
    placed.push_back(idx);
  }
  return align_up(total);
}

// A Concat whose inputs are consecutive byte ranges of its output (every dim
// before the axis is 1, e.g. channels at batch 1), each written by a step of
// its own and each but the last a multiple of 64 bytes long: the inputs become
// views into the output, their producers write there directly, and the Concat
// has nothing left to do (no step). SqueezeNet's fire modules spent 3% of a run
// copying expand outputs. Views made earlier of an input (a Reshape of it)
// follow it. Returns false to plan a copy instead.
bool concat_in_place(const Node& node, const OpKernel& kernel, Plan& plan) {
  const std::optional<int64_t> joined = kernel.joins_inputs_along();
  if (!joined || node.outputs.size() != 1 || node.outputs[0] < 0) return false;
  const int out = node.outputs[0];
  const Plan::Slot& y = plan.slots[size_t(out)];
  const int64_t axis = *joined;
  const int64_t a = axis < 0 ? axis + int64_t(y.shape.size()) : axis;
  if (a < 0 || a >= int64_t(y.shape.size())) return false;
  for (int64_t d = 0; d < a; ++d)
    if (y.shape[size_t(d)] != 1) return false;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const int in = node.inputs[i];
    if (in < 0 || in == out || plan.slots[size_t(in)].storage != Plan::Storage::Arena) return false;
    // Every view starts where an arena buffer could: kernels may rely on 64-byte alignment.
    if (i + 1 < node.inputs.size() && plan.slots[size_t(in)].bytes % kArenaAlign != 0) return false;
    for (size_t j = 0; j < i; ++j)
      if (node.inputs[j] == in) return false;
  }
  Plan::Slot& ys = plan.slots[size_t(out)];
  ys.storage = Plan::Storage::Arena;
  ys.bytes = size_t(shape_numel(ys.shape)) * dtype_size(ys.dtype);
  size_t offset = 0;
  for (int in : node.inputs) {
    Plan::Slot& x = plan.slots[size_t(in)];
    for (Plan::Slot& v : plan.slots)
      if (v.storage == Plan::Storage::Alias && v.alias_of == in) {
        v.alias_of = out;
        v.alias_offset += offset;
      }
    x.storage = Plan::Storage::Alias;
    x.alias_of = out;
    x.alias_offset = offset;
    offset += x.bytes;
    x.bytes = 0;
  }
  if (offset != ys.bytes) fail(StatusCode::Internal, node.describe(), ": input sizes do not add up to the output's");
  return true;
}

}  // namespace planner_detail

std::vector<Tensor> evaluate_node(const Node& node, const OpKernel& kernel, const InferContext& ctx,
                                  const std::vector<const Tensor*>& inputs, ThreadPool& pool,
                                  kernels::GemmBackend gemm) {
  RunContext rc(node);
  rc.inputs = inputs;
  std::vector<Tensor> outs(node.outputs.size());
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    if (node.outputs[o] < 0 || !ctx.has_output(o)) continue;
    outs[o] = Tensor::allocate(ctx.outputs[o].dtype, ctx.outputs[o].shape);
  }
  for (size_t o = 0; o < node.outputs.size(); ++o) rc.outputs.push_back(outs[o].data ? &outs[o] : nullptr);
  std::shared_ptr<void> scratch, slot_scratch;
  if (ctx.scratch_bytes) scratch = aligned_buffer(ctx.scratch_bytes);
  rc.scratch = scratch.get();
  rc.scratch_bytes = ctx.scratch_bytes;
  if (ctx.slot_scratch_bytes) {
    const size_t stride = planner_detail::align_up(ctx.slot_scratch_bytes);
    slot_scratch = aligned_buffer(stride * size_t(pool.threads()));
    rc.bind_slot_scratch(static_cast<uint8_t*>(slot_scratch.get()), stride, ctx.slot_scratch_bytes, pool.threads());
  }
  rc.pool = &pool;
  rc.gemm = gemm;
  // As in Session::run: a node whose outputs are all empty has nothing to compute.
  bool empty = true;
  for (const Tensor* t : rc.outputs)
    if (t && t->numel() != 0) empty = false;
  if (!empty) kernel.run(rc);
  return outs;
}

void set_slot_scratch(const Plan& plan, const Plan::Step& step, uint8_t* base, RunContext* rc) {
  if (!step.slot_scratch_bytes) return;
  const size_t stride =
      plan.slot_scratch_count > 1 ? plan.slot_scratch_stride : planner_detail::align_up(step.slot_scratch_bytes);
  rc->bind_slot_scratch(base + step.slot_scratch_offset, stride, step.slot_scratch_bytes, plan.slot_scratch_count);
}

Plan make_plan(const Model& model, const std::vector<InputMeta>& inputs) {
  using namespace planner_detail;
  const Graph& g = model.graph();
  Plan plan;
  plan.slots.resize(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Value& val = g.values[v];
    if (val.is_constant) {
      Plan::Slot& s = plan.slots[v];
      s.storage = Plan::Storage::Constant;
      s.dtype = val.data.dtype;
      s.shape = val.data.shape;
    }
  }
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    Plan::Slot& s = plan.slots[size_t(model.inputs()[i].value)];
    s.storage = Plan::Storage::Input;
    s.input_index = int(i);
    s.dtype = inputs[i].dtype;
    s.shape = inputs[i].shape;
    plan.input_shapes.push_back(inputs[i].shape);
    Tensor value;
    if (inputs[i].data && input_is_shape_like(s.dtype, s.shape)) {
      value = Tensor::allocate(s.dtype, s.shape);
      std::memcpy(value.data, inputs[i].data, value.bytes());
      s.storage = Plan::Storage::Folded;
      s.folded = value;
    }
    plan.input_values.push_back(value);
  }
  auto known_value = [&](int v) -> const Tensor* {
    const Plan::Slot& s = plan.slots[size_t(v)];
    if (s.storage == Plan::Storage::Constant) return &g.values[size_t(v)].data;
    if (s.storage == Plan::Storage::Folded) return &s.folded;
    return nullptr;
  };

  std::vector<size_t> scratch_of_step;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    const OpKernel& k = model.kernel(n);
    InferContext ic(node);
    ic.threads = model.pool().threads();
    ic.gemm = model.options().gemm;
    bool all_known = true;
    for (int in : node.inputs) {
      TensorMeta m;
      if (in >= 0) {
        const Plan::Slot& s = plan.slots[size_t(in)];
        if (s.storage == Plan::Storage::Unused)
          fail(StatusCode::Internal, node.describe(), ": input '", g.values[size_t(in)].name, "' is not computed before use");
        m.present = true;
        m.dtype = s.dtype;
        m.shape = s.shape;
        m.value = known_value(in);
        if (!m.value) all_known = false;
      }
      ic.inputs.push_back(m);
    }
    for (int out : node.outputs) {
      TensorMeta m;
      m.present = out >= 0;
      ic.outputs.push_back(m);
    }
    k.infer(ic);
    int64_t out_elems = 0;
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      if (node.outputs[o] < 0) continue;
      if (ic.outputs[o].dtype == DType::Undefined || dtype_size(ic.outputs[o].dtype) == 0)
        fail(StatusCode::Internal, node.describe(), ": output ", o, " has no type after inference");
      Plan::Slot& s = plan.slots[size_t(node.outputs[o])];
      s.dtype = ic.outputs[o].dtype;
      s.shape = ic.outputs[o].shape;
      out_elems += shape_numel(s.shape);
    }
    if (k.aliases_input()) {
      int src = node.inputs.empty() ? -1 : node.inputs[0];
      if (src < 0) fail(StatusCode::InvalidModel, node.describe(), ": missing input 0");
      Plan::Slot& out = plan.slots[size_t(node.outputs[0])];
      const Plan::Slot& in = plan.slots[size_t(src)];
      if (shape_numel(out.shape) * int64_t(dtype_size(out.dtype)) != shape_numel(in.shape) * int64_t(dtype_size(in.dtype)))
        fail(StatusCode::Internal, node.describe(), ": alias output size differs from its input");
      if (const Tensor* t = known_value(src)) {
        out.storage = Plan::Storage::Folded;
        out.folded = *t;  // shares the owner
        out.folded.shape = out.shape;
        out.folded.dtype = out.dtype;
      } else {
        out.storage = Plan::Storage::Alias;
        out.alias_of = in.storage == Plan::Storage::Alias ? in.alias_of : src;
        out.alias_offset = in.storage == Plan::Storage::Alias ? in.alias_offset : 0;
      }
      continue;
    }
    if (concat_in_place(node, k, plan)) continue;
    if (k.foldable() && (all_known || k.shape_only()) && out_elems <= kFoldLimit) {
      std::vector<Tensor> shape_views(node.inputs.size());
      std::vector<const Tensor*> ins;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        int in = node.inputs[i];
        const Tensor* t = in >= 0 ? known_value(in) : nullptr;
        if (in >= 0 && !t) {
          shape_views[i] = Tensor::view(plan.slots[size_t(in)].dtype, plan.slots[size_t(in)].shape, nullptr);
          t = &shape_views[i];
        }
        ins.push_back(t);
      }
      std::vector<Tensor> outs = evaluate_node(node, k, ic, ins, model.pool(), model.options().gemm);
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        if (node.outputs[o] < 0) continue;
        Plan::Slot& s = plan.slots[size_t(node.outputs[o])];
        s.storage = Plan::Storage::Folded;
        s.folded = std::move(outs[o]);
      }
      continue;
    }
    for (int out : node.outputs) {
      if (out < 0) continue;
      Plan::Slot& s = plan.slots[size_t(out)];
      s.storage = Plan::Storage::Arena;
      s.bytes = size_t(shape_numel(s.shape)) * dtype_size(s.dtype);
    }
    Plan::Step st;
    st.node = int(n);
    st.scratch_bytes = ic.scratch_bytes;
    st.slot_scratch_bytes = ic.slot_scratch_bytes;
    plan.steps.push_back(st);
  }

  // Lifetimes: a value lives from the step that writes it to the last step that
  // reads it (or a view of it); graph outputs live to the end.
  const size_t nsteps = plan.steps.size();
  std::vector<size_t> first(g.values.size(), SIZE_MAX), last(g.values.size(), 0);
  auto root = [&](int v) {
    const Plan::Slot& s = plan.slots[size_t(v)];
    return s.storage == Plan::Storage::Alias ? s.alias_of : v;
  };
  for (size_t i = 0; i < nsteps; ++i) {
    const Node& node = g.nodes[size_t(plan.steps[i].node)];
    // A write to a view (a Concat input written in place) starts its root's life.
    for (int out : node.outputs)
      if (out >= 0) {
        size_t r = size_t(root(out));
        first[r] = std::min(first[r], i);
        last[r] = std::max(last[r], i);
      }
    for (int in : node.inputs) if (in >= 0) { size_t r = size_t(root(in)); last[r] = std::max(last[r], i); }
  }
  for (int out : g.outputs) { size_t r = size_t(root(out)); last[r] = nsteps; }
  std::vector<Interval> bufs;
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Plan::Slot& s = plan.slots[v];
    if (s.storage != Plan::Storage::Arena) continue;
    Interval iv;
    iv.first = first[v] == SIZE_MAX ? 0 : first[v];
    iv.last = std::max(iv.first, last[v]);
    iv.bytes = std::max<size_t>(s.bytes, 1);
    iv.owner = int(v);
    bufs.push_back(iv);
  }
  // Scratch of step i alone (its shared scratch, or its slot at one thread).
  auto step_scratch = [&](size_t i, size_t bytes, bool slot) {
    if (!bytes) return;
    Interval iv;
    iv.first = iv.last = i;
    iv.bytes = bytes;
    iv.owner = -int(i) - 1;
    iv.slot = slot;
    bufs.push_back(iv);
  };
  for (size_t i = 0; i < nsteps; ++i) step_scratch(i, plan.steps[i].scratch_bytes, false);
  // Per-thread scratch (see RunContext): with several threads, one region for every
  // step, live throughout; with one, nothing moves between cores and each step's
  // slot is scratch of its own like the rest (less memory, and lines just used):
  // a separate region made MobileNetV2 at 1 thread ~2% slower.
  for (const Plan::Step& st : plan.steps)
    plan.slot_scratch_stride = std::max(plan.slot_scratch_stride, align_up(st.slot_scratch_bytes));
  const int threads = model.pool().threads();
  if (plan.slot_scratch_stride) {
    plan.slot_scratch_count = threads;
    if (threads > 1) {
      Interval iv;
      iv.first = 0;
      iv.last = nsteps;
      iv.bytes = plan.slot_scratch_stride * size_t(threads);
      iv.owner = 0;
      iv.slot = true;
      bufs.push_back(iv);
    } else {
      for (size_t i = 0; i < nsteps; ++i) step_scratch(i, plan.steps[i].slot_scratch_bytes, true);
    }
  }
  plan.arena_bytes = place(bufs);
  for (const Interval& iv : bufs) {
    if (iv.slot && iv.owner >= 0) {
      for (Plan::Step& st : plan.steps) st.slot_scratch_offset = iv.offset;
    } else if (iv.slot) {
      Plan::Step& st = plan.steps[size_t(-iv.owner - 1)];
      st.slot_scratch_offset = iv.offset;
    } else if (iv.owner >= 0) {
      plan.slots[size_t(iv.owner)].offset = iv.offset;
    } else {
      plan.steps[size_t(-iv.owner - 1)].scratch_offset = iv.offset;
    }
  }
  uint64_t limit = model.options().memory_limit;
  if (limit && model.weights_bytes() + plan.arena_bytes > limit)
    fail(StatusCode::OutOfMemory, "model needs ", model.weights_bytes(), " bytes of weights and ", plan.arena_bytes,
         " bytes of activations for these input shapes, over the memory limit of ", limit, " bytes");
  return plan;
}

}  // namespace netlite
