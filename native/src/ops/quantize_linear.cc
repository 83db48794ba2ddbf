// QuantizeLinear (ai.onnx 10-25): y = saturate(round_half_even(x / scale) + zero_point)
// for float32 x, to uint8 or int8. Per tensor (scalar scale) or, from opset 13,
// per axis (1-D scale along `axis`, default 1). The output type is the zero
// point's; without a zero point it is uint8 (or opset 21's output_dtype) with
// zero point 0. Not supported: int32 x, float8/int4/int2/16-bit outputs,
// blocked quantization (opset 21 block_size) and a non-float32 `precision`,
// each rejected with a message.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace quantize_linear_detail {

class QuantizeLinear final : public OpKernel {
 public:
  QuantizeLinear(int64_t axis, DType output_dtype) : axis_(axis), output_dtype_(output_dtype) {}

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    DType out = output_dtype_ == DType::Undefined ? DType::UInt8 : output_dtype_;
    if (ctx.has_input(2)) {
      const DType z = ctx.input(2).dtype;
      if (z != DType::UInt8 && z != DType::Int8)
        fail(StatusCode::Unsupported, node.describe(), ": zero point of type ", dtype_name(z),
             " is not supported (uint8 or int8)");
      if (output_dtype_ != DType::Undefined && output_dtype_ != z)
        fail(StatusCode::InvalidModel, node.describe(), ": output_dtype ", dtype_name(output_dtype_),
             " differs from the zero point's type ", dtype_name(z));
      out = z;
    }
    infer_quant_layout(ctx, axis_);
    ctx.set_output(0, out, ctx.input(0).shape);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const Tensor& scale = ctx.in(1);
    const Tensor* zp = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    Tensor& y = ctx.out(0);
    if (x.numel() == 0) return;
    const QuantLayout q = run_quant_layout(x, scale, axis_);
    if (y.dtype == DType::UInt8) go<uint8_t>(x, scale, zp, y, q, ctx.pool);
    else go<int8_t>(x, scale, zp, y, q, ctx.pool);
  }

 private:
  static void kernel(const float* x, uint8_t* y, int64_t n, float s, int32_t z) { kernels::quantize_f32_u8(x, y, n, s, z); }
  static void kernel(const float* x, int8_t* y, int64_t n, float s, int32_t z) { kernels::quantize_f32_s8(x, y, n, s, z); }
  static void rows(const float* x, uint8_t* y, int64_t r, int64_t c, const float* s, const uint8_t* z) {
    kernels::quantize_rows_f32_u8(x, y, r, c, s, z);
  }
  static void rows(const float* x, int8_t* y, int64_t r, int64_t c, const float* s, const int8_t* z) {
    kernels::quantize_rows_f32_s8(x, y, r, c, s, z);
  }

  template <typename Q>
  static void go(const Tensor& x, const Tensor& scale, const Tensor* zp, Tensor& y, const QuantLayout& q, ThreadPool* pool) {
    const float* px = x.ptr<float>();
    Q* py = y.ptr<Q>();
    const float* ps = scale.ptr<float>();
    const Q* pz = zp ? zp->ptr<Q>() : nullptr;
    if (q.per_axis && q.inner == 1) {
      int64_t grain = kCheapGrain / q.channels;
      pool->parallel_for(q.outer, [&](int64_t b, int64_t e) {
        rows(px + b * q.channels, py + b * q.channels, e - b, q.channels, ps, pz);
      }, grain < 1 ? 1 : grain);
      return;
    }
    for_each_quant_run(q, pool, [&](int64_t b, int64_t e, int64_t c) {
      kernel(px + b, py + b, e - b, ps[c], pz ? int32_t(pz[c]) : 0);
    });
  }

  int64_t axis_;
  DType output_dtype_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (node.attr_int("block_size", 0) != 0)
    fail(StatusCode::Unsupported, node.describe(), ": blocked quantization (block_size = ",
         node.attr_int("block_size", 0), ") is not supported");
  // Opset 25's `precision` picks the type of the division; only float32 exists here.
  const int64_t precision = node.attr_int("precision", 0);
  if (precision != 0 && DType(precision) != DType::Float32)
    fail(StatusCode::Unsupported, node.describe(), ": precision ", dtype_name(DType(precision)),
         " is not supported (float32 only)");
  DType out = DType::Undefined;
  if (node.opset >= 21 && node.attr_int("output_dtype", 0) != 0) {
    out = DType(node.attr_int("output_dtype", 0));
    if (out != DType::UInt8 && out != DType::Int8)
      fail(StatusCode::Unsupported, node.describe(), ": output_dtype ", dtype_name(out), " (",
           int(out), ") is not supported (uint8 or int8)");
  }
  return std::make_unique<QuantizeLinear>(node.opset >= 13 ? node.attr_int("axis", 1) : 1, out);
}

}  // namespace quantize_linear_detail

extern const OpDef kOp_QuantizeLinear = {"QuantizeLinear", "", 10, 25,
                                         "float32 to uint8/int8; per tensor or per axis; no blocked quantization",
                                         quantize_linear_detail::create};

}  // namespace ops
}  // namespace netlite
