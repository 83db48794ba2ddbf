// Range (ai.onnx 11-25): [start, start+delta, ...) up to `limit`, with
// max(ceil((limit-start)/delta), 0) elements. Scalars start/limit/delta of one
// type (float32, int32, int64); the count depends on their values, so they must
// be known at plan time.
#include <cmath>

#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace range_detail {

class Range final : public OpKernel {
 public:
  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64});
    const DType dt = ctx.input(0).dtype;
    for (size_t i = 1; i < 3; ++i)
      if (ctx.input(i).dtype != dt)
        fail(StatusCode::TypeMismatch, ctx.node.describe(), ": input ", i, " has type ", dtype_name(ctx.input(i).dtype),
             " but start has type ", dtype_name(dt));
    const char* names[3] = {"start", "limit", "delta"};
    for (size_t i = 0; i < 3; ++i)
      if (shape_numel(ctx.input(i).shape) != 1)
        fail(StatusCode::InvalidModel, ctx.node.describe(), ": ", names[i], " must be a scalar, got shape ",
             shape_str(ctx.input(i).shape));
    const Tensor& s = ctx.input_value(0, "start");
    const Tensor& l = ctx.input_value(1, "limit");
    const Tensor& d = ctx.input_value(2, "delta");
    int64_t n = 0;
    if (dt == DType::Float32) {
      const double start = s.ptr<float>()[0], limit = l.ptr<float>()[0], delta = d.ptr<float>()[0];
      if (delta == 0.0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
        fail(StatusCode::InvalidArgument, ctx.node.describe(), ": delta must be non-zero and all inputs finite");
      double c = std::ceil((limit - start) / delta);
      if (c > double(kMaxElements)) fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": output is too large");
      n = c > 0 ? int64_t(c) : 0;
    } else {
      const int64_t start = read_int(s, 0), limit = read_int(l, 0), delta = read_int(d, 0);
      if (delta == 0) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": delta must be non-zero");
      // Exact ceil division in unsigned arithmetic (limit - start may overflow int64).
      uint64_t span = 0, step = 0;
      if (delta > 0 && limit > start) { span = uint64_t(limit) - uint64_t(start); step = uint64_t(delta); }
      if (delta < 0 && limit < start) { span = uint64_t(start) - uint64_t(limit); step = uint64_t(0) - uint64_t(delta); }
      uint64_t q = step ? span / step + (span % step != 0) : 0;
      if (q > uint64_t(kMaxElements)) fail(StatusCode::ShapeMismatch, ctx.node.describe(), ": output is too large");
      n = int64_t(q);
    }
    ctx.set_output(0, dt, {n});
  }

  void run(RunContext& ctx) const override {
    Tensor& y = ctx.out(0);
    const int64_t n = y.numel();
    switch (y.dtype) {
      case DType::Float32: {
        const float start = ctx.in(0).ptr<float>()[0], delta = ctx.in(2).ptr<float>()[0];
        float* out = y.ptr<float>();
        for (int64_t i = 0; i < n; ++i) out[i] = start + float(i) * delta;
        break;
      }
      case DType::Int32: {
        const int32_t start = ctx.in(0).ptr<int32_t>()[0], delta = ctx.in(2).ptr<int32_t>()[0];
        int32_t* out = y.ptr<int32_t>();
        for (int64_t i = 0; i < n; ++i) out[i] = int32_t(int64_t(start) + i * int64_t(delta));
        break;
      }
      case DType::Int64: {
        const int64_t start = ctx.in(0).ptr<int64_t>()[0], delta = ctx.in(2).ptr<int64_t>()[0];
        int64_t* out = y.ptr<int64_t>();
        for (int64_t i = 0; i < n; ++i) out[i] = start + i * delta;
        break;
      }
      default: break;
    }
  }
};

std::unique_ptr<OpKernel> create(const Node&, const Graph&) { return std::make_unique<Range>(); }

}  // namespace range_detail

extern const OpDef kOp_Range = {"Range", "", 11, 25, "float32/int32/int64; inputs known at plan time",
                                range_detail::create};

}  // namespace ops
}  // namespace netlite
