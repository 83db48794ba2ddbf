// The planner: from a model and concrete input shapes, fixes everything a run
// needs - each value's dtype, shape and storage, which nodes run in which order,
// each node's scratch, and one arena size - so executing allocates nothing.
//
// Values whose contents are known before running (constants, and shape math
// such as Shape -> Gather -> Concat feeding a Reshape) are computed here, once
// per input shape, by running their ops on plan-owned tensors ("folded").
#pragma once

#include <cstddef>
#include <vector>

#include "../graph/graph.h"
#include "../ops/op.h"

namespace netlite {

class Model;

struct Plan {
  enum class Storage { Unused, Constant, Input, Arena, Alias, Folded };
  struct Slot {
    Storage storage = Storage::Unused;
    DType dtype = DType::Undefined;
    Shape shape;
    size_t offset = 0;      // Arena: byte offset
    size_t bytes = 0;       // Arena: byte size
    int alias_of = -1;      // Alias: the value whose bytes this one views (never itself an Alias)
    size_t alias_offset = 0;  // Alias: where in alias_of's bytes (a Concat input written in place)
    int input_index = -1;   // Input: index into the model's inputs
    Tensor folded;          // Folded: owned contents (or a view sharing an owner)
  };
  struct Step {
    int node = -1;
    size_t scratch_offset = 0;
    size_t scratch_bytes = 0;
    size_t slot_scratch_bytes = 0;   // per thread (see RunContext::slot_scratch)
    size_t slot_scratch_offset = 0;  // its slot 0: the shared region (several threads) or its own
  };
  std::vector<Slot> slots;        // one per graph value
  std::vector<Step> steps;        // nodes run at run time, in order
  size_t arena_bytes = 0;
  // The per-thread scratch: slot_scratch_count slots (one per pool thread),
  // slot_scratch_stride bytes apart, from the steps' slot_scratch_offset: with
  // several threads one region reserved for the whole run, with one a slot of
  // each step's own in the arena.
  size_t slot_scratch_stride = 0;
  int64_t slot_scratch_count = 0;
  std::vector<Shape> input_shapes;  // the shapes this plan was made for
  std::vector<Tensor> input_values;  // copies of shape-like inputs the plan depends on (else empty)
};

// Bound-input description for planning: dtype and shape of each model input.
struct InputMeta {
  DType dtype = DType::Undefined;
  Shape shape;
  // Contents, for small integer inputs only (see input_is_shape_like): the plan
  // treats them as known, so shape math fed by a runtime input (a Reshape whose
  // target shape is a graph input) is folded like a constant. Such a plan is
  // only valid for these values; Session re-plans when they change.
  const void* data = nullptr;
};

// Integer inputs this small may determine shapes: their values key the plan.
inline bool input_is_shape_like(DType dtype, const Shape& shape) {
  if (dtype != DType::Int64 && dtype != DType::Int32) return false;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return shape.size() <= 1 && n <= 64;
}

Plan make_plan(const Model& model, const std::vector<InputMeta>& inputs);

// Points rc's per-thread scratch at the plan's region in the arena at `base`.
void set_slot_scratch(const Plan& plan, const Plan::Step& step, uint8_t* base, RunContext* rc);

// Runs one node now on known input tensors (after ctx has been inferred) and
// returns freshly allocated outputs (empty tensors for omitted outputs). Used to
// fold constants at load and shape math at plan time.
std::vector<Tensor> evaluate_node(const Node& node, const OpKernel& kernel, const InferContext& ctx,
                                  const std::vector<const Tensor*>& inputs, ThreadPool& pool,
                                  kernels::GemmBackend gemm);

}  // namespace netlite
