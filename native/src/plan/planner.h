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
    int input_index = -1;   // Input: index into the model's inputs
    Tensor folded;          // Folded: owned contents (or a view sharing an owner)
  };
  struct Step {
    int node = -1;
    size_t scratch_offset = 0;
    size_t scratch_bytes = 0;
  };
  std::vector<Slot> slots;        // one per graph value
  std::vector<Step> steps;        // nodes run at run time, in order
  size_t arena_bytes = 0;
  std::vector<Shape> input_shapes;  // the shapes this plan was made for
};

// Bound-input description for planning: dtype and shape of each model input.
struct InputMeta {
  DType dtype = DType::Undefined;
  Shape shape;
};

Plan make_plan(const Model& model, const std::vector<InputMeta>& inputs);

// Runs one node now on known input tensors (after ctx has been inferred) and
// returns freshly allocated outputs (empty tensors for omitted outputs). Used to
// fold constants at load and shape math at plan time.
std::vector<Tensor> evaluate_node(const Node& node, const OpKernel& kernel, const InferContext& ctx,
                                  const std::vector<const Tensor*>& inputs, ThreadPool& pool,
                                  kernels::GemmBackend gemm);

}  // namespace netlite
