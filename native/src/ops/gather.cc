// Gather (ai.onnx 1-25): out = data indexed along `axis` by int32/int64 indices
// of any shape (rank 0 too); negative indices count from the back. Output shape
// is data[:axis] + indices.shape + data[axis+1:]. Indices known at plan time are
// range-checked there; an out-of-range index seen only at run time yields zeros
// (run() cannot report errors).
#include <cstring>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace gather_detail {

class Gather final : public OpKernel {
 public:
  explicit Gather(int64_t axis) : axis_(axis) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& data = ctx.input(0);
    const TensorMeta& idx = ctx.input(1);
    expect_sized_dtype(ctx.node, data.dtype, "data");
    ctx.expect_dtype(1, {DType::Int64, DType::Int32});
    if (data.shape.empty()) fail(StatusCode::InvalidModel, ctx.node.describe(), ": data must have rank >= 1");
    const int a = node_axis(ctx.node, axis_, data.shape.size());
    const int64_t dim = data.shape[size_t(a)];
    if (idx.value) {
      const int64_t n = idx.value->numel();
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = read_int(*idx.value, i);
        if (v < -dim || v >= dim)
          fail(StatusCode::InvalidArgument, ctx.node.describe(), ": index ", v, " is out of range for axis ", a,
               " of size ", dim);
      }
    }
    Shape out(data.shape.begin(), data.shape.begin() + a);
    out.insert(out.end(), idx.shape.begin(), idx.shape.end());
    out.insert(out.end(), data.shape.begin() + a + 1, data.shape.end());
    ctx.set_output(0, data.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& data = ctx.in(0);
    const Tensor& idx = ctx.in(1);
    if (idx.dtype == DType::Int64) gather<int64_t>(ctx, data, idx.ptr<int64_t>(), idx.numel());
    else gather<int32_t>(ctx, data, idx.ptr<int32_t>(), idx.numel());
  }

 private:
  template <typename I>
  void gather(RunContext& ctx, const Tensor& data, const I* idx, int64_t n) const {
    const int a = int(axis_ < 0 ? axis_ + int64_t(data.rank()) : axis_);
    const size_t es = dtype_size(data.dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < a; ++d) outer *= data.shape[size_t(d)];
    for (size_t d = size_t(a) + 1; d < data.rank(); ++d) inner *= data.shape[d];
    const int64_t dim = data.shape[size_t(a)];
    const size_t block = size_t(inner) * es;
    if (block == 0 || outer * n == 0) return;  // empty output (the executor skips it too)
    const uint8_t* src = static_cast<const uint8_t*>(data.data);
    uint8_t* dst = static_cast<uint8_t*>(ctx.out(0).data);
    ctx.pool->parallel_for(outer * n, [&](int64_t b, int64_t e) {
      for (int64_t w = b; w < e; ++w) {
        const int64_t o = w / n, i = w % n;
        int64_t v = int64_t(idx[i]);
        if (v < 0) v += dim;
        uint8_t* dp = dst + size_t(w) * block;
        if (v < 0 || v >= dim) std::memset(dp, 0, block);
        else std::memcpy(dp, src + size_t(o * dim + v) * block, block);
      }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
  }
  int64_t axis_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<Gather>(node.attr_int("axis", 0));
}

}  // namespace gather_detail

extern const OpDef kOp_Gather = {"Gather", "", 1, 25, "any data type; int32/int64 indices", gather_detail::create};

}  // namespace ops
}  // namespace netlite
