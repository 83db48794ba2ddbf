// DequantizeLinear (ai.onnx 10-25): y = (x - zero_point) * scale, float32 output,
// for uint8, int8 or int32 x (int32 with zero point 0 or absent). Per tensor
// (scalar scale) or, from opset 13, per axis (1-D scale along `axis`, default 1).
// Blocked quantization (opset 21 block_size), other input types and a
// non-float32 output_dtype are rejected with a message.
#include "common/elementwise.h"

namespace netlite {
namespace ops {
namespace dequantize_linear_detail {

class DequantizeLinear final : public OpKernel {
 public:
  explicit DequantizeLinear(int64_t axis) : axis_(axis) {}

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    const DType t = ctx.input(0).dtype;
    if (t != DType::UInt8 && t != DType::Int8 && t != DType::Int32)
      fail(StatusCode::Unsupported, node.describe(), ": input of type ", dtype_name(t),
           " is not supported (uint8, int8 or int32)");
    if (ctx.has_input(2)) {
      expect_same_dtype(ctx, 0, 2);
      if (t == DType::Int32 && ctx.input(2).value) {
        const Tensor& z = *ctx.input(2).value;
        for (int64_t i = 0; i < z.numel(); ++i)
          if (z.ptr<int32_t>()[i] != 0)
            fail(StatusCode::InvalidModel, node.describe(), ": an int32 input must have zero point 0");
      }
    }
    infer_quant_layout(ctx, axis_);
    ctx.set_output(0, DType::Float32, ctx.input(0).shape);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const Tensor& scale = ctx.in(1);
    const Tensor* zp = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    Tensor& y = ctx.out(0);
    if (x.numel() == 0) return;
    const QuantLayout q = run_quant_layout(x, scale, axis_);
    switch (x.dtype) {
      case DType::UInt8: go<uint8_t>(x, scale, zp, y, q, ctx.pool); break;
      case DType::Int8: go<int8_t>(x, scale, zp, y, q, ctx.pool); break;
      case DType::Int32: go<int32_t>(x, scale, zp, y, q, ctx.pool); break;
      default: break;  // excluded by infer()
    }
  }

 private:
  static void kernel(const uint8_t* x, float* y, int64_t n, float s, int32_t z) { kernels::dequantize_u8_f32(x, y, n, s, z); }
  static void kernel(const int8_t* x, float* y, int64_t n, float s, int32_t z) { kernels::dequantize_s8_f32(x, y, n, s, z); }
  static void kernel(const int32_t* x, float* y, int64_t n, float s, int32_t z) { kernels::dequantize_s32_f32(x, y, n, s, z); }
  static void rows(const uint8_t* x, float* y, int64_t r, int64_t c, const float* s, const uint8_t* z) {
    kernels::dequantize_rows_u8_f32(x, y, r, c, s, z);
  }
  static void rows(const int8_t* x, float* y, int64_t r, int64_t c, const float* s, const int8_t* z) {
    kernels::dequantize_rows_s8_f32(x, y, r, c, s, z);
  }
  static void rows(const int32_t* x, float* y, int64_t r, int64_t c, const float* s, const int32_t* z) {
    kernels::dequantize_rows_s32_f32(x, y, r, c, s, z);
  }

  template <typename Q>
  static void go(const Tensor& x, const Tensor& scale, const Tensor* zp, Tensor& y, const QuantLayout& q, ThreadPool* pool) {
    const Q* px = x.ptr<Q>();
    float* py = y.ptr<float>();
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
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  if (node.attr_int("block_size", 0) != 0)
    fail(StatusCode::Unsupported, node.describe(), ": blocked quantization (block_size = ",
         node.attr_int("block_size", 0), ") is not supported");
  const int64_t out = node.attr_int("output_dtype", 0);
  if (out != 0 && DType(out) != DType::Float32)
    fail(StatusCode::Unsupported, node.describe(), ": output_dtype ", dtype_name(DType(out)),
         " is not supported (float32 only)");
  return std::make_unique<DequantizeLinear>(node.opset >= 13 ? node.attr_int("axis", 1) : 1);
}

}  // namespace dequantize_linear_detail

extern const OpDef kOp_DequantizeLinear = {"DequantizeLinear", "", 10, 25,
                                           "uint8/int8/int32 to float32; per tensor or per axis; no blocked quantization",
                                           dequantize_linear_detail::create};

}  // namespace ops
}  // namespace netlite
