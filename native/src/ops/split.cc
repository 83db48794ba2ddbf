// Split (ai.onnx 1-25): splits input 0 along `axis` into the outputs. Sizes from
// the `split` attribute (before 13; opset 1 also took it as input 1), from input 1
// (13+), else equal parts; since 18 `num_outputs` gives ceil-sized parts with a
// smaller last one.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace split_detail {

class Split final : public OpKernel {
 public:
  Split(int64_t axis, int64_t num_outputs) : axis_(axis), num_outputs_(num_outputs) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    if (x.shape.empty()) fail(StatusCode::InvalidModel, ctx.node.describe(), ": cannot split a scalar");
    const int a = node_axis(ctx.node, axis_, x.shape.size());
    const int64_t dim = x.shape[size_t(a)];
    const size_t nout = ctx.outputs.size();
    std::vector<int64_t> sizes;
    bool given = false;
    if (ctx.node.opset >= 13 || (ctx.node.opset < 2 && ctx.has_input(1))) {
      if (ctx.has_input(1)) {
        sizes = input_ints(ctx, 1, "split");
        given = true;
      }
    } else if (ctx.node.has_attr("split")) {
      sizes = ctx.node.attr_ints("split");
      given = true;
    }
    if (given && num_outputs_ > 0)
      fail(StatusCode::InvalidModel, ctx.node.describe(), ": give either split or num_outputs, not both");
    if (given) {
      if (sizes.size() != nout)
        fail(StatusCode::InvalidModel, ctx.node.describe(), ": split has ", sizes.size(), " values for ", nout, " outputs");
      int64_t sum = 0;
      for (int64_t s : sizes) {
        if (s < 0) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": split has a negative size ", s);
        sum += s;
      }
      if (sum != dim)
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": split sizes sum to ", sum, " but axis ", a, " of ",
             shape_str(x.shape), " has ", dim);
    } else if (num_outputs_ > 0) {
      if (size_t(num_outputs_) != nout)
        fail(StatusCode::InvalidModel, ctx.node.describe(), ": num_outputs is ", num_outputs_, " but the node has ", nout,
             " outputs");
      const int64_t chunk = (dim + num_outputs_ - 1) / num_outputs_;
      int64_t left = dim;
      for (size_t i = 0; i < nout; ++i) {
        int64_t s = left < chunk ? left : chunk;
        if (i + 1 == nout) s = left;
        sizes.push_back(s);
        left -= s;
      }
      if (sizes.back() == 0 && dim > 0 && chunk * int64_t(nout - 1) > dim)
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot split dim ", dim, " into ", nout, " parts");
    } else {
      if (nout == 0 || dim % int64_t(nout) != 0)
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": cannot split dim ", dim, " of ", shape_str(x.shape),
             " into ", nout, " equal parts");
      sizes.assign(nout, dim / int64_t(nout));
    }
    for (size_t i = 0; i < nout; ++i) {
      if (!ctx.has_output(i)) continue;
      Shape s = x.shape;
      s[size_t(a)] = sizes[i];
      ctx.set_output(i, x.dtype, s);
    }
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const size_t es = dtype_size(x.dtype);
    const int a = int(axis_ < 0 ? axis_ + int64_t(x.rank()) : axis_);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < a; ++d) outer *= x.shape[size_t(d)];
    for (size_t d = size_t(a) + 1; d < x.rank(); ++d) inner *= x.shape[d];
    const int64_t row = x.shape[size_t(a)] * inner;
    // Offsets along the axis come from every output's size, present or not: an omitted
    // output has no tensor, so sizes are re-derived the way infer() did.
    const uint8_t* src = static_cast<const uint8_t*>(x.data);
    int64_t offset = 0;
    for (size_t i = 0; i < ctx.outputs.size(); ++i) {
      int64_t len = 0;
      if (ctx.outputs[i]) {
        len = ctx.outputs[i]->shape[size_t(a)] * inner;
        const int64_t shape[2] = {outer, len};
        const int64_t ss[2] = {row, 1};
        const int64_t ds[2] = {len, 1};
        kernels::strided_copy(es, 2, shape, src + size_t(offset) * es, ss, ctx.outputs[i]->data, ds, ctx.pool);
      } else {
        len = omitted_len(ctx, i, a) * inner;
      }
      offset += len;
    }
  }

 private:
  // Size along the axis of an omitted output: whatever the present outputs leave, assigned in order.
  int64_t omitted_len(const RunContext& ctx, size_t i, int a) const {
    // Equal / num_outputs splits: the size of a present neighbour where possible.
    const Tensor& x = ctx.in(0);
    const int64_t dim = x.shape[size_t(a)];
    const size_t nout = ctx.outputs.size();
    if (num_outputs_ > 0) {
      const int64_t chunk = (dim + num_outputs_ - 1) / num_outputs_;
      int64_t before = chunk * int64_t(i);
      if (before >= dim) return 0;
      return i + 1 == nout ? dim - before : (dim - before < chunk ? dim - before : chunk);
    }
    if (ctx.inputs.size() > 1 && ctx.inputs[1]) return read_int(*ctx.inputs[1], int64_t(i));
    if (ctx.node.has_attr("split")) return ctx.node.attrs.at("split").ints[i];
    return dim / int64_t(nout);
  }
  int64_t axis_, num_outputs_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  int64_t num = node.opset >= 18 ? node.attr_int("num_outputs", 0) : 0;
  if (node.opset >= 18 && node.has_attr("num_outputs") && num < 1)
    fail(StatusCode::InvalidModel, node.describe(), ": num_outputs must be positive, got ", num);
  return std::make_unique<Split>(node.attr_int("axis", 0), num);
}

}  // namespace split_detail

extern const OpDef kOp_Split = {"Split", "", 1, 25, "any type; split input since 13, num_outputs since 18",
                                split_detail::create};

}  // namespace ops
}  // namespace netlite
