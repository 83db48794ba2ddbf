// netlite.ConvMaxPool: an image's first Conv (at most 4 input channels, stride
// 2, the direct small_c kernel) [with its fused Relu / Clip] -> MaxPool, run
// band by band (passes/fuse_conv.cc, fuse_conv_max_pool, creates it).
//
// SqueezeNet's and ResNet's first layers write 64 x 111 x 111 (112 x 112)
// floats, 3.2 MB, that the MaxPool right after reads once and shrinks four
// times: the tensor goes to memory and back, the pool is bound by that traffic
// (0.15-0.3 ms in the models, where its arithmetic takes 0.05-0.1), it gains
// nothing from a second thread, and it is the largest activation of both
// models. Here each thread takes a contiguous range of pooled rows and walks it
// in bands: the conv writes the rows a band's windows read into a per-thread
// buffer of a few hundred KB (the rows the next band shares are moved up, not
// recomputed), and the pool reads them from there while they are in cache.
//
// Inputs: X [N,C,H,W], W [M,C,KH,KW], B [M] (optional). Attributes: the Conv's
// kernel_shape / strides / pads / dilations / auto_pad / group (1) and fused
// activation (ops/common/conv_util.h), and the MaxPool's kernel_shape /
// strides / pads / dilations / auto_pad / ceil_mode under the prefix "pool.".
// Float32, 2-D. The conv must be one the small_c kernel takes (C <= 4, kernel
// up to 7x7, stride 2, no dilation); elsewhere it runs its scalar reference.
#include <algorithm>
#include <cstring>
#include <string>

#include "../kernels/conv_small_c.h"
#include "../kernels/pool.h"
#include "common/conv_util.h"
#include "common/slot_pool.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace conv_max_pool_detail {

// The conv rows a band buffer holds: about this many bytes (L2-resident with
// the input rows the conv reads). Bands are at least kMinBandRows pooled rows.
constexpr int64_t kBandBytes = 384 * 1024;
constexpr int64_t kMinBandRows = 2;
constexpr const char* kPoolPrefix = "pool.";

struct Geometry {
  WindowGeometry conv, pool;
  int64_t N = 0, C = 0, M = 0;
  // Conv rows [lo, hi) that pooled rows [p0, p1) read, clipped to the conv output.
  int64_t rows_lo(int64_t p0) const {
    return std::clamp<int64_t>(p0 * pool.stride[0] - pool.pad[0], 0, conv.out[0]);
  }
  int64_t rows_hi(int64_t p1) const {
    return std::clamp<int64_t>((p1 - 1) * pool.stride[0] - pool.pad[0] + (pool.kernel[0] - 1) * pool.dilation[0] + 1,
                               0, conv.out[0]);
  }
};

struct Plan {
  int64_t band = 0;        // pooled rows per band
  int64_t band_rows = 0;   // conv rows a band buffer holds (per channel)
  int64_t ranges = 1;      // contiguous pooled-row ranges per image (one per thread)
  int64_t slots = 1;
  int64_t slot_floats = 0; // band buffer + the conv kernel's scratch
};

inline int64_t round16(int64_t v) { return (v + 15) / 16 * 16; }

class ConvMaxPool final : public OpKernel {
 public:
  explicit ConvMaxPool(const Node& node) {
    conv_attrs_ = parse_window_attrs(node, false);
    if (node.attr_int("group", 1) != 1)
      fail(StatusCode::InvalidModel, node.describe(), ": group must be 1, got ", node.attr_int("group", 1));
    activation_ = parse_fused_activation(node);
    pool_node_ = prefixed_attrs_node(node, kPoolPrefix);  // its errors name this node
    pool_attrs_ = parse_window_attrs(pool_node_, true);
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    ctx.expect_dtype(1, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    const Shape& ws = ctx.input(1).shape;
    if (xs.size() != 4 || ws.size() != 4 || !shape_known(xs) || !shape_known(ws))
      fail(StatusCode::ShapeMismatch, node.describe(), ": X and W must be known 4-D shapes, got X ", shape_str(xs),
           " W ", shape_str(ws));
    if (ws[1] != xs[1])
      fail(StatusCode::ShapeMismatch, node.describe(), ": X has ", xs[1], " channels but W ", shape_str(ws),
           " expects ", ws[1]);
    if (ws[0] < 1 || !kernels::small_c_conv_fits(ws[1], ws[2], ws[3]))
      fail(StatusCode::Unsupported, node.describe(), ": W ", shape_str(ws), " needs 1-", kernels::kSmallConvMaxC,
           " input channels and a kernel of at most ", kernels::kSmallConvMaxK, "x", kernels::kSmallConvMaxK);
    if (!conv_attrs_.kernel_shape.empty() &&
        (conv_attrs_.kernel_shape.size() != 2 || conv_attrs_.kernel_shape[0] != ws[2] ||
         conv_attrs_.kernel_shape[1] != ws[3]))
      fail(StatusCode::ShapeMismatch, node.describe(), ": kernel_shape ", shape_str(conv_attrs_.kernel_shape),
           " does not match W ", shape_str(ws));
    if (pool_attrs_.kernel_shape.size() != 2)
      fail(StatusCode::ShapeMismatch, node.describe(), ": pool.kernel_shape must have 2 dims, got ",
           shape_str(pool_attrs_.kernel_shape));
    if (ctx.has_input(2)) {
      ctx.expect_dtype(2, {DType::Float32});
      const Shape& bs = ctx.input(2).shape;
      if (bs.size() != 1 || bs[0] != ws[0])
        fail(StatusCode::ShapeMismatch, node.describe(), ": bias B ", shape_str(bs), " must have shape [", ws[0],
             "]");
    }
    const Geometry g = geometry(node, xs, ws);
    for (int i = 0; i < 2; ++i)
      if (g.conv.stride[i] != 2 || g.conv.dilation[i] != 1)
        fail(StatusCode::Unsupported, node.describe(), ": the conv must have stride 2 and no dilation");
    ctx.set_output(0, DType::Float32, {g.N, g.M, g.pool.out[0], g.pool.out[1]});
    ctx.set_slot_scratch(size_t(make_plan(g, ctx.threads).slot_floats) * sizeof(float),
                         size_t(make_plan(g, 1).slot_floats) * sizeof(float));
  }

  void run(RunContext& ctx) const override {
    const Tensor& xt = ctx.in(0);
    const Geometry g = geometry(ctx.node, xt.shape, ctx.in(1).shape);  // validated by infer()
    Plan p = make_plan(g, ctx.pool->threads());
    if (!ctx.has_slot_scratch(p.slots, size_t(p.slot_floats) * sizeof(float))) p = make_plan(g, 1);
    const int64_t OHp = g.pool.out[0], OWp = g.pool.out[1];
    if (g.N == 0 || g.M == 0 || OHp == 0 || OWp == 0) return;
    const kernels::Epilogue ep =
        make_epilogue(activation_, ctx.inputs.size() > 2 && ctx.inputs[2] ? ctx.in(2).ptr<float>() : nullptr);
    kernels::SmallCConv base = conv_args(g);
    base.w = ctx.in(1).ptr<float>();
    base.bias = ep.bias;
    base.clamp = ep.clamp;
    base.lo = ep.lo;
    base.hi = ep.hi;
    base.y_plane = p.band_rows * g.conv.out[1];
    const float* x = xt.ptr<float>();
    float* y = ctx.out(0).ptr<float>();
    const int64_t per_range = (OHp + p.ranges - 1) / p.ranges;
    SlotPool slots;
    ctx.pool->parallel_for(g.N * p.ranges, [&](int64_t tb, int64_t te) {
      const int64_t slot = slots.acquire(p.slots);
      float* buf = ctx.slot_scratch(slot);
      float* conv_scratch = buf + round16(g.M * base.y_plane);
      for (int64_t t = tb; t < te; ++t) {
        const int64_t n = t / p.ranges, r = t % p.ranges;
        kernels::SmallCConv a = base;
        a.x = x + n * g.C * g.conv.in[0] * g.conv.in[1];
        run_range(g, p, a, r * per_range, std::min(OHp, (r + 1) * per_range), buf, conv_scratch,
                  y + n * g.M * OHp * OWp);
      }
      slots.release(slot);
    }, 1);
  }

 private:
  Geometry geometry(const Node& node, const Shape& xs, const Shape& ws) const {
    Geometry g;
    g.N = xs[0];
    g.C = xs[1];
    g.M = ws[0];
    g.conv = forward_geometry(node, conv_attrs_, 2, xs.data() + 2, ws.data() + 2);
    g.pool = forward_geometry(pool_node_, pool_attrs_, 2, g.conv.out, pool_attrs_.kernel_shape.data());
    return g;
  }

  static kernels::SmallCConv conv_args(const Geometry& g) {
    kernels::SmallCConv a;
    a.C = g.C;
    a.IH = g.conv.in[0];
    a.IW = g.conv.in[1];
    a.M = g.M;
    a.KH = g.conv.kernel[0];
    a.KW = g.conv.kernel[1];
    a.PH = g.conv.pad[0];
    a.PW = g.conv.pad[1];
    a.OH = g.conv.out[0];
    a.OW = g.conv.out[1];
    return a;
  }

  static Plan make_plan(const Geometry& g, int threads) {
    Plan p;
    const int64_t OHp = g.pool.out[0];
    const int64_t T = std::max<int64_t>(1, std::min<int64_t>(threads, kMaxSlots));
    p.ranges = std::max<int64_t>(1, std::min<int64_t>(T, OHp));
    p.slots = std::max<int64_t>(1, std::min<int64_t>(T, g.N * p.ranges));
    const int64_t row_bytes = std::max<int64_t>(1, g.M * g.conv.out[1] * int64_t(sizeof(float)));
    const int64_t SP = g.pool.stride[0], span = (g.pool.kernel[0] - 1) * g.pool.dilation[0] + 1;
    // band pooled rows read (band - 1) * SP + span conv rows.
    const int64_t fit = (kBandBytes / row_bytes - span) / std::max<int64_t>(1, SP) + 1;
    p.band = std::max<int64_t>(kMinBandRows, std::min<int64_t>(fit, std::max<int64_t>(1, OHp)));
    p.band_rows = std::max<int64_t>(1, (p.band - 1) * SP + span);
    kernels::SmallCConv a = conv_args(g);
    p.slot_floats = round16(g.M * p.band_rows * g.conv.out[1]) + round16(kernels::small_c_conv_scratch_floats(a));
    return p;
  }

  // Pooled rows [q0, q1) of one image (a.x set), band by band through buf.
  void run_range(const Geometry& g, const Plan& p, const kernels::SmallCConv& a, int64_t q0, int64_t q1, float* buf,
                 float* conv_scratch, float* y) const {
    const int64_t OWc = g.conv.out[1], OHp = g.pool.out[0], OWp = g.pool.out[1];
    const int64_t plane = a.y_plane;
    int64_t have_lo = 0, have_hi = 0;  // conv rows in buf (buf row 0 = conv row have_lo)
    for (int64_t p0 = q0; p0 < q1; p0 += p.band) {
      const int64_t p1 = std::min(q1, p0 + p.band);
      const int64_t lo = g.rows_lo(p0), hi = g.rows_hi(p1);
      int64_t from = lo;  // first row to compute
      if (have_hi > lo && lo >= have_lo) {
        // Rows [lo, have_hi) were computed for the previous band: move them up.
        const int64_t keep = have_hi - lo;
        if (lo > have_lo)
          for (int64_t m = 0; m < g.M; ++m)
            std::memmove(buf + m * plane, buf + m * plane + (lo - have_lo) * OWc, size_t(keep * OWc) * sizeof(float));
        from = have_hi;
      }
      if (hi > from) {
        kernels::SmallCConv b = a;
        b.y = buf - lo * OWc;  // conv row r of channel m at buf + m * plane + (r - lo) * OWc
        kernels::small_c_conv_rows(b, from, hi, conv_scratch);
      }
      have_lo = lo;
      have_hi = std::max(hi, from);
      // The pool over the band: its window rows relative to conv row lo.
      kernels::ConvShape s = g.pool;
      s.in[0] = hi - lo;
      s.out[0] = p1 - p0;
      s.pad[0] = lo - (p0 * g.pool.stride[0] - g.pool.pad[0]);
      for (int64_t m = 0; m < g.M; ++m)
        kernels::max_pool_plane(s, buf + m * plane, y + (m * OHp + p0) * OWp, nullptr, 0, false);
    }
  }

  WindowAttrs conv_attrs_, pool_attrs_;
  Node pool_node_;
  FusedActivation activation_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) { return std::make_unique<ConvMaxPool>(node); }

}  // namespace conv_max_pool_detail

extern const OpDef kOp_ConvMaxPool = {
    "ConvMaxPool", "netlite", 1, 1,
    "float32, 2-D: a first-layer Conv (<= 4 input channels, stride 2) [+ Relu/Clip] -> MaxPool, fused by the "
    "optimizer",
    conv_max_pool_detail::create};

}  // namespace ops
}  // namespace netlite
