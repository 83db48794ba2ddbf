// netlite.QConv: the integer form of the QDQ pattern
//   Q(act(Conv(DQ(x), DQ(W), DQ(B))))     (act: none, Relu, Clip, Min/Max by a constant)
// that passes/fuse_qdq.cc rewrites. 2-D, NCHW, 8-bit x (uint8 or int8), int8 W
// (constant; per-tensor or per-output-channel scale and zero point), optional
// constant bias (int32 with b_scale, or float32), 8-bit output. Attributes: the
// Conv ones (auto_pad, kernel_shape, strides, dilations, pads, group) and those
// of ops/common/quant_util.h (x_*, w_*, b_scale, y_*).
//
//   acc = sum (x - zx) * (W - zw)                                  (int32, exact)
//   y   = clamp(round_half_even(acc * sx*sw/sy + b*sb/sy) + zy, y_min, y_max)
// which is the float graph's result up to the rounding of its float sums. (The
// bias stays a float term even when sb == sx*sw: adding it to acc, as
// QLinearConv does, rounds differently from the float graph this replaces.)
//
// Paths: depthwise (group == C == M) - kernels/qdepthwise per plane; otherwise a
// GEMM per (image, group, tile of output positions): a u8 panel packed from the
// input (pointwise: straight copy; else im2col) times the weights prepacked at
// create(), with the requantization in the GEMM's epilogue.
//
// Threads: a layer with enough output positions (at least 4 micro-panels of
// kQCols per thread) is split by position - GEMM tiles of all rows, depthwise
// bands of output rows of all channels - and a smaller one by channel (blocks of
// GEMM rows, runs of depthwise planes); depthwise planes of 28x28 and more go by
// channel too (measured, see tiling()). Thread t owns the t-th contiguous share
// of the units (the pool runs slot t on thread t), so consecutive layers at one
// resolution split the image alike and a thread reads what it wrote, from its
// own cache: splitting a depthwise by channel between two position-split 1x1
// convolutions made every activation cross cores (~470 ns per line here), and
// 2 threads were no faster than 1. A slot that runs out of its own units takes
// others' from their far end (a descheduled thread does not hold up the rest).
#include <algorithm>
#include <atomic>
#include <cstring>

#include "../kernels/qdepthwise.h"
#include "../kernels/qgemm.h"
#include "common/conv_util.h"
#include "common/packed_weights.h"
#include "common/quant_util.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace q_conv_detail {

constexpr int64_t kPanelBytes = 192 * 1024;  // target size of one packed input panel
constexpr int64_t kMaxTile = 4096;            // output positions per task at most

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

struct Dims {
  int64_t N = 0, C = 0, M = 0, G = 1, Cg = 0, Mg = 0, K = 0, HW = 0, IHW = 0;
};

struct Tiling {
  bool by_positions = true;       // else by channel (see the file comment)
  int64_t tile = 0, n_tiles = 0;  // GEMM: output positions per task
  int64_t m_block = 0, m_blocks = 0;
  int64_t dw_bands = 1;           // depthwise: bands of output rows per image (by position: one per thread)
  int64_t dw_chunk = 1;           // depthwise: planes per task
  int64_t tasks = 0, slots = 1;
  size_t slot_bytes = 0;
};

constexpr int kMaxSlots = 64;
// Depthwise planes of at least this many outputs are split among threads by
// channel, not by bands of rows (see QConv::tiling).
constexpr int64_t kDwChannelSplitMinPositions = 28 * 28;

// The units [0, n) of one layer shared by `slots` threads: slot s owns
// [n*s/S, n*(s+1)/S), takes them from the front, then helps with the other
// slots' from their back ends. Front and back of a slot share one word (front
// in the low 32 bits), each slot on a cache line of its own, so claiming an own
// unit touches no line another thread writes. (n < 2^32: a unit is at least a
// micro-panel of output positions or a run of planes.)
class SlotWork {
 public:
  SlotWork(int64_t n, int64_t slots) : slots_(std::min<int64_t>(slots, kMaxSlots)) {
    for (int64_t s = 0; s < slots_; ++s) {
      const uint64_t f = uint64_t(n * s / slots_), b = uint64_t(n * (s + 1) / slots_);
      r_[s].v.store(f | (b << 32), std::memory_order_relaxed);
    }
  }
  int64_t slots() const { return slots_; }

  // The next unit for slot `s`, or -1 when none is left.
  int64_t next(int64_t s) {
    std::atomic<uint64_t>& own = r_[s].v;
    for (uint64_t v = own.load(std::memory_order_relaxed); (v & 0xffffffffu) < (v >> 32);)
      if (own.compare_exchange_weak(v, v + 1, std::memory_order_relaxed)) return int64_t(v & 0xffffffffu);
    for (int64_t k = 1; k < slots_; ++k) {
      std::atomic<uint64_t>& other = r_[(s + k) % slots_].v;
      for (uint64_t v = other.load(std::memory_order_relaxed); (v & 0xffffffffu) < (v >> 32);)
        if (other.compare_exchange_weak(v, v - (uint64_t(1) << 32), std::memory_order_relaxed))
          return int64_t(v >> 32) - 1;
    }
    return -1;
  }

 private:
  struct alignas(64) Range {
    std::atomic<uint64_t> v{0};
  };
  int64_t slots_;
  Range r_[kMaxSlots];
};

class QConv final : public OpKernel {
 public:
  QConv(const Node& node, const Graph& graph) {
    attrs_ = parse_window_attrs(node, false);
    group_ = node.attr_int("group", 1);
    if (group_ < 1) fail(StatusCode::InvalidModel, node.describe(), ": group must be >= 1, got ", group_);
    const Tensor* w = constant_input(node, graph, 1);
    if (!w) fail(StatusCode::Unsupported, node.describe(), ": weights W must be a constant");
    if (w->rank() != 4)
      fail(StatusCode::Unsupported, node.describe(), ": only 2-D convolutions (rank-4 W), got W ", shape_str(w->shape));
    if (w->dtype != DType::Int8 && w->dtype != DType::UInt8)
      fail(StatusCode::TypeMismatch, node.describe(), ": W must be int8 or uint8, got ", dtype_name(w->dtype));
    w_shape_ = w->shape;
    const int64_t M = w->shape[0];
    if (M % group_ != 0)
      fail(StatusCode::ShapeMismatch, node.describe(), ": ", M, " output channels are not divisible by group ", group_);
    const int64_t per = w->shape[1] * w->shape[2] * w->shape[3];
    if (per > kQMaxReduction) fail(StatusCode::Unsupported, node.describe(), ": reduction length ", per, " is too long");
    x_scale_ = q_scale_attr(node, "x_scale");
    x_zero_ = node.attr_int("x_zero_point", 0);
    const std::vector<float> w_scale = q_per_channel_floats(node, "w_scale", M, 0.0f, true);
    const std::vector<int64_t> w_zero = q_per_channel_ints(node, "w_zero_point", M, 0);
    out_ = parse_q_output(node, M);

    // Weights minus their zero point, as int8 (the fusion pass only fires when they fit).
    std::vector<int32_t> zero32(static_cast<size_t>(M));
    for (int64_t m = 0; m < M; ++m) zero32[size_t(m)] = int32_t(std::max<int64_t>(-512, std::min<int64_t>(512, w_zero[size_t(m)])));
    const bool w_unsigned = w->dtype == DType::UInt8;
    // Bias and scales: y = acc * scale[m] + offset[m] before rounding.
    scale_.resize(size_t(M));
    offset_.assign(size_t(M), 0.0f);
    for (int64_t m = 0; m < M; ++m) scale_[size_t(m)] = x_scale_ * w_scale[size_t(m)] / out_.scale;
    const Tensor* b = node.inputs.size() > 2 && node.inputs[2] >= 0 ? constant_input(node, graph, 2) : nullptr;
    if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
      if (!b) fail(StatusCode::Unsupported, node.describe(), ": bias B must be a constant");
      if (b->numel() != M)
        fail(StatusCode::ShapeMismatch, node.describe(), ": bias B ", shape_str(b->shape), " must have ", M, " values");
      if (b->dtype == DType::Int32) {
        const std::vector<float> b_scale = q_per_channel_floats(node, "b_scale", M, 1.0f, false);
        for (int64_t m = 0; m < M; ++m)
          offset_[size_t(m)] = float(b->ptr<int32_t>()[m]) * b_scale[size_t(m)] / out_.scale;
      } else if (b->dtype == DType::Float32) {
        for (int64_t m = 0; m < M; ++m) offset_[size_t(m)] = b->ptr<float>()[m] / out_.scale;
      } else {
        fail(StatusCode::TypeMismatch, node.describe(), ": bias B must be int32 or float32, got ", dtype_name(b->dtype));
      }
    }

    depthwise_ = group_ > 1 && group_ == M && w->shape[1] == 1;
    const int64_t Mg = M / group_;
    std::vector<int32_t> sums(size_t(M), 0);
    bool fit = true;
    if (depthwise_) {
      // Few weights (KH * KW per channel): no packing, the raw bytes minus the zero point.
      const uint8_t* raw = static_cast<const uint8_t*>(w->data);
      dw_weights_.resize(size_t(M * per));
      for (int64_t m = 0; m < M && fit; ++m)
        for (int64_t k = 0; k < per; ++k) {
          const int32_t v = (w_unsigned ? int32_t(raw[m * per + k]) : int32_t(int8_t(raw[m * per + k]))) - zero32[size_t(m)];
          fit = fit && v >= -128 && v <= 127;
          dw_weights_[size_t(m * per + k)] = int8_t(v);
          sums[size_t(m)] += int8_t(v);
        }
    } else {
      for (int64_t g = 0; g < group_ && fit; ++g) {
        packed_.emplace_back();
        fit = kernels::qpack_quantized_weights(static_cast<const uint8_t*>(w->data) + g * Mg * per, w_unsigned,
                                               zero32.data() + g * Mg, Mg, per, per, 1, &packed_.back());
        for (int64_t m = 0; m < Mg && fit; ++m) sums[size_t(g * Mg + m)] = packed_.back().row_sums[size_t(m)];
      }
    }
    if (!fit) fail(StatusCode::Unsupported, node.describe(), ": a weight minus its zero point does not fit int8");
    // The kernel reads its own copies only: the original weight and bias go back when
    // the model's own (the int8 MobileNet-V2 held its 3.4 MB of weights twice).
    released_ = release_copied_constant(node, graph, 1) + release_copied_constant(node, graph, 2);
    // Zero-point correction -zx_u8 * sum(w) for each input type (known at infer()).
    for (int s = 0; s < 2; ++s) {
      const int64_t zx_u8 = x_zero_ + (s ? 128 : 0);
      acc_init_[s].resize(size_t(M));
      for (int64_t m = 0; m < M; ++m) acc_init_[s][size_t(m)] = int32_t(-zx_u8 * sums[size_t(m)]);
    }
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    expect_qtype(ctx, 0);
    const DType xt = ctx.input(0).dtype;
    q_input_zero_u8(node, "x", x_zero_, xt);
    const Shape& xs = ctx.input(0).shape;
    if (xs.size() != 4 || !shape_known(xs))
      fail(StatusCode::ShapeMismatch, node.describe(), ": input X must be a known rank-4 shape (N, C, H, W), got ",
           shape_str(xs));
    if (w_shape_[1] * group_ != xs[1])
      fail(StatusCode::ShapeMismatch, node.describe(), ": X has ", xs[1], " channels but W ", shape_str(w_shape_),
           " with group ", group_, " expects ", w_shape_[1] * group_);
    if (!attrs_.kernel_shape.empty() &&
        (attrs_.kernel_shape.size() != 2 || attrs_.kernel_shape[0] != w_shape_[2] || attrs_.kernel_shape[1] != w_shape_[3]))
      fail(StatusCode::ShapeMismatch, node.describe(), ": kernel_shape ", shape_str(attrs_.kernel_shape),
           " does not match W ", shape_str(w_shape_));
    const WindowGeometry g = forward_geometry(node, attrs_, 2, xs.data() + 2, w_shape_.data() + 2);
    ctx.set_output(0, out_.type, {xs[0], w_shape_[0], g.out[0], g.out[1]});
    const Dims d = dims_of(xs, g);
    ctx.set_slot_scratch(tiling(d, g, ctx.threads).slot_bytes, tiling(d, g, 1).slot_bytes);
  }

  size_t held_bytes() const override {
    size_t n = dw_weights_.size() + (scale_.size() + offset_.size()) * sizeof(float) +
               (acc_init_[0].size() + acc_init_[1].size()) * sizeof(int32_t);
    for (const kernels::QPackedWeights& p : packed_) n += p.bytes() + p.row_sums.size() * sizeof(int32_t);
    return n - std::min(n, released_);  // the originals' pages given back (counted in the weights slab)
  }

  void run(RunContext& ctx) const override {
    const Tensor& xt = ctx.in(0);
    const Shape& xs = xt.shape;
    const WindowGeometry g = forward_geometry(ctx.node, attrs_, 2, xs.data() + 2, w_shape_.data() + 2);
    const Dims d = dims_of(xs, g);
    Tiling t = tiling(d, g, ctx.pool->threads());
    if (!ctx.has_slot_scratch(t.slots, t.slot_bytes)) t = tiling(d, g, 1);
    if (d.N == 0 || d.M == 0 || d.HW == 0) return;
    const bool is_signed = xt.dtype == DType::Int8;
    const uint8_t* x = static_cast<const uint8_t*>(xt.data);
    uint8_t* y = static_cast<uint8_t*>(ctx.out(0).data);
    if (depthwise_) run_depthwise(ctx, d, g, t, is_signed, x, y);
    else run_gemm(ctx, d, g, t, is_signed, x, y);
  }

 private:
  Dims dims_of(const Shape& xs, const WindowGeometry& g) const {
    Dims d;
    d.N = xs[0];
    d.C = xs[1];
    d.M = w_shape_[0];
    d.G = group_;
    d.Cg = d.C / group_;
    d.Mg = d.M / group_;
    d.K = d.Cg * g.kernel_size();
    d.HW = g.out_size();
    d.IHW = g.in_size();
    return d;
  }

  Tiling tiling(const Dims& d, const kernels::ConvShape& g, int threads) const {
    Tiling t;
    const int64_t T = std::max(1, std::min(threads, kMaxSlots));
    const int64_t panels = (d.HW + kernels::kQCols - 1) / kernels::kQCols;  // per image and group
    t.by_positions = T == 1 || panels >= 4 * T;
    if (depthwise_) {
      // By position: one band of output rows per thread (a band of a few rows per
      // call left most of the time in per-plane set-up and short, scattered row
      // reads), cut into runs of channels; unit order band-major, so slot s owns band s.
      // Planes of kDwChannelSplitMinPositions outputs or more are split by channel
      // instead (runs of whole planes): measured on the 2-vCPU AMD EPYC benchmark VM
      // (bench_models, int8 MobileNetV2, 2 threads), the two halves of a band
      // split each ran at half the one-thread speed (144 x 56 x 56: 0.159 ms at 1
      // thread, 0.162 at 2), while whole planes per thread took 0.120-0.123; the
      // 56x56, 112x112 and 28x28 layers gained 0.13 ms in all, and a 14x14 one
      // lost 0.005 (so smaller planes keep the bands).
      if (t.by_positions && T > 1 && g.out[0] * g.out[1] >= kDwChannelSplitMinPositions) t.by_positions = false;
      t.dw_bands = t.by_positions ? std::min<int64_t>(std::max<int64_t>(g.out[0], 1), T) : 1;
      t.dw_chunk = std::max<int64_t>(1, d.C / (4 * (t.by_positions ? 1 : T)));
      t.tasks = d.N * t.dw_bands * ((d.C + t.dw_chunk - 1) / t.dw_chunk);
      t.slots = std::max<int64_t>(1, std::min<int64_t>(T, t.tasks));
      t.slot_bytes = size_t(kernels::qdepthwise_scratch_bytes(g));
      return t;
    }
    const int64_t kp = round_up(std::max<int64_t>(d.K, 1), 4);
    int64_t tile = std::max<int64_t>(kernels::kQCols, kPanelBytes / kp / kernels::kQCols * kernels::kQCols);
    tile = std::min({tile, kMaxTile, round_up(std::max<int64_t>(d.HW, 1), kernels::kQCols)});
    int64_t n_tiles = (d.HW + tile - 1) / tile;
    const int64_t images = d.N * d.G;
    int64_t m_blocks = 1;
    if (t.by_positions) {
      // Enough tiles for each thread to have a few (the last ones balance the load);
      // at one thread two (a 28x28 image's whole panel at K = 192, 150 KB, was
      // slower to pack and read back than two halves).
      const int64_t want = T == 1 ? 2 : 4 * T, min_tile = (T == 1 ? 4 : 2) * kernels::kQCols;
      while (images * n_tiles < want && tile > min_tile) {
        tile = round_up(tile / 2, kernels::kQCols);
        n_tiles = (d.HW + tile - 1) / tile;
      }
    } else if (images * n_tiles < 4 * T) {
      m_blocks = std::min<int64_t>((d.Mg + 15) / 16, (4 * T + images * n_tiles - 1) / (images * n_tiles));
    }
    t.m_block = round_up((d.Mg + m_blocks - 1) / m_blocks, 16);
    t.m_blocks = (d.Mg + t.m_block - 1) / t.m_block;
    t.tile = tile;
    t.n_tiles = n_tiles;
    t.tasks = images * n_tiles * t.m_blocks;
    t.slots = std::max<int64_t>(1, std::min<int64_t>(T, t.tasks));
    t.slot_bytes = (kernels::qpanel_bytes(d.K, tile) + 63) / 64 * 64;
    return t;
  }

  kernels::QRequant requant(int64_t m0) const {
    kernels::QRequant rq;
    rq.scale = scale_.data() + m0;
    rq.offset = offset_.data() + m0;
    rq.lo = out_.lo.data() + m0;
    rq.hi = out_.hi.data() + m0;
    rq.zero_point = out_.zero_point;
    return rq;
  }

  // Each slot (one thread at a time, with its own scratch) takes units from its
  // SlotWork share: runs of planes, whole or within the slot's band of rows.
  void run_depthwise(RunContext& ctx, const Dims& d, const kernels::ConvShape& g, const Tiling& t, bool is_signed,
                     const uint8_t* x, uint8_t* y) const {
    kernels::QDepthwiseArgs a;
    a.x_signed = is_signed;
    a.x_zero_u8 = int32_t(x_zero_) + (is_signed ? 128 : 0);
    a.zero_point = out_.zero_point;
    a.w = dw_weights_.data();
    a.acc_init = acc_init_[is_signed ? 1 : 0].data();
    a.scale = scale_.data();
    a.offset = offset_.data();
    a.lo = out_.lo.data();
    a.hi = out_.hi.data();
    SlotWork work(t.tasks, t.slots);
    const int64_t OH = g.out[0], runs = (d.C + t.dw_chunk - 1) / t.dw_chunk;
    ctx.pool->parallel_for(work.slots(), [&](int64_t sb, int64_t se) {
      for (int64_t slot = sb; slot < se; ++slot) {
        uint8_t* pad = ctx.slot_scratch<uint8_t>(slot);
        for (int64_t u; (u = work.next(slot)) >= 0;) {
          const int64_t run = u % runs, band = (u / runs) % t.dw_bands, n = u / runs / t.dw_bands;
          const int64_t c0 = run * t.dw_chunk, c1 = std::min(d.C, c0 + t.dw_chunk);
          kernels::qdepthwise_rows(g, x + n * d.C * d.IHW, c0, c1, OH * band / t.dw_bands,
                                   OH * (band + 1) / t.dw_bands, a, y + n * d.M * d.HW, pad);
        }
      }
    }, 1);
  }

  // Tasks (image x group x tile of positions x block of rows) are taken the same
  // way; a slot repacks its panel only when its next task is on another tile.
  void run_gemm(RunContext& ctx, const Dims& d, const WindowGeometry& g, const Tiling& t, bool is_signed,
                const uint8_t* x, uint8_t* y) const {
    const bool pointwise = g.is_pointwise();
    const uint8_t pad_u8 = uint8_t(x_zero_ + (is_signed ? 128 : 0));
    const std::vector<int32_t>& init = acc_init_[is_signed ? 1 : 0];
    SlotWork work(t.tasks, t.slots);
    ctx.pool->parallel_for(work.slots(), [&](int64_t sb, int64_t se) {
      for (int64_t slot = sb; slot < se; ++slot) {
        uint8_t* panel = ctx.slot_scratch<uint8_t>(slot);
        int64_t packed_for = -1;  // (image, tile) the panel holds
        for (int64_t task; (task = work.next(slot)) >= 0;) {
          const int64_t mb = task % t.m_blocks;
          const int64_t it = task / t.m_blocks;  // (n * G + group) * n_tiles + tile
          const int64_t tile = it % t.n_tiles, ng = it / t.n_tiles, grp = ng % d.G;
          const int64_t o0 = tile * t.tile, on = std::min(t.tile, d.HW - o0);
          const uint8_t* xg = x + ng * d.Cg * d.IHW;
          if (packed_for != it) {
            if (pointwise) kernels::qpack_panel(xg + o0, d.IHW, d.K, on, is_signed, panel);
            else kernels::qim2col_panel(g, xg, d.Cg, o0, on, is_signed, pad_u8, panel);
            packed_for = it;
          }
          const int64_t m0 = mb * t.m_block, mc = std::min(t.m_block, d.Mg - m0);
          const int64_t row0 = grp * d.Mg;
          kernels::qgemm_panel(packed_[size_t(grp)], m0, mc, panel, on, init.data() + row0, requant(row0),
                               y + (ng * d.Mg + m0) * d.HW + o0, d.HW);
        }
      }
    }, 1);
  }

  WindowAttrs attrs_;
  int64_t group_ = 1;
  Shape w_shape_;
  float x_scale_ = 1.0f;
  int64_t x_zero_ = 0;
  QOutput out_;
  std::vector<float> scale_, offset_;
  bool depthwise_ = false;
  std::vector<int8_t> dw_weights_;                // depthwise: [C][KH*KW]
  std::vector<kernels::QPackedWeights> packed_;   // GEMM: one per group
  size_t released_ = 0;                           // bytes of the original W and B given back
  std::vector<int32_t> acc_init_[2];              // [u8 input, s8 input][M]
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph& graph) { return std::make_unique<QConv>(node, graph); }

}  // namespace q_conv_detail

extern const OpDef kOp_QConv = {
    "QConv", "netlite", 1, 1,
    "fused QDQ Conv (from passes/fuse_qdq): 2-D, u8/s8 x, s8 W per-tensor/per-channel, int32 bias, requantized 8-bit output",
    q_conv_detail::create};

}  // namespace ops
}  // namespace netlite
