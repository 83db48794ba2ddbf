#include "reduce.h"

namespace netlite {
namespace ops {

// ---- ReduceKernel ---------------------------------------------------------------

ReduceKernel::ReduceKernel(const Node& node, ReduceKind kind, int axes_input_since)
    : kind_(kind), axes_from_input_(node.opset >= axes_input_since) {
  keepdims_ = node.attr_int("keepdims", 1) != 0;
  noop_with_empty_axes_ = axes_from_input_ && node.attr_int("noop_with_empty_axes", 0) != 0;
  if (axes_from_input_) {
    if (node.has_attr("axes"))
      fail(StatusCode::InvalidModel, node.describe(), ": opset ", node.opset,
           " takes axes as input 1, not as an attribute");
  } else {
    axes_attr_ = node.attr_ints("axes");
  }
}

bool ReduceKernel::axes_mask(const Shape& in, const Tensor* axes_input, bool* mask, const InferContext* ctx) const {
  const size_t rank = in.size();
  for (size_t d = 0; d < rank; ++d) mask[d] = false;
  int64_t count = 0;
  if (axes_from_input_) {
    count = axes_input ? axes_input->numel() : 0;
  } else {
    count = int64_t(axes_attr_.size());
  }
  if (count == 0) {
    if (noop_with_empty_axes_) return false;
    for (size_t d = 0; d < rank; ++d) mask[d] = true;
    return true;
  }
  for (int64_t i = 0; i < count; ++i) {
    int64_t a = axes_from_input_ ? read_int(*axes_input, i) : axes_attr_[size_t(i)];
    if (ctx && (a < -int64_t(rank) || a >= int64_t(rank)))
      fail(StatusCode::InvalidArgument, ctx->node.describe(), ": axis ", a, " is out of range for input rank ", rank);
    const size_t d = size_t(a < 0 ? a + int64_t(rank) : a);
    if (ctx && mask[d])
      fail(StatusCode::InvalidModel, ctx->node.describe(), ": axis ", a, " is listed twice");
    mask[d] = true;
  }
  return true;
}

void ReduceKernel::infer(InferContext& ctx) const {
  const Node& node = ctx.node;
  const DType t = ctx.input(0).dtype;
  if (kind_ == ReduceKind::Max || kind_ == ReduceKind::Min)
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
  else
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64});
  const Shape& in = ctx.input(0).shape;
  if (in.size() > size_t(kMaxBroadcastRank))
    fail(StatusCode::Unsupported, node.describe(), ": rank ", in.size(), " exceeds netlite's limit of ",
         kMaxBroadcastRank, " for reductions");
  const Tensor* axes = nullptr;
  if (axes_from_input_ && ctx.has_input(1)) {
    axes = &ctx.input_value(1, "axes");
    if (axes->dtype != DType::Int64)
      fail(StatusCode::TypeMismatch, node.describe(), ": axes must be int64, got ", dtype_name(axes->dtype));
    if (axes->rank() > 1)
      fail(StatusCode::ShapeMismatch, node.describe(), ": axes must be 1-D, got shape ", shape_str(axes->shape));
  }
  bool mask[kMaxBroadcastRank];
  if (!axes_mask(in, axes, mask, &ctx)) {
    ctx.set_output(0, t, in);
    return;
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!mask[d]) out.push_back(in[d]);
    else if (keepdims_) out.push_back(1);
  }
  ctx.set_output(0, t, out);
}

void ReduceKernel::run(RunContext& ctx) const {
  const Tensor& x = ctx.in(0);
  Tensor& y = ctx.out(0);
  const Tensor* axes = (axes_from_input_ && ctx.inputs.size() > 1) ? ctx.inputs[1] : nullptr;
  bool mask[kMaxBroadcastRank];
  if (!axes_mask(x.shape, axes, mask, nullptr)) {
    copy_tensor(x, y, ctx.pool);
    return;
  }
  ReduceGeometry g;
  make_reduce_geometry(g, x.shape, mask);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    switch (kind_) {
      case ReduceKind::Sum: reduce_kernel<ReduceKind::Sum, T>(g, x.ptr<T>(), y.ptr<T>(), ctx.pool); break;
      case ReduceKind::Mean: reduce_kernel<ReduceKind::Mean, T>(g, x.ptr<T>(), y.ptr<T>(), ctx.pool); break;
      case ReduceKind::Max: reduce_kernel<ReduceKind::Max, T>(g, x.ptr<T>(), y.ptr<T>(), ctx.pool); break;
      case ReduceKind::Min: reduce_kernel<ReduceKind::Min, T>(g, x.ptr<T>(), y.ptr<T>(), ctx.pool); break;
    }
  };
  dispatch_numeric(x.dtype, go);
}

// ---- SoftmaxKernel --------------------------------------------------------------

SoftmaxKernel::SoftmaxKernel(const Node& node, bool log_softmax)
    : log_(log_softmax), coerce_2d_(node.opset < 13), axis_(node.attr_int("axis", node.opset < 13 ? 1 : -1)) {}

int SoftmaxKernel::resolve_axis(const Shape& s) const {
  const int64_t r = int64_t(s.size());
  // Coercing to 2-D at axis == rank is meaningful (one column per row); accept it.
  const int64_t hi = coerce_2d_ ? r : r - 1;
  if (axis_ < -r || axis_ > hi) return -1;
  return int(axis_ < 0 ? axis_ + r : axis_);
}

void SoftmaxKernel::infer(InferContext& ctx) const {
  ctx.expect_dtype(0, {DType::Float32});
  const Shape& s = ctx.input(0).shape;
  if (resolve_axis(s) < 0)
    fail(StatusCode::InvalidArgument, ctx.node.describe(), ": axis ", axis_, " is out of range for input rank ",
         s.size());
  ctx.set_output(0, DType::Float32, s);
}

void SoftmaxKernel::run(RunContext& ctx) const {
  const Tensor& x = ctx.in(0);
  Tensor& y = ctx.out(0);
  if (x.numel() == 0) return;
  const float* px = x.ptr<float>();
  float* py = y.ptr<float>();
  const int axis = resolve_axis(x.shape);
  int64_t outer = 1, n = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.shape[size_t(i)];
  if (coerce_2d_) {
    for (size_t i = size_t(axis); i < x.shape.size(); ++i) n *= x.shape[i];
  } else {
    n = x.shape[size_t(axis)];
    for (size_t i = size_t(axis) + 1; i < x.shape.size(); ++i) inner *= x.shape[i];
  }
  const bool lg = log_;
  if (inner == 1) {
    int64_t grain = 4096 / n;
    if (grain < 1) grain = 1;
    ctx.pool->parallel_for(outer, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) kernels::softmax_row_f32(px + r * n, py + r * n, n, lg);
    }, grain);
    return;
  }
  // Strided: tasks are (outer index, block of columns).
  const int64_t block = 256;
  const int64_t blocks = (inner + block - 1) / block;
  int64_t grain = 4096 / (n * (inner < block ? inner : block));
  if (grain < 1) grain = 1;
  ctx.pool->parallel_for(outer * blocks, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / blocks, c0 = (t % blocks) * block;
      const int64_t cols = inner - c0 < block ? inner - c0 : block;
      const int64_t off = o * n * inner + c0;
      kernels::softmax_strided_f32(px + off, py + off, n, inner, cols, lg);
    }
  }, grain);
}

}  // namespace ops
}  // namespace netlite
