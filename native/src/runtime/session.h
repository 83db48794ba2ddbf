// Session: one run context of a Model - bound inputs, the plan for their
// shapes, the activation arena, and the outputs of the last run. Used by one
// thread at a time; several sessions of one model may run concurrently.
#pragma once

#include <memory>
#include <vector>

#include "../plan/planner.h"
#include "model.h"

namespace netlite {

class Session {
 public:
  // With a load-time plan (Model::load_plan) the session is ready to run at once
  // for its shapes: views bound and the arena allocated with its pages already
  // resident, so the first run costs what every run costs. Otherwise, or for
  // other shapes, it plans at its first run.
  explicit Session(const Model& model);

  // Binds input `index` (borrowed: data must outlive the next run()).
  void set_input(size_t index, DType dtype, const Shape& shape, const void* data, size_t bytes);
  void run();
  // Runs once on zero inputs of the load-time shapes (declared shapes, free dims
  // as 1) when the model has a load-time plan; returns false when skipped.
  // Right after a load the weights and the kernels' packed copies are cold (the
  // load streamed the file and the transforms through the caches), and the first
  // run took 1.3-1.8x a later one (MobileNetV2 +3 ms, ResNet-18 +6 ms, C API);
  // after this one the first real run costs what every run costs. Leaves no
  // input bound and no output readable, whatever the outcome.
  bool warm_up();
  // Forgets every bound input (the C API does this after each run, so a stale
  // borrowed pointer can never be read by a later run).
  void unbind_inputs() {
    for (Bound& b : bound_) { b.set = false; b.data = nullptr; }
  }
  // Output `index` of the last successful run (a view; valid until the next run/set_input).
  const Tensor& output(size_t index) const;
  size_t arena_bytes() const { return plan_ ? plan_->arena_bytes : 0; }
  const Model& model() const { return model_; }

 private:
  struct Bound {
    bool set = false;
    DType dtype = DType::Undefined;
    Shape shape;
    const void* data = nullptr;
  };
  void prepare();  // (re)plans and binds views when input shapes changed
  void bind_plan(std::shared_ptr<const Plan> plan);  // views, arena and run contexts for `plan`

  const Model& model_;
  std::vector<Bound> bound_;
  std::shared_ptr<const Plan> plan_;  // possibly the model's load-time plan, shared read-only
  std::shared_ptr<void> arena_;
  size_t arena_capacity_ = 0;
  std::vector<Tensor> tensors_;       // one view per graph value
  std::vector<RunContext> contexts_;  // one per plan step
  std::vector<char> skip_;            // per step: every output is empty, nothing to compute
  std::vector<int> alias_values_;     // values to re-point after inputs change
  std::vector<int> input_values_;
  bool ran_ = false;
};

}  // namespace netlite
