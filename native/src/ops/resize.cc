// Resize (ai.onnx 10-25): nearest (round_prefer_floor / round_prefer_ceil /
// floor / ceil), linear and cubic (cubic_coeff_a, exclude_outside) interpolation
// over any axes, N-d separable, with every coordinate_transformation_mode
// (half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners,
// asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize with roi and
// extrapolation_value), antialias, axes and keep_aspect_ratio_policy (18+).
// Inputs: opset 10 (X, scales); 11+ (X, roi, scales, sizes), one of scales/sizes
// non-empty, both known at plan time (they fix the output shape). Opset 10 uses
// asymmetric coordinates and, for nearest, onnxruntime's rule (truncate when
// upscaling, ceil when downscaling). Linear/cubic take float32; nearest any type.
#include <cmath>
#include <cstring>

#include "../kernels/resize.h"
#include "common/shape_util.h"

namespace netlite {
namespace ops {
namespace resize_op_detail {

using kernels::kMaxResizeRank;
using kernels::ResizeAxis;
using kernels::ResizeCoord;
using kernels::ResizeMode;
using kernels::ResizeNearest;
using kernels::ResizeParams;

enum class AspectPolicy { Stretch, NotLarger, NotSmaller };

class Resize final : public OpKernel {
 public:
  Resize(ResizeParams p, std::vector<int64_t> axes, AspectPolicy policy)
      : p_(p), axes_(std::move(axes)), policy_(policy) {}

  void infer(InferContext& ctx) const override {
    const TensorMeta& x = ctx.input(0);
    const int r = int(x.shape.size());
    if (r > kMaxResizeRank)
      fail(StatusCode::Unsupported, ctx.node.describe(), ": rank ", r, " is above the supported ", kMaxResizeRank);
    if (p_.mode == ResizeMode::Nearest) expect_sized_dtype(ctx.node, x.dtype, "X");
    else if (x.dtype != DType::Float32)
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": ", p_.mode == ResizeMode::Linear ? "linear" : "cubic",
           " mode supports float32 input, got ", dtype_name(x.dtype));
    // Inputs that fix the output shape must be known now; roi only matters for tf_crop_and_resize.
    const Tensor *scales = nullptr, *sizes = nullptr, *roi = nullptr;
    if (ctx.node.opset < 11) {
      scales = &ctx.input_value(1, "scales");
    } else {
      if (ctx.has_input(2) && shape_numel(ctx.input(2).shape) > 0) scales = &ctx.input_value(2, "scales");
      if (ctx.has_input(3) && shape_numel(ctx.input(3).shape) > 0) sizes = &ctx.input_value(3, "sizes");
      if (p_.coord == ResizeCoord::TfCropAndResize && ctx.has_input(1) && shape_numel(ctx.input(1).shape) > 0)
        roi = &ctx.input_value(1, "roi");
    }
    if (scales && scales->dtype != DType::Float32)
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": scales must be float32, got ", dtype_name(scales->dtype));
    if (sizes && sizes->dtype != DType::Int64)
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": sizes must be int64, got ", dtype_name(sizes->dtype));
    if (roi && roi->dtype != DType::Float32 && roi->dtype != DType::Float64)
      fail(StatusCode::TypeMismatch, ctx.node.describe(), ": roi must be float, got ", dtype_name(roi->dtype));
    // Normalise axes here (errors name the node); geometry() trusts them.
    if (!axes_.empty()) node_axes(ctx.node, axes_, size_t(r), "axes");
    ResizeAxis ax[kMaxResizeRank];
    const char* err = geometry(x.shape, scales, sizes, roi, ax);
    if (err) fail(StatusCode::InvalidArgument, ctx.node.describe(), ": ", err, " (input shape ", shape_str(x.shape), ")");
    Shape out(static_cast<size_t>(r));
    int64_t combos = 1;
    for (int d = 0; d < r; ++d) {
      out[size_t(d)] = ax[d].out;
      const int taps = kernels::resize_taps(p_, ax[d]);
      if (taps > kernels::kMaxResizeTaps)
        fail(StatusCode::Unsupported, ctx.node.describe(), ": antialias window of ", taps, " taps along axis ", d,
             " is above the supported ", kernels::kMaxResizeTaps);
      if (d + 1 < r) combos *= taps;
    }
    if (combos > kernels::kMaxResizeCombos)
      fail(StatusCode::Unsupported, ctx.node.describe(), ": interpolating ", combos,
           " input rows per output row is above the supported ", kernels::kMaxResizeCombos);
    ctx.scratch_bytes = kernels::resize_scratch_bytes(p_, ax, r);
    ctx.set_output(0, x.dtype, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    auto nonempty = [&](size_t i) -> const Tensor* {
      return i < ctx.inputs.size() && ctx.inputs[i] && ctx.inputs[i]->numel() > 0 ? ctx.inputs[i] : nullptr;
    };
    const Tensor *scales, *sizes = nullptr, *roi = nullptr;
    if (ctx.node.opset < 11) {
      scales = nonempty(1);
    } else {
      scales = nonempty(2);
      sizes = nonempty(3);
      if (p_.coord == ResizeCoord::TfCropAndResize) roi = nonempty(1);
    }
    ResizeAxis ax[kMaxResizeRank];
    if (geometry(x.shape, scales, sizes, roi, ax)) return;  // validated by infer()
    const int r = int(x.rank());
    if (p_.mode != ResizeMode::Nearest) {
      kernels::resize_float(p_, ax, r, x.ptr<float>(), y.ptr<float>(), ctx.scratch, ctx.pool);
      return;
    }
    uint8_t extrap[8] = {0};
    switch (x.dtype) {
      case DType::Float32: std::memcpy(extrap, &p_.extrapolation, 4); break;
      case DType::Int64: { int64_t v = int64_t(p_.extrapolation); std::memcpy(extrap, &v, 8); break; }
      case DType::Int32: { int32_t v = int32_t(p_.extrapolation); std::memcpy(extrap, &v, 4); break; }
      case DType::Int8: { int8_t v = int8_t(p_.extrapolation); std::memcpy(extrap, &v, 1); break; }
      case DType::UInt8: { uint8_t v = uint8_t(p_.extrapolation); std::memcpy(extrap, &v, 1); break; }
      default: break;
    }
    kernels::resize_nearest_bytes(p_, ax, r, dtype_size(x.dtype), x.data, y.data, extrap, ctx.scratch, ctx.pool);
  }

 private:
  // Per-axis lengths, scales and ROI from the inputs; returns an error text or null.
  // Allocates nothing, so run() can call it too.
  const char* geometry(const Shape& in, const Tensor* scales, const Tensor* sizes, const Tensor* roi,
                       ResizeAxis* ax) const {
    const int r = int(in.size());
    int map[kMaxResizeRank];
    const int naxes = axes_.empty() ? r : int(axes_.size());
    for (int i = 0; i < naxes; ++i) {
      int64_t a = axes_.empty() ? i : axes_[size_t(i)];
      map[i] = int(a < 0 ? a + r : a);
    }
    for (int d = 0; d < r; ++d) {
      ax[d] = ResizeAxis();
      ax[d].in = ax[d].out = in[size_t(d)];
    }
    if (scales && sizes) return "give either scales or sizes, not both";
    if (!scales && !sizes) return "one of scales or sizes is required";
    if (roi) {
      if (roi->numel() != 2 * naxes) return "roi must hold 2 values per resized axis";
      for (int i = 0; i < naxes; ++i) {
        ax[map[i]].roi_start = read_scalar(*roi, i);
        ax[map[i]].roi_end = read_scalar(*roi, naxes + i);
      }
    } else if (p_.coord == ResizeCoord::TfCropAndResize) {
      return "tf_crop_and_resize needs the roi input";
    }
    if (scales) {
      if (scales->numel() != naxes) return "scales must hold one value per resized axis";
      for (int i = 0; i < naxes; ++i) {
        ResizeAxis& a = ax[map[i]];
        const double s = double(scales->ptr<float>()[i]);
        if (!(s > 0.0) || !std::isfinite(s)) return "scales must be positive and finite";
        a.scale = s;
        double len = double(a.in) * s;
        if (p_.coord == ResizeCoord::TfCropAndResize) len *= a.roi_end - a.roi_start;
        if (!(len < double(kMaxElements))) return "scales make the output too large";
        a.out = len > 0.0 ? int64_t(std::floor(len)) : 0;
      }
      return nullptr;
    }
    if (sizes->numel() != naxes) return "sizes must hold one value per resized axis";
    double kar = 0.0;
    for (int i = 0; i < naxes; ++i) {
      ResizeAxis& a = ax[map[i]];
      const int64_t s = sizes->ptr<int64_t>()[i];
      if (s < 0 || s > kMaxElements) return "sizes must be non-negative";
      if (a.in == 0) {
        if (s != 0) return "cannot resize an empty dim to a non-empty one";
        continue;
      }
      const double f = double(s) / double(a.in);
      if (policy_ == AspectPolicy::NotLarger) kar = i == 0 ? f : std::min(kar, f);
      else if (policy_ == AspectPolicy::NotSmaller) kar = i == 0 ? f : std::max(kar, f);
      a.out = s;
      a.scale = f;
    }
    if (policy_ != AspectPolicy::Stretch) {
      for (int i = 0; i < naxes; ++i) {
        ResizeAxis& a = ax[map[i]];
        if (a.in == 0) continue;
        a.scale = kar;
        a.out = int64_t(kar * double(a.in) + 0.5);
      }
    }
    for (int d = 0; d < r; ++d)
      if (ax[d].in > 0 && ax[d].out > 0 && !(ax[d].scale > 0.0)) return "sizes must be positive";
    return nullptr;
  }

  ResizeParams p_;
  std::vector<int64_t> axes_;
  AspectPolicy policy_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  ResizeParams p;
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest") p.mode = ResizeMode::Nearest;
  else if (mode == "linear" || mode == "bilinear") p.mode = ResizeMode::Linear;
  else if (mode == "cubic" && node.opset >= 11) p.mode = ResizeMode::Cubic;
  else fail(StatusCode::Unsupported, node.describe(), ": mode '", mode, "' is not supported");
  std::vector<int64_t> axes;
  AspectPolicy policy = AspectPolicy::Stretch;
  if (node.opset < 11) {
    p.coord = ResizeCoord::Asymmetric;
    p.nearest = ResizeNearest::Simple;
  } else {
    const std::string coord = node.attr_string("coordinate_transformation_mode", "half_pixel");
    if (coord == "half_pixel") p.coord = ResizeCoord::HalfPixel;
    else if (coord == "half_pixel_symmetric") p.coord = ResizeCoord::HalfPixelSymmetric;
    else if (coord == "pytorch_half_pixel") p.coord = ResizeCoord::PytorchHalfPixel;
    else if (coord == "align_corners") p.coord = ResizeCoord::AlignCorners;
    else if (coord == "asymmetric") p.coord = ResizeCoord::Asymmetric;
    else if (coord == "tf_half_pixel_for_nn") p.coord = ResizeCoord::TfHalfPixelForNN;
    else if (coord == "tf_crop_and_resize") p.coord = ResizeCoord::TfCropAndResize;
    else fail(StatusCode::Unsupported, node.describe(), ": coordinate_transformation_mode '", coord, "' is not supported");
    const std::string nearest = node.attr_string("nearest_mode", "round_prefer_floor");
    if (nearest == "round_prefer_floor") p.nearest = ResizeNearest::RoundPreferFloor;
    else if (nearest == "round_prefer_ceil") p.nearest = ResizeNearest::RoundPreferCeil;
    else if (nearest == "floor") p.nearest = ResizeNearest::Floor;
    else if (nearest == "ceil") p.nearest = ResizeNearest::Ceil;
    else fail(StatusCode::Unsupported, node.describe(), ": nearest_mode '", nearest, "' is not supported");
    p.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
    p.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
    p.extrapolation = node.attr_float("extrapolation_value", 0.0f);
  }
  if (node.opset >= 18) {
    p.antialias = node.attr_int("antialias", 0) != 0;
    if (p.antialias && p.mode == ResizeMode::Nearest)
      fail(StatusCode::InvalidModel, node.describe(), ": antialias applies to linear and cubic modes only");
    axes = node.attr_ints("axes");
    if (axes.size() > size_t(kMaxResizeRank))
      fail(StatusCode::Unsupported, node.describe(), ": axes lists ", axes.size(), " axes, above the supported ", kMaxResizeRank);
    const std::string kar = node.attr_string("keep_aspect_ratio_policy", "stretch");
    if (kar == "stretch") policy = AspectPolicy::Stretch;
    else if (kar == "not_larger") policy = AspectPolicy::NotLarger;
    else if (kar == "not_smaller") policy = AspectPolicy::NotSmaller;
    else fail(StatusCode::Unsupported, node.describe(), ": keep_aspect_ratio_policy '", kar, "' is not supported");
  }
  return std::make_unique<Resize>(p, axes, policy);
}

}  // namespace resize_op_detail

extern const OpDef kOp_Resize = {"Resize", "", 10, 25,
                                 "nearest (any type) / linear / cubic (float32); all coordinate modes; antialias, axes",
                                 resize_op_detail::create};

}  // namespace ops
}  // namespace netlite
