// The operator interface. One op = one file in ops/ that defines an OpDef named
// kOp_<OpType> and is listed once in ops/op_list.h: that list is the registry,
// the op count, and the source of docs/ops.md.
//
// Life of an op:
//   create() - at model load, once per node: read and validate attributes, and
//              prepack constant inputs (weights) if useful. The kernel object is
//              then immutable and shared by every concurrent run.
//   infer()  - at plan time (each time input shapes change): from input dtypes,
//              shapes and any values known at plan time, set output dtypes and
//              shapes and request scratch memory. All validation of shapes and
//              types happens here; throw netlite::Error naming the node.
//   run()    - at run time: compute. Outputs are preallocated; scratch is ready.
//              Must not allocate, throw, or touch anything but its arguments.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/error.h"
#include "../core/tensor.h"
#include "../core/threadpool.h"
#include "../graph/graph.h"
#include "../kernels/gemm.h"

namespace netlite {

// What the planner knows about one tensor before running.
struct TensorMeta {
  bool present = false;         // false for an omitted optional input/output
  DType dtype = DType::Undefined;
  Shape shape;
  const Tensor* value = nullptr;  // contents when known at plan time (constants, folded shape math)
};

struct InferContext {
  const Node& node;
  std::vector<TensorMeta> inputs;
  std::vector<TensorMeta> outputs;  // `present` is preset; infer() fills dtype and shape of each present one
  size_t scratch_bytes = 0;         // set by infer(): workspace run() needs
  // Set by infer() (set_slot_scratch): bytes of scratch each of `threads` threads
  // needs for itself (RunContext::slot_scratch). A run on one thread may use all
  // of them as slot 0.
  size_t slot_scratch_bytes = 0;
  int threads = 1;                  // size of the pool run() will get
  kernels::GemmBackend gemm = kernels::GemmBackend::Auto;  // the backend run() will get

  explicit InferContext(const Node& n) : node(n) {}

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].present; }
  bool has_output(size_t i) const { return i < outputs.size() && outputs[i].present; }
  // The i-th input, which must be present (throws naming the node otherwise).
  const TensorMeta& input(size_t i) const;
  // The i-th input's value; throws Unsupported naming the node when it is not known at plan time.
  const Tensor& input_value(size_t i, const char* what) const;
  void set_output(size_t i, DType dtype, Shape shape);
  // Per-thread scratch of `per_thread` bytes for each of `threads` threads, enough
  // in all for `one_thread` bytes as slot 0 (the kernel's plan for a lone thread).
  void set_slot_scratch(size_t per_thread, size_t one_thread) {
    const size_t t = size_t(threads > 1 ? threads : 1);
    slot_scratch_bytes = per_thread > (one_thread + t - 1) / t ? per_thread : (one_thread + t - 1) / t;
  }
  // Throws TypeMismatch naming the node unless input i has one of the given types.
  void expect_dtype(size_t i, std::initializer_list<DType> allowed) const;
};

struct RunContext {
  const Node& node;
  std::vector<const Tensor*> inputs;  // null for omitted optional inputs
  std::vector<Tensor*> outputs;       // null for omitted optional outputs
  void* scratch = nullptr;
  size_t scratch_bytes = 0;
  // Per-thread scratch: slot_scratch_count slots of at least slot_scratch_bytes each.
  // Slot s is the same memory in every step of a run (slot_scratch(s)) and no
  // activation shares it, so a thread that keeps to one slot (SlotPool hands
  // thread t slot t when it is free) writes lines its own core wrote last. As
  // step scratch in the arena, it overlapped what other steps (and the other
  // core) had written, and each line written there first moved between the
  // cores: bench_models at 2 threads, alternating, SqueezeNet 3.48 -> 3.37 ms,
  // MobileNetV2 3.64 -> 3.36, the int8 MobileNetV2 2.37 -> 2.18, ResNet-18
  // 11.56 -> 11.39 (the arena grows by the region: SqueezeNet 3.03 -> 3.21 MB).
  uint8_t* slot_scratch_base = nullptr;
  size_t slot_scratch_stride = 0;
  size_t slot_scratch_bytes = 0;
  int64_t slot_scratch_count = 0;
  ThreadPool* pool = nullptr;
  kernels::GemmBackend gemm = kernels::GemmBackend::Auto;

  explicit RunContext(const Node& n) : node(n) {}
  const Tensor& in(size_t i) const { return *inputs[i]; }
  Tensor& out(size_t i) const { return *outputs[i]; }
  // Whether `slots` slots of `bytes` each are there (else run() plans for fewer
  // threads). One slot may take the whole region.
  bool has_slot_scratch(int64_t slots, size_t bytes) const {
    if (bytes == 0) return true;
    if (slots == 1) return bytes <= slot_scratch_stride * size_t(slot_scratch_count);
    return slots <= slot_scratch_count && bytes <= slot_scratch_bytes;
  }
  // Points the per-thread scratch at `count` slots `stride` bytes apart from `base`,
  // of which this step uses `bytes` each.
  void bind_slot_scratch(uint8_t* base, size_t stride, size_t bytes, int64_t count) {
    slot_scratch_base = base;
    slot_scratch_stride = stride;
    slot_scratch_bytes = bytes;
    slot_scratch_count = count;
  }
  template <typename T = float>
  T* slot_scratch(int64_t slot) const {
    return reinterpret_cast<T*>(slot_scratch_base + size_t(slot) * slot_scratch_stride);
  }
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual void infer(InferContext& ctx) const = 0;
  virtual void run(RunContext& ctx) const = 0;
  // True when output 0 is just input 0's bytes under another shape (Reshape,
  // Flatten, Squeeze, Identity...). The planner gives the output no storage and
  // run() is not called.
  virtual bool aliases_input() const { return false; }
  // For a kernel whose output is its inputs joined along one axis and nothing
  // else (Concat): that axis, possibly negative. The planner may then have the
  // producers write the inputs into the output and skip run(). Otherwise nullopt.
  virtual std::optional<int64_t> joins_inputs_along() const { return std::nullopt; }
  // True when the planner may evaluate the node at plan time once all of its
  // inputs are known there (pure functions of their inputs: almost every op).
  virtual bool foldable() const { return true; }
  // True when the outputs depend on the inputs' shapes only, never their
  // contents (Shape): the planner then folds the node as soon as shapes are
  // known, passing inputs as views with no data.
  virtual bool shape_only() const { return false; }
  // Bytes the kernel holds beyond the graph's constants: weights transformed or
  // packed for its kernels (counted in the model's weights figure). May grow
  // when a plan first needs a transform; safe to call at any time.
  virtual size_t held_bytes() const { return 0; }
  // True when run() multiplies float matrices with kernels::sgemm (the model
  // then reserves GEMM packing workspaces for its threads at load).
  virtual bool uses_sgemm() const { return false; }
};

struct OpDef {
  const char* op_type;
  const char* domain;   // "" = ai.onnx
  int since_version;    // oldest opset of the domain supported
  int max_version;      // newest opset of the domain supported (inclusive)
  const char* notes;    // one line for docs/ops.md
  std::unique_ptr<OpKernel> (*create)(const Node& node, const Graph& graph);
};

// Finds the OpDef for a node's (domain, op_type); null when netlite lacks the op.
const OpDef* find_op(const std::string& domain, const std::string& op_type);
// Every registered op, in registry order.
const std::vector<const OpDef*>& all_ops();

// Value of input i of a node when it is a constant of the graph at load time, else null.
// Lets create() prepack weights.
const Tensor* constant_input(const Node& node, const Graph& graph, size_t i);

// Kernels that a pass creates to evaluate a node at load (constant folding, lookup
// tables) may be thrown away while the node stays in the graph. While a
// ScratchKernels scope is alive on this thread, no kernel may repack a constant in
// place or give its pages back (ops/common/packed_weights.h sole_owned_constant
// refuses), so the node's real kernel, created later, reads the constant as it was.
class ScratchKernels {
 public:
  ScratchKernels();
  ~ScratchKernels();
  ScratchKernels(const ScratchKernels&) = delete;
  ScratchKernels& operator=(const ScratchKernels&) = delete;
  static bool active();
};

}  // namespace netlite
