// ConstantOfShape (ai.onnx 9-25): a tensor of the shape in input 0 (int64,
// known at plan time) filled with the one-element `value` attribute (default
// float32 0); the output takes the value's dtype.
#include <cstring>

#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace constant_of_shape_detail {

class ConstantOfShape final : public OpKernel {
 public:
  ConstantOfShape(DType dtype, const uint8_t* value) : dtype_(dtype) { std::memcpy(value_, value, dtype_size(dtype)); }

  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Int64, DType::Int32});
    std::vector<int64_t> shape = input_ints(ctx, 0, "shape");
    for (int64_t d : shape)
      if (d < 0) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": shape ", shape_str(shape), " has a negative dim");
    ctx.set_output(0, dtype_, shape);
  }
  void run(RunContext& ctx) const override {
    Tensor& y = ctx.out(0);
    kernels::fill_elements(dtype_size(dtype_), y.data, y.numel(), value_, ctx.pool);
  }

 private:
  DType dtype_;
  uint8_t value_[8] = {0};
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  const Tensor* v = node.attr_tensor("value");
  if (!v) {
    const uint8_t zero[8] = {0};
    return std::make_unique<ConstantOfShape>(DType::Float32, zero);
  }
  if (dtype_size(v->dtype) == 0)
    fail(StatusCode::TypeMismatch, node.describe(), ": value has unsupported type ", dtype_name(v->dtype));
  if (v->numel() != 1)
    fail(StatusCode::InvalidModel, node.describe(), ": value must hold exactly one element, got shape ", shape_str(v->shape));
  return std::make_unique<ConstantOfShape>(v->dtype, static_cast<const uint8_t*>(v->data));
}

}  // namespace constant_of_shape_detail

extern const OpDef kOp_ConstantOfShape = {"ConstantOfShape", "", 9, 25, "any type of value",
                                          constant_of_shape_detail::create};

}  // namespace ops
}  // namespace netlite
