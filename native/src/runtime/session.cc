#include "session.h"

#include <cstring>

#include "../core/memory.h"

namespace netlite {

Session::Session(const Model& model) : model_(model), bound_(model.inputs().size()) {
  if (model.load_plan()) bind_plan(model.load_plan());
}

void Session::set_input(size_t index, DType dtype, const Shape& shape, const void* data, size_t bytes) {
  if (index >= bound_.size()) fail(StatusCode::NotFound, "input index ", index, " is out of range");
  const IoInfo& io = model_.inputs()[index];
  if (dtype != io.dtype)
    fail(StatusCode::TypeMismatch, "input '", io.name, "' has type ", dtype_name(io.dtype), ", got ", dtype_name(dtype));
  if (io.shape.size() != shape.size() && !io.shape.empty())
    fail(StatusCode::ShapeMismatch, "input '", io.name, "' has rank ", io.shape.size(), " (shape ", shape_str(io.shape),
         "), got shape ", shape_str(shape));
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) fail(StatusCode::ShapeMismatch, "input '", io.name, "': dim ", d, " is negative");
    if (!io.shape.empty() && io.shape[d] >= 0 && io.shape[d] != shape[d])
      fail(StatusCode::ShapeMismatch, "input '", io.name, "' must have shape ", shape_str(io.shape), ", got ", shape_str(shape),
           " (dim ", d, " is fixed at ", io.shape[d], ")");
  }
  int64_t n = shape_numel(shape);
  size_t need = size_t(n) * dtype_size(dtype);
  if (bytes != need)
    fail(StatusCode::ShapeMismatch, "input '", io.name, "' of shape ", shape_str(shape), " and type ", dtype_name(dtype),
         " needs ", need, " bytes, got ", bytes);
  if (!data && need) fail(StatusCode::InvalidArgument, "input '", io.name, "': data is null");
  Bound& b = bound_[index];
  b.set = true;
  b.dtype = dtype;
  b.shape = shape;
  b.data = data;
  ran_ = false;
}

void Session::prepare() {
  bool replan = !plan_;
  if (plan_)
    for (size_t i = 0; i < bound_.size(); ++i) {
      if (plan_->input_shapes[i] != bound_[i].shape) { replan = true; break; }
      const Tensor& v = plan_->input_values[i];
      if (v.data && std::memcmp(v.data, bound_[i].data, v.bytes()) != 0) { replan = true; break; }
    }
  if (replan) {
    // Back to the load-time shapes (a batch of one after another size): share that plan again.
    const std::shared_ptr<const Plan>& load_plan = model_.load_plan();
    bool load_shapes = load_plan != nullptr;
    for (size_t i = 0; load_shapes && i < bound_.size(); ++i) load_shapes = load_plan->input_shapes[i] == bound_[i].shape;
    if (load_shapes) replan = false;
    if (load_shapes && plan_ != load_plan) bind_plan(load_plan);
  }
  if (replan) {
    std::vector<InputMeta> metas(bound_.size());
    for (size_t i = 0; i < bound_.size(); ++i) {
      metas[i].dtype = bound_[i].dtype;
      metas[i].shape = bound_[i].shape;
      metas[i].data = bound_[i].data;
    }
    // Drop the old plan's views before building the new one.
    contexts_.clear();
    skip_.clear();
    tensors_.clear();
    plan_.reset();
    bind_plan(std::make_shared<const Plan>(make_plan(model_, metas)));
  }
  // Inputs may move between runs without a new plan; views of them follow.
  for (int v : input_values_)
    tensors_[size_t(v)].data = const_cast<void*>(bound_[size_t(plan_->slots[size_t(v)].input_index)].data);
  for (int v : alias_values_) {
    const Plan::Slot& s = plan_->slots[size_t(v)];
    tensors_[size_t(v)].data = static_cast<uint8_t*>(tensors_[size_t(s.alias_of)].data) + s.alias_offset;
  }
}

void Session::bind_plan(std::shared_ptr<const Plan> p) {
  contexts_.clear();
  skip_.clear();
  tensors_.clear();
  plan_.reset();
  if (p->arena_bytes > arena_capacity_) {
    arena_.reset();
    arena_capacity_ = 0;
    // Resident now: the faults are taken here (at load for a load-time plan),
    // not by the first run's kernels.
    arena_ = large_buffer(p->arena_bytes, true);
    arena_capacity_ = p->arena_bytes;
  }
  const Graph& g = model_.graph();
  uint8_t* base = static_cast<uint8_t*>(arena_.get());
  tensors_.resize(g.values.size());
  alias_values_.clear();
  input_values_.clear();
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Plan::Slot& s = p->slots[v];
    Tensor& t = tensors_[v];
    t.dtype = s.dtype;
    t.shape = s.shape;
    switch (s.storage) {
      case Plan::Storage::Constant: t.data = g.values[v].data.data; break;
      case Plan::Storage::Folded: t.data = s.folded.data; break;
      case Plan::Storage::Arena: t.data = base + s.offset; break;
      case Plan::Storage::Input: input_values_.push_back(int(v)); break;
      case Plan::Storage::Alias: alias_values_.push_back(int(v)); break;
      default: break;
    }
  }
  contexts_.reserve(p->steps.size());
  skip_.reserve(p->steps.size());
  for (const Plan::Step& st : p->steps) {
    const Node& node = g.nodes[size_t(st.node)];
    RunContext rc(node);
    rc.inputs.reserve(node.inputs.size());
    rc.outputs.reserve(node.outputs.size());
    for (int in : node.inputs) rc.inputs.push_back(in >= 0 ? &tensors_[size_t(in)] : nullptr);
    for (int out : node.outputs) rc.outputs.push_back(out >= 0 ? &tensors_[size_t(out)] : nullptr);
    rc.scratch = st.scratch_bytes ? base + st.scratch_offset : nullptr;
    rc.scratch_bytes = st.scratch_bytes;
    set_slot_scratch(*p, st, base, &rc);
    rc.pool = &model_.pool();
    rc.gemm = model_.options().gemm;
    // A node whose outputs are all empty has nothing to write; kernels need not
    // handle the zero-size case (and their memcpy/memset never see null pointers).
    bool empty = !rc.outputs.empty();
    for (const Tensor* t : rc.outputs)
      if (t && t->numel() != 0) empty = false;
    skip_.push_back(empty ? 1 : 0);
    contexts_.push_back(std::move(rc));
  }
  plan_ = std::move(p);
}

void Session::run() {
  ran_ = false;
  for (size_t i = 0; i < bound_.size(); ++i)
    if (!bound_[i].set) fail(StatusCode::Runtime, "input '", model_.inputs()[i].name, "' is not set");
  prepare();
  for (size_t s = 0; s < contexts_.size(); ++s)
    if (!skip_[s]) model_.kernel(size_t(plan_->steps[s].node)).run(contexts_[s]);
  ran_ = true;
}

bool Session::warm_up() {
  const std::shared_ptr<const Plan>& load_plan = model_.load_plan();
  if (!load_plan) return false;
  struct Reset {
    Session& s;
    ~Reset() {
      s.unbind_inputs();
      s.ran_ = false;
    }
  } reset{*this};
  std::vector<std::shared_ptr<void>> zeros(bound_.size());
  for (size_t i = 0; i < bound_.size(); ++i) {
    const DType dt = model_.inputs()[i].dtype;
    const Shape& shape = load_plan->input_shapes[i];
    if (dtype_size(dt) == 0) return false;  // strings and the like: nothing sensible to feed
    const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dt);
    zeros[i] = aligned_buffer(bytes ? bytes : 1);  // zero-filled
    set_input(i, dt, shape, zeros[i].get(), bytes);
  }
  run();
  return true;
}

const Tensor& Session::output(size_t index) const {
  if (index >= model_.outputs().size()) fail(StatusCode::NotFound, "output index ", index, " is out of range");
  if (!ran_) fail(StatusCode::Runtime, "no outputs: the session has not run since its inputs were set");
  return tensors_[size_t(model_.outputs()[index].value)];
}

}  // namespace netlite
