// netlite.QLookup: y = T[x] for an 8-bit x and a constant 256-entry table T
// (uint8 or int8: the output type), indexed by x's byte. passes/fuse_qdq.cc
// builds T by running the float graph's DQ -> f -> Q on all 256 inputs, so any
// unary elementwise f between per-tensor DQ and Q (Relu, Clip, Sigmoid, HardSwish,
// or none: a requantization) runs as a table lookup with bit-identical results.
#include "../kernels/qelementwise.h"
#include "common/elementwise.h"
#include "common/quant_util.h"

namespace netlite {
namespace ops {
namespace q_lookup_detail {

class QLookup final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    expect_qtype(ctx, 0);
    expect_qtype(ctx, 1);
    const TensorMeta& t = ctx.input(1);
    if (shape_numel(t.shape) != 256)
      fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": table must have 256 entries, got ", shape_str(t.shape));
    ctx.set_output(0, t.dtype, ctx.input(0).shape);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const uint8_t* table = static_cast<const uint8_t*>(ctx.in(1).data);
    const uint8_t* px = static_cast<const uint8_t*>(x.data);
    uint8_t* py = static_cast<uint8_t*>(ctx.out(0).data);
    ctx.pool->parallel_for(x.numel(), [&](int64_t b, int64_t e) { kernels::qlookup(px + b, py + b, e - b, table); },
                           kCheapGrain);
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<QLookup>(); }

}  // namespace q_lookup_detail

extern const OpDef kOp_QLookup = {"QLookup", "netlite", 1, 1,
                                  "8-bit table lookup (from passes/fuse_qdq): unary ops and requantization between DQ and Q",
                                  q_lookup_detail::create};

}  // namespace ops
}  // namespace netlite
