// Shapes and the overflow-checked arithmetic every size computation goes through.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "error.h"

namespace netlite {

// A dim of -1 means "not known until inputs are bound" (a symbolic dim in the model).
using Shape = std::vector<int64_t>;

// Largest element count a single tensor may have (2^40): keeps byte sizes far from overflow.
constexpr int64_t kMaxElements = int64_t(1) << 40;

inline std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += s[i] < 0 ? std::string("?") : std::to_string(s[i]);
  }
  return out + "]";
}

inline bool shape_known(const Shape& s) {
  for (int64_t d : s) if (d < 0) return false;
  return true;
}

// Element count; throws on negative dims or a count beyond kMaxElements.
inline int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) fail(StatusCode::ShapeMismatch, "shape ", shape_str(s), " is not fully known");
    if (d != 0 && n > kMaxElements / d) fail(StatusCode::ShapeMismatch, "shape ", shape_str(s), " has too many elements");
    n *= d;
  }
  return n;
}

// Normalises an axis in [-rank, rank) (or [-rank-1, rank] when inclusive) to [0, rank).
inline int normalize_axis(int64_t axis, size_t rank, const char* what = "axis", bool inclusive = false) {
  int64_t r = int64_t(rank) + (inclusive ? 1 : 0);
  if (axis < -r || axis >= r) fail(StatusCode::InvalidArgument, what, " ", axis, " is out of range for rank ", rank);
  return int(axis < 0 ? axis + r : axis);
}

// Row-major strides (in elements).
inline std::vector<int64_t> shape_strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// numpy-style broadcast of two shapes; throws naming both shapes when incompatible.
inline Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t r = a.size() > b.size() ? a.size() : b.size();
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else fail(StatusCode::ShapeMismatch, "shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast");
  }
  return out;
}

}  // namespace netlite
