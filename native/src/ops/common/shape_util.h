// Shared graph-side helpers of the shape / data-movement ops: reading small
// integer tensors (shapes, axes, pads, starts/ends) and normalising axes and
// Slice / Pad parameters per the ONNX specification. Every error names the node.
#pragma once

#include <cstdint>
#include <vector>

#include "../op.h"

namespace netlite {
namespace ops {

// Elements of an int32/int64 tensor of rank 0 or 1 (or any integer type read_int accepts)
// as int64; throws TypeMismatch naming the node (and `what`) for a non-integer tensor.
std::vector<int64_t> tensor_ints(const Node& node, const Tensor& t, const char* what);

// Elements of a float32 / float64 / integer tensor as double.
std::vector<double> tensor_doubles(const Node& node, const Tensor& t, const char* what);

// Input i's value, known at plan time, as int64s (see tensor_ints); throws Unsupported
// naming the node when the value is only known at run time.
std::vector<int64_t> input_ints(const InferContext& ctx, size_t i, const char* what);

// An axis in [-rank, rank) normalised to [0, rank) (with `inclusive`, Flatten style: [-rank, rank]
// normalised to [0, rank]);
// throws InvalidArgument naming the node otherwise.
int node_axis(const Node& node, int64_t axis, size_t rank, const char* what = "axis", bool inclusive = false);

// Normalises a list of axes (negatives count from the back) and rejects duplicates.
std::vector<int> node_axes(const Node& node, const std::vector<int64_t>& axes, size_t rank, const char* what = "axes");

// The integer list an op takes as an attribute before `input_since` and as input `input_index`
// from then on (Squeeze/Unsqueeze axes, Split's split, ...). `present` is false when neither
// is given. Inputs must be known at plan time.
std::vector<int64_t> attr_or_input_ints(const InferContext& ctx, const char* name, int input_since,
                                        size_t input_index, bool* present);

// One output dim of a Slice: the element `start` of the input dim, then every `step`-th, `count` of them.
struct SliceDim {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

// One dim of a Slice from raw start/end/step (step != 0) on a dim of size `dim`:
// negative start/end count from the back, then are clamped per the spec. Never throws.
SliceDim slice_dim(int64_t dim, int64_t start, int64_t end, int64_t step);

// Slice parameters per the ONNX Slice spec (opset 10+ semantics, which opset 1 shares with step 1):
// negative starts/ends count from the back, then are clamped to [0, dim] for positive steps and
// [-1, dim-1] (starts [0, dim-1]) for negative ones; `axes` empty = [0, 1, ...]; `steps` empty = 1s.
std::vector<SliceDim> slice_dims(const Node& node, const Shape& in, const std::vector<int64_t>& starts,
                                 const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                 const std::vector<int64_t>& steps);

// Pad amounts per dim: out[d] = before[d] + in[d] + after[d] (negative amounts crop).
struct PadAmounts {
  std::vector<int64_t> before, after;
};

// Expands ONNX `pads` ([x1_begin, x2_begin, ..., x1_end, x2_end, ...] over `axes`, or over
// every axis when `axes` is empty) to per-dim amounts for a tensor of shape `in`, and checks
// that no dim becomes negative.
PadAmounts pad_amounts(const Node& node, const Shape& in, const std::vector<int64_t>& pads,
                       const std::vector<int64_t>& axes);

// Throws TypeMismatch naming the node when `dt` cannot be held in a tensor (movement ops
// work on bytes, so any type with a size is fine).
void expect_sized_dtype(const Node& node, DType dt, const char* what = "input");

}  // namespace ops
}  // namespace netlite
