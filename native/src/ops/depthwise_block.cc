// netlite.DepthwiseBlock: [1x1 expand Conv] -> depthwise Conv -> 1x1 project Conv
// [+ residual], the inverted-residual block of MobileNet-V2 and its kin, run
// band by band (passes/fuse_conv.cc, fuse_depthwise_block, creates it).
//
// Run as three convs, each intermediate tensor (6x the block's channels in
// MobileNet-V2, 4.8 MB at 112x112) goes to memory and back twice, and with
// several threads the three convs split the work differently (GEMMs by
// position or channel, the depthwise conv by channel), so about half of each
// tensor crosses between cores. Here each thread takes a contiguous range of
// output rows, and walks it in bands of a few rows: the expand GEMM writes the
// band's input rows into a small per-thread buffer (rows shared with the
// previous band are kept, not recomputed), the depthwise conv reads them into a
// second buffer, and the project GEMM writes the band's output rows (then the
// residual is added while they are in cache). Both buffers stay in L2, and only
// the halo rows at the edges of a thread's range are computed twice.
// With few output rows per thread (the 7x7 stage at 2 threads, 14x14 at 3) the
// halo would cost more than it saves: the image is then done in three stages,
// each split over the pool, like the three convs but without their tensors
// (unless the halo is small, as a stride-2 block's: bands keep each thread on
// the rows it wrote in the block before).
//
// The expand conv may instead be an image model's first conv (the stem: at most 4
// input channels, stride 2, run by the direct small_c kernel, kernels/conv_small_c.h),
// MobileNet-V2's 3 -> 32 channels at 224x224 -> 112x112: its 1.6 MB output went to
// memory and came back for the depthwise conv; here each band's rows of it are
// computed into the band buffer like an expand conv's.
//
// Inputs: X [N,C,H,W]; We [E,C,1,1] (a stem: [E,C,KH,KW]), Be [E] (both absent
// without an expand conv, then E = C); Wd [E,1,KH,KW], Bd [E]; Wp [P,E,1,1],
// Bp [P]; R [N,P,OH,OW] (the fused residual, optional). Biases are optional. Attributes: the
// depthwise conv's kernel_shape / strides / pads / dilations / auto_pad, and
// each conv's fused activation under the prefixes "expand.", "depthwise.",
// "project." (see ops/common/conv_util.h); a stem's kernel_shape / strides /
// pads / dilations / auto_pad under "stem.". Float32, 2-D.
//
// On small planes (MobileNet-V2's 7x7 stage: 49 positions pad the GEMM's 32-wide
// column strips to 64) the project GEMM runs turned around, Y^T = D^T Wp^T, with
// the positions on the micro-kernel's rows (7 x 7) and the project weights packed
// in place at the first plan (ops/common/packed_weights.h), as Conv's transposed path.
//
// On planes of at most kChannelsLastMaxPositions positions the block runs channels
// last instead (decided at the first plan, for good: both 1x1 weights are packed
// in place): the expand GEMM turned around, E^T = X^T We^T, writes each position's
// expanded channels contiguously, the depthwise conv reads 16 channels of a
// position per vector (kernels/dw_channels_last.h: every lane busy on 14- and
// 7-wide rows, where a row per vector left 2 or 9 of 16 lanes idle), and the
// project GEMM reads its rows in place, D^T Wp^T, stored back transposed. Staged
// (few rows per thread), each thread expands, convolves and projects its own
// channels (a share of the project GEMM's depth), then each sums the shares for its
// own output channels: two pool-wide stages instead of three.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../kernels/conv.h"
#include "../kernels/conv_small_c.h"
#include "../kernels/dw_channels_last.h"
#include "common/conv_util.h"
#include "common/packed_weights.h"
#include "common/slot_pool.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace depthwise_block_detail {

constexpr const char* kStemPrefix = "stem.";

enum Input { kX = 0, kWe = 1, kBe = 2, kWd = 3, kBd = 4, kWp = 5, kBp = 6, kR = 7, kInputs = 8 };

// Budget for one band's two buffers (expanded input rows + depthwise output
// rows). MobileNet-V2 at 1 thread (bench_models, alternating runs, median of 8):
// 256 KB 4.82 ms, 512 KB 4.77, 1 MB 4.98; the three convs 5.25. Measured again on
// an AMD EPYC VM (1 MB of L2 per core) with the blocks' later kernels, 9 quiet
// alternating rounds at 1 thread: 384 KB 7.00-7.09 ms, 512 KB 6.93-7.08, 768 KB
// 6.95-7.02, 1 MB 7.00-7.13; with 768 KB features.2 (112x112 -> 56x56, E = 96: 6 rows
// per band instead of 4) 0.787-0.825 -> 0.750-0.760 ms and features.3 0.650-0.679
// -> 0.646-0.661, features.1 (the stem block) 0.567-0.596 -> 0.585-0.609; at 2
// threads features.2 0.404-0.427 -> 0.380-0.395 in the quiet rounds.
constexpr int64_t kBandBytes = 768 * 1024;
// A band's GEMMs get at least this many columns (positions) when the range
// allows: narrower ones waste much of their last 32-column strip (14x14 in
// bands of 3 rows: 42 columns in two strips).
constexpr int64_t kMinBandPositions = 256;
// Below this many output rows per thread, the image is done in stages instead of
// bands, unless the bands' halos add at most kMaxHaloFraction of the input rows.
constexpr int64_t kMinRowsPerRange = 6;
constexpr double kMaxHaloFraction = 0.1;
// The project GEMM is turned around only on bands (not staged) whose positions use
// less than this fraction of the usual GEMM's column strips, and where
// transposed_gemm_pays. bench_models, MobileNet-V2, 1 thread, 4 alternating rounds:
// its three 7x7 blocks (49 positions, 77% used) 0.91-0.98 -> 0.83-0.87 ms, but the
// 14x14 blocks with E = 576 (196 positions, 87.5%) 0.58-0.60 -> 0.61-0.62 ms, and the
// staged 7x7 blocks at 2 threads (channel strips split 3 + 2) 0.75-0.77 -> 0.77-0.80.
constexpr double kTransposedMaxUseful = 0.8;
// Planes (input and output) of at most this many positions run channels last.
// MobileNet-V2, cold weights, 1 thread: the 7x7 expand GEMM (960 x 160 x 49) 106-108
// -> 75-76 us turned around, 14x14 (576 x 96 x 196) 113 -> 101-102; the depthwise
// conv over 960 7x7 planes 30-32 -> 15-16 us, 576 14x14 46-48 -> 34-37, 576 14x14
// stride 2 28-31 -> 11-13; but 192 28x28 43-44 -> 45-52. The whole model
// (bench_models, alternating binaries, 3 rounds): 1 thread 5.19-5.25 -> 4.71-4.76 ms;
// at 2 threads the staged 7x7 blocks 0.145-0.212 -> 0.127-0.186 ms each.
// 784 (28x28) since the prepacked GEMM's K blocks fit a 32 KiB L1 (kernels/gemm.cc,
// prepacked_kc): on an AMD EPYC VM (bench_models, alternating) the two 28x28 stride-1
// blocks 0.269-0.270 -> 0.253-0.256 ms at 1 thread, 0.148-0.149 -> 0.133-0.136 at 2,
// the stride-2 one 0.096-0.097 -> 0.092-0.093 at 2; 3136 (56x56) made the 56x56 blocks
// slower (0.674 -> 0.732-0.743 ms at 1 thread).
constexpr int64_t kChannelsLastMaxPositions = 784;

struct Dims {
  int64_t N = 0, C = 0, E = 0, P = 0, IH = 0, IW = 0, OH = 0, OW = 0;
  kernels::ConvShape g;  // the depthwise conv over a whole plane
  bool expand = false;
  // A stem in place of the 1x1 expand conv: X's planes are XH x XW, the stem (sg)
  // makes the depthwise conv's IH x IW input. Without one XH = IH and XW = IW.
  bool stem = false;
  int64_t XH = 0, XW = 0;
  kernels::ConvShape sg;

  int64_t x_plane() const { return XH * XW; }

  int64_t kh_extent() const { return (g.kernel[0] - 1) * g.dilation[0] + 1; }
  // Input rows [lo, hi) that output rows [o0, o1) read, clipped to the image.
  int64_t in_lo(int64_t o0) const { return std::clamp<int64_t>(o0 * g.stride[0] - g.pad[0], 0, IH); }
  int64_t in_hi(int64_t o1) const {
    return std::clamp<int64_t>((o1 - 1) * g.stride[0] - g.pad[0] + kh_extent(), 0, IH);
  }
  // Most input rows a band of `nb` output rows reads.
  int64_t band_in_rows(int64_t nb) const { return std::min(IH, (nb - 1) * g.stride[0] + kh_extent()); }
};

struct Plan {
  bool staged = false;  // whole image in three pool-wide stages
  int64_t ranges = 1;   // row ranges per image (banded)
  int64_t nb = 1;       // output rows per band
  int64_t slots = 1;
  int64_t ebuf = 0, dbuf = 0, pad = 0;  // floats per slot: expanded rows, depthwise rows, padded plane
  int64_t yt = 0;  // the transposed project's Y^T (per slot; staged: one for the image)
  bool cl = false;   // channels last: ebuf / dbuf hold positions x E (staged: the whole image)
  int64_t taps = 0;  // channels last: room for a per-run tap-major copy of a non-constant Wd
  int64_t stem = 0;  // the stem's small_c scratch (per slot, after the buffers, 64-byte aligned)
  // The stem scratch's offset in a slot (after the buffers, 64-byte aligned).
  int64_t stem_offset() const { return round16(ebuf + dbuf + pad + yt); }
  int64_t slot_floats() const { return stem ? stem_offset() + stem : ebuf + dbuf + pad + yt; }
  static int64_t round16(int64_t v) { return (v + 15) / 16 * 16; }
};

// The stem's small_c arguments without the per-call pointers (x, w, y, bias).
inline kernels::SmallCConv stem_args(const Dims& d) {
  kernels::SmallCConv s;
  s.C = d.C;
  s.IH = d.XH;
  s.IW = d.XW;
  s.M = d.E;
  s.KH = d.sg.kernel[0];
  s.KW = d.sg.kernel[1];
  s.PH = d.sg.pad[0];
  s.PW = d.sg.pad[1];
  s.OH = d.IH;
  s.OW = d.IW;
  return s;
}

inline kernels::ConvShape band_shape(const Dims& d, int64_t in_rows, int64_t out_rows, int64_t pad_top) {
  kernels::ConvShape s = d.g;
  s.in[0] = in_rows;
  s.out[0] = out_rows;
  s.pad[0] = pad_top;
  return s;
}

// The input rows that `ranges` row ranges of an image read besides the image's
// own (the halos computed twice), as a fraction of those.
inline double halo_fraction(const Dims& d, int64_t ranges) {
  const int64_t range_rows = (d.OH + ranges - 1) / ranges, own = d.in_hi(d.OH) - d.in_lo(0);
  int64_t read = 0;
  for (int64_t o0 = 0; o0 < d.OH; o0 += range_rows) read += d.in_hi(std::min(d.OH, o0 + range_rows)) - d.in_lo(o0);
  return own > 0 ? double(read - own) / double(own) : 0.0;
}

// `transposed`: the project GEMM runs turned around (DepthwiseBlock::wp_ packed);
// `cl`: the block runs channels last (both 1x1 weights packed).
inline Plan make_plan(const Dims& d, int threads, bool transposed, bool cl = false) {
  Plan p;
  const int64_t T = std::clamp<int64_t>(threads, 1, kMaxSlots);
  const int64_t per_pos = d.E * (d.expand ? 1 : 0);  // expanded floats per input position
  if (d.N == 0 || d.OH == 0 || d.OW == 0) return p;  // nothing to compute (run() returns at once)
  p.cl = cl;
  p.taps = cl ? d.E * d.g.kernel[0] * d.g.kernel[1] : 0;
  const int64_t ranges = d.N >= T ? 1 : std::min(d.OH, (T + d.N - 1) / d.N);
  // (A stem runs in bands only: its rows are computed by a serial kernel.)
  if (T > 1 && d.N < T && !d.stem && d.OH / ranges < kMinRowsPerRange &&
      halo_fraction(d, ranges) > kMaxHaloFraction) {
    p.staged = true;
    p.nb = d.OH;
    p.slots = T;
    p.ebuf = per_pos * d.IH * d.IW;
    p.dbuf = d.E * d.OH * d.OW;
    p.pad = cl ? 0 : kernels::depthwise_scratch_floats(d.g);
    // Channels last, each slot projects its channels into a Y^T of its own (see run_staged_cl).
    p.yt = transposed ? (cl ? T : 1) * d.P * d.OH * d.OW : 0;
    // The buffers are shared by the stages; only the padded planes are per slot.
    return p;
  }
  p.ranges = ranges;
  const int64_t range_rows = (d.OH + p.ranges - 1) / p.ranges;
  auto band_floats = [&](int64_t nb) { return per_pos * d.band_in_rows(nb) * d.IW + d.E * nb * d.OW; };
  int64_t nb = 1;
  while (nb < range_rows && (band_floats(nb + 1) * int64_t(sizeof(float)) <= kBandBytes || nb * d.OW < kMinBandPositions))
    ++nb;
  p.nb = nb;
  p.slots = std::min(T, d.N * p.ranges);
  p.ebuf = per_pos * d.band_in_rows(nb) * d.IW;
  p.dbuf = d.E * nb * d.OW;
  p.pad = cl ? 0 : kernels::depthwise_scratch_floats(band_shape(d, d.band_in_rows(nb), nb, d.g.pad[0]));
  p.yt = transposed ? d.P * nb * d.OW : 0;
  p.stem = d.stem ? Plan::round16(kernels::small_c_conv_scratch_floats(stem_args(d))) : 0;
  return p;
}

// Shared scratch (the taps; a staged plan's image buffers and its pads), and each
// thread's own (a band plan's buffers, RunContext::slot_scratch).
inline int64_t scratch_floats(const Plan& p) {
  return p.taps + (p.staged ? p.ebuf + p.dbuf + p.yt + p.slots * p.pad : 0);
}
inline int64_t slot_scratch_floats(const Plan& p) { return p.staged ? 0 : p.slot_floats(); }

// Positions of each project GEMM under plan p: the image (staged) or a band.
inline int64_t project_positions(const Dims& d, const Plan& p) { return (p.staged ? d.OH : p.nb) * d.OW; }

// Per-run views of the inputs and the three epilogues.
struct Args {
  const float *x, *we, *be, *wd, *bd, *wp, *bp, *r;
  float* y;
  kernels::Epilogue expand_ep, dw_ep, project_ep;  // dw_ep without its bias (per plane)
  bool res_clamp = false;
  float res_lo = 0.0f, res_hi = 0.0f;
  kernels::GemmBackend gemm = kernels::GemmBackend::Auto;
  const InPlacePackedWeights* wp_packed = nullptr;  // the project weights, when packed
  const InPlacePackedWeights* we_packed = nullptr;  // the expand weights (channels last)
  const float* wd_taps = nullptr;                   // Wd tap-major (channels last)
};

class DepthwiseBlock final : public OpKernel {
 public:
  DepthwiseBlock(const Node& node, const Graph& graph) {
    attrs_ = parse_window_attrs(node, false);
    expand_act_ = parse_fused_activation(node, "expand.");
    dw_act_ = parse_fused_activation(node, "depthwise.");
    project_act_ = parse_fused_activation(node, "project.");
    stem_node_ = prefixed_attrs_node(node, kStemPrefix);  // its errors name this node
    stem_ = !stem_node_.attrs.empty();
    if (stem_) stem_attrs_ = parse_window_attrs(stem_node_, false);
    if (node.inputs.size() > size_t(kInputs))
      fail(StatusCode::InvalidModel, node.describe(), ": takes at most ", int(kInputs), " inputs");
    if (node.inputs.size() > size_t(kWp)) wp_.prepare(node, graph, kWp);
    we_.prepare(node, graph, kWe);
    wd_.prepare(node, graph, kWd);  // only for owned(): the taps are made tap-major in place
  }

  bool uses_sgemm() const override { return true; }
  size_t held_bytes() const override {
    return wp_.held_bytes() + we_.held_bytes() + taps_bytes_.load(std::memory_order_acquire);
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    const TensorMeta& x = ctx.input(kX);
    const TensorMeta& wd = ctx.input(kWd);
    const TensorMeta& wp = ctx.input(kWp);
    for (size_t i = 0; i < size_t(kInputs); ++i)
      if (ctx.has_input(i)) ctx.expect_dtype(i, {DType::Float32});
    if (x.shape.size() != 4 || !shape_known(x.shape))
      fail(StatusCode::ShapeMismatch, node.describe(), ": input X must be a known 4-D NCHW shape, got ",
           shape_str(x.shape));
    const bool expand = ctx.has_input(kWe);
    const int64_t C = x.shape[1];
    const int64_t E = expand && !ctx.input(kWe).shape.empty() ? ctx.input(kWe).shape[0] : C;
    if (stem_) {
      const Shape& ws = expand ? ctx.input(kWe).shape : Shape{};
      if (ws.size() != 4 || ws[1] != C || !shape_known(ws))
        fail(StatusCode::ShapeMismatch, node.describe(), ": X has ", C, " channels but the stem weight is ",
             shape_str(ws));
      // The small_c kernel's limits (its scalar reference runs where it does not).
      if (!kernels::small_c_conv_fits(C, ws[2], ws[3]))
        fail(StatusCode::Unsupported, node.describe(), ": the stem conv's weight ", shape_str(ws),
             " needs 1-", kernels::kSmallConvMaxC, " input channels and a kernel of at most ",
             kernels::kSmallConvMaxK, "x", kernels::kSmallConvMaxK);
      const std::vector<int64_t>& ks = stem_attrs_.kernel_shape;
      if (!ks.empty() && (ks.size() != 2 || ks[0] != ws[2] || ks[1] != ws[3]))
        fail(StatusCode::ShapeMismatch, node.describe(), ": stem.kernel_shape ", shape_str(ks),
             " does not match the stem weight ", shape_str(ws));
    } else if (expand && ctx.input(kWe).shape != Shape{E, C, 1, 1}) {
      fail(StatusCode::ShapeMismatch, node.describe(), ": X has ", C, " channels but the expand weight is ",
           shape_str(ctx.input(kWe).shape));
    }
    if (wd.shape.size() != 4 || wd.shape[0] != E || wd.shape[1] != 1 || wd.shape[2] < 1 || wd.shape[3] < 1)
      fail(StatusCode::ShapeMismatch, node.describe(), ": depthwise weight ", shape_str(wd.shape), " must be [", E,
           ",1,KH,KW]");
    if (wp.shape.size() != 4 || wp.shape[1] != E || wp.shape[2] != 1 || wp.shape[3] != 1)
      fail(StatusCode::ShapeMismatch, node.describe(), ": project weight ", shape_str(wp.shape), " must be [P,", E,
           ",1,1]");
    const int64_t P = wp.shape[0];
    if (C == 0 || E == 0)
      fail(StatusCode::Unsupported, node.describe(), ": a block with no input or depthwise channels");
    const std::pair<Input, int64_t> biases[] = {{kBe, E}, {kBd, E}, {kBp, P}};
    for (const auto& b : biases)
      if (ctx.has_input(b.first) && ctx.input(b.first).shape != Shape{b.second})
        fail(StatusCode::ShapeMismatch, node.describe(), ": bias ", shape_str(ctx.input(b.first).shape),
             " must have shape [", b.second, "]");
    if (ctx.has_input(kBe) && !expand)
      fail(StatusCode::InvalidModel, node.describe(), ": an expand bias without an expand weight");
    const Dims d = dims_of(node, x.shape, expand ? &ctx.input(kWe).shape : nullptr, wd.shape, P);
    // Every output row must read at least one input row (so a band's local top
    // padding is never negative): the fusion pass only fuses such pads.
    const int64_t dw_in[2] = {d.IH, d.IW};
    const WindowGeometry g = forward_geometry(node, attrs_, 2, dw_in, wd.shape.data() + 2);
    if (g.pad[0] >= d.kh_extent() || g.pad_end[0] >= d.kh_extent())
      fail(StatusCode::Unsupported, node.describe(), ": padding larger than the kernel");
    const Shape ys = {d.N, P, d.OH, d.OW};
    if (ctx.has_input(kR) && ctx.input(kR).shape != ys)
      fail(StatusCode::ShapeMismatch, node.describe(), ": fused residual ", shape_str(ctx.input(kR).shape),
           " must have the output's shape ", shape_str(ys));
    ctx.set_output(0, DType::Float32, ys);
    // The first plan decides, once, whether the block runs channels last (both 1x1
    // weights packed) or the project weights alone are packed for the transposed
    // GEMM (see packed_weights.h); every later plan and run follows.
    const Plan today = make_plan(d, ctx.threads, false);
    const bool cl = expand && !stem_ && we_.pack_once(ctx.input(kWe).value, [&] {
      return kernels::gemm_uses_netlite(ctx.gemm) && wp_.owned() && wp_.rows() == P && wp_.cols() == E &&
             we_.rows() == E && we_.cols() == C && d.IH * d.IW <= kChannelsLastMaxPositions &&
             d.OH * d.OW <= kChannelsLastMaxPositions;
    });
    const bool tp = wp_.pack_once(ctx.input(kWp).value, [&] {
      if (cl) return true;
      const int64_t pos = project_positions(d, today), nr = kernels::gemm_packed_b_nr();
      return kernels::gemm_uses_netlite(ctx.gemm) && wp_.rows() == P && wp_.cols() == E && !today.staged &&
             double(pos) / double((pos + nr - 1) / nr * nr) < kTransposedMaxUseful && transposed_gemm_pays(P, E, pos);
    });
    if (cl && !tp)
      fail(StatusCode::Internal, node.describe(), ": the expand weights were packed but the project weights not");
    if (cl && ctx.input(kWd).value) prepare_taps(*ctx.input(kWd).value);
    const Plan pt = make_plan(d, ctx.threads, tp, cl), p1 = make_plan(d, 1, tp, cl);
    ctx.scratch_bytes = size_t(std::max(scratch_floats(pt), scratch_floats(p1))) * sizeof(float);
    ctx.set_slot_scratch(size_t(slot_scratch_floats(pt)) * sizeof(float),
                         size_t(slot_scratch_floats(p1)) * sizeof(float));
  }

  void run(RunContext& ctx) const override {
    const Shape& xs = ctx.in(kX).shape;
    const Shape& ws = ctx.in(kWd).shape;
    const bool expand = has(ctx, kWe);
    const int64_t E = ws[0], P = ctx.in(kWp).shape[0];
    const Dims d = dims_of(ctx.node, xs, expand ? &ctx.in(kWe).shape : nullptr, ws, P);
    if (d.N == 0 || d.P == 0 || d.OH == 0 || d.OW == 0) return;
    const bool tp = wp_.packed(), cl = we_.packed();
    Plan p = make_plan(d, ctx.pool->threads(), tp, cl);
    if (size_t(scratch_floats(p)) * sizeof(float) > ctx.scratch_bytes ||
        !ctx.has_slot_scratch(p.slots, size_t(slot_scratch_floats(p)) * sizeof(float)))
      p = make_plan(d, 1, tp, cl);

    Args a;
    a.x = ctx.in(kX).ptr<float>();
    a.we = expand ? ctx.in(kWe).ptr<float>() : nullptr;
    a.be = has(ctx, kBe) ? ctx.in(kBe).ptr<float>() : nullptr;
    a.wd = ctx.in(kWd).ptr<float>();
    a.bd = has(ctx, kBd) ? ctx.in(kBd).ptr<float>() : nullptr;
    a.wp = ctx.in(kWp).ptr<float>();
    a.bp = has(ctx, kBp) ? ctx.in(kBp).ptr<float>() : nullptr;
    a.r = has(ctx, kR) ? ctx.in(kR).ptr<float>() : nullptr;
    a.y = ctx.out(0).ptr<float>();
    a.expand_ep = make_epilogue(expand_act_, a.be);
    a.dw_ep = make_epilogue(dw_act_, nullptr);
    // With a residual the GEMM adds the bias only; the activation follows the add.
    a.project_ep = make_epilogue(a.r ? FusedActivation() : project_act_, a.bp);
    const kernels::Epilogue res = make_epilogue(project_act_, nullptr);
    a.res_clamp = res.clamp;
    a.res_lo = res.lo;
    a.res_hi = res.hi;
    a.gemm = ctx.gemm;
    if (tp) a.wp_packed = &wp_;
    float* scratch = static_cast<float*>(ctx.scratch);
    if (cl) {
      a.we_packed = &we_;
      // The weight made tap-major at the first plan (in place, or in a copy), or a
      // copy made now for a depthwise weight that was not a constant then.
      const bool ready = taps_ready_.load(std::memory_order_acquire);
      const float* taps = ready && taps_src_ == a.wd ? taps_at_ : nullptr;
      if (!taps) {
        kernels::depthwise_taps_major(a.wd, E, ws[2] * ws[3], scratch);
        taps = scratch;
      }
      a.wd_taps = taps;
      scratch += p.taps;
    }

    if (p.staged) {
      for (int64_t n = 0; n < d.N; ++n) run_staged(ctx, d, p, a, n, scratch);
      return;
    }
    SlotPool slots;
    const int64_t range_rows = (d.OH + p.ranges - 1) / p.ranges;
    ctx.pool->parallel_for(d.N * p.ranges, [&](int64_t tb, int64_t te) {
      const int64_t slot = slots.acquire(p.slots);
      float* buf = ctx.slot_scratch(slot);
      for (int64_t t = tb; t < te; ++t) {
        const int64_t n = t / p.ranges, o0 = (t % p.ranges) * range_rows;
        run_range(d, p, a, n, o0, std::min(d.OH, o0 + range_rows), buf);
      }
      slots.release(slot);
    }, 1);
  }

 private:
  static bool has(const RunContext& ctx, Input i) { return ctx.inputs.size() > size_t(i) && ctx.inputs[i]; }

  // The block's dimensions for input X, the expand (or stem) weight's shape (null
  // without one), the depthwise weight's and P project channels.
  Dims dims_of(const Node& node, const Shape& xs, const Shape* we, const Shape& wd, int64_t P) const {
    Dims d;
    d.N = xs[0];
    d.C = xs[1];
    d.E = wd[0];
    d.P = P;
    d.XH = d.IH = xs[2];
    d.XW = d.IW = xs[3];
    d.expand = we != nullptr;
    if (stem_ && we) {
      const WindowGeometry sg = forward_geometry(stem_node_, stem_attrs_, 2, xs.data() + 2, we->data() + 2);
      for (int i = 0; i < 2; ++i)
        if (sg.stride[i] != 2 || sg.dilation[i] != 1)
          fail(StatusCode::Unsupported, node.describe(), ": the stem conv must have stride 2 and no dilation");
      d.stem = true;
      d.sg = sg;
      d.IH = sg.out[0];
      d.IW = sg.out[1];
    }
    const int64_t in[2] = {d.IH, d.IW};
    d.g = forward_geometry(node, attrs_, 2, in, wd.data() + 2);
    d.OH = d.g.out[0];
    d.OW = d.g.out[1];
    return d;
  }

  // A 1x1 conv as a GEMM: C[M x N] (row stride ldc) = W[M x K] (dense) * B[K x N]
  // (row stride ldb), then the epilogue, applied on each tile.
  static kernels::GemmArgs pointwise_gemm(int64_t M, int64_t N, int64_t K, const float* w, const float* b, int64_t ldb,
                                          float* c, int64_t ldc, const kernels::Epilogue& ep) {
    kernels::GemmArgs g;
    g.M = M;
    g.N = N;
    g.K = K;
    g.A = w;
    g.lda = K;
    g.B = b;
    g.ldb = ldb;
    g.C = c;
    g.ldc = ldc;
    g.row_bias = ep.bias;
    g.clamp = ep.clamp;
    g.lo = ep.lo;
    g.hi = ep.hi;
    return g;
  }

  // Expand GEMM: rows [r0, r1) of image n's input into `dst` (plane stride ldd).
  // A stem computes them on this thread (pool null) with stem_scratch.
  static void expand_rows(const Dims& d, const Args& a, int64_t n, int64_t r0, int64_t r1, float* dst, int64_t ldd,
                          ThreadPool* pool, float* stem_scratch = nullptr) {
    if (r1 <= r0) return;
    if (d.stem) {
      kernels::SmallCConv s = stem_args(d);
      s.x = a.x + n * d.C * d.x_plane();
      s.w = a.we;
      s.bias = a.expand_ep.bias;
      s.clamp = a.expand_ep.clamp;
      s.lo = a.expand_ep.lo;
      s.hi = a.expand_ep.hi;
      s.y = dst - r0 * d.IW;  // row r of channel m at dst + m * ldd + (r - r0) * IW
      s.y_plane = ldd;
      kernels::small_c_conv_rows(s, r0, r1, stem_scratch);
      return;
    }
    const kernels::GemmArgs g = pointwise_gemm(d.E, (r1 - r0) * d.IW, d.C, a.we, a.x + n * d.C * d.x_plane() + r0 * d.IW,
                                               d.x_plane(), dst, ldd, a.expand_ep);
    kernels::sgemm(g, pool, a.gemm);
  }

  // Depthwise conv of channels [c0, c1): input planes at src (stride lds; row 0
  // is input row `lo`), output rows [o0, o1) into dst (plane stride ldd).
  static void depthwise_rows(const Dims& d, const Args& a, const float* src, int64_t lds, int64_t lo, int64_t hi,
                             int64_t o0, int64_t o1, float* dst, int64_t ldd, int64_t c0, int64_t c1, float* pad) {
    const kernels::ConvShape s = band_shape(d, hi - lo, o1 - o0, lo - (o0 * d.g.stride[0] - d.g.pad[0]));
    const int64_t ks = d.g.kernel[0] * d.g.kernel[1];
    for (int64_t c = c0; c < c1; ++c)
      kernels::depthwise_conv2d_plane_padded(s, src + c * lds, a.wd + c * ks, a.bd ? a.bd[c] : 0.0f, a.dw_ep,
                                             dst + c * ldd, pad);
  }

  // Project GEMM of output rows [o0, o1) from the depthwise rows at src (plane
  // stride lds), then the residual over the rows just written. With the weights
  // packed (a.wp_packed), turned around into yt (positions x P) and stored back.
  static void project_rows(const Dims& d, const Args& a, int64_t n, int64_t o0, int64_t o1, const float* src,
                           int64_t lds, float* yt, ThreadPool* pool) {
    const int64_t plane = d.OH * d.OW, off = n * d.P * plane + o0 * d.OW, cols = (o1 - o0) * d.OW;
    if (a.wp_packed) {
      // On one thread: only a plan after a banded first plan (see infer) can be staged here.
      project_transposed(d, a, off, cols, src, lds, true, yt);
      return;
    }
    const kernels::GemmArgs g = pointwise_gemm(d.P, cols, d.E, a.wp, src, lds, a.y + off, plane, a.project_ep);
    kernels::sgemm(g, pool, a.gemm);
    if (!a.r) return;
    if (pool) {
      pool->parallel_for(d.P, [&](int64_t b, int64_t e) {
        kernels::add_residual(a.y + off + b * plane, plane, a.r + off + b * plane, plane, e - b, cols, a.res_clamp,
                              a.res_lo, a.res_hi);
      }, 8);
    } else {
      kernels::add_residual(a.y + off, plane, a.r + off, plane, d.P, cols, a.res_clamp, a.res_lo, a.res_hi);
    }
  }

  // Y^T [cols x P] = D^T Wp^T on the packed weights, then Y (at a.y + off, plane
  // stride OH*OW) = Y^T transposed, with the bias, residual and activation. D is
  // read transposed (trans_a: E x positions, row stride lds) or, channels last, in
  // place (positions x E).
  static void project_transposed(const Dims& d, const Args& a, int64_t off, int64_t cols, const float* src,
                                 int64_t lds, bool trans_a, float* yt) {
    project_gemm(d, a, cols, src, lds, trans_a, 0, d.E, yt);
    store_projected(d, a, off, cols, yt, 0, d.P);
  }

  // The part of Y^T [cols x P] that depthwise channels [k0, k1) make (k0 on a strip
  // boundary): D^T's columns [k0, k1) (src points at column k0) times those rows of
  // Wp^T, packed.
  static void project_gemm(const Dims& d, const Args& a, int64_t cols, const float* src, int64_t lds, bool trans_a,
                           int64_t k0, int64_t k1, float* yt) {
    kernels::GemmArgs g;
    g.trans_a = trans_a;
    g.M = cols;
    g.N = d.P;
    g.K = k1 - k0;
    g.A = src;
    g.lda = lds;
    a.wp_packed->set_b(g, 0, k0);
    g.C = yt;
    g.ldc = d.P;
    g.mr = kernels::gemm_kernel_mr_for(cols);
    kernels::sgemm(g, nullptr, a.gemm);
  }

  // Output channels [j0, j1) of Y (at a.y + off, plane stride OH*OW) from Y^T
  // [cols x P]: transposed, with the bias, residual and activation.
  static void store_projected(const Dims& d, const Args& a, int64_t off, int64_t cols, const float* yt, int64_t j0,
                              int64_t j1) {
    const int64_t plane = d.OH * d.OW;
    // With a residual, project_ep is the bias alone and the activation follows the add.
    const bool clamp = a.r ? a.res_clamp : a.project_ep.clamp;
    const float lo = a.r ? a.res_lo : a.project_ep.lo, hi = a.r ? a.res_hi : a.project_ep.hi;
    kernels::gemm_transpose_epilogue(yt + j0, d.P, cols, j1 - j0, a.y + off + j0 * plane, plane,
                                     a.bp ? a.bp + j0 : nullptr, a.r ? a.r + off + j0 * plane : nullptr, clamp, lo,
                                     hi);
  }

  // Channels last: expand GEMM of input rows [r0, r1) of image n, channels [c0, c1)
  // (c0 on a strip boundary), into dst (positions x E), then its bias and activation.
  static void expand_rows_cl(const Dims& d, const Args& a, int64_t n, int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                             float* dst) {
    if (r1 <= r0) return;
    kernels::GemmArgs g;
    g.trans_a = true;
    g.M = (r1 - r0) * d.IW;
    g.N = c1 - c0;
    g.K = d.C;
    g.A = a.x + n * d.C * d.x_plane() + r0 * d.IW;
    g.lda = d.x_plane();
    a.we_packed->set_b(g, c0);
    g.C = dst + c0;
    g.ldc = d.E;
    g.mr = kernels::gemm_kernel_mr_for(g.M);
    kernels::sgemm(g, nullptr, a.gemm);
    kernels::channels_last_bias_act(dst + c0, g.M, c1 - c0, d.E, a.expand_ep.bias ? a.expand_ep.bias + c0 : nullptr,
                                    a.expand_ep.clamp, a.expand_ep.lo, a.expand_ep.hi);
  }

  // run_range channels last: ebuf holds the band's input rows as positions x E,
  // dbuf its depthwise output rows the same way.
  static void run_range_cl(const Dims& d, const Plan& p, const Args& a, int64_t n, int64_t ob, int64_t oe,
                           float* buf) {
    float* ebuf = buf;
    float* dbuf = buf + p.ebuf;
    float* yt = dbuf + p.dbuf;
    const int64_t row = d.IW * d.E;  // floats per expanded input row
    const int64_t plane = d.OH * d.OW;
    int64_t have_lo = 0, have_hi = 0;  // input rows held in ebuf (row have_lo first)
    for (int64_t o0 = ob; o0 < oe; o0 += p.nb) {
      const int64_t o1 = std::min(oe, o0 + p.nb);
      const int64_t lo = d.in_lo(o0), hi = std::max(lo, d.in_hi(o1));
      int64_t keep = 0;
      if (lo >= have_lo && lo < have_hi) {  // rows shared with the previous band move to the front
        keep = have_hi - lo;
        if (lo > have_lo) std::memmove(ebuf, ebuf + (lo - have_lo) * row, size_t(keep * row) * sizeof(float));
      }
      expand_rows_cl(d, a, n, lo + keep, hi, 0, d.E, ebuf + keep * row);
      have_lo = lo;
      have_hi = hi;
      kernels::depthwise_channels_last(band_shape(d, hi - lo, o1 - o0, lo - (o0 * d.g.stride[0] - d.g.pad[0])),
                                       depthwise_args(d, a, ebuf, dbuf));
      // Y^T [positions x P] = D^T Wp^T, D^T read in place, then stored back transposed.
      project_transposed(d, a, n * d.P * plane + o0 * d.OW, (o1 - o0) * d.OW, dbuf, d.E, false, yt);
    }
  }

  // Output rows [ob, oe) of image n, band by band, on one thread's buffers.
  static void run_range(const Dims& d, const Plan& p, const Args& a, int64_t n, int64_t ob, int64_t oe, float* buf) {
    if (p.cl) {
      run_range_cl(d, p, a, n, ob, oe, buf);
      return;
    }
    float* ebuf = buf;
    float* dbuf = buf + p.ebuf;
    float* pad = dbuf + p.dbuf;
    float* yt = pad + p.pad;
    float* stem_scratch = p.stem ? buf + p.stem_offset() : nullptr;
    const int64_t eld = d.band_in_rows(p.nb) * d.IW;  // expanded plane stride
    const int64_t dld = p.nb * d.OW;                    // depthwise plane stride
    const float* x = a.x + n * d.C * d.x_plane();
    int64_t have_lo = 0, have_hi = 0;  // input rows held in ebuf (row have_lo first)
    for (int64_t o0 = ob; o0 < oe; o0 += p.nb) {
      const int64_t o1 = std::min(oe, o0 + p.nb);
      const int64_t lo = d.in_lo(o0), hi = std::max(lo, d.in_hi(o1));
      const float* src = x + lo * d.IW;
      int64_t lds = d.x_plane();
      if (d.expand) {
        int64_t keep = 0;
        if (lo >= have_lo && lo < have_hi) {  // rows shared with the previous band move to the front
          keep = have_hi - lo;
          if (lo > have_lo)
            for (int64_t c = 0; c < d.E; ++c)
              std::memmove(ebuf + c * eld, ebuf + c * eld + (lo - have_lo) * d.IW,
                           size_t(keep * d.IW) * sizeof(float));
        }
        expand_rows(d, a, n, lo + keep, hi, ebuf + keep * d.IW, eld, nullptr, stem_scratch);
        have_lo = lo;
        have_hi = hi;
        src = ebuf;
        lds = eld;
      }
      depthwise_rows(d, a, src, lds, lo, hi, o0, o1, dbuf, dld, 0, d.E, pad);
      project_rows(d, a, n, o0, o1, dbuf, dld, yt, nullptr);
    }
  }

  // Image n channels last in two stages over the pool. First each thread expands and
  // convolves its own channels (the depthwise conv reads no other channel) and
  // multiplies them by their rows of the project weights, into a Y^T of its own (a
  // split of the project GEMM's K); then each thread sums those partial Y^T over its
  // output channels and stores them back. Splitting the project GEMM by output
  // channels or positions instead made each thread read the other's half of the
  // depthwise output (188 KB per 7x7 block of MobileNet-V2) from the other core:
  // with the VM's two vCPUs far apart (a cross-core round trip of ~330 ns instead
  // of ~60), MobileNet-V2's four 7x7 blocks took 1.151 ms that way and 1.085 this
  // way (bench_models, alternating binaries), near 0.776 both.
  static void run_staged_cl(RunContext& ctx, const Dims& d, const Plan& p, const Args& a, int64_t n,
                            float* scratch) {
    float* ebuf = scratch;
    float* dbuf = scratch + p.ebuf;
    float* yt = dbuf + p.dbuf;
    const int64_t nr = kernels::gemm_packed_b_nr(), plane = d.OH * d.OW, ytf = plane * d.P;
    // An equal number of the expanded channels' strips per part (a loop over the
    // strips cut E = 960's 30 into 16 + 14).
    const int64_t e_strips = (d.E + nr - 1) / nr;
    const int64_t parts = std::min<int64_t>({ctx.pool->threads(), e_strips, p.yt / ytf});
    ctx.pool->parallel_for(parts, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t c0 = e_strips * t / parts * nr, c1 = std::min(d.E, e_strips * (t + 1) / parts * nr);
        expand_rows_cl(d, a, n, 0, d.IH, c0, c1, ebuf);
        kernels::DwChannelsLast dw = depthwise_args(d, a, ebuf, dbuf);
        dw.c0 = c0;
        dw.c1 = c1;
        kernels::depthwise_channels_last(d.g, dw);
        project_gemm(d, a, plane, dbuf + c0, d.E, false, c0, c1, yt + t * ytf);
      }
    }, 1);
    // Output channels in units of 16 (a vector), an equal share per thread.
    const int64_t units = (d.P + 15) / 16, out_parts = std::min<int64_t>(ctx.pool->threads(), units);
    ctx.pool->parallel_for(out_parts, [&](int64_t b, int64_t e) {
      const int64_t j0 = std::min(d.P, units * b / out_parts * 16), j1 = std::min(d.P, units * e / out_parts * 16);
      if (j1 <= j0) return;
      for (int64_t t = 1; t < parts; ++t)
        kernels::add_residual(yt + j0, d.P, yt + t * ytf + j0, d.P, plane, j1 - j0, false, 0.0f, 0.0f);
      store_projected(d, a, n * d.P * plane, plane, yt, j0, j1);
    }, 1);
  }

  // The channels-last depthwise conv of all channels from src to dst (positions x E).
  static kernels::DwChannelsLast depthwise_args(const Dims& d, const Args& a, const float* src, float* dst) {
    kernels::DwChannelsLast dw;
    dw.x = src;
    dw.ldx = d.E;
    dw.w = a.wd_taps;
    dw.ldw = d.E;
    dw.bias = a.bd;
    dw.y = dst;
    dw.ldy = d.E;
    dw.c0 = 0;
    dw.c1 = d.E;
    dw.clamp = a.dw_ep.clamp;
    dw.lo = a.dw_ep.lo;
    dw.hi = a.dw_ep.hi;
    return dw;
  }

  // Image n in three stages, each split over the pool.
  void run_staged(RunContext& ctx, const Dims& d, const Plan& p, const Args& a, int64_t n, float* scratch) const {
    if (p.cl) {
      run_staged_cl(ctx, d, p, a, n, scratch);
      return;
    }
    float* ebuf = scratch;
    float* dbuf = scratch + p.ebuf;
    float* yt = dbuf + p.dbuf;
    float* pads = yt + p.yt;
    const float* src = a.x + n * d.C * d.x_plane();
    int64_t lds = d.x_plane();
    if (d.expand) {
      expand_rows(d, a, n, 0, d.IH, ebuf, d.IH * d.IW, ctx.pool);
      src = ebuf;
    }
    SlotPool slots;
    ctx.pool->parallel_for(d.E, [&](int64_t c0, int64_t c1) {
      const int64_t slot = slots.acquire(p.slots);
      depthwise_rows(d, a, src, lds, 0, d.IH, 0, d.OH, dbuf, d.OH * d.OW, c0, c1, pads + slot * p.pad);
      slots.release(slot);
    }, 1);
    project_rows(d, a, n, 0, d.OH, dbuf, d.OH * d.OW, yt, ctx.pool);
  }

  // Channels last: the depthwise weight made tap-major, once, at the first plan
  // that finds it constant: in place when the model owns it and this node alone
  // reads it (the usual layout is never read again: the block runs channels last
  // for good), else in a copy the kernel holds (runs with another weight make
  // their own).
  void prepare_taps(const Tensor& wd) const {
    std::call_once(taps_once_, [&] {
      if (wd.shape.size() != 4) return;
      const int64_t E = wd.shape[0], k = wd.shape[2] * wd.shape[3];
      const float* src = wd.ptr<float>();
      if (wd_.owned() && wd_.weight() == src) {
        const std::vector<float> original(src, src + E * k);
        kernels::depthwise_taps_major(original.data(), E, k, const_cast<float*>(src));
        taps_at_ = src;
      } else {
        taps_.resize(size_t(E * k));
        kernels::depthwise_taps_major(src, E, k, taps_.data());
        taps_at_ = taps_.data();
        taps_bytes_.store(taps_.size() * sizeof(float), std::memory_order_relaxed);
      }
      taps_src_ = src;
      taps_ready_.store(true, std::memory_order_release);
    });
  }

  WindowAttrs attrs_;
  Node stem_node_;  // the stem's attributes, unprefixed
  WindowAttrs stem_attrs_;
  bool stem_ = false;
  FusedActivation expand_act_, dw_act_, project_act_;
  // The project weights, packed in place by the first plan that decides for it;
  // the expand weights too when that plan runs the block channels last.
  InPlacePackedWeights wp_, we_;
  InPlacePackedWeights wd_;  // never packed: records whether Wd may be rewritten in place
  mutable std::once_flag taps_once_;
  mutable std::vector<float> taps_;
  mutable const float* taps_src_ = nullptr;  // the weight the taps were made from
  mutable const float* taps_at_ = nullptr;   // the tap-major weight (taps_src_ itself, or taps_)
  mutable std::atomic<bool> taps_ready_{false};
  mutable std::atomic<size_t> taps_bytes_{0};
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph& graph) {
  return std::make_unique<DepthwiseBlock>(node, graph);
}

}  // namespace depthwise_block_detail

extern const OpDef kOp_DepthwiseBlock = {
    "DepthwiseBlock", "netlite", 1, 1,
    "float32 [1x1 Conv or a first-layer stem Conv] -> depthwise Conv -> 1x1 Conv [+ residual] run band by band "
    "(fuse_depthwise_block)",
    depthwise_block_detail::create};

}  // namespace ops
}  // namespace netlite
