// Pow (ai.onnx 7-25): y = x ^ exponent with numpy broadcasting. Base float32
// (int32/int64 too since opset 12); exponent float32, int32, int64, uint8 or int8
// since opset 12 (same type as the base before). The output has the base's type.
// Float ^ float uses powf; mixed types compute in double and convert (numpy
// promotes likewise). Integer ^ integer is exact repeated squaring with wrap-around;
// a negative integer exponent gives the truncated quotient 1 / x^|e|.
#include <cmath>

#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace pow_detail {

template <typename T>
T int_pow(T base, int64_t e) {
  if (e < 0) {
    if (base == T(1)) return T(1);
    if (std::is_signed<T>::value && base == T(-1)) return (e & 1) ? base : T(1);
    return T(0);
  }
  T result = T(1);
  T b = base;
  while (e) {
    if (e & 1) result = Wrap<T>::mul(result, b);
    b = Wrap<T>::mul(b, b);
    e >>= 1;
  }
  return result;
}

// double -> integer T, truncating; NaN gives 0 and out-of-range values saturate.
template <typename T>
T to_int_saturate(double v) {
  if (!(v == v)) return T(0);
  if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return T(v);
}

template <typename A, typename B>
A pow_value(A a, B b) {
  if (std::is_same<A, float>::value) {
    if (std::is_same<B, float>::value) return A(std::pow(float(a), float(b)));
    return A(std::pow(double(a), double(b)));
  }
  if (std::is_same<B, float>::value) return to_int_saturate<A>(std::pow(double(a), double(b)));
  return int_pow<A>(a, int64_t(b));
}

template <>
float pow_value<float, float>(float a, float b) { return std::pow(a, b); }

class Pow final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    if (ctx.node.opset < 12) {
      ctx.expect_dtype(0, {DType::Float32});
      expect_same_dtype(ctx, 0, 1);
    } else {
      ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64});
      ctx.expect_dtype(1, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
    }
    ctx.set_output(0, ctx.input(0).dtype, infer_broadcast_shape(ctx, 0, 2));
  }
  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(1);
    Tensor& y = ctx.out(0);
    Broadcast bc;
    const Shape* shapes[2] = {&a.shape, &b.shape};
    make_broadcast(bc, y.shape, shapes, 2);
    auto with_base = [&](auto base_tag) {
      using A = decltype(base_tag);
      dispatch_numeric(b.dtype, [&](auto exp_tag) {
        using B = decltype(exp_tag);
        binary_broadcast(bc, a.ptr<A>(), b.ptr<B>(), y.ptr<A>(), [](A u, B v) { return pow_value<A, B>(u, v); },
                         ctx.pool, kCostlyGrain);
      });
    };
    switch (a.dtype) {
      case DType::Float32: with_base(float{}); break;
      case DType::Int32: with_base(int32_t{}); break;
      case DType::Int64: with_base(int64_t{}); break;
      default: break;  // excluded by infer()
    }
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Pow>(); }

}  // namespace pow_detail

extern const OpDef kOp_Pow = {"Pow", "", 7, 25,
                              "base float32 (int32/int64 since 12), exponent of any numeric type since 12; broadcasting",
                              pow_detail::create};

}  // namespace ops
}  // namespace netlite
