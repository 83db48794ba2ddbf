// Shared machinery for elementwise ops: numpy-style (multidirectional) broadcasting
// of up to three inputs, a binary/ternary driver with fast inner loops, a unary
// driver, dtype dispatch, OpKernel templates that most arithmetic, comparison,
// activation and variadic op files instantiate with a small functor, and the
// per-tensor / per-axis parameter layout QuantizeLinear and DequantizeLinear share.
//
// Broadcasting (ONNX "Broadcasting in ONNX", numpy rules): shapes are aligned at
// the right; a dim of 1 stretches. Before iterating, output dims of size 1 are
// dropped and adjacent dims that every input treats alike (all stretched or all
// real) are merged, so same-shape operands become one flat loop, a scalar
// operand a constant, a row ([N,C] + [C]) a contiguous inner loop and a channel
// ([N,C,H,W] + [C,1,1]) a per-row constant. Everything here works on fixed-size
// arrays: run() allocates nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include "../../kernels/activation.h"
#include "../../kernels/quantize.h"
#include "../op.h"

namespace netlite {
namespace ops {

// Most dims a broadcast output may have (after collapsing it needs at most this many).
constexpr int kMaxBroadcastRank = 16;
constexpr int kMaxBroadcastInputs = 3;
// Elements per parallel chunk: cheap ops (add, relu) and transcendental ones (exp, tanh).
constexpr int64_t kCheapGrain = 32768;
constexpr int64_t kCostlyGrain = 4096;

// A collapsed broadcast: output dims plus, per input, the element stride along
// each dim (0 where that input is stretched). The innermost stride is 0 or 1.
struct Broadcast {
  int ndim = 1;
  int nin = 0;
  int64_t numel = 0;
  int64_t dims[kMaxBroadcastRank] = {1};
  int64_t strides[kMaxBroadcastInputs][kMaxBroadcastRank] = {};
};

// Fills `bc` for output shape `out` and the given input shapes (which must
// broadcast to `out`, checked in infer()). No allocation.
inline void make_broadcast(Broadcast& bc, const Shape& out, const Shape* const* ins, int nin) {
  bc.nin = nin;
  bc.numel = 1;
  for (int64_t d : out) bc.numel *= d;
  bc.ndim = 1;
  bc.dims[0] = 1;
  for (int k = 0; k < kMaxBroadcastInputs; ++k) bc.strides[k][0] = 0;
  if (bc.numel == 0) return;
  const int r = int(out.size());
  unsigned masks[kMaxBroadcastRank];
  int nd = 0;
  for (int d = 0; d < r; ++d) {
    if (out[size_t(d)] == 1) continue;
    unsigned m = 0;  // bit k: input k really varies along this dim
    for (int k = 0; k < nin; ++k) {
      const Shape& s = *ins[k];
      int off = r - int(s.size());
      if (d >= off && s[size_t(d - off)] != 1) m |= 1u << k;
    }
    if (nd > 0 && masks[nd - 1] == m) {
      bc.dims[nd - 1] *= out[size_t(d)];
    } else {
      bc.dims[nd] = out[size_t(d)];
      masks[nd] = m;
      ++nd;
    }
  }
  if (nd == 0) {
    bc.dims[0] = 1;
    masks[0] = 0;
    nd = 1;
  }
  bc.ndim = nd;
  for (int k = 0; k < nin; ++k) {
    int64_t st = 1;
    for (int d = nd - 1; d >= 0; --d) {
      if (masks[d] & (1u << k)) {
        bc.strides[k][d] = st;
        st *= bc.dims[d];
      } else {
        bc.strides[k][d] = 0;
      }
    }
  }
}

// Calls seg(offsets, out_offset, len) for each innermost-row segment of output
// elements [begin, end): offsets[k] is input k's element offset at the segment start.
template <typename F>
void broadcast_segments(const Broadcast& bc, int64_t begin, int64_t end, F&& seg) {
  const int nd = bc.ndim;
  const int nin = bc.nin;
  const int64_t inner = bc.dims[nd - 1];
  int64_t row = begin / inner, col = begin % inner;
  int64_t idx[kMaxBroadcastRank];
  int64_t base[kMaxBroadcastInputs] = {0, 0, 0};
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = row % bc.dims[d];
    row /= bc.dims[d];
    for (int k = 0; k < nin; ++k) base[k] += idx[d] * bc.strides[k][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t len = inner - col;
    if (len > end - pos) len = end - pos;
    int64_t offs[kMaxBroadcastInputs];
    for (int k = 0; k < nin; ++k) offs[k] = base[k] + col * bc.strides[k][nd - 1];
    seg(static_cast<const int64_t*>(offs), pos, len);
    pos += len;
    col = 0;
    if (pos >= end) break;
    for (int d = nd - 2; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < nin; ++k) base[k] += bc.strides[k][d];
      if (idx[d] < bc.dims[d]) break;
      for (int k = 0; k < nin; ++k) base[k] -= bc.strides[k][d] * bc.dims[d];
      idx[d] = 0;
    }
  }
}

// Row loops. The main loop covers a multiple of 16 elements through restrict
// pointers, which lets GCC's -O2 vectoriser (cost model "very cheap": no alias
// checks, no epilogue) emit SIMD code for simple bodies; the tail is scalar.
template <typename A, typename B, typename R, typename F>
inline void row_vv(const A* __restrict a, const B* __restrict b, R* __restrict y, int64_t n, const F& f) {
  const int64_t nv = n & ~int64_t(15);
  for (int64_t i = 0; i < nv; ++i) y[i] = f(a[i], b[i]);
  for (int64_t i = nv; i < n; ++i) y[i] = f(a[i], b[i]);
}
template <typename A, typename B, typename R, typename F>
inline void row_vs(const A* __restrict a, const B b, R* __restrict y, int64_t n, const F& f) {
  const int64_t nv = n & ~int64_t(15);
  for (int64_t i = 0; i < nv; ++i) y[i] = f(a[i], b);
  for (int64_t i = nv; i < n; ++i) y[i] = f(a[i], b);
}
template <typename A, typename B, typename R, typename F>
inline void row_sv(const A a, const B* __restrict b, R* __restrict y, int64_t n, const F& f) {
  const int64_t nv = n & ~int64_t(15);
  for (int64_t i = 0; i < nv; ++i) y[i] = f(a, b[i]);
  for (int64_t i = nv; i < n; ++i) y[i] = f(a, b[i]);
}
template <typename T, typename R, typename F>
inline void row_v(const T* __restrict x, R* __restrict y, int64_t n, const F& f) {
  const int64_t nv = n & ~int64_t(15);
  for (int64_t i = 0; i < nv; ++i) y[i] = f(x[i]);
  for (int64_t i = nv; i < n; ++i) y[i] = f(x[i]);
}

// y = f(a, b) over a broadcast. y may be the very buffer of a (same shape as
// the output: an in-place accumulation) but must not otherwise overlap a or b.
template <typename A, typename B, typename R, typename F>
void binary_broadcast(const Broadcast& bc, const A* a, const B* b, R* y, const F& f, ThreadPool* pool,
                      int64_t grain = kCheapGrain) {
  if (bc.numel == 0) return;
  const bool sa = bc.strides[0][bc.ndim - 1] != 0, sb = bc.strides[1][bc.ndim - 1] != 0;
  pool->parallel_for(bc.numel, [&](int64_t begin, int64_t end) {
    broadcast_segments(bc, begin, end, [&](const int64_t* off, int64_t o, int64_t len) {
      const A* pa = a + off[0];
      const B* pb = b + off[1];
      R* py = y + o;
      if (static_cast<const void*>(pa) == static_cast<const void*>(py)) {
        // In place: restrict does not hold; a plain loop reads each element before writing it.
        if (sb) for (int64_t i = 0; i < len; ++i) py[i] = f(pa[i], pb[i]);
        else for (int64_t i = 0; i < len; ++i) py[i] = f(pa[i], *pb);
      } else if (sa && sb) {
        row_vv(pa, pb, py, len, f);
      } else if (sa) {
        row_vs(pa, *pb, py, len, f);
      } else if (sb) {
        row_sv(*pa, pb, py, len, f);
      } else {
        const R v = f(*pa, *pb);
        for (int64_t i = 0; i < len; ++i) py[i] = v;
      }
    });
  }, grain);
}

// y = f(a, b, c) over a three-input broadcast (Where).
template <typename A, typename B, typename C, typename R, typename F>
void ternary_broadcast(const Broadcast& bc, const A* a, const B* b, const C* c, R* y, const F& f,
                       ThreadPool* pool, int64_t grain = kCheapGrain) {
  if (bc.numel == 0) return;
  const int64_t sa = bc.strides[0][bc.ndim - 1], sb = bc.strides[1][bc.ndim - 1], sc = bc.strides[2][bc.ndim - 1];
  pool->parallel_for(bc.numel, [&](int64_t begin, int64_t end) {
    broadcast_segments(bc, begin, end, [&](const int64_t* off, int64_t o, int64_t len) {
      const A* pa = a + off[0];
      const B* pb = b + off[1];
      const C* pc = c + off[2];
      R* py = y + o;
      for (int64_t i = 0; i < len; ++i) py[i] = f(pa[i * sa], pb[i * sb], pc[i * sc]);
    });
  }, grain);
}

// y[i] = f(x[i]) for i in [0, n); x and y must not overlap.
template <typename T, typename R, typename F>
void unary_map(const T* x, R* y, int64_t n, const F& f, ThreadPool* pool, int64_t grain = kCheapGrain) {
  if (n <= 0) return;
  pool->parallel_for(n, [&](int64_t begin, int64_t end) { row_v(x + begin, y + begin, end - begin, f); }, grain);
}

// Copies `src` into `dst` (same bytes) unless they already share storage.
inline void copy_tensor(const Tensor& src, Tensor& dst, ThreadPool* pool) {
  if (src.data == dst.data) return;
  const size_t bytes = src.bytes();
  if (bytes == 0) return;
  const char* s = static_cast<const char*>(src.data);
  char* d = static_cast<char*>(dst.data);
  pool->parallel_for(int64_t(bytes), [&](int64_t b, int64_t e) { std::memcpy(d + b, s + b, size_t(e - b)); },
                     int64_t(1) << 20);
}

// ---- dtype dispatch ---------------------------------------------------------
// Calls f(T{}) with T the C++ type of a numeric dtype (bool is not numeric here).
// Returns false for any other dtype.
template <typename F>
bool dispatch_numeric(DType t, F&& f) {
  switch (t) {
    case DType::Float32: f(float{}); return true;
    case DType::Int32: f(int32_t{}); return true;
    case DType::Int64: f(int64_t{}); return true;
    case DType::UInt8: f(uint8_t{}); return true;
    case DType::Int8: f(int8_t{}); return true;
    default: return false;
  }
}

// Like dispatch_numeric, and bool as uint8_t (bool tensors hold 0/1 bytes).
template <typename F>
bool dispatch_with_bool(DType t, F&& f) {
  if (t == DType::Bool) {
    f(uint8_t{});
    return true;
  }
  return dispatch_numeric(t, f);
}

// Wrapping integer arithmetic (two's complement, as numpy does) without signed
// overflow undefined behaviour; floats pass through.
template <typename T>
struct Wrap {
  using U = typename std::conditional<std::is_integral<T>::value, typename std::make_unsigned<T>::type, T>::type;
  static T add(T a, T b) { return T(U(a) + U(b)); }
  static T sub(T a, T b) { return T(U(a) - U(b)); }
  static T mul(T a, T b) {
    // Promote 8-bit types to unsigned int so their products never go through signed int.
    using P = typename std::conditional<std::is_integral<T>::value && (sizeof(T) < sizeof(unsigned)), unsigned, U>::type;
    return T(U(P(U(a)) * P(U(b))));
  }
};
template <>
struct Wrap<float> {
  static float add(float a, float b) { return a + b; }
  static float sub(float a, float b) { return a - b; }
  static float mul(float a, float b) { return a * b; }
};

// ---- infer helpers -----------------------------------------------------------

// Multidirectional broadcast of inputs [first, first+count) (present ones), naming the node on failure.
inline Shape infer_broadcast_shape(const InferContext& ctx, size_t first, size_t count) {
  Shape out;
  bool any = false;
  for (size_t i = first; i < first + count; ++i) {
    if (!ctx.has_input(i)) continue;
    const Shape& s = ctx.input(i).shape;
    if (!any) {
      out = s;
      any = true;
      continue;
    }
    size_t r = out.size() > s.size() ? out.size() : s.size();
    Shape res(r);
    for (size_t j = 0; j < r; ++j) {
      int64_t da = j < r - out.size() ? 1 : out[j - (r - out.size())];
      int64_t db = j < r - s.size() ? 1 : s[j - (r - s.size())];
      if (da == db || db == 1) res[j] = da;
      else if (da == 1) res[j] = db;
      else
        fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input shapes cannot be broadcast together (",
             shape_str(out), " and input ", i, " ", shape_str(s), ")");
    }
    out = std::move(res);
  }
  if (out.size() > size_t(kMaxBroadcastRank))
    fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", out.size(), " exceeds netlite's limit of ",
         kMaxBroadcastRank, " for elementwise ops");
  return out;
}

// Throws TypeMismatch unless inputs `a` and `b` share a dtype.
inline void expect_same_dtype(const InferContext& ctx, size_t a, size_t b) {
  if (ctx.input(a).dtype != ctx.input(b).dtype)
    fail(StatusCode::TypeMismatch, ctx.node.describe(), ": input ", b, " has type ", dtype_name(ctx.input(b).dtype),
         " but input ", a, " has type ", dtype_name(ctx.input(a).dtype), "; they must match");
}

// ---- kernel templates ---------------------------------------------------------

// Binary arithmetic with both inputs and the output of one numeric type.
// Fn: `template <typename T> T operator()(T a, T b) const`.
template <typename Fn>
class BinaryArithmetic final : public OpKernel {
 public:
  BinaryArithmetic(std::initializer_list<DType> types, int64_t grain = kCheapGrain) : grain_(grain) {
    for (DType t : types) types_[ntypes_++] = t;
  }
  void infer(InferContext& ctx) const override {
    expect_types(ctx, 0);
    expect_same_dtype(ctx, 0, 1);
    ctx.set_output(0, ctx.input(0).dtype, infer_broadcast_shape(ctx, 0, 2));
  }
  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(1);
    Tensor& y = ctx.out(0);
    Broadcast bc;
    const Shape* shapes[2] = {&a.shape, &b.shape};
    make_broadcast(bc, y.shape, shapes, 2);
    const Fn fn{};
    dispatch_numeric(a.dtype, [&](auto tag) {
      using T = decltype(tag);
      binary_broadcast(bc, a.ptr<T>(), b.ptr<T>(), y.ptr<T>(), [&](T u, T v) { return fn(u, v); }, ctx.pool, grain_);
    });
  }

 private:
  void expect_types(const InferContext& ctx, size_t i) const {
    DType t = ctx.input(i).dtype;
    for (int k = 0; k < ntypes_; ++k) if (types_[k] == t) return;
    std::string names;
    for (int k = 0; k < ntypes_; ++k) { if (k) names += ", "; names += dtype_name(types_[k]); }
    fail(StatusCode::TypeMismatch, ctx.node.describe(), ": input ", i, " has type ", dtype_name(t), ", expected ", names);
  }
  DType types_[8] = {};
  int ntypes_ = 0;
  int64_t grain_;
};

// Comparison producing bool. Fn: `template <typename T> bool operator()(T a, T b) const`.
template <typename Fn>
class BinaryComparison final : public OpKernel {
 public:
  explicit BinaryComparison(bool allow_bool) : allow_bool_(allow_bool) {}
  void infer(InferContext& ctx) const override {
    if (allow_bool_)
      ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8, DType::Bool});
    else
      ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
    expect_same_dtype(ctx, 0, 1);
    ctx.set_output(0, DType::Bool, infer_broadcast_shape(ctx, 0, 2));
  }
  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(1);
    Tensor& y = ctx.out(0);
    Broadcast bc;
    const Shape* shapes[2] = {&a.shape, &b.shape};
    make_broadcast(bc, y.shape, shapes, 2);
    const Fn fn{};
    dispatch_with_bool(a.dtype, [&](auto tag) {
      using T = decltype(tag);
      binary_broadcast(bc, a.ptr<T>(), b.ptr<T>(), y.ptr<uint8_t>(),
                       [&](T u, T v) { return uint8_t(fn(u, v) ? 1 : 0); }, ctx.pool);
    });
  }

 private:
  bool allow_bool_;
};

// Float32 unary op implemented by a kernels:: function over a contiguous range.
class FloatActivation final : public OpKernel {
 public:
  FloatActivation(kernels::ActivationFn fn, kernels::ActivationParams p, int64_t grain) : fn_(fn), p_(p), grain_(grain) {}
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32});
    ctx.set_output(0, DType::Float32, ctx.input(0).shape);
  }
  void run(RunContext& ctx) const override {
    const float* x = ctx.in(0).ptr<float>();
    float* y = ctx.out(0).ptr<float>();
    const int64_t n = ctx.in(0).numel();
    if (n == 0) return;
    ctx.pool->parallel_for(n, [&](int64_t b, int64_t e) { fn_(x + b, y + b, e - b, p_); }, grain_);
  }

 private:
  kernels::ActivationFn fn_;
  kernels::ActivationParams p_;
  int64_t grain_;
};

// Unary op over numeric types with one output of the same type.
// Fn: `template <typename T> T operator()(T x) const`; float32 may use a kernels:: function instead.
template <typename Fn>
class NumericUnary final : public OpKernel {
 public:
  NumericUnary(std::initializer_list<DType> types, kernels::ActivationFn float_fn = nullptr, int64_t grain = kCheapGrain)
      : float_fn_(float_fn), grain_(grain) {
    for (DType t : types) types_[ntypes_++] = t;
  }
  void infer(InferContext& ctx) const override {
    DType t = ctx.input(0).dtype;
    bool ok = false;
    for (int k = 0; k < ntypes_; ++k) ok = ok || types_[k] == t;
    if (!ok) {
      std::string names;
      for (int k = 0; k < ntypes_; ++k) { if (k) names += ", "; names += dtype_name(types_[k]); }
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": input 0 has type ", dtype_name(t), ", expected ", names);
    }
    ctx.set_output(0, t, ctx.input(0).shape);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const int64_t n = x.numel();
    if (n == 0) return;
    if (x.dtype == DType::Float32 && float_fn_) {
      const float* px = x.ptr<float>();
      float* py = y.ptr<float>();
      const kernels::ActivationParams p{};
      ctx.pool->parallel_for(n, [&](int64_t b, int64_t e) { float_fn_(px + b, py + b, e - b, p); }, grain_);
      return;
    }
    const Fn fn{};
    dispatch_numeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      unary_map(x.ptr<T>(), y.ptr<T>(), n, [&](T v) { return fn(v); }, ctx.pool, grain_);
    });
  }

 private:
  DType types_[8] = {};
  int ntypes_ = 0;
  kernels::ActivationFn float_fn_;
  int64_t grain_;
};

}  // namespace ops
}  // namespace netlite

namespace netlite {
namespace ops {

// Variadic elementwise reduction over 1..N broadcast inputs (Sum, Max, Min, Mean):
// y = f(...f(f(x0, x1), x2)..., xN-1), then divided by N when `mean`.
// Fn: `template <typename T> T operator()(T a, T b) const`.
template <typename Fn>
class VariadicElementwise final : public OpKernel {
 public:
  // ints_since: first opset that allows integer types (0 = never).
  VariadicElementwise(int ints_since, bool mean) : ints_since_(ints_since), mean_(mean) {}
  void infer(InferContext& ctx) const override {
    const size_t n = ctx.num_inputs();
    if (n == 0) fail(StatusCode::InvalidModel, ctx.node.describe(), ": needs at least one input");
    const bool ints = ints_since_ > 0 && ctx.node.opset >= ints_since_;
    for (size_t i = 0; i < n; ++i) {
      if (!ctx.has_input(i)) fail(StatusCode::InvalidModel, ctx.node.describe(), ": input ", i, " is missing");
      if (ints) ctx.expect_dtype(i, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
      else ctx.expect_dtype(i, {DType::Float32});
      expect_same_dtype(ctx, 0, i);
    }
    ctx.set_output(0, ctx.input(0).dtype, infer_broadcast_shape(ctx, 0, n));
  }
  void run(RunContext& ctx) const override {
    Tensor& y = ctx.out(0);
    const size_t n = ctx.inputs.size();
    if (n == 1) {
      broadcast_copy(ctx.in(0), y, ctx.pool);
      return;
    }
    const Fn fn{};
    dispatch_numeric(y.dtype, [&](auto tag) {
      using T = decltype(tag);
      auto f = [&](T u, T v) { return fn(u, v); };
      for (size_t i = 1; i < n; ++i) {
        const Tensor& a = i == 1 ? ctx.in(0) : y;
        const Tensor& b = ctx.in(i);
        Broadcast bc;
        const Shape* shapes[2] = {&a.shape, &b.shape};
        make_broadcast(bc, y.shape, shapes, 2);
        binary_broadcast(bc, a.ptr<T>(), b.ptr<T>(), y.ptr<T>(), f, ctx.pool);
      }
    });
    if (mean_ && y.dtype == DType::Float32) {
      const float count = float(n);
      float* p = y.ptr<float>();
      ctx.pool->parallel_for(y.numel(), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) p[i] = p[i] / count;
      }, kCheapGrain);
    }
  }

 private:
  // y = x stretched to y's shape.
  static void broadcast_copy(const Tensor& x, Tensor& y, ThreadPool* pool) {
    if (x.shape == y.shape) {
      copy_tensor(x, y, pool);
      return;
    }
    Broadcast bc;
    const Shape* shapes[2] = {&x.shape, &x.shape};
    make_broadcast(bc, y.shape, shapes, 2);
    dispatch_numeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      binary_broadcast(bc, x.ptr<T>(), x.ptr<T>(), y.ptr<T>(), [](T u, T) { return u; }, pool);
    });
  }
  int ints_since_;
  bool mean_;
};

// NaN-propagating max/min (numpy maximum/minimum): a NaN in either operand wins.
// Written as one select so the row loops vectorise (b != b is false for integers).
struct MaxFn {
  template <typename T>
  T operator()(T a, T b) const { return (b > a || b != b) ? b : a; }
};
struct MinFn {
  template <typename T>
  T operator()(T a, T b) const { return (b < a || b != b) ? b : a; }
};

}  // namespace ops
}  // namespace netlite

namespace netlite {
namespace ops {

// ---- linear quantization parameters (QuantizeLinear / DequantizeLinear) -------

// Per-tensor (one scale) or per-axis (a 1-D scale along `axis`) geometry:
// x viewed as [outer, channels, inner] with channels = 1 per tensor.
struct QuantLayout {
  bool per_axis = false;
  int axis = 0;
  int64_t outer = 1, channels = 1, inner = 1;
};

// Validates scale (input 1) and zero point (input 2, optional) against x
// (input 0) and returns the layout; `axis_attr` is the node's axis attribute.
inline QuantLayout infer_quant_layout(const InferContext& ctx, int64_t axis_attr) {
  const Node& node = ctx.node;
  const Shape& xs = ctx.input(0).shape;
  const TensorMeta& scale = ctx.input(1);
  if (scale.dtype != DType::Float32)
    fail(StatusCode::TypeMismatch, node.describe(), ": scale must be float32, got ", dtype_name(scale.dtype));
  if (ctx.has_input(2) && ctx.input(2).shape != scale.shape)
    fail(StatusCode::ShapeMismatch, node.describe(), ": zero point shape ", shape_str(ctx.input(2).shape),
         " differs from scale shape ", shape_str(scale.shape));
  QuantLayout q;
  for (int64_t d : xs) q.inner *= d;
  const int64_t sn = shape_numel(scale.shape);
  if (sn == 1 && scale.shape.size() <= 1) return q;  // per tensor
  if (scale.shape.size() != 1)
    fail(StatusCode::Unsupported, node.describe(), ": scale of shape ", shape_str(scale.shape),
         " (blocked quantization) is not supported; use a scalar or a 1-D per-axis scale");
  if (node.opset < 13)
    fail(StatusCode::InvalidModel, node.describe(), ": per-axis scale needs opset 13, the model uses ", node.opset);
  const int r = int(xs.size());
  if (axis_attr < -r || axis_attr >= r)
    fail(StatusCode::InvalidArgument, node.describe(), ": axis ", axis_attr, " is out of range for input rank ", r);
  q.per_axis = true;
  q.axis = int(axis_attr < 0 ? axis_attr + r : axis_attr);
  if (xs[size_t(q.axis)] != sn)
    fail(StatusCode::ShapeMismatch, node.describe(), ": per-axis scale has ", sn, " elements but input axis ", q.axis,
         " has size ", xs[size_t(q.axis)]);
  q.outer = 1;
  q.inner = 1;
  for (int d = 0; d < q.axis; ++d) q.outer *= xs[size_t(d)];
  q.channels = sn;
  for (int d = q.axis + 1; d < r; ++d) q.inner *= xs[size_t(d)];
  return q;
}

// The same layout at run time, from tensors already validated by infer_quant_layout.
inline QuantLayout run_quant_layout(const Tensor& x, const Tensor& scale, int64_t axis_attr) {
  QuantLayout q;
  const int64_t sn = scale.numel();
  if (sn == 1 && scale.rank() <= 1) {
    q.inner = x.numel();
    return q;
  }
  const int r = int(x.rank());
  q.per_axis = true;
  q.axis = int(axis_attr < 0 ? axis_attr + r : axis_attr);
  for (int d = 0; d < q.axis; ++d) q.outer *= x.shape[size_t(d)];
  q.channels = sn;
  for (int d = q.axis + 1; d < r; ++d) q.inner *= x.shape[size_t(d)];
  return q;
}

// Runs body(begin, end, channel) over contiguous runs of x covering the layout:
// per tensor, chunks of the whole; per axis, [outer, channel] runs of `inner`.
// When inner == 1 (channels last) the caller uses row kernels instead.
template <typename F>
void for_each_quant_run(const QuantLayout& q, ThreadPool* pool, F&& body) {
  if (!q.per_axis) {
    pool->parallel_for(q.inner, [&](int64_t b, int64_t e) { body(b, e, int64_t(0)); }, kCheapGrain);
    return;
  }
  const int64_t runs = q.outer * q.channels;
  int64_t grain = kCheapGrain / (q.inner > 0 ? q.inner : 1);
  if (grain < 1) grain = 1;
  pool->parallel_for(runs, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) body(r * q.inner, (r + 1) * q.inner, r % q.channels);
  }, grain);
}

}  // namespace ops
}  // namespace netlite
