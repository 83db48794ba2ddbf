// Shared helpers of the shape / data-movement ops (see shape_util.h).
#include "shape_util.h"

#include <algorithm>

namespace netlite {
namespace ops {

std::vector<int64_t> tensor_ints(const Node& node, const Tensor& t, const char* what) {
  switch (t.dtype) {
    case DType::Int64: case DType::Int32: case DType::Int8: case DType::UInt8: break;
    default:
      fail(StatusCode::TypeMismatch, node.describe(), ": ", what, " must be an integer tensor, got ", dtype_name(t.dtype));
  }
  if (t.rank() > 1)
    fail(StatusCode::InvalidModel, node.describe(), ": ", what, " must be a 1-D tensor, got shape ", shape_str(t.shape));
  int64_t n = t.numel();
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = read_int(t, i);
  return v;
}

std::vector<double> tensor_doubles(const Node& node, const Tensor& t, const char* what) {
  switch (t.dtype) {
    case DType::Float32: case DType::Float64: case DType::Int64: case DType::Int32: case DType::Int8:
    case DType::UInt8: break;
    default:
      fail(StatusCode::TypeMismatch, node.describe(), ": ", what, " must be a numeric tensor, got ", dtype_name(t.dtype));
  }
  if (t.rank() > 1)
    fail(StatusCode::InvalidModel, node.describe(), ": ", what, " must be a 1-D tensor, got shape ", shape_str(t.shape));
  int64_t n = t.numel();
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = read_scalar(t, i);
  return v;
}

std::vector<int64_t> input_ints(const InferContext& ctx, size_t i, const char* what) {
  return tensor_ints(ctx.node, ctx.input_value(i, what), what);
}

int node_axis(const Node& node, int64_t axis, size_t rank, const char* what, bool inclusive) {
  const int64_t r = int64_t(rank);
  const int64_t hi = inclusive ? r : r - 1;
  if (axis < -r || axis > hi)
    fail(StatusCode::InvalidArgument, node.describe(), ": ", what, " ", axis, " is out of range for rank ", rank);
  return int(axis < 0 ? axis + r : axis);
}

std::vector<int> node_axes(const Node& node, const std::vector<int64_t>& axes, size_t rank, const char* what) {
  std::vector<int> out;
  out.reserve(axes.size());
  std::vector<bool> seen(rank, false);
  for (int64_t a : axes) {
    int n = node_axis(node, a, rank, what);
    if (seen[size_t(n)]) fail(StatusCode::InvalidArgument, node.describe(), ": ", what, " repeats axis ", a);
    seen[size_t(n)] = true;
    out.push_back(n);
  }
  return out;
}

std::vector<int64_t> attr_or_input_ints(const InferContext& ctx, const char* name, int input_since,
                                        size_t input_index, bool* present) {
  if (ctx.node.opset >= input_since) {
    if (ctx.has_input(input_index)) {
      *present = true;
      return input_ints(ctx, input_index, name);
    }
    *present = false;
    return {};
  }
  *present = ctx.node.has_attr(name);
  return ctx.node.attr_ints(name);
}

SliceDim slice_dim(int64_t dim, int64_t s, int64_t e, int64_t step) {
  if (s < 0) s += dim;  // INT64_MIN + dim cannot overflow: dim >= 0
  if (e < 0) e += dim;
  SliceDim sd;
  sd.step = step;
  if (dim == 0) {
    sd.count = 0;
  } else if (step > 0) {
    s = std::min(std::max(s, int64_t(0)), dim);
    e = std::min(std::max(e, int64_t(0)), dim);
    sd.start = s;
    sd.count = e > s ? (e - s - 1) / step + 1 : 0;
  } else {
    s = std::min(std::max(s, int64_t(0)), dim - 1);
    e = std::min(std::max(e, int64_t(-1)), dim - 1);
    sd.start = s;
    // Unsigned negation: step = INT64_MIN is valid and yields at most one element.
    uint64_t ustep = uint64_t(0) - uint64_t(step);
    sd.count = s > e ? int64_t(uint64_t(s - e - 1) / ustep) + 1 : 0;
  }
  if (sd.count == 0) sd.start = 0;
  return sd;
}

std::vector<SliceDim> slice_dims(const Node& node, const Shape& in, const std::vector<int64_t>& starts,
                                 const std::vector<int64_t>& ends, const std::vector<int64_t>& axes_in,
                                 const std::vector<int64_t>& steps) {
  const size_t rank = in.size();
  if (starts.size() != ends.size())
    fail(StatusCode::InvalidModel, node.describe(), ": starts has ", starts.size(), " values but ends has ", ends.size());
  std::vector<int64_t> axes = axes_in;
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (axes.size() != starts.size())
    fail(StatusCode::InvalidModel, node.describe(), ": axes has ", axes.size(), " values but starts has ", starts.size());
  if (!steps.empty() && steps.size() != starts.size())
    fail(StatusCode::InvalidModel, node.describe(), ": steps has ", steps.size(), " values but starts has ", starts.size());
  std::vector<int> ax = node_axes(node, axes, rank, "axes");
  std::vector<SliceDim> dims(rank);
  for (size_t d = 0; d < rank; ++d) dims[d].count = in[d];
  for (size_t k = 0; k < ax.size(); ++k) {
    const int64_t dim = in[size_t(ax[k])];
    const int64_t step = steps.empty() ? 1 : steps[k];
    if (step == 0) fail(StatusCode::InvalidArgument, node.describe(), ": steps must not be 0 (axis ", ax[k], ")");
    SliceDim sd = slice_dim(dim, starts[k], ends[k], step);
    dims[size_t(ax[k])] = sd;
  }
  return dims;
}

PadAmounts pad_amounts(const Node& node, const Shape& in, const std::vector<int64_t>& pads,
                       const std::vector<int64_t>& axes_in) {
  const size_t rank = in.size();
  std::vector<int> axes;
  if (axes_in.empty()) {
    for (size_t d = 0; d < rank; ++d) axes.push_back(int(d));
  } else {
    axes = node_axes(node, axes_in, rank, "axes");
  }
  if (pads.size() != 2 * axes.size())
    fail(StatusCode::InvalidModel, node.describe(), ": pads has ", pads.size(), " values, expected ", 2 * axes.size(),
         " for ", axes.size(), " axes of an input of shape ", shape_str(in));
  PadAmounts p;
  p.before.assign(rank, 0);
  p.after.assign(rank, 0);
  for (size_t k = 0; k < axes.size(); ++k) {
    p.before[size_t(axes[k])] = pads[k];
    p.after[size_t(axes[k])] = pads[k + axes.size()];
  }
  for (size_t d = 0; d < rank; ++d) {
    const int64_t lim = int64_t(1) << 40;
    if (p.before[d] > lim || p.after[d] > lim || p.before[d] < -lim || p.after[d] < -lim ||
        in[d] + p.before[d] + p.after[d] < 0)
      fail(StatusCode::InvalidArgument, node.describe(), ": pads ", p.before[d], " and ", p.after[d],
           " are invalid for dim ", d, " of size ", in[d]);
  }
  return p;
}

void expect_sized_dtype(const Node& node, DType dt, const char* what) {
  if (dtype_size(dt) == 0 || dt == DType::String)
    fail(StatusCode::TypeMismatch, node.describe(), ": ", what, " has unsupported type ", dtype_name(dt));
}

}  // namespace ops
}  // namespace netlite
