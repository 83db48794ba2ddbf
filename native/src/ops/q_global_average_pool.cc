// netlite.QGlobalAveragePool: the integer form of Q(GlobalAveragePool(DQ(X)))
// that passes/fuse_qdq.cc rewrites. X is 8-bit NC... (rank >= 3), per-tensor
// attributes x_scale, x_zero_point and the y_* of ops/common/quant_util.h:
//   y[n, c] = clamp(round_half_even((sum(X[n, c]) - zx * HW) * sx / (HW * sy)) + zy)
// (the plane sum is exact in integers; the float graph's mean is rounded).
#include "../kernels/qelementwise.h"
#include "common/quant_util.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace q_global_average_pool_detail {

class QGlobalAveragePool final : public OpKernel {
 public:
  explicit QGlobalAveragePool(const Node& node) {
    x_scale_ = q_scale_attr(node, "x_scale");
    x_zero_ = node.attr_int("x_zero_point", 0);
    out_ = parse_q_output(node, 1);
  }

  void infer(InferContext& ctx) const override {
    expect_qtype(ctx, 0);
    q_input_zero_u8(ctx.node, "x", x_zero_, ctx.input(0).dtype);
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() < 3)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": input must have rank >= 3, got ", shape_str(xs));
    Shape ys = {xs[0], xs[1]};
    for (size_t i = 2; i < xs.size(); ++i) ys.push_back(1);
    ctx.set_output(0, out_.type, ys);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int64_t planes = x.shape[0] * x.shape[1];
    if (planes == 0) return;
    const int64_t hw = x.numel() / planes;
    const bool is_signed = x.dtype == DType::Int8;
    const uint8_t* px = static_cast<const uint8_t*>(x.data);
    uint8_t* py = static_cast<uint8_t*>(ctx.out(0).data);
    const float mult = hw > 0 ? x_scale_ / (float(hw) * out_.scale) : 0.0f;
    ctx.pool->parallel_for(planes, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t s = kernels::qsum(px + i * hw, hw, is_signed) - x_zero_ * hw;
        py[i] = uint8_t(kernels::qrequant(0, 0.0f, float(s) * mult, out_.lo[0], out_.hi[0], out_.zero_point));
      }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(hw, 1)));
  }

 private:
  float x_scale_ = 1.0f;
  int64_t x_zero_ = 0;
  QOutput out_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  return std::make_unique<QGlobalAveragePool>(node);
}

}  // namespace q_global_average_pool_detail

extern const OpDef kOp_QGlobalAveragePool = {
    "QGlobalAveragePool", "netlite", 1, 1,
    "fused QDQ GlobalAveragePool (from passes/fuse_qdq): u8/s8, integer plane sums, requantized output",
    q_global_average_pool_detail::create};

}  // namespace ops
}  // namespace netlite
