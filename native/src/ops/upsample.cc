// Upsample (ai.onnx 7-10; deprecated by Resize at 10, still accepted there as
// onnxruntime does): out dim = floor(in dim * scale), asymmetric coordinates.
// `scales` is an attribute in opset 7 and a float32 input 1 (known at plan time)
// since opset 9. Nearest (any type; truncates the source coordinate when
// upscaling, as onnxruntime does) or linear (float32, N-d).
#include <cmath>

#include "../kernels/resize.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace upsample_detail {

using kernels::kMaxResizeRank;
using kernels::ResizeAxis;

class Upsample final : public OpKernel {
 public:
  Upsample(kernels::ResizeParams p, std::vector<float> scales) : p_(p), scales_(std::move(scales)) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    const int r = int(x.shape.size());
    if (r > kMaxResizeRank)
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", r, " is above the supported ", kMaxResizeRank);
    if (p_.mode == kernels::ResizeMode::Nearest) expect_sized_dtype(ctx.node, x.dtype, "X");
    else if (x.dtype != DType::Float32)
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": linear mode supports float32 input, got ", dtype_name(x.dtype));
    const Tensor* scales = nullptr;
    if (ctx.node.opset >= 9) {
      scales = &ctx.input_value(1, "scales");
      if (scales->dtype != DType::Float32)
        fail(StatusCode::TypeMismatch, ctx.node.describe(), ": scales must be float32, got ", dtype_name(scales->dtype));
    }
    ResizeAxis ax[kMaxResizeRank];
    if (const char* err = geometry(x.shape, scales, ax))
      fail(StatusCode::InvalidArgument, ctx.node.describe(), ": ", err, " (input shape ", shape_str(x.shape), ")");
    Shape out;
    int64_t combos = 1;
    for (int d = 0; d < r; ++d) {
      out.push_back(ax[d].out);
      if (d + 1 < r) combos *= kernels::resize_taps(p_, ax[d]);
    }
    if (combos > kernels::kMaxResizeCombos)
      fail(StatusCode::Unsupported, ctx.node.describe(), ": linear interpolation over ", r, " axes is not supported");
    ctx.scratch_bytes = kernels::resize_scratch_bytes(p_, ax, r);
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    ResizeAxis ax[kMaxResizeRank];
    const Tensor* scales = ctx.node.opset >= 9 ? ctx.inputs[1] : nullptr;
    if (geometry(x.shape, scales, ax)) return;  // validated by infer()
    if (p_.mode == kernels::ResizeMode::Linear) {
      kernels::resize_float(p_, ax, int(x.rank()), x.ptr<float>(), ctx.out(0).ptr<float>(), ctx.scratch, ctx.pool);
    } else {
      const uint8_t zero[8] = {0};
      kernels::resize_nearest_bytes(p_, ax, int(x.rank()), dtype_size(x.dtype), x.data, ctx.out(0).data, zero,
                                    ctx.scratch, ctx.pool);
    }
  }

 private:
  const char* geometry(const Shape& in, const Tensor* scales, ResizeAxis* ax) const {
    const int64_t n = scales ? scales->numel() : int64_t(scales_.size());
    if (n != int64_t(in.size())) return "scales must hold one value per input dim";
    for (size_t d = 0; d < in.size(); ++d) {
      const double s = scales ? double(scales->ptr<float>()[d]) : double(scales_[d]);
      if (!(s > 0.0) || !std::isfinite(s)) return "scales must be positive and finite";
      const double len = double(in[d]) * s;
      if (!(len < double(kMaxElements))) return "scales make the output too large";
      ax[d] = ResizeAxis();
      ax[d].in = in[d];
      ax[d].out = int64_t(std::floor(len));
      ax[d].scale = s;
    }
    return nullptr;
  }

  kernels::ResizeParams p_;
  std::vector<float> scales_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  kernels::ResizeParams p;
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest") p.mode = kernels::ResizeMode::Nearest;
  else if (mode == "linear" || mode == "bilinear") p.mode = kernels::ResizeMode::Linear;
  else fail(StatusCode::Unsupported, node.describe(), ": mode '", mode, "' is not supported");
  p.coord = kernels::ResizeCoord::Asymmetric;
  p.nearest = kernels::ResizeNearest::Simple;
  std::vector<float> scales;
  if (node.opset < 9) {
    if (!node.has_attr("scales")) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'scales' is required");
    scales = node.attr_floats("scales");
  }
  return std::make_unique<Upsample>(p, scales);
}

}  // namespace upsample_detail

extern const OpDef kOp_Upsample = {"Upsample", "", 7, 10, "nearest (any type) / linear (float32); asymmetric",
                                   upsample_detail::create};

}  // namespace ops
}  // namespace netlite
