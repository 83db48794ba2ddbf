// Runs one op through its OpDef the way the planner and executor do: builds a
// Node (and a Graph holding its constant inputs), create(), infer(), allocates
// the outputs and the scratch, run(). For op unit tests:
//
//   auto out = netlite_test::OpHarness("Conv", 13)
//                  .attr_ints("pads", {1, 1, 1, 1})
//                  .input(x).const_input(w).no_input()
//                  .threads(2)
//                  .run();            // std::vector<Tensor>, one per output
//
// Errors from create()/infer() propagate as netlite::Error (use expect_error()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../../native/src/core/error.h"
#include "../../native/src/core/tensor.h"
#include "../../native/src/core/threadpool.h"
#include "../../native/src/graph/graph.h"
#include "../../native/src/ops/op.h"

namespace netlite_test {

// A tensor owning a copy of `values` (must have shape_numel(shape) elements).
template <typename T>
netlite::Tensor make_tensor(const netlite::Shape& shape, const std::vector<T>& values) {
  netlite::Tensor t = netlite::Tensor::allocate(netlite::DTypeOf<T>::value, shape);
  T* p = t.ptr<T>();
  for (size_t i = 0; i < values.size() && int64_t(i) < t.numel(); ++i) p[i] = values[i];
  return t;
}

inline netlite::Tensor tensor_f32(const netlite::Shape& shape, const std::vector<float>& values) {
  return make_tensor<float>(shape, values);
}

// Deterministic uniform floats in [lo, hi) from a 32-bit LCG seeded by `seed`.
inline netlite::Tensor random_f32(const netlite::Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  netlite::Tensor t = netlite::Tensor::allocate(netlite::DType::Float32, shape);
  float* p = t.ptr<float>();
  uint32_t s = seed * 2654435761u + 12345u;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = lo + (hi - lo) * float((s >> 8) & 0xFFFFFF) / float(1 << 24);
  }
  return t;
}

inline std::vector<float> to_vector(const netlite::Tensor& t) {
  const float* p = t.ptr<float>();
  return std::vector<float>(p, p + t.numel());
}

class OpHarness {
 public:
  explicit OpHarness(std::string op_type, int opset = 17, std::string domain = "") {
    node_.op_type = std::move(op_type);
    node_.name = "test_" + node_.op_type;
    node_.domain = std::move(domain);
    node_.opset = opset;
  }

  OpHarness& attr_int(const std::string& name, int64_t v) { return attr(name, netlite::Attribute::Kind::Int, [&](netlite::Attribute& a) { a.i = v; }); }
  OpHarness& attr_float(const std::string& name, float v) { return attr(name, netlite::Attribute::Kind::Float, [&](netlite::Attribute& a) { a.f = v; }); }
  OpHarness& attr_string(const std::string& name, const std::string& v) { return attr(name, netlite::Attribute::Kind::String, [&](netlite::Attribute& a) { a.s = v; }); }
  OpHarness& attr_ints(const std::string& name, const std::vector<int64_t>& v) { return attr(name, netlite::Attribute::Kind::Ints, [&](netlite::Attribute& a) { a.ints = v; }); }
  OpHarness& attr_floats(const std::string& name, const std::vector<float>& v) { return attr(name, netlite::Attribute::Kind::Floats, [&](netlite::Attribute& a) { a.floats = v; }); }
  OpHarness& attr_tensor(const std::string& name, const netlite::Tensor& v) { return attr(name, netlite::Attribute::Kind::Tensor, [&](netlite::Attribute& a) { a.t = v; }); }

  // A runtime input (value unknown at plan time).
  OpHarness& input(const netlite::Tensor& t) { return add_input(t, false, false); }
  // A graph constant: create() sees it through constant_input(), infer() gets its value.
  OpHarness& const_input(const netlite::Tensor& t) { return add_input(t, true, true); }
  // A runtime input whose value is known at plan time (shape math folded by the planner).
  OpHarness& value_input(const netlite::Tensor& t) { return add_input(t, false, true); }
  // An omitted optional input.
  OpHarness& no_input() {
    node_.inputs.push_back(-1);
    inputs_.emplace_back();
    present_.push_back(false);
    known_.push_back(false);
    return *this;
  }

  // Number of outputs (default 1); no_output(i) marks output i as omitted.
  OpHarness& outputs(int n) { num_outputs_ = n; return *this; }
  OpHarness& no_output(int i) { omitted_outputs_.push_back(i); return *this; }
  OpHarness& threads(int n) { threads_ = n; return *this; }
  OpHarness& gemm(netlite::kernels::GemmBackend b) { backend_ = b; return *this; }

  netlite::Node& node() { return node_; }
  size_t scratch_bytes() const { return scratch_bytes_; }

  // create + infer + allocate + run. Omitted outputs come back as empty tensors.
  std::vector<netlite::Tensor> run() {
    using namespace netlite;
    node_.outputs.clear();
    for (int i = 0; i < num_outputs_; ++i) {
      bool omitted = false;
      for (int o : omitted_outputs_) omitted = omitted || o == i;
      node_.outputs.push_back(omitted ? -1 : graph_.add_value(node_.name + "_out" + std::to_string(i)));
    }
    const OpDef* def = find_op(node_.domain, node_.op_type);
    if (!def) fail(StatusCode::Unsupported, "no op ", node_.op_type);
    std::unique_ptr<OpKernel> kernel = def->create(node_, graph_);
    InferContext ictx(node_);
    ictx.threads = threads_;
    ictx.gemm = backend_;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      TensorMeta m;
      m.present = present_[i];
      if (present_[i]) {
        m.dtype = inputs_[i].dtype;
        m.shape = inputs_[i].shape;
        if (known_[i]) m.value = &inputs_[i];
      }
      ictx.inputs.push_back(m);
    }
    for (int i = 0; i < num_outputs_; ++i) {
      TensorMeta m;
      m.present = node_.outputs[size_t(i)] >= 0;
      ictx.outputs.push_back(m);
    }
    kernel->infer(ictx);
    scratch_bytes_ = ictx.scratch_bytes;
    std::vector<Tensor> outs;
    outs.resize(size_t(num_outputs_));
    RunContext rctx(node_);
    for (size_t i = 0; i < inputs_.size(); ++i) rctx.inputs.push_back(present_[i] ? &inputs_[i] : nullptr);
    for (int i = 0; i < num_outputs_; ++i) {
      if (!ictx.outputs[size_t(i)].present) {
        rctx.outputs.push_back(nullptr);
        continue;
      }
      outs[size_t(i)] = Tensor::allocate(ictx.outputs[size_t(i)].dtype, ictx.outputs[size_t(i)].shape);
      // Poison float outputs so a kernel that forgets to write an element is caught.
      if (outs[size_t(i)].dtype == DType::Float32) {
        float* p = outs[size_t(i)].ptr<float>();
        for (int64_t k = 0; k < outs[size_t(i)].numel(); ++k) p[k] = 1234.5f;
      }
      rctx.outputs.push_back(&outs[size_t(i)]);
    }
    scratch_ = aligned_buffer(scratch_bytes_);
    rctx.scratch = scratch_bytes_ ? scratch_.get() : nullptr;
    rctx.scratch_bytes = scratch_bytes_;
    if (ictx.slot_scratch_bytes) {  // as the planner lays it out: one slot per thread
      const size_t stride = (ictx.slot_scratch_bytes + 63) / 64 * 64;
      slot_scratch_ = aligned_buffer(stride * size_t(threads_));
      rctx.bind_slot_scratch(static_cast<uint8_t*>(slot_scratch_.get()), stride, ictx.slot_scratch_bytes, threads_);
    }
    pool_ = std::make_unique<ThreadPool>(threads_);
    rctx.pool = pool_.get();
    rctx.gemm = backend_;
    kernel->run(rctx);
    kernel_ = std::move(kernel);
    outputs_ = outs;  // shares storage with the returned tensors
    run_ctx_ = std::make_unique<RunContext>(rctx);
    return outs;
  }

  // Runs the kernel created by the last run() again on the same inputs, outputs
  // and scratch (for benchmarks); the tensors run() returned see the new results.
  void rerun() {
    if (!kernel_) netlite::fail(netlite::StatusCode::Internal, "OpHarness::rerun() before run()");
    kernel_->run(*run_ctx_);
  }

 private:
  template <typename F>
  OpHarness& attr(const std::string& name, netlite::Attribute::Kind kind, F set) {
    netlite::Attribute a;
    a.kind = kind;
    set(a);
    node_.attrs[name] = a;
    return *this;
  }

  OpHarness& add_input(const netlite::Tensor& t, bool constant, bool known) {
    int v = graph_.add_value(node_.name + "_in" + std::to_string(inputs_.size()));
    netlite::Value& val = graph_.values[size_t(v)];
    val.dtype = t.dtype;
    val.shape = t.shape;
    val.has_shape = true;
    if (constant) {
      val.is_constant = true;
      val.data = t;
    }
    node_.inputs.push_back(v);
    inputs_.push_back(t);
    present_.push_back(true);
    known_.push_back(known);
    return *this;
  }

  netlite::Node node_;
  netlite::Graph graph_;
  std::unique_ptr<netlite::OpKernel> kernel_;
  std::unique_ptr<netlite::ThreadPool> pool_;
  std::unique_ptr<netlite::RunContext> run_ctx_;
  std::shared_ptr<void> scratch_, slot_scratch_;
  std::vector<netlite::Tensor> outputs_;
  std::vector<netlite::Tensor> inputs_;
  std::vector<bool> present_, known_;
  int num_outputs_ = 1;
  std::vector<int> omitted_outputs_;
  int threads_ = 1;
  netlite::kernels::GemmBackend backend_ = netlite::kernels::GemmBackend::Auto;
  size_t scratch_bytes_ = 0;
};

// Runs fn and returns the StatusCode of the netlite::Error it throws (Ok if none).
inline netlite::StatusCode expect_error(const std::function<void()>& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const netlite::Error& e) {
    if (message) *message = e.message();
    return e.code();
  }
  return netlite::StatusCode::Ok;
}

}  // namespace netlite_test
