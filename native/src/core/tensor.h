// Tensor: a typed view (dtype, shape, pointer) plus an optional owner that keeps
// the bytes alive. Activations are views into a run's arena (no owner); weights
// and plan-time constants own their storage.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>

#include "dtype.h"
#include "shape.h"

namespace netlite {

constexpr size_t kAlignment = 64;

// 64-byte aligned storage; throws OutOfMemory instead of returning null.
// Zeroed unless `zero` is false (activation arenas: every byte is written before it is read).
inline std::shared_ptr<void> aligned_buffer(size_t bytes, bool zero = true) {
  if (bytes > (size_t(1) << 46)) fail(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes");
  size_t n = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (n == 0) n = kAlignment;
  void* p = std::aligned_alloc(kAlignment, n);
  if (!p) fail(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes");
  if (zero) std::memset(p, 0, n);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

struct Tensor {
  DType dtype = DType::Undefined;
  Shape shape;
  void* data = nullptr;
  std::shared_ptr<void> owner;  // null for views

  int64_t numel() const { return shape_numel(shape); }
  size_t bytes() const { return size_t(numel()) * dtype_size(dtype); }
  size_t rank() const { return shape.size(); }

  template <typename T> T* ptr() { return static_cast<T*>(data); }
  template <typename T> const T* ptr() const { return static_cast<const T*>(data); }

  // A tensor that owns fresh zeroed storage for its shape.
  static Tensor allocate(DType dt, const Shape& s) {
    Tensor t;
    t.dtype = dt;
    t.shape = s;
    size_t es = dtype_size(dt);
    if (es == 0) fail(StatusCode::TypeMismatch, "cannot allocate a tensor of type ", dtype_name(dt));
    t.owner = aligned_buffer(size_t(shape_numel(s)) * es);
    t.data = t.owner.get();
    return t;
  }

  static Tensor view(DType dt, const Shape& s, void* p) {
    Tensor t;
    t.dtype = dt;
    t.shape = s;
    t.data = p;
    return t;
  }
};

// Reads element i of an integer tensor (int32/int64/uint8/int8/bool) as int64.
inline int64_t read_int(const Tensor& t, int64_t i) {
  switch (t.dtype) {
    case DType::Int64: return t.ptr<int64_t>()[i];
    case DType::Int32: return t.ptr<int32_t>()[i];
    case DType::UInt8: return t.ptr<uint8_t>()[i];
    case DType::Int8: return t.ptr<int8_t>()[i];
    case DType::Bool: return t.ptr<uint8_t>()[i];
    default: fail(StatusCode::TypeMismatch, "expected an integer tensor, got ", dtype_name(t.dtype));
  }
}

// Reads element i of any numeric tensor as double (for scalars such as Clip bounds).
inline double read_scalar(const Tensor& t, int64_t i = 0) {
  switch (t.dtype) {
    case DType::Float32: return t.ptr<float>()[i];
    case DType::Float64: return t.ptr<double>()[i];
    default: return double(read_int(t, i));
  }
}

}  // namespace netlite
