// Conv (ai.onnx 1-22): N-d convolution, NCHW, float32, with group, dilations,
// pads / auto_pad and optional bias, plus a fused activation epilogue.
//
// Four paths, chosen from the shapes:
//   winograd (2-D 3x3, stride 1, no dilation, group 1, constant weights, enough
//             output tiles, AVX-512) - F(4x4,3x3) on large planes, F(2x2,3x3) on
//             mid-sized ones; weights transformed once per variant by the first
//             plan that takes it;
//   depthwise (group == C == M, 1-D/2-D) - direct kernel per plane;
//   pointwise (1x..x1 kernel, stride 1, no pads) - GEMM straight on the input;
//   small_c (2-D, group 1, at most 4 input channels, stride 2: an image's first
//             layer, AVX-512) - a direct kernel over rows (kernels/conv_small_c.h);
//   general - im2col of a tile of output positions into scratch, then GEMM;
//   transposed (small output planes, constant weights packed in place once) -
//             the general path with the GEMM turned around, see run_transposed().
// With the internal attribute netlite_fused_residual (set by the
// fuse_conv_residual pass, never by users) a fourth input R of the output's shape
// is added before the fused activation: y = act(conv + bias + R), each output
// block getting R and the activation right after it is written, while in cache.
// Work is split over batch x group x spatial tiles; each tile's GEMM writes its
// slice of the output with the epilogue (bias + Relu/Clip) applied in registers.
// When there are fewer tiles than threads the GEMM itself is split instead.
// Otherwise weights are used in ONNX layout [M, C/group * prod(kernel)], which
// already is the GEMM's row-major A (read in place for the usual conv tiles), so
// there is nothing to prepack; reading W from the run's inputs also keeps weights
// rewritten by passes correct. The exception is the transposed path: its weights
// are repacked in place, once, and only when this node alone reads them.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "../core/memory.h"
#include "../kernels/conv.h"
#include "../kernels/conv_small_c.h"
#include "../kernels/winograd.h"
#include "common/conv_util.h"
#include "common/packed_weights.h"
#include "common/slot_pool.h"
#include "op.h"

namespace netlite {
namespace ops {
namespace conv_detail {

// Output positions per GEMM tile: a [K x tile] im2col panel of ~1 MB, at least 256
// positions so that packing the weights once per tile stays cheap.
constexpr int64_t kPanelFloats = 262144;
constexpr int64_t kMinTile = 256;
constexpr int64_t kOutTileFloats = 65536;  // 256 KB of output per tile
constexpr int64_t kMinSplitTile = 64;  // smallest tile worth a thread of its own
// With several threads, an image of fewer tiles than this many per thread is cut
// into more (down to kMinSplitTile positions each) when its weights are small
// (each tile reads all of them), so that the pool has chunks to balance: one
// tile per thread left a thread idle whenever the other ran slower (the two
// vCPUs here differ by up to 1.9x for minutes at a time), and three tiles on two
// threads gave one of them two. SqueezeNet at 2 threads (bench_models,
// alternating): expand1x1 55x55 0.063 -> 0.031 ms, the model 3.03 -> 2.90 ms.
// With ResNet-18's larger weights (layer2.0.conv1: 128 x 576) smaller tiles
// were slower: 0.40 -> 0.48 ms.
constexpr int64_t kSplitTilesPerThread = 4;
constexpr int64_t kSplitMaxWeightFloats = 16384;
// Pointwise weights from this size (1 MiB) make an image of one tile a single
// GEMM for the pool rather than one tile per thread (see make_plan).
constexpr int64_t kWholeMinWeightFloats = int64_t(1) << 18;

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

struct Plan {
  bool winograd = false;
  int wg_tile = 0;          // winograd output tile (2 or 4)
  int64_t wg_rows = 0;      // tile rows per winograd chunk
  int64_t wg_chunks = 0;    // chunks per image
  bool wg_whole = false;    // each image's output channels split over the pool (run_winograd)
  bool depthwise = false;
  bool pointwise = false;
  bool small_c = false;     // direct kernel over output rows, one scratch slot per thread
  bool whole = false;       // one GEMM per (image, group), split by sgemm over the pool
  bool transposed = false;  // general/pointwise as Y^T = col^T W^T on the packed weights
  int64_t tile = 0;         // output positions per task (tile mode)
  int64_t n_tiles = 0;
  int64_t slots = 1;        // scratch slots (RunContext::slot_scratch), one per thread at most
  size_t slot_floats = 0;   // per slot
  size_t scratch_floats = 0;  // shared by the threads (whole modes)
};

struct Dims {
  int64_t N = 0, C = 0, M = 0, G = 1, Cg = 0, Mg = 0, K = 0, HW = 0, IHW = 0;
};

// Winograd chunks: about kWinogradChunkTiles tiles each (the GEMMs' N), at
// least one per thread, in whole tile rows. A chunk's V and Mt take (C + M) * 36
// floats per F(4x4) tile: at 48 (4 rows of 14 tiles = 56 on a 55x55 or 56x56
// plane) SqueezeNet's layers (C + M = 80) use 0.65 MB and ResNet-18's (128)
// 1.0 MB, about one core's L2 on current x86 servers (this VM reports no cache
// sizes); at 192 (the whole 196-tile plane) they took 2.3 and 3.6 MB, and the
// output transform read Mt back from further out.
// bench_models, alternating, the 3x3 convs of each model: ResNet-18 1 thread
// 13.1-13.2 -> 12.6-12.7 ms, 2 threads 8.5-9.3 -> 8.4; SqueezeNet 1 thread
// 1.49-1.51 -> 1.45-1.46, 2 threads 1.68-1.74 -> 1.54-1.57 (32 tiles: slower
// again on ResNet-18, 17.1-17.4 against 14.9 for 48 in the same run).
constexpr int64_t kWinogradChunkTiles = 48;
constexpr int64_t kWinogradMinTiles = 36;  // below this the GEMMs are too narrow to pay
// F(4x4) when it has at least this many 4x4 tiles, measured on ResNet-18 /
// SqueezeNet's layers (bench_models, 1 thread): see the commit message.
constexpr int64_t kWinograd4MinTiles = 36;
// With several threads and few chunks, an image's output channels are split over
// the threads (Plan::wg_whole) when U (M*C per position) is more than this many
// times V + Mt ((C+M)*tiles). ResNet-18 at 2 threads (bench_models, wall): layer3's
// 14x14 F(2x2) convs (M = C = 256, 49 tiles; ratio 2.6) 0.515-0.566 -> 0.466-0.490
// ms each; but layer2's 28x28 F(4x4) (ratio 1.3) 0.318-0.341 -> 0.335-0.353 ms,
// and SqueezeNet's (ratios 0.2-1.0) within noise either way. That was with the
// image in three phases, each split over the pool (input transform by channels,
// GEMMs by position, output transform by output channel), V and Mt moving between
// the cores in between. Those moves cost far more when the two vCPUs are far
// apart, as they are here for minutes at a time (a cache line's round trip
// between them 330 ns instead of 60): layer3's three convs 3.2-3.5 ms near,
// 4.1-4.3 far. Each thread now transforms the whole input for itself and nothing
// else moves: 3.25-3.45 near, 3.7-3.9 far. With that, layer2's convs whole
// (ratio 1) were 2-3% slower near and about 9% faster far; left at 2.
constexpr int64_t kWinogradWholeRatio = 2;

// Winograd output tile for a 3x3 stride-1 plane of OH x OW outputs: 4, 2 or 0 (im2col).
inline int winograd_tile_for(int64_t OH, int64_t OW) {
  if (((OH + 3) / 4) * ((OW + 3) / 4) >= kWinograd4MinTiles) return 4;
  if (((OH + 1) / 2) * ((OW + 1) / 2) >= kWinogradMinTiles) return 2;
  return 0;
}

// The small_c kernel's arguments for one image, without its pointers.
inline kernels::SmallCConv small_c_args(const Dims& d, const kernels::ConvShape& plane) {
  kernels::SmallCConv a;
  a.C = d.C;
  a.IH = plane.in[0];
  a.IW = plane.in[1];
  a.M = d.M;
  a.KH = plane.kernel[0];
  a.KW = plane.kernel[1];
  a.PH = plane.pad[0];
  a.PW = plane.pad[1];
  a.OH = plane.out[0];
  a.OW = plane.out[1];
  return a;
}

inline Plan make_plan(const Dims& d, const kernels::ConvShape& plane, bool depthwise, bool pointwise, int winograd,
                      int threads, bool transposed = false) {
  Plan p;
  p.depthwise = depthwise;
  p.pointwise = pointwise;
  p.transposed = transposed;
  const int64_t T = std::min<int64_t>(kMaxSlots, std::max(1, threads));
  if (d.HW == 0 || d.N == 0 || d.M == 0) return p;
  if (winograd) {
    p.winograd = true;
    p.wg_tile = winograd;
    const int64_t TH = (plane.out[0] + winograd - 1) / winograd, TW = (plane.out[1] + winograd - 1) / winograd;
    int64_t rows = std::max<int64_t>(1, std::min(TH, (kWinogradChunkTiles + TW - 1) / TW));
    const int64_t per_thread = (TH * d.N + T - 1) / T;  // tile rows per thread over the batch
    rows = std::max<int64_t>(1, std::min(rows, per_thread));
    p.wg_chunks = (TH + rows - 1) / rows;
    // At batch 1, a chunk count that is a multiple of the threads, and the rows spread
    // evenly over the chunks (run_winograd: chunk c takes tile rows [c*TH/n, (c+1)*TH/n)),
    // so that each thread's contiguous share of the chunks has as many rows as the
    // others'. 56x56 (14 tile rows) in chunks of 4 at 2 threads gave one thread 8 rows
    // and the other 6; now 3 + 4 each.
    if (d.N == 1 && T > 1 && p.wg_chunks % T != 0 && (p.wg_chunks + T - 1) / T * T <= TH)
      p.wg_chunks = (p.wg_chunks + T - 1) / T * T;
    p.wg_rows = (TH + p.wg_chunks - 1) / p.wg_chunks;  // the largest chunk
    if (T > 1 && d.N * p.wg_chunks < 2 * T && d.M * d.C > kWinogradWholeRatio * (d.C + d.M) * TH * TW) {
      // Few chunks (one per thread at batch 1), each GEMMing with all of U,
      // and U much larger than the chunks' V and Mt: every thread would read
      // all of U. The image's output channels split over the threads instead:
      // each transforms the whole input into a V of its own (one slot), then
      // GEMMs and transforms back its channels only, reading only its part of
      // U. The input transform is done once per thread, which costs more than
      // it saves unless U dominates (see kWinogradWholeRatio).
      p.wg_whole = true;
      p.wg_rows = TH;
      p.wg_chunks = 1;
      p.slots = T;
      p.slot_floats = size_t(kernels::winograd_whole_v_floats(d.C, TW, TH, winograd));
      p.scratch_floats = size_t(kernels::winograd_whole_mt_floats(d.M, TW, TH, winograd));
      return p;
    }
    p.slots = std::max<int64_t>(1, std::min<int64_t>(T, d.N * p.wg_chunks));
    p.slot_floats = size_t(kernels::winograd_scratch_floats(d.C, d.M, TW, rows, winograd));
    return p;
  }
  if (!transposed && !depthwise && d.G == 1 && plane.nd == 2 &&
      kernels::small_c_conv_applies(d.C, plane.kernel[0], plane.kernel[1], plane.stride[0], plane.stride[1],
                                    plane.dilation[0], plane.dilation[1])) {
    p.small_c = true;
    p.slots = std::max<int64_t>(1, std::min<int64_t>(T, d.N * plane.out[0]));
    p.slot_floats = size_t(kernels::small_c_conv_scratch_floats(small_c_args(d, plane)));
    return p;
  }
  if (depthwise) {  // one zero-padded plane per slot
    p.slots = std::max<int64_t>(1, std::min<int64_t>(T, d.N * d.C));
    p.slot_floats = size_t(kernels::depthwise_scratch_floats(plane));
    return p;
  }
  // The tile's output block (Mg x tile) should stay in L2 too, so that the epilogue
  // and the next tile's reads do not go to memory.
  const int64_t by_k = kPanelFloats / std::max<int64_t>(d.K, 1);
  const int64_t by_m = kOutTileFloats / std::max<int64_t>(d.Mg, 1);
  int64_t tile = std::min(d.HW, std::max(kMinTile, round_up(std::min(by_k, by_m), 16)));
  int64_t n_tiles = (d.HW + tile - 1) / tile;
  const int64_t groups = d.N * d.G;
  // With several threads, too few tiles are cut into more: one per thread, or up to
  // kSplitTilesPerThread when the weights are small; never below kMinSplitTile
  // positions. Except a pointwise image of one tile with large weights: that is one
  // GEMM split by the GEMM (run_whole, below), which can give each thread its own
  // rows of the weights instead of every thread reading all of them.
  const bool large_weights = pointwise && d.Mg * d.K >= kWholeMinWeightFloats;
  if (T > 1 && !large_weights) {
    const int64_t per_thread = d.Mg * d.K <= kSplitMaxWeightFloats ? kSplitTilesPerThread : 1;
    if (groups * n_tiles < T * per_thread) {
      int64_t want = (T * per_thread + groups - 1) / groups;
      while (want > n_tiles && d.HW / want < kMinSplitTile) --want;
      n_tiles = std::max(n_tiles, want);
    }
  }
  tile = std::min(d.HW, round_up((d.HW + n_tiles - 1) / n_tiles, 16));
  n_tiles = (d.HW + tile - 1) / tile;
  const int64_t tasks = groups * n_tiles;
  if (tasks < T && T > 1) {
    p.whole = true;
    p.tile = d.HW;
    p.n_tiles = 1;
    p.slots = 1;
    p.scratch_floats = (pointwise ? 0 : size_t(d.K * d.HW)) + (transposed ? size_t(d.HW * d.M) : 0);
    if (transposed && !pointwise) {  // each thread its own im2col panel (run_transposed)
      p.slots = T;
      p.slot_floats = size_t(d.K * d.HW);
      p.scratch_floats = size_t(d.HW * d.M);
    }
  } else {
    p.tile = tile;
    p.n_tiles = n_tiles;
    p.slots = std::min<int64_t>(T, tasks);
    // Transposed: each slot also holds its tile's Y^T (tile x M).
    p.slot_floats = size_t((pointwise ? 0 : d.K * tile) + (transposed ? tile * d.M : 0));
  }
  return p;
}

class Conv final : public FusableConv {
 public:
  Conv(const Node& node, const Graph& graph) {
    attrs_ = parse_window_attrs(node, false);
    group_ = node.attr_int("group", 1);
    if (group_ < 1) fail(StatusCode::InvalidModel, node.describe(), ": group must be >= 1, got ", group_);
    activation_ = parse_fused_activation(node);
    residual_ = node.attr_int("netlite_fused_residual", 0) != 0;
    prepare_winograd(node, graph);
    // The transposed path may repack the weights in place (group 1 only).
    if (group_ == 1) tp_.prepare(node, graph, 1);
  }

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32});
    ctx.expect_dtype(1, {DType::Float32});
    const Shape& xs = ctx.input(0).shape;
    const Shape& ws = ctx.input(1).shape;
    if (xs.size() < 3)
      fail(StatusCode::ShapeMismatch, node.describe(), ": input X must have rank >= 3 (N, C, spatial...), got ",
           shape_str(xs));
    if (ws.size() != xs.size())
      fail(StatusCode::ShapeMismatch, node.describe(), ": weight W ", shape_str(ws), " must have the rank of X ",
           shape_str(xs));
    if (!shape_known(xs) || !shape_known(ws))
      fail(StatusCode::ShapeMismatch, node.describe(), ": input shapes must be known, got X ", shape_str(xs),
           " W ", shape_str(ws));
    const int nd = int(xs.size()) - 2;
    if (nd > kernels::kMaxConvDims)
      fail(StatusCode::Unsupported, node.describe(), ": at most ", kernels::kMaxConvDims, " spatial dims");
    const int64_t C = xs[1], M = ws[0];
    if (ws[1] * group_ != C)
      fail(StatusCode::ShapeMismatch, node.describe(), ": X has ", C, " channels but W ", shape_str(ws),
           " with group ", group_, " expects ", ws[1] * group_);
    if (M % group_ != 0)
      fail(StatusCode::ShapeMismatch, node.describe(), ": ", M, " output channels are not divisible by group ",
           group_);
    if (!attrs_.kernel_shape.empty()) {
      if (attrs_.kernel_shape.size() != size_t(nd))
        fail(StatusCode::ShapeMismatch, node.describe(), ": kernel_shape has ", attrs_.kernel_shape.size(),
             " dims, input has ", nd, " spatial dims");
      for (int i = 0; i < nd; ++i)
        if (attrs_.kernel_shape[size_t(i)] != ws[size_t(i) + 2])
          fail(StatusCode::ShapeMismatch, node.describe(), ": kernel_shape ", shape_str(attrs_.kernel_shape),
               " does not match W ", shape_str(ws));
    }
    for (int i = 0; i < nd; ++i)
      if (ws[size_t(i) + 2] < 1)
        fail(StatusCode::ShapeMismatch, node.describe(), ": W ", shape_str(ws), " has an empty kernel dim");
    if (ctx.has_input(2)) {
      ctx.expect_dtype(2, {DType::Float32});
      const Shape& bs = ctx.input(2).shape;
      if (bs.size() != 1 || bs[0] != M)
        fail(StatusCode::ShapeMismatch, node.describe(), ": bias B ", shape_str(bs), " must have shape [", M, "]");
    }
    const WindowGeometry g = forward_geometry(node, attrs_, nd, xs.data() + 2, ws.data() + 2);
    Shape ys = {xs[0], M};
    for (int i = 0; i < nd; ++i) ys.push_back(g.out[i]);
    if (residual_ != ctx.has_input(3))
      fail(StatusCode::InvalidModel, node.describe(), ": Conv takes at most 3 inputs");
    if (residual_) {
      ctx.expect_dtype(3, {DType::Float32});
      if (ctx.input(3).shape != ys)
        fail(StatusCode::ShapeMismatch, node.describe(), ": fused residual ", shape_str(ctx.input(3).shape),
             " must have the output's shape ", shape_str(ys));
    }
    ctx.set_output(0, DType::Float32, ys);
    const Dims d = dims_of(xs, ws, g);
    const kernels::ConvShape plane = as_2d(g);
    // The transposed decision first: once the weights are packed, no Winograd transform may read them.
    const bool tp = plan_transposed(ctx, d, g);
    if (!tp) commit_winograd(ctx, d, g);
    const int wg = tp ? 0 : plan_winograd(ctx, d, g);
    const Plan p = make_plan(d, plane, is_depthwise(d, g), g.is_pointwise(), wg, ctx.threads, tp);
    const Plan p1 = make_plan(d, plane, is_depthwise(d, g), g.is_pointwise(), wg, 1, tp);
    ctx.scratch_bytes = std::max(p.scratch_floats, p1.scratch_floats) * sizeof(float);
    ctx.set_slot_scratch(p.slot_floats * sizeof(float), p1.slot_floats * sizeof(float));
  }

  // The transformed copies, less the original's pages given back (never more than them:
  // released is read first, and written only after the copy it goes with is counted).
  size_t held_bytes() const override {
    const size_t released = wg_released_.load();
    return wg_held_.load() - released + tp_.held_bytes();
  }
  bool uses_sgemm() const override { return true; }

  void run(RunContext& ctx) const override {
    const Tensor& xt = ctx.in(0);
    const Shape& xs = xt.shape;
    const Shape& ws = ctx.in(1).shape;
    const int nd = int(xs.size()) - 2;
    // Validated by infer(): cannot throw here.
    const WindowGeometry g = forward_geometry(ctx.node, attrs_, nd, xs.data() + 2, ws.data() + 2);
    const Dims d = dims_of(xs, ws, g);
    const bool dw = is_depthwise(d, g);
    const kernels::ConvShape plane = as_2d(g);
    // Packed weights (set by this run's plan, or by an earlier one: see plan_transposed) only
    // have the transposed path.
    const bool tp = tp_.packed();
    const int wg = tp ? 0 : use_winograd(d, g);
    auto fits = [&](const Plan& q) {
      return q.scratch_floats * sizeof(float) <= ctx.scratch_bytes &&
             ctx.has_slot_scratch(q.slots, q.slot_floats * sizeof(float));
    };
    Plan p = make_plan(d, plane, dw, g.is_pointwise(), wg, ctx.pool->threads(), tp);
    if (!fits(p)) p = make_plan(d, plane, dw, g.is_pointwise(), wg, 1, tp);
    if (!fits(p)) p = make_plan(d, plane, dw, g.is_pointwise(), 0, 1, tp);

    const float* x = xt.ptr<float>();
    const float* w = ctx.in(1).ptr<float>();
    const float* bias = ctx.inputs.size() > 2 && ctx.inputs[2] ? ctx.in(2).ptr<float>() : nullptr;
    float* y = ctx.out(0).ptr<float>();
    // With a residual the kernels apply the bias only; add_residual then adds R and
    // applies the activation on each block just written (see finish()).
    const kernels::Epilogue ep = make_epilogue(residual_ ? FusedActivation() : activation_, bias);
    const kernels::Epilogue act = make_epilogue(activation_, nullptr);
    const float* res = residual_ ? ctx.in(3).ptr<float>() : nullptr;
    const Finish fin{res, act.clamp, act.lo, act.hi};
    if (d.N == 0 || d.M == 0 || d.HW == 0) return;
    if (d.K == 0) {  // no input channels: the output is the bias
      for (int64_t n = 0; n < d.N; ++n) {
        float* yn = y + n * d.M * d.HW;
        std::fill(yn, yn + d.M * d.HW, 0.0f);
        kernels::apply_epilogue(ep, 0, d.M, d.HW, yn, d.HW);
        fin.rows(yn, res ? res + n * d.M * d.HW : nullptr, d.M, d.HW, d.HW);
      }
      return;
    }
    if (p.transposed) {
      run_transposed(ctx, d, g, p, x, ep, fin, y);
    } else if (p.winograd) {
      run_winograd(ctx, d, g, p, x, ep, fin, y);
    } else if (p.small_c) {
      run_small_c(ctx, d, plane, p, x, w, ep, fin, y);
    } else if (p.depthwise) {
      run_depthwise(ctx, d, plane, p, x, w, ep, fin, y);
    } else if (p.whole) {
      run_whole(ctx, d, g, p, x, w, ep, fin, y);
    } else {
      run_tiles(ctx, d, g, p, x, w, ep, fin, y);
    }
  }

 private:
  // The residual step over an output block at y (rows of `cols` values, stride
  // ld) whose residual is at r with the same layout; nothing without a residual.
  struct Finish {
    const float* res;  // the whole residual tensor, or null
    bool clamp;
    float lo, hi;
    void rows(float* y, const float* r, int64_t rows, int64_t cols, int64_t ld) const {
      if (res) kernels::add_residual(y, ld, r, ld, rows, cols, clamp, lo, hi);
    }
  };

  Dims dims_of(const Shape& xs, const Shape& ws, const WindowGeometry& g) const {
    Dims d;
    d.N = xs[0];
    d.C = xs[1];
    d.M = ws[0];
    d.G = group_;
    d.Cg = d.C / group_;
    d.Mg = d.M / group_;
    d.K = d.Cg * g.kernel_size();
    d.HW = g.out_size();
    d.IHW = g.in_size();
    return d;
  }

  // Whether the node qualifies for Winograd F(2x2,3x3) whatever the input size:
  // constant OIHW 3x3 weights, group 1, stride 1, no dilation. The weights are
  // transformed at the first plan whose shapes use it (layers too small for it,
  // such as ResNet's 7x7 stage, never pay the memory).
  void prepare_winograd(const Node& node, const Graph& graph) {
    if (group_ != 1 || !kernels::winograd_available()) return;
    for (int64_t v : attrs_.strides) if (v != 1) return;
    for (int64_t v : attrs_.dilations) if (v != 1) return;
    const Tensor* w = constant_input(node, graph, 1);
    if (!w || w->dtype != DType::Float32 || w->rank() != 4 || w->shape[2] != 3 || w->shape[3] != 3) return;
    if (w->shape[0] < 8 || w->shape[1] < 8) return;
    wg_m_ = w->shape[0];
    wg_c_ = w->shape[1];
  }

  // The Winograd tile (2 or 4) these shapes take, 0 for none: by the plane's size, or
  // the committed tile whatever the size (see commit_winograd).
  int winograd_shape(const Dims& d, const WindowGeometry& g) const {
    if (wg_m_ == 0 || g.nd != 2 || d.G != 1 || d.M != wg_m_ || d.Cg != wg_c_) return 0;
    if (g.kernel[0] != 3 || g.kernel[1] != 3 || g.stride[0] != 1 || g.stride[1] != 1 || g.dilation[0] != 1 ||
        g.dilation[1] != 1)
      return 0;
    const int committed = wg_committed_.load(std::memory_order_acquire);
    return committed ? committed : winograd_tile_for(g.out[0], g.out[1]);
  }

  // At plan time, once for the kernel's lifetime (its first plan, before any run can
  // have read the weights): when these shapes take Winograd and the weight is the
  // model's own and read by this node alone (tp_.owned()), the kernel commits to this
  // tile for every later plan and run, whatever their shapes (the transform is exact
  // for any plane; only its speed depends on the size), and gives the original
  // weight's pages back. The transformed copy is 16/9 or 4 times the original, and
  // SqueezeNet's and ResNet-18's 3x3 weights stayed resident for plans that never
  // came: 2.2 and 9.4 MB. With spatial dims fixed by the model, the only kind whose
  // load-time plan is a real one, every later plan would take this tile anyway.
  void commit_winograd(const InferContext& ctx, const Dims& d, const WindowGeometry& g) const {
    if (wg_m_ == 0 || !tp_.owned()) return;
    std::call_once(commit_once_, [&] {
      const Tensor* w = ctx.input(1).value;
      if (w == nullptr || w->ptr<float>() != tp_.weight()) return;
      const int tile = winograd_shape(d, g);
      if (tile == 0 || plan_winograd(ctx, d, g) != tile) return;  // transforms the weights
      wg_released_ = release_pages(w->data, w->bytes());
      wg_committed_.store(tile, std::memory_order_release);
    });
  }

  // At plan time: transforms the weights for the chosen tile once (thread-safe;
  // later plans reuse them). Returns the tile, 0 for none.
  int plan_winograd(const InferContext& ctx, const Dims& d, const WindowGeometry& g) const {
    const int tile = winograd_shape(d, g);
    if (tile == 0) return 0;
    const Tensor* w = ctx.input(1).value;
    if (w == nullptr) return 0;  // constants are known at plan time; kept for safety
    const int v = tile == 4 ? 1 : 0;
    std::call_once(wg_once_[v], [&] {
      // Own mapping (huge pages when large), resident now: the transform writes
      // every float anyway, and a first run that read weights from 4 KiB pages
      // faulted them in one by one (ResNet-18's first run 44-49 ms against 18).
      const size_t bytes = size_t(kernels::winograd_positions(tile) * wg_m_ * wg_c_) * sizeof(float);
      std::shared_ptr<void> buf = large_buffer(bytes, true);
      float* u = static_cast<float*>(buf.get());
      if (tile == 4)
        kernels::winograd_f43_transform_weights(w->ptr<float>(), wg_m_, wg_c_, u);
      else
        kernels::winograd_f23_transform_weights(w->ptr<float>(), wg_m_, wg_c_, u);
      wg_buf_[v] = std::move(buf);
      wg_u_[v] = u;
      wg_held_ += bytes;
    });
    return wg_u_[v] == nullptr ? 0 : tile;
  }

  // At run time: the plan made by infer() for these shapes chose this tile iff its
  // weights exist. The shape test comes first: only then did this run's own plan
  // complete the transform (call_once), so reading wg_u_ cannot race with it.
  int use_winograd(const Dims& d, const WindowGeometry& g) const {
    const int tile = winograd_shape(d, g);
    return tile != 0 && wg_u_[tile == 4 ? 1 : 0] != nullptr ? tile : 0;
  }

  // At plan time: the first plan of this kernel decides, once and for good,
  // whether the weights are packed in place for the transposed path (only then
  // can no run of the kernel have started, see op.h). It does when these shapes
  // would take the general or pointwise path and transposed_gemm_pays(); from then on
  // every plan and run of the kernel, whatever its shapes, takes the transposed
  // path (it is right for all of them), never Winograd or the original layout.
  // Returns whether the weights are packed.
  bool plan_transposed(const InferContext& ctx, const Dims& d, const WindowGeometry& g) const {
    return tp_.pack_once(ctx.input(1).value, [&] {
      if (!kernels::gemm_uses_netlite(ctx.gemm)) return false;
      if (d.M != tp_.rows() || d.K != tp_.cols() || d.G != 1) return false;
      if (winograd_shape(d, g) != 0) return false;
      const kernels::ConvShape plane = as_2d(g);
      if (plane.nd == 2 && kernels::small_c_conv_applies(d.C, plane.kernel[0], plane.kernel[1], plane.stride[0],
                                                         plane.stride[1], plane.dilation[0], plane.dilation[1]))
        return false;
      const Plan today = make_plan(d, plane, false, g.is_pointwise(), 0, ctx.threads);
      return today.tile != 0 && transposed_gemm_pays(d.M, d.K, today.tile);
    });
  }

  // Y^T[positions x M] = col^T[positions x K] * W^T[K x M] per tile of output
  // positions: the positions are the micro-kernel's rows (MR-wide, the MR that
  // pads them least: 49 = 7 x 7 on AVX-512's 7-row variant)
  // and the output channels its NR-wide columns, read from the weights packed
  // in place, so a small plane wastes little of each tile (today's layout pads
  // positions to NR: 49 -> 64). op(A) = col^T is the im2col panel (or the input
  // itself, pointwise) read along its rows, a cheap pack. Each Y^T block is then
  // stored back transposed with the bias, residual and activation. With fewer
  // tiles than threads the threads split an image's channel strips instead, each
  // building the image's whole im2col panel in its own slot: a panel split over the
  // threads and read whole by each moved half of it between the cores, and wrote
  // over lines the other core had read. ResNet-18's layer4 at 2 threads
  // (bench_models; its 3x3 convs are this path, K = 4608 x 49 positions) with the
  // vCPUs far apart (see kWinogradWholeRatio) 5.5-6.0 -> 4.65-4.8 ms; near, where
  // the second im2col is not hidden, 4.43-4.61 -> 4.49-4.64.
  void run_transposed(RunContext& ctx, const Dims& d, const WindowGeometry& g, const Plan& p, const float* x,
                      const kernels::Epilogue& ep, const Finish& fin, float* y) const {
    float* scratch = static_cast<float*>(ctx.scratch);
    const int64_t tile_cap = p.whole ? d.HW : p.tile;
    const int64_t col_floats = p.pointwise ? 0 : d.K * tile_cap;
    // With a residual, ep is the bias alone and the activation comes after R.
    const bool clamp = fin.res ? fin.clamp : ep.clamp;
    const float lo = fin.res ? fin.lo : ep.lo, hi = fin.res ? fin.hi : ep.hi;
    const kernels::GemmBackend backend = ctx.gemm;
    // Channels [c0, c1) (c0 on a strip boundary) of positions [o0, o0 + on) of image n.
    auto gemm_store = [&](const float* a, int64_t lda, float* yt, int64_t n, int64_t o0, int64_t on, int64_t c0,
                          int64_t c1) {
      kernels::GemmArgs ga;
      ga.trans_a = true;
      ga.M = on;
      ga.N = c1 - c0;
      ga.K = d.K;
      ga.A = a;
      ga.lda = lda;
      tp_.set_b(ga, c0);
      ga.mr = kernels::gemm_kernel_mr_for(on);
      ga.C = yt + c0;
      ga.ldc = d.M;
      kernels::sgemm(ga, nullptr, backend);
      const int64_t off = (n * d.M + c0) * d.HW + o0;
      kernels::gemm_transpose_epilogue(yt + c0, d.M, on, c1 - c0, y + off, d.HW, ep.bias ? ep.bias + c0 : nullptr,
                                       fin.res ? fin.res + off : nullptr, clamp, lo, hi);
    };
    if (p.whole) {
      float* yt = scratch;
      const int64_t nr = kernels::gemm_packed_b_nr(), strips = (d.M + nr - 1) / nr;
      const int64_t parts = std::min<int64_t>(strips, ctx.pool->threads());
      for (int64_t n = 0; n < d.N; ++n) {
        const float* xn = x + n * d.C * d.IHW;
        SlotPool pool;
        ctx.pool->parallel_for(parts, [&](int64_t b, int64_t e) {
          const int64_t slot = p.pointwise ? -1 : pool.acquire(p.slots);
          const float* a = xn;
          int64_t lda = d.IHW;
          if (slot >= 0) {
            float* col = ctx.slot_scratch(slot);
            kernels::im2col(g, xn, d.C, 0, d.HW, col, d.HW);
            a = col;
            lda = d.HW;
          }
          for (int64_t t = b; t < e; ++t) {
            const int64_t c0 = strips * t / parts * nr, c1 = std::min(d.M, strips * (t + 1) / parts * nr);
            gemm_store(a, lda, yt, n, 0, d.HW, c0, c1);
          }
          if (slot >= 0) pool.release(slot);
        }, 1);
      }
      return;
    }
    SlotPool pool;
    ctx.pool->parallel_for(d.N * p.n_tiles, [&](int64_t t0, int64_t t1) {
      const int64_t slot = pool.acquire(p.slots);
      float* col = ctx.slot_scratch(slot);
      float* yt = col + col_floats;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / p.n_tiles, o0 = t % p.n_tiles * p.tile, on = std::min(p.tile, d.HW - o0);
        const float* xn = x + n * d.C * d.IHW;
        if (p.pointwise) {
          gemm_store(xn + o0, d.IHW, yt, n, o0, on, 0, d.M);
        } else {
          kernels::im2col(g, xn, d.C, o0, on, col, on);
          gemm_store(col, on, yt, n, o0, on, 0, d.M);
        }
      }
      pool.release(slot);
    }, 1);
  }

  // Chunks of tile rows over (image, chunk) tasks, one scratch slot per thread.
  void run_winograd(RunContext& ctx, const Dims& d, const WindowGeometry& g, const Plan& p, const float* x,
                    const kernels::Epilogue& ep, const Finish& fin, float* y) const {
    const int tile = p.wg_tile;
    const int64_t TH = (g.out[0] + tile - 1) / tile;
    const int64_t tasks = d.N * p.wg_chunks, slots = p.slots;
    float* scratch = static_cast<float*>(ctx.scratch);
    kernels::WinogradConv a;
    a.C = d.C;
    a.IH = g.in[0];
    a.IW = g.in[1];
    a.PH = g.pad[0];
    a.PW = g.pad[1];
    a.u = wg_u_[tile == 4 ? 1 : 0];
    a.tile = tile;
    a.M = d.M;
    a.OH = g.out[0];
    a.OW = g.out[1];
    a.bias = ep.bias;
    a.clamp = ep.clamp;
    a.lo = ep.lo;
    a.hi = ep.hi;
    a.gemm = ctx.gemm;
    if (p.wg_whole) {
      const int64_t units = (d.M + 15) / 16;  // output channels in 16s
      const int64_t parts = std::min<int64_t>(ctx.pool->threads(), units);
      for (int64_t n = 0; n < d.N; ++n) {
        kernels::WinogradConv an = a;
        an.x = x + n * d.C * d.IHW;
        an.y = y + n * d.M * d.HW;
        SlotPool pool;
        ctx.pool->parallel_for(parts, [&](int64_t b, int64_t e) {
          const int64_t slot = pool.acquire(p.slots);
          float* v = ctx.slot_scratch(slot);
          const int64_t m0 = units * b / parts * 16, m1 = std::min(d.M, units * e / parts * 16);
          kernels::winograd_whole_input(an, v);
          kernels::winograd_whole_gemms(an, m0, m1, v, scratch);
          kernels::winograd_whole_output(an, m0, m1, scratch);
          const int64_t off = n * d.M * d.HW + m0 * d.HW;
          fin.rows(y + off, fin.res ? fin.res + off : nullptr, m1 - m0, d.HW, d.HW);
          pool.release(slot);
        }, 1);
      }
      return;
    }
    SlotPool pool;
    ctx.pool->parallel_for(tasks, [&](int64_t tb, int64_t te) {
      const int64_t slot = pool.acquire(slots);
      float* buf = ctx.slot_scratch(slot);
      for (int64_t t = tb; t < te; ++t) {
        const int64_t n = t / p.wg_chunks, chunk = t % p.wg_chunks;
        kernels::WinogradConv an = a;
        an.x = x + n * d.C * d.IHW;
        an.y = y + n * d.M * d.HW;
        const int64_t ty0 = chunk * TH / p.wg_chunks, ty1 = (chunk + 1) * TH / p.wg_chunks;
        kernels::winograd_f23_conv_rows(an, ty0, ty1, buf);
        if (fin.res) {  // the chunk's output rows of each channel plane
          const int64_t oh0 = ty0 * tile, oh1 = std::min(g.out[0], ty1 * tile);
          const int64_t off = n * d.M * d.HW + oh0 * g.out[1];
          fin.rows(y + off, fin.res + off, d.M, (oh1 - oh0) * g.out[1], d.HW);
        }
      }
      pool.release(slot);
    }, 1);
  }

  // Bias (rows from bias_row0) and clamp applied by the GEMM on each tile while it
  // is in registers, instead of a pass over the output afterwards.
  static void set_gemm_epilogue(const kernels::Epilogue& ep, int64_t bias_row0, kernels::GemmArgs* a) {
    a->row_bias = ep.bias ? ep.bias + bias_row0 : nullptr;
    a->clamp = ep.clamp;
    a->lo = ep.lo;
    a->hi = ep.hi;
  }

  static bool is_depthwise(const Dims& d, const WindowGeometry& g) {
    return d.G > 1 && d.G == d.C && d.G == d.M && (g.nd == 2 || g.nd == 1);
  }

  static kernels::ConvShape as_2d(const WindowGeometry& g) {
    if (g.nd != 1) return g;
    kernels::ConvShape s;  // 1-D as a 1 x W image
    s.nd = 2;
    s.in[0] = s.out[0] = s.kernel[0] = s.stride[0] = s.dilation[0] = 1;
    s.pad[0] = 0;
    s.in[1] = g.in[0];
    s.out[1] = g.out[0];
    s.kernel[1] = g.kernel[0];
    s.stride[1] = g.stride[0];
    s.dilation[1] = g.dilation[0];
    s.pad[1] = g.pad[0];
    return s;
  }

  // Planes are split statically over the scratch slots (one padded plane each).
  void run_depthwise(RunContext& ctx, const Dims& d, const kernels::ConvShape& s, const Plan& p, const float* x,
                     const float* w, const kernels::Epilogue& ep, const Finish& fin, float* y) const {
    const int64_t ks = s.kernel_size();
    const int64_t planes = d.N * d.C, slots = p.slots;
    kernels::Epilogue plane_ep = ep;
    plane_ep.bias = nullptr;
    SlotPool pool;
    ctx.pool->parallel_for(planes, [&](int64_t ib, int64_t ie) {
      const int64_t slot = pool.acquire(slots);
      float* pad = ctx.slot_scratch(slot);
      for (int64_t i = ib; i < ie; ++i) {
        const int64_t c = i % d.C;
        kernels::depthwise_conv2d_plane_padded(s, x + i * d.IHW, w + c * ks, ep.bias ? ep.bias[c] : 0.0f, plane_ep,
                                               y + i * d.HW, pad);
        fin.rows(y + i * d.HW, fin.res ? fin.res + i * d.HW : nullptr, 1, d.HW, d.HW);
      }
      pool.release(slot);
    }, 1);
  }

  // Tasks are output rows of every channel, over (image, row) pairs.
  void run_small_c(RunContext& ctx, const Dims& d, const kernels::ConvShape& s, const Plan& p, const float* x,
                   const float* w, const kernels::Epilogue& ep, const Finish& fin, float* y) const {
    kernels::SmallCConv base = small_c_args(d, s);
    base.w = w;
    base.bias = ep.bias;
    base.clamp = ep.clamp;
    base.lo = ep.lo;
    base.hi = ep.hi;
    const int64_t OH = s.out[0], OW = s.out[1];
    SlotPool pool;
    ctx.pool->parallel_for(d.N * OH, [&](int64_t tb, int64_t te) {
      const int64_t slot = pool.acquire(p.slots);
      for (int64_t t = tb; t < te;) {  // rows of one image at a time
        const int64_t n = t / OH, oh0 = t % OH, oh1 = std::min(OH, oh0 + (te - t));
        kernels::SmallCConv a = base;
        a.x = x + n * d.C * d.IHW;
        a.y = y + n * d.M * d.HW;
        kernels::small_c_conv_rows(a, oh0, oh1, ctx.slot_scratch(slot));
        const int64_t off = n * d.M * d.HW + oh0 * OW;
        fin.rows(y + off, fin.res ? fin.res + off : nullptr, d.M, (oh1 - oh0) * OW, d.HW);
        t += oh1 - oh0;
      }
      pool.release(slot);
    }, 4);
  }

  // One task = (image, group, tile of output positions) on one scratch panel.
  void run_tiles(RunContext& ctx, const Dims& d, const WindowGeometry& g, const Plan& p, const float* x,
                 const float* w, const kernels::Epilogue& ep, const Finish& fin, float* y) const {
    const int64_t tasks = d.N * d.G * p.n_tiles;
    const int64_t slots = p.slots;
    const kernels::GemmBackend backend = ctx.gemm;
    SlotPool pool;
    auto body = [&](int64_t t0, int64_t t1) {
      const int64_t slot = pool.acquire(slots);
      {
        float* col = p.pointwise ? nullptr : ctx.slot_scratch(slot);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t tile = t % p.n_tiles;
          const int64_t ng = t / p.n_tiles;  // n * G + group
          const int64_t grp = ng % d.G;
          const int64_t o0 = tile * p.tile;
          const int64_t on = std::min(p.tile, d.HW - o0);
          const float* xg = x + ng * d.Cg * d.IHW;
          float* yt = y + ng * d.Mg * d.HW + o0;
          kernels::GemmArgs a;
          a.M = d.Mg;
          a.N = on;
          a.K = d.K;
          a.A = w + grp * d.Mg * d.K;
          a.lda = d.K;
          if (p.pointwise) {
            a.B = xg + o0;
            a.ldb = d.IHW;
          } else {
            kernels::im2col(g, xg, d.Cg, o0, on, col, on);
            a.B = col;
            a.ldb = on;
          }
          a.C = yt;
          a.ldc = d.HW;
          set_gemm_epilogue(ep, grp * d.Mg, &a);
          kernels::sgemm(a, nullptr, backend);
          const int64_t off = ng * d.Mg * d.HW + o0;
          fin.rows(yt, fin.res ? fin.res + off : nullptr, d.Mg, on, d.HW);
        }
      }
      pool.release(slot);
    };
    ctx.pool->parallel_for(tasks, body, 1);
  }

  // Fewer tasks than threads: one im2col and one GEMM per (image, group), each split over the pool.
  void run_whole(RunContext& ctx, const Dims& d, const WindowGeometry& g, const Plan& p, const float* x,
                 const float* w, const kernels::Epilogue& ep, const Finish& fin, float* y) const {
    float* col = static_cast<float*>(ctx.scratch);
    const int64_t ks = g.kernel_size();
    for (int64_t ng = 0; ng < d.N * d.G; ++ng) {
      const int64_t grp = ng % d.G;
      const float* xg = x + ng * d.Cg * d.IHW;
      float* yg = y + ng * d.Mg * d.HW;
      kernels::GemmArgs a;
      a.M = d.Mg;
      a.N = d.HW;
      a.K = d.K;
      a.A = w + grp * d.Mg * d.K;
      a.lda = d.K;
      if (p.pointwise) {
        a.B = xg;
        a.ldb = d.IHW;
      } else {
        ctx.pool->parallel_for(d.Cg, [&](int64_t b, int64_t e) {
          kernels::im2col(g, xg + b * d.IHW, e - b, 0, d.HW, col + b * ks * d.HW, d.HW);
        }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, ks * d.HW)));
        a.B = col;
        a.ldb = d.HW;
      }
      a.C = yg;
      a.ldc = d.HW;
      set_gemm_epilogue(ep, grp * d.Mg, &a);
      kernels::sgemm(a, ctx.pool, ctx.gemm);
      if (fin.res) {
        const float* rg = fin.res + ng * d.Mg * d.HW;
        ctx.pool->parallel_for(d.Mg, [&](int64_t b, int64_t e) {
          fin.rows(yg + b * d.HW, rg + b * d.HW, e - b, d.HW, d.HW);
        }, 1);
      }
    }
  }

  WindowAttrs attrs_;
  int64_t group_ = 1;
  bool residual_ = false;  // input 3 is added before the activation (netlite_fused_residual)
  // Winograd: the weight shape when the node qualifies (0 otherwise), and the
  // transformed weights ([0]: F(2x2) [16][M][C], [1]: F(4x4) [36][M][C]), each
  // written once under its wg_once_ by the first plan that uses it and only read
  // afterwards.
  int64_t wg_m_ = 0, wg_c_ = 0;
  mutable std::once_flag wg_once_[2];
  mutable std::shared_ptr<void> wg_buf_[2];  // owns wg_u_[v]
  mutable const float* wg_u_[2] = {nullptr, nullptr};
  mutable std::atomic<size_t> wg_held_{0};  // bytes of wg_u_, readable while a transform runs
  // Set by the first plan (commit_winograd): the tile every plan takes from then on
  // (0: none committed), and the bytes of the original weight given back.
  mutable std::once_flag commit_once_;
  mutable std::atomic<int> wg_committed_{0};
  mutable std::atomic<size_t> wg_released_{0};
  // Transposed path: the weights packed in place by the first plan that decides
  // for it (plan_transposed), read by every run after that.
  InPlacePackedWeights tp_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph& graph) {
  return std::make_unique<Conv>(node, graph);
}

}  // namespace conv_detail

extern const OpDef kOp_Conv = {
    "Conv", "", 1, 22,
    "float32; 1-D/2-D/3-D (up to 8-D), group/depthwise, dilations, pads, auto_pad; fused Relu/Clip epilogue",
    conv_detail::create};

}  // namespace ops
}  // namespace netlite
