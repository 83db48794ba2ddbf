// Builds the op table from op_list.h and implements the shared parts of op.h.
#include <map>
#include <mutex>

#include "op.h"

namespace netlite {
namespace ops {
#define NETLITE_OP(name) extern const OpDef kOp_##name;
#include "op_list.h"
#undef NETLITE_OP
}  // namespace ops

const std::vector<const OpDef*>& all_ops() {
  static const std::vector<const OpDef*> table = {
#define NETLITE_OP(name) &ops::kOp_##name,
#include "op_list.h"
#undef NETLITE_OP
  };
  return table;
}

const OpDef* find_op(const std::string& domain, const std::string& op_type) {
  const std::string dom = (domain == "ai.onnx") ? std::string() : domain;
  for (const OpDef* d : all_ops())
    if (op_type == d->op_type && dom == d->domain) return d;
  return nullptr;
}

const Tensor* constant_input(const Node& node, const Graph& graph, size_t i) {
  if (i >= node.inputs.size() || node.inputs[i] < 0) return nullptr;
  const Value& v = graph.values[size_t(node.inputs[i])];
  return v.is_constant ? &v.data : nullptr;
}

namespace {
thread_local int scratch_kernel_scopes = 0;
}  // namespace

ScratchKernels::ScratchKernels() { ++scratch_kernel_scopes; }
ScratchKernels::~ScratchKernels() { --scratch_kernel_scopes; }
bool ScratchKernels::active() { return scratch_kernel_scopes > 0; }

const TensorMeta& InferContext::input(size_t i) const {
  if (!has_input(i)) fail(StatusCode::InvalidModel, node.describe(), ": required input ", i, " is missing");
  return inputs[i];
}

const Tensor& InferContext::input_value(size_t i, const char* what) const {
  const TensorMeta& m = input(i);
  if (!m.value)
    fail(StatusCode::Unsupported, node.describe(), ": input ", i, " (", what,
         ") must be a constant or computable from input shapes; data-dependent ", what, " is not supported");
  return *m.value;
}

void InferContext::set_output(size_t i, DType dtype, Shape shape) {
  if (i >= outputs.size()) fail(StatusCode::InvalidModel, node.describe(), ": has no output ", i);
  for (int64_t d : shape)
    if (d < 0) fail(StatusCode::ShapeMismatch, node.describe(), ": computed a negative output dim in ", shape_str(shape));
  shape_numel(shape);  // rejects absurd sizes early
  outputs[i].dtype = dtype;
  outputs[i].shape = std::move(shape);
}

void InferContext::expect_dtype(size_t i, std::initializer_list<DType> allowed) const {
  DType t = input(i).dtype;
  for (DType a : allowed) if (a == t) return;
  std::string names;
  for (DType a : allowed) { if (!names.empty()) names += ", "; names += dtype_name(a); }
  fail(StatusCode::TypeMismatch, node.describe(), ": input ", i, " has type ", dtype_name(t), ", expected ", names);
}

}  // namespace netlite
