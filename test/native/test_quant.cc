// Integer (QDQ) path: every integer kernel against its scalar reference, bit for
// bit (kernels/qgemm, qdepthwise, qelementwise, each ISA variant this CPU runs),
// and every pattern passes/fuse_qdq.cc rewrites against the float graph it
// replaces (the same model loaded with optimize off), on random data.
// Tolerance of the fused ops: 1 LSB of the output (the float graph rounds its
// float sums, the integer ops sum exactly), and at most 2% of the values off by
// one; lookups and bound folding are exact.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../../native/src/kernels/qdepthwise.h"
#include "../../native/src/kernels/qelementwise.h"
#include "../../native/src/kernels/qgemm.h"
#include "../../native/src/ops/common/packed_weights.h"
#include "../../native/src/runtime/model.h"
#include "../../native/src/runtime/session.h"
#include "check.h"
#include "model_runner.h"
#include "onnx_builder.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

using namespace netlite_test;
namespace k = netlite::kernels;

namespace quant_test {

struct Rng {
  uint32_t s;
  explicit Rng(uint32_t seed) : s(seed * 2654435761u + 12345u) {}
  uint32_t next() { s = s * 1664525u + 1013904223u; return s >> 8; }
  int range(int lo, int hi) { return lo + int(next() % uint32_t(hi - lo + 1)); }  // inclusive
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() & 0xFFFFFF) / float(1 << 24); }
};

const k::QIsa kIsas[] = {k::QIsa::Generic, k::QIsa::Avx2, k::QIsa::Avx512Vnni};
const char* isa_name(k::QIsa i) { return i == k::QIsa::Generic ? "generic" : i == k::QIsa::Avx2 ? "avx2" : "avx512vnni"; }

// Per-row requantization parameters in the ranges the ops produce.
struct Requant {
  std::vector<float> scale, offset, lo, hi;
  int32_t zp = 0;
  Requant(int64_t M, Rng& r, bool is_signed) {
    zp = is_signed ? r.range(-20, 20) : r.range(100, 140);
    const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
    for (int64_t m = 0; m < M; ++m) {
      scale.push_back(r.uniform(1e-4f, 4e-3f));
      offset.push_back(r.uniform(-30.0f, 30.0f));
      const int32_t l = r.range(qmin, zp), h = r.range(zp, qmax);
      lo.push_back(float(m % 3 == 0 ? qmin - zp : l - zp));
      hi.push_back(float(m % 4 == 0 ? qmax - zp : h - zp));
    }
  }
  k::QRequant view(int64_t m0 = 0) const {
    k::QRequant q;
    q.scale = scale.data() + m0;
    q.offset = offset.data() + m0;
    q.lo = lo.data() + m0;
    q.hi = hi.data() + m0;
    q.zero_point = zp;
    return q;
  }
};

// ---- ONNX QDQ model building ---------------------------------------------------

std::string tensor_raw(const std::string& name, const std::vector<int64_t>& dims, int elem_type, const void* data,
                       size_t bytes) {
  PbWriter t;
  for (int64_t d : dims) t.int_field(1, d);
  t.int_field(2, elem_type);
  t.bytes_field(8, name);
  t.bytes_field(9, std::string(static_cast<const char*>(data), bytes));
  return t.bytes;
}
template <typename T>
std::string tensor_of(const std::string& name, const std::vector<int64_t>& dims, int elem_type, const std::vector<T>& v) {
  return tensor_raw(name, dims, elem_type, v.data(), v.size() * sizeof(T));
}
constexpr int kF32 = 1, kU8 = 2, kS8 = 3, kI32 = 6;

// Adds scale/zero point initializers "<p>_s" and "<p>_z".
void qparams(GraphSpec& g, const std::string& p, float scale, int zp, int type) {
  g.initializers.push_back(tensor_f32(p + "_s", {}, {scale}));
  if (type == kS8) g.initializers.push_back(tensor_of<int8_t>(p + "_z", {}, kS8, {int8_t(zp)}));
  else g.initializers.push_back(tensor_of<uint8_t>(p + "_z", {}, kU8, {uint8_t(zp)}));
}

std::vector<uint8_t> random_bytes(size_t n, Rng& r) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(r.next());
  return v;
}

struct Result {
  std::vector<uint8_t> bytes;
  std::map<std::string, int> ops;  // op types of the loaded graph
};

Result run_model(const std::string& bytes, bool optimize, int threads, const std::vector<uint8_t>& x,
                 const netlite::Shape& xs, netlite::DType xt, const std::vector<uint8_t>* x2 = nullptr,
                 const netlite::Shape* xs2 = nullptr) {
  std::vector<Feed> feeds = {{xt, xs, x.data(), x.size()}};
  if (x2) feeds.push_back({xt, *xs2, x2->data(), x2->size()});
  RunResult run = load_and_run(bytes, optimize, threads, feeds);
  return Result{std::move(run.outputs[0]), std::move(run.ops)};
}

// Fused (optimize on, 1 and 2 threads) vs the float graph (optimize off).
void compare_fused(const char* what, const std::string& bytes, const std::vector<uint8_t>& x, const netlite::Shape& xs,
                   netlite::DType xt, const std::vector<std::string>& expect_ops, bool exact = false,
                   const std::vector<uint8_t>* x2 = nullptr, const netlite::Shape* xs2 = nullptr) {
  const Result ref = run_model(bytes, false, 1, x, xs, xt, x2, xs2);
  for (int threads : {1, 2}) {
    const Result got = run_model(bytes, true, threads, x, xs, xt, x2, xs2);
    for (const std::string& op : expect_ops)
      CHECK_MSG(got.ops.count(op) == 1, "%s: fused graph has no %s", what, op.c_str());
    std::string ops;
    for (const auto& kv : got.ops) ops += " " + kv.first + "x" + std::to_string(kv.second);
    CHECK_MSG(!got.ops.count("DequantizeLinear") || expect_ops.empty(), "%s: a DequantizeLinear is left:%s", what,
              ops.c_str());
    if (!CHECK(got.bytes.size() == ref.bytes.size())) return;
    const bool is_signed = xt == netlite::DType::Int8;
    (void)is_signed;
    int off = 0, worst = 0;
    for (size_t i = 0; i < ref.bytes.size(); ++i) {
      // Compare as the output type's integers (both interpretations agree on |diff| <= 1 away from wrap).
      const int d = std::abs(int(int8_t(got.bytes[i] - ref.bytes[i])));
      worst = std::max(worst, d);
      off += d != 0;
    }
    CHECK_MSG(worst <= (exact ? 0 : 1), "%s (threads %d): max diff %d LSB", what, threads, worst);
    CHECK_MSG(off * 50 <= int(ref.bytes.size()) || exact, "%s (threads %d): %d of %zu values differ", what, threads, off,
              ref.bytes.size());
  }
}

}  // namespace quant_test

using namespace quant_test;

NETLITE_TEST(quant_qgemm_panel_matches_reference) {
  Rng r(1);
  const int64_t Ms[] = {1, 8, 13, 16, 40};
  const int64_t Ks[] = {1, 3, 4, 27, 64, 101};
  const int64_t Ns[] = {1, 15, 16, 17, 33, 70};
  for (int64_t M : Ms)
    for (int64_t K : Ks)
      for (int64_t N : Ns) {
        const bool flip = r.next() & 1;
        std::vector<int8_t> a(size_t(M * K));
        for (auto& v : a) v = int8_t(r.range(-128, 127));
        const std::vector<uint8_t> b = random_bytes(size_t(K * N), r);
        std::vector<uint8_t> bu(b);  // the u8 domain the reference sees
        if (flip) for (auto& v : bu) v ^= 0x80;
        std::vector<int32_t> init(static_cast<size_t>(M));
        for (auto& v : init) v = r.range(-100000, 100000);
        const Requant rq(M, r, r.next() & 1);
        std::vector<uint8_t> want(size_t(M * N));
        k::qgemm_reference(M, N, K, a.data(), K, bu.data(), N, init.data(), rq.view(), want.data(), N);
        const k::QPackedWeights pw = k::qpack_weights(a.data(), M, K, K, 1);
        std::vector<uint8_t> panel(k::qpanel_bytes(K, N) + 64);
        k::qpack_panel(b.data(), N, K, N, flip, panel.data());
        for (k::QIsa isa : kIsas) {
          if (!k::qisa_available(isa)) continue;
          std::vector<uint8_t> got(size_t(M * N), 0xEE);
          for (int64_t m0 = 0; m0 < M; m0 += 8)  // row blocks as the ops issue them
            k::qgemm_panel(pw, m0, std::min<int64_t>(8 * (1 + (m0 / 8) % 2), M - m0), panel.data(), N, init.data(),
                           rq.view(), got.data() + m0 * N, N, isa);
          CHECK_MSG(got == want, "qgemm_panel %s M=%lld K=%lld N=%lld", isa_name(isa), (long long)M, (long long)K,
                    (long long)N);
        }
      }
}

// Values landing exactly on rounding ties (scale 1/3, offset 0.5) tell a fused
// multiply-add from a multiply then an add: every variant must round like the reference.
NETLITE_TEST(quant_requant_ties_are_identical_in_every_variant) {
  Rng r(11);
  const int64_t M = 16, K = 4, N = 96;
  std::vector<int8_t> a(size_t(M * K));
  for (auto& v : a) v = int8_t(r.range(-3, 3));
  std::vector<uint8_t> b(size_t(K * N));
  for (auto& v : b) v = uint8_t(r.range(0, 12));
  std::vector<int32_t> init(static_cast<size_t>(M));
  for (auto& v : init) v = r.range(-20, 20);
  Requant rq(M, r, true);
  for (int64_t m = 0; m < M; ++m) {
    rq.scale[size_t(m)] = m % 2 ? 1.0f / 3.0f : 1.0f / 7.0f;
    rq.offset[size_t(m)] = m % 3 ? 0.5f : -0.5f;
    rq.lo[size_t(m)] = float(-128 - rq.zp);
    rq.hi[size_t(m)] = float(127 - rq.zp);
  }
  std::vector<uint8_t> want(size_t(M * N));
  k::qgemm_reference(M, N, K, a.data(), K, b.data(), N, init.data(), rq.view(), want.data(), N);
  const k::QPackedWeights pw = k::qpack_weights(a.data(), M, K, K, 1);
  std::vector<uint8_t> panel(k::qpanel_bytes(K, N));
  k::qpack_panel(b.data(), N, K, N, false, panel.data());
  for (k::QIsa isa : kIsas) {
    if (!k::qisa_available(isa)) continue;
    std::vector<uint8_t> got(size_t(M * N), 0xEE);
    k::qgemm_panel(pw, 0, M, panel.data(), N, init.data(), rq.view(), got.data(), N, isa);
    CHECK_MSG(got == want, "qgemm_panel ties %s", isa_name(isa));
  }
  // Depthwise: a 1x1 kernel over one 64-wide plane per channel.
  k::ConvShape g;
  g.nd = 2;
  g.in[0] = g.out[0] = 1;
  g.in[1] = g.out[1] = 64;
  g.kernel[0] = g.kernel[1] = g.stride[0] = g.stride[1] = g.dilation[0] = g.dilation[1] = 1;
  std::vector<uint8_t> x(size_t(M * 64));
  for (auto& v : x) v = uint8_t(r.range(0, 255));
  std::vector<int8_t> w(static_cast<size_t>(M));
  for (auto& v : w) v = int8_t(r.range(-1, 1));
  std::vector<int32_t> dinit(static_cast<size_t>(M));
  for (int64_t m = 0; m < M; ++m) dinit[size_t(m)] = -100 * w[size_t(m)];
  k::QDepthwiseArgs da;
  da.x_zero_u8 = 100;
  da.zero_point = rq.zp;
  da.w = w.data();
  da.acc_init = dinit.data();
  da.scale = rq.scale.data();
  da.offset = rq.offset.data();
  da.lo = rq.lo.data();
  da.hi = rq.hi.data();
  std::vector<uint8_t> dwant(size_t(M * 64)), dgot(size_t(M * 64), 0xEE), scratch(static_cast<size_t>(k::qdepthwise_scratch_bytes(g)));
  k::qdepthwise_reference(g, x.data(), 0, M, da, dwant.data());
  k::qdepthwise(g, x.data(), 0, M, da, dgot.data(), scratch.data());
  CHECK(dgot == dwant);
  // QAdd: (a - za)/3 + (b - zb)/3 lands on thirds and ties.
  k::QAddParams p;
  p.a_scale = p.b_scale = 1.0f / 3.0f;
  p.a_zero = 100;
  p.b_zero = 150;
  p.lo = -128.0f;
  p.hi = 127.0f;
  std::vector<uint8_t> qa = random_bytes(1000, r), qb = random_bytes(1000, r), qwant(1000), qgot(1000, 0xEE);
  k::qadd_reference(qa.data(), qb.data(), qwant.data(), 1000, p);
  k::qadd(qa.data(), qb.data(), qgot.data(), 1000, p);
  CHECK(qgot == qwant);
}

NETLITE_TEST(quant_qgemm_rows_matches_reference) {
  Rng r(2);
  for (int64_t M : {1, 16, 17, 100})
    for (int64_t K : {1, 5, 64, 130})
      for (int64_t n : {1, 3, 4, 9}) {
        std::vector<int8_t> a(size_t(M * K));
        for (auto& v : a) v = int8_t(r.range(-128, 127));
        const k::QPackedWeights pw = k::qpack_weights(a.data(), M, K, K, 1);
        std::vector<uint8_t> x(size_t(n * pw.Kp), 0), xt(size_t(K * n));
        for (int64_t p = 0; p < n; ++p)
          for (int64_t kk = 0; kk < K; ++kk) xt[size_t(kk * n + p)] = x[size_t(p * pw.Kp + kk)] = uint8_t(r.next());
        std::vector<int32_t> init(static_cast<size_t>(M));
        for (auto& v : init) v = r.range(-50000, 50000);
        const Requant rq(M, r, true);
        std::vector<uint8_t> want_t(size_t(M * n)), want(size_t(n * M));
        k::qgemm_reference(M, n, K, a.data(), K, xt.data(), n, init.data(), rq.view(), want_t.data(), n);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t p = 0; p < n; ++p) want[size_t(p * M + m)] = want_t[size_t(m * n + p)];
        for (k::QIsa isa : kIsas) {
          if (!k::qisa_available(isa)) continue;
          std::vector<uint8_t> got(size_t(n * M), 0xEE);
          k::qgemm_rows(pw, x.data(), n, init.data(), rq.view(), got.data(), M, isa);
          CHECK_MSG(got == want, "qgemm_rows %s M=%lld K=%lld n=%lld", isa_name(isa), (long long)M, (long long)K,
                    (long long)n);
          // In parts of whole strips, as QMatMul shares a classifier's columns among threads.
          std::vector<uint8_t> parts(size_t(n * M), 0xEE);
          const int64_t strips = (M + 15) / 16, cut = r.range(0, int(strips)) * 16;
          k::qgemm_rows_part(pw, cut, M, x.data(), n, init.data(), rq.view(), parts.data(), M, isa);
          k::qgemm_rows_part(pw, 0, cut, x.data(), n, init.data(), rq.view(), parts.data(), M, isa);
          CHECK_MSG(parts == want, "qgemm_rows_part %s M=%lld K=%lld n=%lld cut %lld", isa_name(isa), (long long)M,
                    (long long)K, (long long)n, (long long)cut);
        }
      }
}

// The panel packer (AVX-512 where the CPU has it, SSE2 / scalar otherwise) byte for byte
// against the reference: K off and on multiples of 4, column counts around the 16-, 32- and
// 64-column steps, rows longer than n, both signs; bytes past the panel stay untouched.
NETLITE_TEST(quant_qpack_panel_matches_reference) {
  Rng r(12);
  for (int64_t K : {1, 3, 4, 5, 8, 27, 96})
    for (int64_t n : {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 130, 200})
      for (int flip = 0; flip < 2; ++flip) {
        const int64_t ldb = n + (n % 3);
        const std::vector<uint8_t> b = random_bytes(size_t(K * ldb), r);
        const size_t bytes = k::qpanel_bytes(K, n);
        std::vector<uint8_t> want(bytes + 64, 0xEE), fast(bytes + 64, 0xEE), portable(bytes + 64, 0xEE);
        k::qpack_panel_reference(b.data(), ldb, K, n, flip, want.data());
        k::qpack_panel(b.data(), ldb, K, n, flip, fast.data());
        k::qpack_panel_portable(b.data(), ldb, K, n, flip, portable.data());
        CHECK_MSG(fast == want && portable == want, "qpack_panel K=%lld n=%lld flip %d: fast %d portable %d",
                  (long long)K, (long long)n, flip, int(fast == want), int(portable == want));
      }
}

// im2col into a panel: the dispatched form (AVX-512 VBMI for kernels whose 4-tap groups
// span at most 2 input rows) against the portable one, byte for byte: a first layer's
// 3x3 stride 2 with TF padding, pads on all sides, 2- and 5-wide kernels, dilation,
// K on and off multiples of 4, tiles that start and end inside output rows, both signs,
// and shapes the fast form declines (1-wide kernels of 3 rows, 17 input rows).
NETLITE_TEST(quant_qim2col_panel_matches_portable) {
  Rng r(13);
  struct G { int64_t c, ih, iw, kh, kw, s, d, pb, pe; };
  const G cases[] = {{3, 224, 224, 3, 3, 2, 1, 0, 1}, {3, 23, 37, 3, 3, 1, 1, 1, 1}, {2, 9, 40, 3, 2, 1, 1, 1, 0},
                     {1, 12, 50, 5, 5, 2, 1, 2, 2}, {4, 11, 19, 3, 3, 1, 2, 2, 2}, {5, 8, 70, 2, 3, 1, 1, 0, 1},
                     {3, 10, 10, 3, 1, 1, 1, 1, 1}, {17, 6, 20, 1, 3, 1, 1, 0, 1}, {1, 5, 3, 3, 3, 1, 1, 1, 1}};
  for (const G& c : cases)
    for (int flip = 0; flip < 2; ++flip) {
      k::ConvShape g;
      g.nd = 2;
      g.in[0] = c.ih; g.in[1] = c.iw; g.kernel[0] = c.kh; g.kernel[1] = c.kw;
      for (int d = 0; d < 2; ++d) { g.stride[d] = c.s; g.dilation[d] = c.d; g.pad[d] = c.pb; }
      g.out[0] = (c.ih + c.pb + c.pe - ((c.kh - 1) * c.d + 1)) / c.s + 1;
      g.out[1] = (c.iw + c.pb + c.pe - ((c.kw - 1) * c.d + 1)) / c.s + 1;
      const std::vector<uint8_t> x = random_bytes(size_t(c.c * c.ih * c.iw), r);
      const int64_t HW = g.out[0] * g.out[1], K = c.c * c.kh * c.kw;
      const uint8_t pad = uint8_t(r.range(0, 255));
      for (int rep = 0; rep < 4; ++rep) {
        const int64_t o0 = rep == 0 ? 0 : r.range(0, int(HW - 1));
        const int64_t on = rep == 0 ? HW : r.range(1, int(std::min<int64_t>(HW - o0, 300)));
        const size_t bytes = k::qpanel_bytes(K, on);
        std::vector<uint8_t> want(bytes + 64, 0xEE), got(bytes + 64, 0xEE);
        k::qim2col_panel_portable(g, x.data(), c.c, o0, on, flip, pad, want.data());
        k::qim2col_panel(g, x.data(), c.c, o0, on, flip, pad, got.data());
        CHECK_MSG(got == want, "qim2col_panel C=%lld %lldx%lld k%lldx%lld s%lld d%lld o0=%lld on=%lld flip %d",
                  (long long)c.c, (long long)c.ih, (long long)c.iw, (long long)c.kh, (long long)c.kw, (long long)c.s,
                  (long long)c.d, (long long)o0, (long long)on, flip);
      }
    }
}

NETLITE_TEST(quant_qdepthwise_matches_reference) {
  Rng r(3);
  struct G { int64_t ih, iw, kh, kw, sh, sw, dh, dw, ph, pw, pe; };
  const G cases[] = {{7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     {57, 57, 3, 3, 2, 2, 1, 1, 0, 0, 0}, {20, 33, 5, 5, 2, 2, 1, 1, 2, 2, 2},
                     {19, 40, 3, 3, 1, 1, 2, 2, 2, 2, 2}, {12, 70, 3, 7, 1, 3, 1, 1, 1, 3, 3},
                     {9, 50, 3, 3, 5, 5, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
                     {5, 90, 2, 9, 1, 1, 1, 1, 0, 4, 4}, {70, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     // Rows of at most 16 outputs (the small-plane path): one window of <= 64 bytes or
                     // two, single and several row groups, strides, dilation, pads, 1xN / Nx1 kernels.
                     {14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1},
                     {8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {13, 11, 3, 3, 2, 1, 1, 1, 0, 1, 1},
                     {10, 10, 3, 3, 1, 1, 2, 2, 2, 2, 2}, {16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     {40, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {6, 32, 3, 3, 1, 2, 1, 1, 1, 1, 1},
                     {9, 9, 1, 3, 1, 1, 1, 1, 0, 1, 1}, {9, 9, 3, 1, 1, 1, 1, 1, 1, 0, 0},
                     {3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     // Rows of 12 outputs and more with 3-row kernels (plane_k3): 1-3 column blocks per
                     // window and partial last windows, 4 / 2 / 1 output rows per step and odd tails,
                     // stride 2 with TF's "same" padding (none before, one after), 1- to 4-wide kernels,
                     // horizontal dilation and stride 3.
                     {56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {112, 112, 3, 3, 2, 2, 1, 1, 0, 0, 1},
                     {28, 28, 3, 3, 2, 2, 1, 1, 0, 0, 1}, {14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     {11, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {7, 47, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     {9, 49, 3, 3, 1, 1, 1, 1, 1, 1, 1}, {13, 97, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                     {15, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1}, {10, 30, 3, 1, 1, 1, 1, 1, 1, 0, 0},
                     {10, 30, 3, 4, 1, 1, 1, 1, 1, 1, 2}, {10, 60, 3, 3, 1, 1, 1, 3, 1, 3, 3},
                     {12, 60, 3, 3, 1, 3, 1, 1, 1, 1, 1}, {6, 30, 3, 2, 2, 1, 1, 1, 0, 0, 1}};
  for (const G& c : cases)
    for (int is_signed = 0; is_signed < 2; ++is_signed) {
      k::ConvShape g;
      g.nd = 2;
      g.in[0] = c.ih; g.in[1] = c.iw; g.kernel[0] = c.kh; g.kernel[1] = c.kw;
      g.stride[0] = c.sh; g.stride[1] = c.sw; g.dilation[0] = c.dh; g.dilation[1] = c.dw;
      g.pad[0] = c.ph; g.pad[1] = c.pw;
      g.out[0] = (c.ih + c.ph + c.pe - ((c.kh - 1) * c.dh + 1)) / c.sh + 1;
      g.out[1] = (c.iw + c.pw + c.pe - ((c.kw - 1) * c.dw + 1)) / c.sw + 1;
      const int64_t C = 3;
      const std::vector<uint8_t> x = random_bytes(size_t(C * c.ih * c.iw), r);
      std::vector<int8_t> w(size_t(C * c.kh * c.kw));
      std::vector<int32_t> init;
      std::vector<float> scale, offset, lo, hi;
      k::QDepthwiseArgs a;
      a.x_signed = is_signed;
      a.x_zero_u8 = r.range(0, 255);
      a.zero_point = r.range(-10, 10);
      for (int64_t ch = 0; ch < C; ++ch) {
        int32_t wsum = 0;
        for (int64_t i = 0; i < c.kh * c.kw; ++i) {
          w[size_t(ch * c.kh * c.kw + i)] = int8_t(r.range(-128, 127));
          wsum += w[size_t(ch * c.kh * c.kw + i)];
        }
        init.push_back(-a.x_zero_u8 * wsum);
        scale.push_back(r.uniform(1e-3f, 1e-2f));
        offset.push_back(r.uniform(-10.0f, 10.0f));
        lo.push_back(float(-128 - a.zero_point + int(ch) * 20));
        hi.push_back(float(100 - a.zero_point));
      }
      a.w = w.data();
      a.acc_init = init.data();
      a.scale = scale.data();
      a.offset = offset.data();
      a.lo = lo.data();
      a.hi = hi.data();
      const int64_t n = g.out[0] * g.out[1];
      std::vector<uint8_t> want(static_cast<size_t>(C * n)), scratch(static_cast<size_t>(k::qdepthwise_scratch_bytes(g)));
      k::qdepthwise_reference(g, x.data(), 0, C, a, want.data());
      for (k::QIsa isa : {k::QIsa::Generic, k::QIsa::Auto}) {
        std::vector<uint8_t> got(static_cast<size_t>(C * n), 0xEE);
        k::qdepthwise(g, x.data(), 0, 1, a, got.data(), scratch.data(), isa);
        k::qdepthwise(g, x.data(), 1, C, a, got.data(), scratch.data(), isa);
        CHECK_MSG(got == want, "qdepthwise %s %lldx%lld k%lldx%lld s%lld d%lld signed %d",
                  isa == k::QIsa::Generic ? "generic" : "auto", (long long)c.ih, (long long)c.iw, (long long)c.kh,
                  (long long)c.kw, (long long)c.sw, (long long)c.dw, is_signed);
        // Bands of output rows (as QConv splits a large image among threads), in a scrambled order.
        std::vector<uint8_t> banded(static_cast<size_t>(C * n), 0xEE), ref_banded(static_cast<size_t>(C * n), 0xEE);
        std::vector<int64_t> cuts = {0, g.out[0]};
        for (int i = 0; i < 3; ++i) cuts.push_back(r.range(0, int(g.out[0])));
        std::sort(cuts.begin(), cuts.end());
        for (size_t i = cuts.size() - 1; i-- > 0;) {
          k::qdepthwise_rows(g, x.data(), 0, C, cuts[i], cuts[i + 1], a, banded.data(), scratch.data(), isa);
          k::qdepthwise_rows_reference(g, x.data(), 0, C, cuts[i], cuts[i + 1], a, ref_banded.data());
        }
        CHECK_MSG(banded == want && ref_banded == want, "qdepthwise_rows %s %lldx%lld k%lldx%lld s%lld signed %d",
                  isa == k::QIsa::Generic ? "generic" : "auto", (long long)c.ih, (long long)c.iw, (long long)c.kh,
                  (long long)c.kw, (long long)c.sw, is_signed);
      }
    }
}

NETLITE_TEST(quant_qadd_and_qlookup_match_reference) {
  Rng r(4);
  for (int64_t n : {1, 15, 16, 17, 63, 64, 65, 1000}) {
    const std::vector<uint8_t> a = random_bytes(size_t(n), r), b = random_bytes(size_t(n), r);
    k::QAddParams p;
    p.a_flip = 0x80;
    p.a_zero = r.range(0, 255);
    p.b_zero = r.range(0, 255);
    p.a_scale = r.uniform(0.1f, 2.0f);
    p.b_scale = r.uniform(0.1f, 2.0f);
    p.zero_point = r.range(-5, 5);
    p.lo = float(-128 - p.zero_point);
    p.hi = float(127 - p.zero_point);
    std::vector<uint8_t> want(static_cast<size_t>(n)), got(static_cast<size_t>(n), 0xEE);
    k::qadd_reference(a.data(), b.data(), want.data(), n, p);
    k::qadd(a.data(), b.data(), got.data(), n, p);
    CHECK_MSG(got == want, "qadd n=%lld", (long long)n);
    const std::vector<uint8_t> table = random_bytes(256, r);
    k::qlookup_reference(a.data(), want.data(), n, table.data());
    std::fill(got.begin(), got.end(), 0xEE);
    k::qlookup(a.data(), got.data(), n, table.data());
    CHECK_MSG(got == want, "qlookup n=%lld", (long long)n);
  }
}

// ---- fused ops vs the float graph --------------------------------------------

namespace quant_test {

// x(N,C,H,W) -> DQ -> [Pad] -> Conv(DQ(W), DQ(B)) -> act -> Q -> [DQ -> Min(DQ c) -> Q -> DQ -> Relu -> Q]
struct ConvCase {
  const char* name;
  int64_t N = 1, C = 8, H = 9, W = 11, M = 16, KH = 3, KW = 3, group = 1;
  std::vector<int64_t> strides{1, 1}, pads{1, 1, 1, 1}, dilations{1, 1};
  bool x_signed = true, y_signed = true, per_channel = false, bias = true, float_bias = false;
  std::string act;  // "", "Relu", "Clip"
  bool pad_node = false, min_chain = false;
  int w_zero = 0;
};

std::string conv_model(const ConvCase& c, Rng& r) {
  GraphSpec g;
  const int xt = c.x_signed ? kS8 : kU8, yt = c.y_signed ? kS8 : kU8;
  const float xs = 0.02f, ys = 0.05f;
  const int xz = c.x_signed ? 3 : 120, yz = c.y_signed ? -5 : 110;
  qparams(g, "x", xs, xz, xt);
  qparams(g, "y", ys, yz, yt);
  g.inputs.push_back(value_info("x", xt, {c.N, c.C, c.H, c.W}));
  std::string xin = "xd";
  g.nodes.push_back(node("DequantizeLinear", {"x", "x_s", "x_z"}, {"xd"}, "dqx"));
  if (c.pad_node) {
    g.initializers.push_back(tensor_i64("pads", {8}, {0, 0, 1, 2, 0, 0, 2, 1}));
    g.nodes.push_back(node("Pad", {"xd", "pads"}, {"xp"}, "pad"));
    g.nodes.push_back(node("QuantizeLinear", {"xp", "x_s", "x_z"}, {"xpq"}, "qpad"));
    g.nodes.push_back(node("DequantizeLinear", {"xpq", "x_s", "x_z"}, {"xpd"}, "dqpad"));
    xin = "xpd";
  }
  const int64_t per = c.C / c.group * c.KH * c.KW;
  std::vector<int8_t> w(size_t(c.M * per));
  for (auto& v : w) v = int8_t(r.range(-127 + c.w_zero, 127));
  g.initializers.push_back(tensor_of<int8_t>("w", {c.M, c.C / c.group, c.KH, c.KW}, kS8, w));
  std::vector<float> wscale;
  for (int64_t m = 0; m < (c.per_channel ? c.M : 1); ++m) wscale.push_back(r.uniform(0.005f, 0.02f));
  const std::vector<int64_t> sdims = c.per_channel ? std::vector<int64_t>{c.M} : std::vector<int64_t>{};
  g.initializers.push_back(tensor_f32("w_s", sdims, wscale));
  g.initializers.push_back(tensor_of<int8_t>("w_z", sdims, kS8, std::vector<int8_t>(wscale.size(), int8_t(c.w_zero))));
  g.nodes.push_back(node("DequantizeLinear", {"w", "w_s", "w_z"}, {"wd"}, "dqw", {attr_int("axis", 0)}));
  std::vector<std::string> conv_in = {xin, "wd"};
  if (c.bias) {
    if (c.float_bias) {
      std::vector<float> b(size_t(c.M));
      for (auto& v : b) v = r.uniform(-1.0f, 1.0f);
      g.initializers.push_back(tensor_f32("b", {c.M}, b));
      conv_in.push_back("b");
    } else {
      std::vector<int32_t> b(size_t(c.M));
      for (auto& v : b) v = r.range(-2000, 2000);
      g.initializers.push_back(tensor_of<int32_t>("bq", {c.M}, kI32, b));
      std::vector<float> bs;
      for (float s : wscale) bs.push_back(s * xs);
      g.initializers.push_back(tensor_f32("b_s", sdims, bs));
      g.nodes.push_back(node("DequantizeLinear", {"bq", "b_s"}, {"bd"}, "dqb", {attr_int("axis", 0)}));
      conv_in.push_back("bd");
    }
  }
  g.nodes.push_back(node("Conv", conv_in, {"c"}, "conv",
                         {attr_ints("strides", c.strides), attr_ints("pads", c.pads), attr_ints("dilations", c.dilations),
                          attr_int("group", c.group)}));
  std::string pre = "c";
  if (c.act == "Relu") {
    g.nodes.push_back(node("Relu", {"c"}, {"a"}, "relu"));
    pre = "a";
  } else if (c.act == "Clip") {
    g.initializers.push_back(tensor_f32("lo", {}, {0.0f}));
    g.initializers.push_back(tensor_f32("hi", {}, {3.0f}));
    g.nodes.push_back(node("Clip", {"c", "lo", "hi"}, {"a"}, "clip"));
    pre = "a";
  }
  g.nodes.push_back(node("QuantizeLinear", {pre, "y_s", "y_z"}, {c.min_chain ? "yq" : "y"}, "q"));
  if (c.min_chain) {
    std::vector<int8_t> cm(size_t(c.M));
    for (auto& v : cm) v = int8_t(r.range(-20, 100));
    g.initializers.push_back(tensor_of<int8_t>("cmin", {1, c.M, 1, 1}, kS8, cm));
    g.nodes.push_back(node("DequantizeLinear", {"yq", "y_s", "y_z"}, {"yd"}, "dq1"));
    g.nodes.push_back(node("DequantizeLinear", {"cmin", "y_s", "y_z"}, {"cd"}, "dqc"));
    g.nodes.push_back(node("Min", {"yd", "cd"}, {"mn"}, "min"));
    g.nodes.push_back(node("QuantizeLinear", {"mn", "y_s", "y_z"}, {"mq"}, "q2"));
    g.nodes.push_back(node("DequantizeLinear", {"mq", "y_s", "y_z"}, {"md"}, "dq2"));
    g.nodes.push_back(node("Relu", {"md"}, {"rl"}, "relu2"));
    g.nodes.push_back(node("QuantizeLinear", {"rl", "y_s", "y_z"}, {"y"}, "q3"));
  }
  g.outputs.push_back(value_info("y", yt, {}));
  return model(g);
}

}  // namespace quant_test

NETLITE_TEST(quant_fused_conv_matches_float_graph) {
  Rng r(5);
  std::vector<ConvCase> cases;
  {
    ConvCase c; c.name = "3x3 s2 s8 per-tensor Clip"; c.strides = {2, 2}; c.pads = {0, 0, 1, 1}; c.act = "Clip";
    c.C = 3; c.H = 32; c.W = 32; cases.push_back(c);
  }
  {
    ConvCase c; c.name = "1x1 u8 per-channel Relu u8 out"; c.KH = c.KW = 1; c.pads = {0, 0, 0, 0}; c.x_signed = false;
    c.y_signed = false; c.per_channel = true; c.act = "Relu"; c.C = 24; c.M = 40; c.H = 14; c.W = 14; cases.push_back(c);
  }
  {
    ConvCase c; c.name = "depthwise per-channel Pad Min Relu"; c.C = c.M = c.group = 32; c.per_channel = true;
    c.pad_node = true; c.pads = {0, 0, 0, 0}; c.min_chain = true; c.act = "Relu"; c.H = 17; c.W = 19;
    cases.push_back(c);
  }
  {
    ConvCase c; c.name = "depthwise Pad only"; c.C = c.M = c.group = 16; c.pad_node = true; c.pads = {0, 0, 0, 0};
    c.H = 10; c.W = 12; cases.push_back(c);
  }
  {
    ConvCase c; c.name = "1x1 Min chain only"; c.KH = c.KW = 1; c.pads = {0, 0, 0, 0}; c.C = 8; c.M = 24;
    c.min_chain = true; c.per_channel = true; cases.push_back(c);
  }
  {
    ConvCase c; c.name = "depthwise s2 per-tensor"; c.C = c.M = c.group = 20; c.strides = {2, 2}; c.N = 2;
    cases.push_back(c);
  }
  {
    ConvCase c; c.name = "grouped 5x5 dilated float bias"; c.C = 8; c.M = 12; c.group = 2; c.KH = c.KW = 5;
    c.dilations = {2, 1}; c.pads = {3, 2, 3, 2}; c.float_bias = true; c.H = 20; c.W = 21; cases.push_back(c);
  }
  {
    ConvCase c; c.name = "1x1 big weight zero point no bias"; c.KH = c.KW = 1; c.pads = {0, 0, 0, 0}; c.bias = false;
    c.w_zero = 5; c.C = 64; c.M = 70; c.H = 30; c.W = 31; c.N = 2; cases.push_back(c);
  }
  for (const ConvCase& c : cases) {
    const std::string bytes = conv_model(c, r);
    const netlite::Shape xs = {c.N, c.C, c.H, c.W};
    const std::vector<uint8_t> x = random_bytes(size_t(c.N * c.C * c.H * c.W), r);
    compare_fused(c.name, bytes, x, xs, c.x_signed ? netlite::DType::Int8 : netlite::DType::UInt8, {"QConv"});
  }
}

// QConv splits work by output position (large images) or by channel (small
// ones), differently for each thread count: the result must not change at all.
NETLITE_TEST(quant_fused_conv_identical_at_any_thread_count) {
  Rng r(15);
  std::vector<ConvCase> cases;
  for (int64_t hw : {7, 14, 16, 23, 27, 28, 40}) {  // depthwise: bands below 28x28, channel runs from it
    ConvCase dw; dw.name = "depthwise"; dw.C = dw.M = dw.group = 24; dw.H = dw.W = hw; dw.act = "Relu"; dw.N = 2;
    cases.push_back(dw);
    ConvCase dw2 = dw; dw2.name = "depthwise s2"; dw2.strides = {2, 2}; cases.push_back(dw2);
    ConvCase pw; pw.name = "1x1"; pw.KH = pw.KW = 1; pw.pads = {0, 0, 0, 0}; pw.C = 40; pw.M = 72; pw.H = pw.W = hw;
    pw.per_channel = true; cases.push_back(pw);
    ConvCase full; full.name = "3x3 s2"; full.strides = {2, 2}; full.pads = {0, 0, 1, 1}; full.C = 5; full.M = 24;
    full.H = full.W = 2 * hw; cases.push_back(full);
  }
  for (const ConvCase& c : cases) {
    const std::string bytes = conv_model(c, r);
    const netlite::Shape xs = {c.N, c.C, c.H, c.W};
    const std::vector<uint8_t> x = random_bytes(size_t(c.N * c.C * c.H * c.W), r);
    const netlite::DType xt = c.x_signed ? netlite::DType::Int8 : netlite::DType::UInt8;
    const Result one = run_model(bytes, true, 1, x, xs, xt);
    CHECK_MSG(one.ops.count("QConv") == 1, "%s %lldx%lld: not fused", c.name, (long long)c.H, (long long)c.W);
    for (int threads : {2, 3, 4}) {
      const Result got = run_model(bytes, true, threads, x, xs, xt);
      CHECK_MSG(got.bytes == one.bytes, "%s %lldx%lld: %d threads differ from 1", c.name, (long long)c.H,
                (long long)c.W, threads);
    }
  }
}

NETLITE_TEST(quant_fused_add_gap_matmul_lookup_match_float_graph) {
  Rng r(6);
  {  // Add of two inputs with different scales and types, then Relu.
    GraphSpec g;
    qparams(g, "a", 0.03f, -7, kS8);
    qparams(g, "b", 0.05f, 9, kS8);
    qparams(g, "y", 0.06f, -2, kS8);
    g.inputs.push_back(value_info("a", kS8, {2, 3, 50}));
    g.inputs.push_back(value_info("b", kS8, {2, 3, 50}));
    g.nodes.push_back(node("DequantizeLinear", {"a", "a_s", "a_z"}, {"ad"}, "dqa"));
    g.nodes.push_back(node("DequantizeLinear", {"b", "b_s", "b_z"}, {"bd"}, "dqb"));
    g.nodes.push_back(node("Add", {"ad", "bd"}, {"s"}, "add"));
    g.nodes.push_back(node("Relu", {"s"}, {"rs"}, "relu"));
    g.nodes.push_back(node("QuantizeLinear", {"rs", "y_s", "y_z"}, {"y"}, "q"));
    g.outputs.push_back(value_info("y", kS8, {}));
    const netlite::Shape s = {2, 3, 50};
    const std::vector<uint8_t> a = random_bytes(300, r), b = random_bytes(300, r);
    compare_fused("QAdd", model(g), a, s, netlite::DType::Int8, {"QAdd"}, false, &b, &s);
  }
  {  // GAP -> Q -> Squeeze -> DQ -> MatMul(DQ W per column) + DQ(bias) -> Q -> DQ -> Sigmoid -> Q
    GraphSpec g;
    const int64_t C = 40, HW = 7, N = 30;
    qparams(g, "x", 0.02f, -128, kS8);
    qparams(g, "p", 0.02f, -128, kS8);
    qparams(g, "m", 0.1f, 4, kS8);
    qparams(g, "o", 1.0f / 256, 0, kU8);
    g.inputs.push_back(value_info("x", kS8, {1, C, HW, HW}));
    g.nodes.push_back(node("DequantizeLinear", {"x", "x_s", "x_z"}, {"xd"}, "dqx"));
    g.nodes.push_back(node("GlobalAveragePool", {"xd"}, {"gp"}, "gap"));
    g.nodes.push_back(node("QuantizeLinear", {"gp", "p_s", "p_z"}, {"gq"}, "qg"));
    g.initializers.push_back(tensor_i64("axes", {2}, {2, 3}));
    g.nodes.push_back(node("Squeeze", {"gq", "axes"}, {"sq"}, "squeeze"));
    g.nodes.push_back(node("DequantizeLinear", {"sq", "p_s", "p_z"}, {"sd"}, "dqs"));
    std::vector<int8_t> w(size_t(C * N));
    for (auto& v : w) v = int8_t(r.range(-127, 127));
    g.initializers.push_back(tensor_of<int8_t>("w", {C, N}, kS8, w));
    std::vector<float> ws;
    for (int64_t n = 0; n < N; ++n) ws.push_back(r.uniform(0.002f, 0.01f));
    g.initializers.push_back(tensor_f32("w_s", {N}, ws));
    g.nodes.push_back(node("DequantizeLinear", {"w", "w_s"}, {"wd"}, "dqw", {attr_int("axis", 1)}));
    g.nodes.push_back(node("MatMul", {"sd", "wd"}, {"mm"}, "matmul"));
    std::vector<int32_t> b(static_cast<size_t>(N));
    for (auto& v : b) v = r.range(-3000, 3000);
    g.initializers.push_back(tensor_of<int32_t>("bq", {N}, kI32, b));
    g.initializers.push_back(tensor_f32("b_s", {}, {0.0002f}));
    g.nodes.push_back(node("DequantizeLinear", {"bq", "b_s"}, {"bd"}, "dqb"));
    g.nodes.push_back(node("Add", {"mm", "bd"}, {"ad"}, "bias"));
    g.nodes.push_back(node("QuantizeLinear", {"ad", "m_s", "m_z"}, {"mq"}, "qm"));
    g.nodes.push_back(node("DequantizeLinear", {"mq", "m_s", "m_z"}, {"md"}, "dqm"));
    g.nodes.push_back(node("Sigmoid", {"md"}, {"sg"}, "sigmoid"));
    g.nodes.push_back(node("QuantizeLinear", {"sg", "o_s", "o_z"}, {"y"}, "qo"));
    g.outputs.push_back(value_info("y", kU8, {}));
    const std::vector<uint8_t> x = random_bytes(size_t(C * HW * HW), r);
    compare_fused("GAP/MatMul/Sigmoid", model(g), x, {1, C, HW, HW}, netlite::DType::Int8,
                  {"QGlobalAveragePool", "QMatMul", "QLookup"});
  }
  {  // Requantization u8 -> s8 and a lookup are exact.
    GraphSpec g;
    qparams(g, "x", 0.0078f, 127, kU8);
    qparams(g, "y", 0.011f, -1, kS8);
    g.inputs.push_back(value_info("x", kU8, {5, 77}));
    g.nodes.push_back(node("DequantizeLinear", {"x", "x_s", "x_z"}, {"xd"}, "dq"));
    g.nodes.push_back(node("QuantizeLinear", {"xd", "y_s", "y_z"}, {"y"}, "q"));
    g.outputs.push_back(value_info("y", kS8, {}));
    compare_fused("requantize", model(g), random_bytes(385, r), {5, 77}, netlite::DType::UInt8, {"QLookup"}, true);
  }
}

NETLITE_TEST(quant_fused_gemm_and_8bit_data_movement_match_float_graph) {
  Rng r(8);
  {  // Gemm with transB (W [N, K], per-row scales), int32 bias, Relu.
    GraphSpec g;
    const int64_t B = 3, K = 50, N = 37;
    qparams(g, "a", 0.04f, 10, kU8);
    qparams(g, "y", 0.07f, 0, kU8);
    g.inputs.push_back(value_info("a", kU8, {B, K}));
    g.nodes.push_back(node("DequantizeLinear", {"a", "a_s", "a_z"}, {"ad"}, "dqa"));
    std::vector<int8_t> w(size_t(N * K));
    for (auto& v : w) v = int8_t(r.range(-127, 127));
    g.initializers.push_back(tensor_of<int8_t>("w", {N, K}, kS8, w));
    std::vector<float> ws;
    for (int64_t n = 0; n < N; ++n) ws.push_back(r.uniform(0.002f, 0.01f));
    g.initializers.push_back(tensor_f32("w_s", {N}, ws));
    g.nodes.push_back(node("DequantizeLinear", {"w", "w_s"}, {"wd"}, "dqw", {attr_int("axis", 0)}));
    std::vector<int32_t> b(static_cast<size_t>(N));
    for (auto& v : b) v = r.range(-5000, 5000);
    g.initializers.push_back(tensor_of<int32_t>("bq", {N}, kI32, b));
    g.initializers.push_back(tensor_f32("b_s", {}, {0.0003f}));
    g.nodes.push_back(node("DequantizeLinear", {"bq", "b_s"}, {"bd"}, "dqb"));
    g.nodes.push_back(node("Gemm", {"ad", "wd", "bd"}, {"gm"}, "gemm", {attr_int("transB", 1)}));
    g.nodes.push_back(node("Relu", {"gm"}, {"rl"}, "relu"));
    g.nodes.push_back(node("QuantizeLinear", {"rl", "y_s", "y_z"}, {"y"}, "q"));
    g.outputs.push_back(value_info("y", kU8, {}));
    compare_fused("Gemm transB", model(g), random_bytes(size_t(B * K), r), {B, K}, netlite::DType::UInt8, {"QMatMul"});
  }
  {  // Transpose -> MaxPool -> Pad(0.3) -> Concat with itself, all on int8: exact.
    GraphSpec g;
    qparams(g, "x", 0.05f, -3, kS8);
    g.inputs.push_back(value_info("x", kS8, {1, 9, 8, 3}));
    g.nodes.push_back(node("DequantizeLinear", {"x", "x_s", "x_z"}, {"d0"}, "dq0"));
    g.nodes.push_back(node("Transpose", {"d0"}, {"t"}, "transpose", {attr_ints("perm", {0, 3, 1, 2})}));
    g.nodes.push_back(node("QuantizeLinear", {"t", "x_s", "x_z"}, {"tq"}, "q0"));
    g.nodes.push_back(node("DequantizeLinear", {"tq", "x_s", "x_z"}, {"d1"}, "dq1"));
    g.nodes.push_back(node("MaxPool", {"d1"}, {"mp"}, "maxpool",
                           {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_ints("pads", {1, 1, 1, 1})}));
    g.nodes.push_back(node("QuantizeLinear", {"mp", "x_s", "x_z"}, {"mq"}, "q1"));
    g.nodes.push_back(node("DequantizeLinear", {"mq", "x_s", "x_z"}, {"d2"}, "dq2"));
    g.initializers.push_back(tensor_i64("pads", {8}, {0, 0, 1, 0, 0, 0, 0, 2}));
    g.initializers.push_back(tensor_f32("pv", {}, {0.3f}));
    g.nodes.push_back(node("Pad", {"d2", "pads", "pv"}, {"pd"}, "pad"));
    g.nodes.push_back(node("QuantizeLinear", {"pd", "x_s", "x_z"}, {"pq"}, "q2"));
    g.nodes.push_back(node("DequantizeLinear", {"pq", "x_s", "x_z"}, {"d3"}, "dq3"));
    g.nodes.push_back(node("DequantizeLinear", {"pq", "x_s", "x_z"}, {"d4"}, "dq4"));
    g.nodes.push_back(node("Concat", {"d3", "d4"}, {"cc"}, "concat", {attr_int("axis", 1)}));
    g.nodes.push_back(node("QuantizeLinear", {"cc", "x_s", "x_z"}, {"y"}, "q3"));
    g.outputs.push_back(value_info("y", kS8, {}));
    compare_fused("8-bit data movement", model(g), random_bytes(216, r), {1, 9, 8, 3}, netlite::DType::Int8,
                  {"Transpose", "MaxPool", "Pad", "Concat"}, true);
  }
}

NETLITE_TEST(quant_unfusable_patterns_stay_float) {
  // The Conv output is also a graph output: nothing may be fused away, and the
  // model still runs (mixed float/int8).
  Rng r(7);
  GraphSpec g;
  qparams(g, "x", 0.02f, 0, kS8);
  qparams(g, "y", 0.05f, 0, kS8);
  g.inputs.push_back(value_info("x", kS8, {1, 4, 6, 6}));
  std::vector<int8_t> w(4 * 4 * 9);
  for (auto& v : w) v = int8_t(r.range(-100, 100));
  g.initializers.push_back(tensor_of<int8_t>("w", {4, 4, 3, 3}, kS8, w));
  g.initializers.push_back(tensor_f32("w_s", {}, {0.01f}));
  g.nodes.push_back(node("DequantizeLinear", {"x", "x_s", "x_z"}, {"xd"}, "dqx"));
  g.nodes.push_back(node("DequantizeLinear", {"w", "w_s"}, {"wd"}, "dqw"));
  g.nodes.push_back(node("Conv", {"xd", "wd"}, {"c"}, "conv", {attr_ints("pads", {1, 1, 1, 1})}));
  g.nodes.push_back(node("QuantizeLinear", {"c", "y_s", "y_z"}, {"y"}, "q"));
  g.outputs.push_back(value_info("y", kS8, {}));
  g.outputs.push_back(value_info("c", kF32, {}));
  const std::vector<uint8_t> x = random_bytes(144, r);
  const Result ref = run_model(model(g), false, 1, x, {1, 4, 6, 6}, netlite::DType::Int8);
  const Result got = run_model(model(g), true, 2, x, {1, 4, 6, 6}, netlite::DType::Int8);
  CHECK(got.ops.count("Conv") == 1);
  CHECK(got.ops.count("QConv") == 0);
  CHECK(got.bytes == ref.bytes);
}

NETLITE_TEST(quant_uint8_weights_fuse_only_when_they_fit_int8) {
  // The integer kernels take W minus its zero point as int8: uint8 weights with
  // zero point 10 fit while they stay within [0, 137]; one weight at 138 keeps
  // the Conv in float (per output channel, at any position in the channel).
  for (int bad_channel : {-1, 0, 3}) {
    Rng r(11);
    GraphSpec g;
    qparams(g, "x", 0.02f, 0, kS8);
    qparams(g, "y", 0.05f, 0, kS8);
    qparams(g, "w", 0.01f, 10, kU8);
    g.inputs.push_back(value_info("x", kS8, {1, 4, 6, 6}));
    std::vector<uint8_t> w(4 * 4 * 9);
    for (auto& v : w) v = uint8_t(r.range(0, 137));
    w[3] = 137;
    if (bad_channel >= 0) w[size_t(bad_channel * 36 + 35)] = 138;
    g.initializers.push_back(tensor_of<uint8_t>("w", {4, 4, 3, 3}, kU8, w));
    g.nodes.push_back(node("DequantizeLinear", {"x", "x_s", "x_z"}, {"xd"}, "dqx"));
    g.nodes.push_back(node("DequantizeLinear", {"w", "w_s", "w_z"}, {"wd"}, "dqw"));
    g.nodes.push_back(node("Conv", {"xd", "wd"}, {"c"}, "conv", {attr_ints("pads", {1, 1, 1, 1})}));
    g.nodes.push_back(node("QuantizeLinear", {"c", "y_s", "y_z"}, {"y"}, "q"));
    g.outputs.push_back(value_info("y", kS8, {}));
    const std::vector<uint8_t> x = random_bytes(144, r);
    const Result ref = run_model(model(g), false, 1, x, {1, 4, 6, 6}, netlite::DType::Int8);
    const Result got = run_model(model(g), true, 1, x, {1, 4, 6, 6}, netlite::DType::Int8);
    CHECK_MSG(got.ops.count("QConv") == (bad_channel < 0 ? 1u : 0u), "bad channel %d", bad_channel);
    // Fused or not, the answer is the float graph's (to one quantization step).
    CHECK(got.bytes.size() == ref.bytes.size());
    for (size_t i = 0; i < got.bytes.size() && i < ref.bytes.size(); ++i)
      CHECK(std::abs(int(int8_t(got.bytes[i])) - int(int8_t(ref.bytes[i]))) <= 1);
  }
}

// qpack_quantized_weights against the layout of qgemm.h, element by element: row-major
// (Conv), column-major (MatMul [K, N]) and strided A; int8 and uint8 bytes with
// per-row zero points; padding rows and k written as 0; false for a value out of int8.
NETLITE_TEST(quant_qpack_quantized_weights_matches_layout) {
  Rng r(21);
  for (int64_t M : {1, 5, 16, 17, 40, 67, 1000})  // 1000 x 145: storage from its own (populated) mapping
    for (int64_t K : {1, 3, 4, 9, 36, 145})
      for (int layout = 0; layout < 3; ++layout)
        for (int type = 0; type < 3; ++type) {  // int8 zero 0, int8 per-row zero, uint8 per-row zero
          const bool is_unsigned = type == 2;
          // Element (m, k) at m * rs + k * cs.
          const int64_t rs = layout == 0 ? K : layout == 1 ? 1 : 2 * K + 1;
          const int64_t cs = layout == 0 ? 1 : layout == 1 ? M : 2;
          std::vector<uint8_t> raw(size_t((M - 1) * rs + (K - 1) * cs + 1), 0xCD);
          std::vector<int32_t> zero(static_cast<size_t>(M), 0);
          std::vector<int32_t> want(size_t(M * K));
          for (int64_t m = 0; m < M; ++m) {
            const int32_t z = type == 0 ? 0 : is_unsigned ? r.range(0, 255) : r.range(-128, 127);
            zero[size_t(m)] = z;
            for (int64_t kk = 0; kk < K; ++kk) {
              // A raw value whose difference with z fits int8 (the extremes often).
              const int lo = std::max(is_unsigned ? 0 : -128, z - 128), hi = std::min(is_unsigned ? 255 : 127, z + 127);
              const int sel = int(r.next() % 8);
              const int v = sel == 0 ? lo : sel == 1 ? hi : r.range(lo, hi);
              raw[size_t(m * rs + kk * cs)] = uint8_t(v);
              want[size_t(m * K + kk)] = v - z;
            }
          }
          k::QPackedWeights p;
          const bool ok = k::qpack_quantized_weights(raw.data(), is_unsigned, type == 0 ? nullptr : zero.data(), M, K,
                                                     rs, cs, &p);
          CHECK_MSG(ok, "M=%lld K=%lld layout %d type %d: fits", (long long)M, (long long)K, layout, type);
          if (!ok) continue;
          CHECK(p.M == M && p.K == K && p.Kp == (K + 3) / 4 * 4);
          bool same = true;
          for (int64_t m = 0; m < (M + 15) / 16 * 16; ++m) {
            int32_t sum = 0;
            for (int64_t kk = 0; kk < p.Kp; ++kk) {
              const int32_t w = m < M && kk < K ? want[size_t(m * K + kk)] : 0;
              sum += w;
              const int8_t got = p.data[((m / 16) * (p.Kp / 4) + kk / 4) * 64 + (m % 16) * 4 + kk % 4];
              same = same && got == w;
            }
            if (m < M) same = same && p.row_sums[size_t(m)] == sum;
          }
          CHECK_MSG(same, "M=%lld K=%lld layout %d type %d: packed bytes or row sums differ", (long long)M,
                    (long long)K, layout, type);
          // One value out of range (one past the fitting bound) anywhere: refused.
          if (type != 0) {
            const int64_t m = int64_t(r.next() % uint32_t(M)), kk = int64_t(r.next() % uint32_t(K));
            const int32_t z = zero[size_t(m)];
            const int bad = is_unsigned ? (z + 128 <= 255 ? z + 128 : z - 129) : (z + 128 <= 127 ? z + 128 : z - 129);
            if ((is_unsigned && bad >= 0 && bad <= 255) || (!is_unsigned && bad >= -128 && bad <= 127)) {
              std::vector<uint8_t> bad_raw(raw);
              bad_raw[size_t(m * rs + kk * cs)] = uint8_t(bad);
              CHECK_MSG(!k::qpack_quantized_weights(bad_raw.data(), is_unsigned, zero.data(), M, K, rs, cs, &p),
                        "M=%lld K=%lld layout %d type %d: out-of-range weight accepted", (long long)M, (long long)K,
                        layout, type);
            }
          }
        }
}

NETLITE_TEST(quant_uint8_matmul_weights_fuse_only_when_they_fit_int8) {
  // MatMul W [K, N] quantized per column (axis 1): the fusion pass checks each
  // column's range against its own zero point, with a column of its own out of range.
  for (int bad_column : {-1, 0, 5, 29}) {
    Rng r(12);
    const int64_t K = 24, N = 30;
    GraphSpec g;
    qparams(g, "a", 0.02f, 3, kU8);
    qparams(g, "y", 0.05f, 128, kU8);
    g.inputs.push_back(value_info("a", kU8, {2, K}));
    std::vector<uint8_t> wz(static_cast<size_t>(N));
    for (auto& z : wz) z = uint8_t(r.range(0, 255));
    if (bad_column >= 0) wz[size_t(bad_column)] = 10;  // [0, 255] - 128 would always fit
    std::vector<uint8_t> w(size_t(K * N));
    for (int64_t kk = 0; kk < K; ++kk)
      for (int64_t n = 0; n < N; ++n)
        w[size_t(kk * N + n)] = uint8_t(r.range(std::max(0, wz[size_t(n)] - 128), std::min(255, wz[size_t(n)] + 127)));
    if (bad_column >= 0) {
      w[size_t(7 * N + bad_column)] = 138;
    }
    g.initializers.push_back(tensor_of<uint8_t>("w", {K, N}, kU8, w));
    std::vector<float> ws;
    for (int64_t n = 0; n < N; ++n) ws.push_back(r.uniform(0.002f, 0.01f));
    g.initializers.push_back(tensor_f32("w_s", {N}, ws));
    g.initializers.push_back(tensor_of<uint8_t>("w_z", {N}, kU8, wz));
    g.nodes.push_back(node("DequantizeLinear", {"a", "a_s", "a_z"}, {"ad"}, "dqa"));
    g.nodes.push_back(node("DequantizeLinear", {"w", "w_s", "w_z"}, {"wd"}, "dqw", {attr_int("axis", 1)}));
    g.nodes.push_back(node("MatMul", {"ad", "wd"}, {"mm"}, "matmul"));
    g.nodes.push_back(node("QuantizeLinear", {"mm", "y_s", "y_z"}, {"y"}, "q"));
    g.outputs.push_back(value_info("y", kU8, {}));
    const std::vector<uint8_t> x = random_bytes(size_t(2 * K), r);
    const Result ref = run_model(model(g), false, 1, x, {2, K}, netlite::DType::UInt8);
    const Result got = run_model(model(g), true, 1, x, {2, K}, netlite::DType::UInt8);
    CHECK_MSG(got.ops.count("QMatMul") == (bad_column < 0 ? 1u : 0u), "bad column %d", bad_column);
    CHECK(got.bytes.size() == ref.bytes.size());
    for (size_t i = 0; i < got.bytes.size() && i < ref.bytes.size(); ++i)
      CHECK(std::abs(int(got.bytes[i]) - int(ref.bytes[i])) <= 1);
  }
}

NETLITE_TEST(quant_fused_matmul_identical_at_any_thread_count) {
  // A classifier-sized head (packed W >= 256 KiB): its output columns are shared among threads.
  Rng r(16);
  const int64_t K = 300, N = 1000;
  for (int64_t rows : {1, 3}) {
    GraphSpec g;
    qparams(g, "a", 0.02f, -3, kS8);
    qparams(g, "y", 0.05f, 2, kS8);
    qparams(g, "w", 0.01f, 0, kS8);
    g.inputs.push_back(value_info("a", kS8, {rows, K}));
    std::vector<int8_t> w(size_t(K * N));
    for (auto& v : w) v = int8_t(r.range(-127, 127));
    g.initializers.push_back(tensor_of<int8_t>("w", {K, N}, kS8, w));
    g.nodes.push_back(node("DequantizeLinear", {"a", "a_s", "a_z"}, {"ad"}, "dqa"));
    g.nodes.push_back(node("DequantizeLinear", {"w", "w_s", "w_z"}, {"wd"}, "dqw"));
    g.nodes.push_back(node("MatMul", {"ad", "wd"}, {"mm"}, "matmul"));
    g.nodes.push_back(node("QuantizeLinear", {"mm", "y_s", "y_z"}, {"y"}, "q"));
    g.outputs.push_back(value_info("y", kS8, {}));
    const std::vector<uint8_t> x = random_bytes(size_t(rows * K), r);
    const Result one = run_model(model(g), true, 1, x, {rows, K}, netlite::DType::Int8);
    CHECK(one.ops.count("QMatMul") == 1);
    for (int threads : {2, 3}) {
      const Result got = run_model(model(g), true, threads, x, {rows, K}, netlite::DType::Int8);
      CHECK_MSG(got.bytes == one.bytes, "rows %lld: %d threads differ from 1", (long long)rows, threads);
    }
  }
}

// QConv and QMatMul read their own packed copies of W (and of the bias) only, so the
// model's original int8 weight gives its whole pages back at load (the int8
// MobileNet-V2 held its 3.4 MB of weights twice). Checked where it can be seen:
// the original's inner pages are not resident after a fused load (Linux), while
// the float graph (optimize off, which dequantizes W at every run) keeps it
// resident and intact; the fused graphs still match the float ones.
NETLITE_TEST(quant_kernels_give_back_copied_weights) {
  Rng r(21);
  ConvCase c;
  c.name = "3x3 conv, 288 KB of W";
  c.C = 128;
  c.M = 256;
  c.H = c.W = 6;
  c.per_channel = true;
  const std::string conv_bytes = conv_model(c, r);
  const std::vector<uint8_t> x = random_bytes(size_t(c.C * c.H * c.W), r);
  compare_fused(c.name, conv_bytes, x, {1, c.C, c.H, c.W}, netlite::DType::Int8, {"QConv"});

  GraphSpec g;  // MatMul with W [K, N] (not transposed): 256 KB
  const int64_t K = 512, N = 512;
  qparams(g, "a", 0.03f, 0, kS8);
  qparams(g, "y", 0.2f, 0, kS8);
  g.inputs.push_back(value_info("a", kS8, {2, K}));
  g.nodes.push_back(node("DequantizeLinear", {"a", "a_s", "a_z"}, {"ad"}, "dqa"));
  std::vector<int8_t> w(size_t(K * N));
  for (auto& v : w) v = int8_t(r.range(-127, 127));
  g.initializers.push_back(tensor_of<int8_t>("w", {K, N}, kS8, w));
  g.initializers.push_back(tensor_f32("w_s", {}, {0.004f}));
  g.nodes.push_back(node("DequantizeLinear", {"w", "w_s"}, {"wd"}, "dqw"));
  g.nodes.push_back(node("MatMul", {"ad", "wd"}, {"mm"}, "matmul"));
  g.nodes.push_back(node("QuantizeLinear", {"mm", "y_s", "y_z"}, {"y"}, "q"));
  g.outputs.push_back(value_info("y", kS8, {}));
  const std::string mm_bytes = model(g);
  compare_fused("MatMul, 256 KB of W", mm_bytes, random_bytes(size_t(2 * K), r), {2, K}, netlite::DType::Int8,
                {"QMatMul"});

#if defined(__linux__)
  auto inner_resident = [](const netlite::Tensor& t, size_t* inner) {
    const uintptr_t page = 4096, b = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page,
                    e = (reinterpret_cast<uintptr_t>(t.data) + t.bytes()) / page * page;
    *inner = e > b ? size_t(e - b) : 0;
    std::vector<unsigned char> v(*inner / page + 1);
    if (e <= b || mincore(reinterpret_cast<void*>(b), size_t(e - b), v.data()) != 0) return size_t(-1);
    size_t n = 0;
    for (size_t i = 0; i < *inner / page; ++i) n += (v[i] & 1) ? page : 0;
    return n;
  };
  for (const std::string* bytes : {&conv_bytes, &mm_bytes}) {
    for (bool optimize : {false, true}) {
      netlite::ModelOptions o;
      o.optimize = optimize;
      const auto m = netlite::Model::load_onnx(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), o);
      const int v = m->graph().find_value("w");
      if (!CHECK(v >= 0)) continue;
      const netlite::Tensor& t = m->graph().values[size_t(v)].data;
      size_t inner = 0;
      const size_t res = inner_resident(t, &inner);
      CHECK_MSG(inner >= 200 * 1024, "only %zu bytes of whole pages in W", inner);
      if (optimize) {
        CHECK_MSG(res == 0, "%s fused: %zu of W's %zu bytes of whole pages still resident",
                  bytes == &conv_bytes ? "conv" : "matmul", res, inner);
      } else {
        CHECK_MSG(res == inner, "%s float: %zu of %zu bytes resident", bytes == &conv_bytes ? "conv" : "matmul", res,
                  inner);
        const std::vector<int8_t> got(t.ptr<int8_t>(), t.ptr<int8_t>() + t.numel());
        if (bytes == &mm_bytes) CHECK(got == w);
      }
    }
  }
#endif
}

// The pages a kernel gives back, or the weights it repacks in place, must be the
// model's and read by it alone, and never from a kernel a pass makes to evaluate a
// node at load (constant folding keeps a node whose output is too large and makes
// its kernel again later): inside a ScratchKernels scope sole_owned_constant refuses.
NETLITE_TEST(sole_owned_constant_refuses_scratch_kernels) {
  netlite::Graph g;
  const int x = g.add_value("x"), w = g.add_value("w"), w2 = g.add_value("w2"), y = g.add_value("y");
  for (int v : {w, w2}) {
    netlite::Value& c = g.values[size_t(v)];
    c.is_constant = true;
    c.data = netlite::Tensor::allocate(netlite::DType::Float32, {64, 64});
    c.dtype = c.data.dtype;
    c.shape = c.data.shape;
    c.has_shape = true;
  }
  netlite::Node n;
  n.name = "conv";
  n.op_type = "Conv";
  n.inputs = {x, w};
  n.outputs = {y};
  g.nodes.push_back(n);
  netlite::Node n2 = n;  // a second reader of w2
  n2.name = "conv2";
  n2.inputs = {x, w2};
  g.nodes.push_back(n2);
  g.nodes.push_back(n2);
  CHECK(netlite::ops::sole_owned_constant(g.nodes[0], g, 1) == &g.values[size_t(w)].data);
  CHECK(netlite::ops::sole_owned_constant(g.nodes[1], g, 1) == nullptr);  // read twice
  CHECK(netlite::ops::sole_owned_constant(g.nodes[0], g, 0) == nullptr);  // not a constant
  {
    const netlite::ScratchKernels scratch;
    CHECK(netlite::ops::sole_owned_constant(g.nodes[0], g, 1) == nullptr);
    CHECK(netlite::ops::release_copied_constant(g.nodes[0], g, 1) == 0);
  }
  CHECK(netlite::ops::sole_owned_constant(g.nodes[0], g, 1) == &g.values[size_t(w)].data);
}
