// Reshape (netlite.mxnet 1): MXNet's Reshape with its special codes, which have
// no ONNX equivalent (plain shapes are imported as ONNX Reshape instead):
//    0 copy the next input dim        -1 infer this dim (at most one)
//   -2 copy all remaining input dims  -3 merge the next two input dims
//   -4 split the next input dim into the two values that follow (one may be -1)
// `reverse` = 1 matches the codes from the right. Semantics per MXNet's
// InferReshapeShape (src/operator/tensor/matrix_op-inl.h). Aliases its input.
#include <algorithm>
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace mx_reshape_detail {

class MxReshape final : public OpKernel {
 public:
  MxReshape(std::vector<int64_t> spec, bool reverse) : spec_(std::move(spec)), reverse_(reverse) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    ctx.set_output(0, x.dtype, target(ctx.node, x.shape));
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
  }
  bool aliases_input() const override { return true; }

 private:
  Shape target(const Node& node, const Shape& in_shape) const {
    auto bad = [&](const std::string& why) -> void {
      std::string spec = "(";
      for (size_t i = 0; i < spec_.size(); ++i) spec += (i ? ", " : "") + std::to_string(spec_[i]);
      fail(StatusCode::ShapeMismatch, node.describe(), ": cannot reshape ", shape_str(in_shape), " with MXNet shape ",
           spec, ")", reverse_ ? " (reverse)" : "", ": ", why);
    };
    Shape in = in_shape;
    std::vector<int64_t> spec = spec_;
    if (reverse_) {
      std::reverse(in.begin(), in.end());
      std::reverse(spec.begin(), spec.end());  // as MXNet does, -4 groups included
    }
    Shape out;
    size_t src = 0;
    int infer_at = -1;
    for (size_t i = 0; i < spec.size(); ++i) {
      int64_t d = spec[i];
      if (d == 0) {
        if (src >= in.size()) bad("0 has no input dim to copy");
        out.push_back(in[src++]);
      } else if (d == -1) {
        if (infer_at >= 0) bad("more than one -1");
        infer_at = int(out.size());
        out.push_back(1);
        ++src;
      } else if (d == -2) {
        while (src < in.size()) out.push_back(in[src++]);
      } else if (d == -3) {
        if (src + 1 >= in.size()) bad("-3 needs two input dims");
        out.push_back(in[src] * in[src + 1]);
        src += 2;
      } else if (d == -4) {
        if (i + 2 >= spec.size()) bad("-4 must be followed by two values");
        if (src >= in.size()) bad("-4 has no input dim to split");
        int64_t d0 = in[src++];
        int64_t d1 = spec[++i], d2 = spec[++i];
        if (d1 == -1 && d2 == -1) bad("both split dims are -1");
        if (d1 == 0 || d2 == 0 || d1 < -1 || d2 < -1) bad("split dims must be positive or -1");
        if (d1 == -1) { if (d0 % d2) bad("split does not divide the dim"); d1 = d0 / d2; }
        if (d2 == -1) { if (d0 % d1) bad("split does not divide the dim"); d2 = d0 / d1; }
        if (d1 * d2 != d0) bad("split dims do not multiply to the input dim");
        out.push_back(d1);
        out.push_back(d2);
      } else if (d > 0) {
        out.push_back(d);
        ++src;
      } else {
        bad("invalid code " + std::to_string(d));
      }
    }
    int64_t n = shape_numel(in_shape);
    if (infer_at >= 0) {
      int64_t known = 1;
      for (size_t i = 0; i < out.size(); ++i)
        if (int(i) != infer_at) known *= out[i];
      if (known == 0 || n % known) bad("the -1 cannot be inferred");
      out[size_t(infer_at)] = n / known;
    }
    if (reverse_) std::reverse(out.begin(), out.end());
    if (shape_numel(out) != n) bad("the element counts differ (" + std::to_string(n) + " vs " + std::to_string(shape_numel(out)) + ")");
    return out;
  }

  std::vector<int64_t> spec_;
  bool reverse_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  std::vector<int64_t> spec = node.attr_ints("shape");
  if (spec.empty()) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'shape' is missing or empty");
  return std::make_unique<MxReshape>(std::move(spec), node.attr_int("reverse", 0) != 0);
}

}  // namespace mx_reshape_detail

extern const OpDef kOp_MxReshape = {"Reshape", "netlite.mxnet", 1, 1,
                                    "any type; MXNet Reshape codes 0/-1/-2/-3/-4 and reverse; aliases its input",
                                    mx_reshape_detail::create};

}  // namespace ops
}  // namespace netlite
