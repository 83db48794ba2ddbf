// Cast (ai.onnx 6-25): converts between float32, int32, int64, uint8, int8 and
// bool. Float -> integer truncates toward zero (NaN gives 0; values beyond int64
// saturate, then narrower integer types wrap modulo 2^bits as numpy does on
// x86); integer -> integer wraps; anything -> bool is (x != 0). The `saturate`
// attribute (opset 19) only concerns float8 types, which netlite lacks.
#include <cmath>

#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace cast_detail {

template <typename D, typename S>
D convert(S v) {
  if (std::is_floating_point<S>::value && !std::is_floating_point<D>::value) {
    const double d = double(v);
    int64_t i;
    if (!(d == d)) i = 0;
    else if (d >= 9223372036854775807.0) i = std::numeric_limits<int64_t>::max();
    else if (d <= -9223372036854775808.0) i = std::numeric_limits<int64_t>::min();
    else i = int64_t(d);
    return D(i);
  }
  return D(v);
}

class Cast final : public OpKernel {
 public:
  explicit Cast(DType to) : to_(to) {}
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8, DType::Bool});
    ctx.set_output(0, to_, ctx.input(0).shape);
  }
  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const int64_t n = x.numel();
    if (n == 0) return;
    if (x.dtype == to_) {
      copy_tensor(x, y, ctx.pool);
      return;
    }
    dispatch_with_bool(x.dtype, [&](auto src_tag) {
      using S = decltype(src_tag);
      const S* px = x.ptr<S>();
      if (to_ == DType::Bool) {
        unary_map(px, y.ptr<uint8_t>(), n, [](S v) { return uint8_t(v != S(0) ? 1 : 0); }, ctx.pool);
        return;
      }
      dispatch_numeric(to_, [&](auto dst_tag) {
        using D = decltype(dst_tag);
        unary_map(px, y.ptr<D>(), n, [](S v) { return convert<D, S>(v); }, ctx.pool);
      });
    });
  }

 private:
  DType to_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (!node.has_attr("to")) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'to' is required");
  const DType to = DType(node.attr_int("to", 0));
  switch (to) {
    case DType::Float32: case DType::Int32: case DType::Int64: case DType::UInt8: case DType::Int8: case DType::Bool:
      break;
    default:
      fail(StatusCode::TypeMismatch, node.describe(), ": cannot cast to ", dtype_name(to), " (type ", int(to),
           "); netlite supports float32, int32, int64, uint8, int8 and bool");
  }
  return std::make_unique<Cast>(to);
}

}  // namespace cast_detail

extern const OpDef kOp_Cast = {"Cast", "", 6, 25, "between float32, int32, int64, uint8, int8, bool", cast_detail::create};

}  // namespace ops
}  // namespace netlite
