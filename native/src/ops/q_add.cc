// netlite.QAdd: the integer form of Q(act(DQ(A) + DQ(B))) (act: none or Relu/Clip
// as y_min/y_max) that passes/fuse_qdq.cc rewrites. A and B are 8-bit (uint8 or
// int8, each with its own scale and zero point, per tensor), broadcast
// numpy-style; attributes a_scale, a_zero_point, b_scale, b_zero_point and the
// y_* of ops/common/quant_util.h (one bound each).
//   y = clamp(round_half_even((A - za) * sa/sy + (B - zb) * sb/sy) + zy, y_min, y_max)
// equals the float graph's Q(DQ(A) + DQ(B)) up to the rounding of its float sum.
#include "../kernels/qelementwise.h"
#include "common/elementwise.h"
#include "common/quant_util.h"

namespace netlite {
namespace ops {
namespace q_add_detail {

class QAdd final : public OpKernel {
 public:
  explicit QAdd(const Node& node) {
    a_scale_ = q_scale_attr(node, "a_scale");
    b_scale_ = q_scale_attr(node, "b_scale");
    a_zero_ = node.attr_int("a_zero_point", 0);
    b_zero_ = node.attr_int("b_zero_point", 0);
    out_ = parse_q_output(node, 1);
  }

  void infer(InferContext& ctx) const override {
    expect_qtype(ctx, 0);
    expect_qtype(ctx, 1);
    q_input_zero_u8(ctx.node, "A", a_zero_, ctx.input(0).dtype);
    q_input_zero_u8(ctx.node, "B", b_zero_, ctx.input(1).dtype);
    ctx.set_output(0, out_.type, infer_broadcast_shape(ctx, 0, 2));
  }

  void run(RunContext& ctx) const override {
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(1);
    Tensor& y = ctx.out(0);
    kernels::QAddParams p;
    p.a_flip = a.dtype == DType::Int8 ? 0x80 : 0;
    p.b_flip = b.dtype == DType::Int8 ? 0x80 : 0;
    p.a_zero = int32_t(a_zero_) + (p.a_flip ? 128 : 0);
    p.b_zero = int32_t(b_zero_) + (p.b_flip ? 128 : 0);
    p.a_scale = a_scale_ / out_.scale;
    p.b_scale = b_scale_ / out_.scale;
    p.lo = out_.lo[0];
    p.hi = out_.hi[0];
    p.zero_point = out_.zero_point;
    const uint8_t* pa = static_cast<const uint8_t*>(a.data);
    const uint8_t* pb = static_cast<const uint8_t*>(b.data);
    uint8_t* py = static_cast<uint8_t*>(y.data);
    if (a.shape == b.shape) {
      ctx.pool->parallel_for(y.numel(), [&](int64_t s, int64_t e) { kernels::qadd(pa + s, pb + s, py + s, e - s, p); },
                             kCheapGrain);
      return;
    }
    Broadcast bc;
    const Shape* shapes[2] = {&a.shape, &b.shape};
    make_broadcast(bc, y.shape, shapes, 2);
    binary_broadcast(bc, pa, pb, py, [&p](uint8_t u, uint8_t v) { return kernels::qadd_one(u, v, p); }, ctx.pool);
  }

 private:
  float a_scale_ = 1.0f, b_scale_ = 1.0f;
  int64_t a_zero_ = 0, b_zero_ = 0;
  QOutput out_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<QAdd>(node); }

}  // namespace q_add_detail

extern const OpDef kOp_QAdd = {"QAdd", "netlite", 1, 1,
                               "fused QDQ Add (from passes/fuse_qdq): u8/s8 inputs with their own scales, broadcast, "
                               "requantized 8-bit output, fused Relu/Clip",
                               q_add_detail::create};

}  // namespace ops
}  // namespace netlite
