// Constant (ai.onnx 1-25): outputs the tensor given by exactly one of the
// attributes value (a tensor), value_float / value_floats (float32 scalar /
// 1-D), value_int / value_ints (int64 scalar / 1-D). String and sparse
// constants are not supported. The planner folds it: run() only copies.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace constant_detail {

class Constant final : public OpKernel {
 public:
  explicit Constant(Tensor value) : value_(std::move(value)) {}
  void infer(InferContext& ctx) const override { ctx.set_output(0, value_.dtype, value_.shape); }
  void run(RunContext& ctx) const override { copy_tensor(value_, ctx.out(0), ctx.pool); }

 private:
  Tensor value_;  // owned
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  static const char* const kUnsupported[] = {"value_string", "value_strings", "sparse_value"};
  for (const char* a : kUnsupported)
    if (node.has_attr(a))
      fail(StatusCode::Unsupported, node.describe(), ": attribute '", a, "' is not supported (netlite has no ",
           a[0] == 's' ? "sparse" : "string", " tensors)");
  int set = 0;
  for (const char* a : {"value", "value_float", "value_floats", "value_int", "value_ints"}) set += node.has_attr(a);
  if (set != 1)
    fail(StatusCode::InvalidModel, node.describe(), ": exactly one value attribute must be given, found ", set);
  Tensor t;
  if (const Tensor* v = node.attr_tensor("value")) {
    if (!dtype_supported(v->dtype))
      fail(StatusCode::TypeMismatch, node.describe(), ": constant of type ", dtype_name(v->dtype), " is not supported");
    t = Tensor::allocate(v->dtype, v->shape);
    if (t.bytes()) std::memcpy(t.data, v->data, t.bytes());
  } else if (node.has_attr("value_float")) {
    t = Tensor::allocate(DType::Float32, {});
    t.ptr<float>()[0] = node.attr_float("value_float", 0.0f);
  } else if (node.has_attr("value_floats")) {
    const std::vector<float> f = node.attr_floats("value_floats");
    t = Tensor::allocate(DType::Float32, {int64_t(f.size())});
    if (!f.empty()) std::memcpy(t.data, f.data(), f.size() * sizeof(float));
  } else if (node.has_attr("value_int")) {
    t = Tensor::allocate(DType::Int64, {});
    t.ptr<int64_t>()[0] = node.attr_int("value_int", 0);
  } else {
    const std::vector<int64_t> ints = node.attr_ints("value_ints");
    t = Tensor::allocate(DType::Int64, {int64_t(ints.size())});
    if (!ints.empty()) std::memcpy(t.data, ints.data(), ints.size() * sizeof(int64_t));
  }
  return std::make_unique<Constant>(std::move(t));
}

}  // namespace constant_detail

extern const OpDef kOp_Constant = {"Constant", "", 1, 25,
                                   "value, value_float(s), value_int(s); no string or sparse constants",
                                   constant_detail::create};

}  // namespace ops
}  // namespace netlite
