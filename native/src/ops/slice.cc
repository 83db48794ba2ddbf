// Slice (ai.onnx 1-25): starts/ends/axes attributes in opset 1-9; inputs
// starts, ends, axes?, steps? (known at plan time) since 10. Negative steps walk
// backwards; starts/ends are clamped per the spec (INT_MAX / INT_MIN ends mean
// "to the end"). The copy is one strided copy with (possibly negative) strides.
#include "../kernels/copy.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace slice_detail {

class Slice final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    expect_sized_dtype(ctx.node, x.dtype);
    if (x.shape.size() > size_t(kernels::kMaxCopyRank))
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", x.shape.size(), " is above the supported ",
           kernels::kMaxCopyRank);
    std::vector<SliceDim> dims = params(ctx.node, x.shape, [&](size_t i, const char* what) {
      return input_ints(ctx, i, what);
    }, [&](size_t i) { return ctx.has_input(i); });
    Shape out(dims.size());
    for (size_t d = 0; d < dims.size(); ++d) out[d] = dims[d].count;
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int r = int(x.rank());
    // Re-derives the dims infer() validated, without allocating: for opset 10+
    // straight from the starts/ends/axes/steps tensors.
    SliceDim dims[kernels::kMaxCopyRank];
    for (int d = 0; d < r; ++d) dims[d] = SliceDim{0, 1, x.shape[size_t(d)]};
    const Node& node = ctx.node;
    if (node.opset < 10) {
      const std::vector<int64_t>& st = node.attrs.at("starts").ints;
      const std::vector<int64_t>& en = node.attrs.at("ends").ints;
      const std::vector<int64_t>* ax = node.has_attr("axes") ? &node.attrs.at("axes").ints : nullptr;
      for (size_t k = 0; k < st.size(); ++k) {
        int64_t a = ax ? (*ax)[k] : int64_t(k);
        if (a < 0) a += r;
        dims[a] = slice_dim(x.shape[size_t(a)], st[k], en[k], 1);
      }
    } else {
      const Tensor& st = ctx.in(1);
      const Tensor& en = ctx.in(2);
      const Tensor* ax = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
      const Tensor* sp = ctx.inputs.size() > 4 ? ctx.inputs[4] : nullptr;
      const int64_t n = st.numel();
      for (int64_t k = 0; k < n; ++k) {
        int64_t a = ax ? read_int(*ax, k) : k;
        if (a < 0) a += r;
        dims[a] = slice_dim(x.shape[size_t(a)], read_int(st, k), read_int(en, k), sp ? read_int(*sp, k) : 1);
      }
    }
    const size_t es = dtype_size(x.dtype);
    int64_t shape[kernels::kMaxCopyRank], ss[kernels::kMaxCopyRank], ds[kernels::kMaxCopyRank];
    int64_t in_stride = 1, out_stride = 1, offset = 0;
    for (int d = r - 1; d >= 0; --d) {
      const SliceDim& sd = dims[d];
      shape[d] = sd.count;
      ss[d] = sd.step * in_stride;
      ds[d] = out_stride;
      offset += sd.start * in_stride;
      in_stride *= x.shape[size_t(d)];
      out_stride *= sd.count;
    }
    if (out_stride == 0) return;
    kernels::strided_copy(es, r, shape, static_cast<const uint8_t*>(x.data) + size_t(offset) * es, ss, ctx.out(0).data,
                          ds, ctx.pool);
  }

 private:
  template <typename Get, typename Has>
  static std::vector<SliceDim> params(const Node& node, const Shape& in, Get get, Has has) {
    if (node.opset < 10) {
      if (!node.has_attr("starts") || !node.has_attr("ends"))
        fail(StatusCode::InvalidModel, node.describe(), ": attributes 'starts' and 'ends' are required");
      return slice_dims(node, in, node.attr_ints("starts"), node.attr_ints("ends"), node.attr_ints("axes"), {});
    }
    std::vector<int64_t> starts = get(1, "starts"), ends = get(2, "ends");
    std::vector<int64_t> axes, steps;
    if (has(3)) axes = get(3, "axes");
    if (has(4)) steps = get(4, "steps");
    return slice_dims(node, in, starts, ends, axes, steps);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Slice>(); }

}  // namespace slice_detail

extern const OpDef kOp_Slice = {"Slice", "", 1, 25, "any type; negative steps", slice_detail::create};

}  // namespace ops
}  // namespace netlite
