// AVX-512 VNNI integer GEMM kernels (see kernels/qgemm.h for the layouts).
// vpdpbusd multiplies 4 u8 activations by 4 s8 weights and adds the four
// products to an int32 lane (no saturation: |sum| < 2^17 per instruction).
//   panel kernel: 8 rows x 32 columns of C in 16 zmm accumulators; per group of
//                 4 k, two panel loads and 8 broadcast weight groups;
//   rows kernel : 16 rows (one weight strip, a vector load) x up to 4 columns,
//                 each column's 4 activations broadcast (MatMul at small batch).
// Every function carries a target attribute, so the file builds with plain -O2;
// callers check qisa_available(QIsa::Avx512Vnni) first.
#include "../qgemm.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#include <algorithm>
#include <cstring>

// GCC 12 reports the intrinsics' internal _mm512_undefined_*() values as maybe
// uninitialized once they are inlined into these target functions: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace netlite {
namespace kernels {
namespace qgemm_avx512_detail {

#define NETLITE_QAVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define NETLITE_QAVX512_INLINE __attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline

NETLITE_QAVX512_INLINE __mmask16 lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1u);
}

// Requantizes 16 accumulators with one row's (or 16 rows') parameters and stores the low bytes.
// See qno_contract (qgemm.h): no FMA contraction across this point.
NETLITE_QAVX512_INLINE __m512 no_contract(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

NETLITE_QAVX512_INLINE void store16(__m512i acc, __m512 scale, __m512 offset, __m512 lo, __m512 hi, __m512i zp,
                                    uint8_t* dst, __mmask16 mask) {
  __m512 v = no_contract(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale));
  v = _mm512_add_ps(v, offset);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  const __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
  _mm512_mask_cvtepi32_storeu_epi8(dst, mask, q);
}

// C tile: rows [0, mrows) of an 8-row half strip, columns [0, ncols) of one
// 32-column (W = 2) or 16-column (W = 1) micro-panel. The accumulators are
// named variables (not an array), which keeps GCC from shuffling registers.
#define NETLITE_QROW(i)                                              \
  {                                                                  \
    const __m512i av = _mm512_set1_epi32(ag[i]);                     \
    c##i##0 = _mm512_dpbusd_epi32(c##i##0, b0, av);                  \
    if (W == 2) c##i##1 = _mm512_dpbusd_epi32(c##i##1, b1, av);      \
  }
template <int W>
NETLITE_QAVX512_TARGET void tile(const int32_t* a, int64_t groups, const uint8_t* b, int64_t b_step,
                                 const int32_t* init, const QRequant& rq, int64_t m, int mrows, int64_t ncols,
                                 uint8_t* c, int64_t ldc) {
  const __m512i z = _mm512_setzero_si512();
  __m512i c00 = mrows > 0 ? _mm512_set1_epi32(init[0]) : z, c10 = mrows > 1 ? _mm512_set1_epi32(init[1]) : z;
  __m512i c20 = mrows > 2 ? _mm512_set1_epi32(init[2]) : z, c30 = mrows > 3 ? _mm512_set1_epi32(init[3]) : z;
  __m512i c40 = mrows > 4 ? _mm512_set1_epi32(init[4]) : z, c50 = mrows > 5 ? _mm512_set1_epi32(init[5]) : z;
  __m512i c60 = mrows > 6 ? _mm512_set1_epi32(init[6]) : z, c70 = mrows > 7 ? _mm512_set1_epi32(init[7]) : z;
  __m512i c01 = c00, c11 = c10, c21 = c20, c31 = c30, c41 = c40, c51 = c50, c61 = c60, c71 = c70;
  for (int64_t g = 0; g < groups; ++g) {
    const __m512i b0 = _mm512_loadu_si512(b);
    const __m512i b1 = W == 2 ? _mm512_loadu_si512(b + 64) : z;
    const int32_t* ag = a + g * kQRows;
    NETLITE_QROW(0)
    NETLITE_QROW(1)
    NETLITE_QROW(2)
    NETLITE_QROW(3)
    NETLITE_QROW(4)
    NETLITE_QROW(5)
    NETLITE_QROW(6)
    NETLITE_QROW(7)
    b += b_step;
  }
  const __m512i acc[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                             {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
  const __m512i zp = _mm512_set1_epi32(rq.zero_point);
  for (int i = 0; i < mrows; ++i) {
    const __m512 s = _mm512_set1_ps(rq.scale[m + i]), o = _mm512_set1_ps(rq.offset[m + i]);
    const __m512 lo = _mm512_set1_ps(rq.lo[m + i]), hi = _mm512_set1_ps(rq.hi[m + i]);
    for (int w = 0; w < W; ++w) store16(acc[i][w], s, o, lo, hi, zp, c + i * ldc + w * 16, lanes(ncols - w * 16));
  }
}
#undef NETLITE_QROW

}  // namespace qgemm_avx512_detail

namespace x86 {

NETLITE_QAVX512_TARGET void qgemm_panel_avx512vnni(const QPackedWeights& a, int64_t m0, int64_t mc,
                                                   const uint8_t* panel, int64_t n, const int32_t* acc_init,
                                                   const QRequant& rq, uint8_t* c, int64_t ldc) {
  using namespace qgemm_avx512_detail;
  const int64_t groups = a.Kp / 4, np = (n + kQCols - 1) / kQCols * kQCols;
  const int64_t b_step = np * 4;
  for (int64_t j0 = 0; j0 < n; j0 += kQCols) {
    const int64_t nc = n - j0 < kQCols ? n - j0 : kQCols;
    const uint8_t* b = panel + j0 * 4;
    for (int64_t m = m0; m < m0 + mc; m += 8) {
      const int mrows = int(m0 + mc - m < 8 ? m0 + mc - m : 8);
      const int32_t* as = reinterpret_cast<const int32_t*>(a.data + (m / kQRows) * a.Kp * kQRows) + (m % kQRows);
      uint8_t* cm = c + (m - m0) * ldc + j0;
      if (nc > 16) tile<2>(as, groups, b, b_step, acc_init + m, rq, m, mrows, nc, cm, ldc);
      else tile<1>(as, groups, b, b_step, acc_init + m, rq, m, mrows, nc, cm, ldc);
    }
  }
}

NETLITE_QAVX512_TARGET void qgemm_rows_avx512vnni(const QPackedWeights& a, int64_t m_begin, int64_t m_end,
                                                  const uint8_t* x, int64_t n, const int32_t* acc_init,
                                                  const QRequant& rq, uint8_t* c, int64_t ldc) {
  using namespace qgemm_avx512_detail;
  const int64_t groups = a.Kp / 4;
  const __m512i zp = _mm512_set1_epi32(rq.zero_point);
  for (int64_t p0 = 0; p0 < n; p0 += 4) {
    const int P = int(n - p0 < 4 ? n - p0 : 4);
    const int32_t* xs = reinterpret_cast<const int32_t*>(x + p0 * a.Kp);
    const int64_t xstride = a.Kp / 4;
    for (int64_t m0 = m_begin; m0 < m_end; m0 += kQRows) {
      const __mmask16 mk = lanes(m_end - m0);
      const __m512i init = _mm512_maskz_loadu_epi32(mk, acc_init + m0);
      __m512i acc[4] = {init, init, init, init};
      const __m512i* w = reinterpret_cast<const __m512i*>(a.data + (m0 / kQRows) * a.Kp * kQRows);
      if (P == 4) {
        for (int64_t g = 0; g < groups; ++g) {
          const __m512i wv = _mm512_loadu_si512(w + g);
          acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_set1_epi32(xs[g]), wv);
          acc[1] = _mm512_dpbusd_epi32(acc[1], _mm512_set1_epi32(xs[xstride + g]), wv);
          acc[2] = _mm512_dpbusd_epi32(acc[2], _mm512_set1_epi32(xs[2 * xstride + g]), wv);
          acc[3] = _mm512_dpbusd_epi32(acc[3], _mm512_set1_epi32(xs[3 * xstride + g]), wv);
        }
      } else {
        for (int64_t g = 0; g < groups; ++g) {
          const __m512i wv = _mm512_loadu_si512(w + g);
          for (int q = 0; q < P; ++q) acc[q] = _mm512_dpbusd_epi32(acc[q], _mm512_set1_epi32(xs[q * xstride + g]), wv);
        }
      }
      const __m512 s = _mm512_maskz_loadu_ps(mk, rq.scale + m0), o = _mm512_maskz_loadu_ps(mk, rq.offset + m0);
      const __m512 lo = _mm512_maskz_loadu_ps(mk, rq.lo + m0), hi = _mm512_maskz_loadu_ps(mk, rq.hi + m0);
      for (int q = 0; q < P; ++q) store16(acc[q], s, o, lo, hi, zp, c + (p0 + q) * ldc + m0, mk);
    }
  }
}

// 64 columns of a group of 4 rows at a time: bytes paired, then the pairs paired,
// within each 128-bit lane (lane L then holds columns 16L + 4k .. 16L + 4k + 3
// of result k), and a 4 x 4 transpose of the lanes. Columns past n load as 0.
__attribute__((target("avx512f,avx512bw"))) void qpack_panel_avx512(const uint8_t* b, int64_t ldb, int64_t K,
                                                                      int64_t n, bool flip_sign, uint8_t* panel) {
  const int64_t np = (n + kQCols - 1) / kQCols * kQCols, groups = (K + 3) / 4;
  const __m512i flip = _mm512_set1_epi8(char(flip_sign ? 0x80 : 0));
  for (int64_t g = 0; g < groups; ++g) {
    uint8_t* dst = panel + g * np * 4;
    for (int64_t j = 0; j < np; j += 64) {
      const int64_t left = n - j;
      const __mmask64 m = left >= 64 ? ~__mmask64(0) : left <= 0 ? 0 : (__mmask64(1) << left) - 1;
      __m512i r[4];
      for (int t = 0; t < 4; ++t) {
        const int64_t k = 4 * g + t;
        r[t] = k < K ? _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, b + k * ldb + j), flip))
                     : _mm512_setzero_si512();
      }
      const __m512i a = _mm512_unpacklo_epi8(r[0], r[1]), bb = _mm512_unpackhi_epi8(r[0], r[1]);
      const __m512i c = _mm512_unpacklo_epi8(r[2], r[3]), d = _mm512_unpackhi_epi8(r[2], r[3]);
      const __m512i e0 = _mm512_unpacklo_epi16(a, c), e1 = _mm512_unpackhi_epi16(a, c);
      const __m512i e2 = _mm512_unpacklo_epi16(bb, d), e3 = _mm512_unpackhi_epi16(bb, d);
      const __m512i t0 = _mm512_shuffle_i64x2(e0, e1, 0x44), t1 = _mm512_shuffle_i64x2(e2, e3, 0x44);
      const __m512i t2 = _mm512_shuffle_i64x2(e0, e1, 0xEE), t3 = _mm512_shuffle_i64x2(e2, e3, 0xEE);
      uint8_t* o = dst + j * 4;  // 16 columns (64 bytes) per vector; np - j is a multiple of 32
      _mm512_storeu_si512(o, _mm512_shuffle_i64x2(t0, t1, 0x88));
      _mm512_storeu_si512(o + 64, _mm512_shuffle_i64x2(t0, t1, 0xDD));
      if (np - j > 32) {
        _mm512_storeu_si512(o + 128, _mm512_shuffle_i64x2(t2, t3, 0x88));
        _mm512_storeu_si512(o + 192, _mm512_shuffle_i64x2(t2, t3, 0xDD));
      }
    }
  }
}

namespace qim2col_avx512_detail {

constexpr int kMaxRows = 16;    // (channel, kernel row) input rows
constexpr int kMaxGroups = 64;  // groups of 4 taps (K <= 256)

// Per group of 4 taps: its two input rows and, per lane byte 4j + t, the byte of the
// two rows' 64-byte windows (row a: 0-63, row b: 64-127) holding tap t of column j.
struct Plan {
  int rows = 0, groups = 0;
  int row_c[kMaxRows], row_kh[kMaxRows];
  int ra[kMaxGroups], rb[kMaxGroups];
  __mmask64 taps[kMaxGroups];  // bytes of taps k < K (the rest are 0)
  alignas(64) uint8_t idx[kMaxGroups][64];
};

inline bool build_plan(const ConvShape& g, int64_t channels, Plan* p) {
  const int64_t KH = g.kernel[0], KW = g.kernel[1], SW = g.stride[1], DW = g.dilation[1];
  const int64_t K = channels * KH * KW, groups = (K + 3) / 4;
  if (g.nd != 2 || channels * KH > kMaxRows || groups > kMaxGroups || 15 * SW + (KW - 1) * DW >= 64) return false;
  p->rows = int(channels * KH);
  p->groups = int(groups);
  for (int r = 0; r < p->rows; ++r) {
    p->row_c[r] = int(r / KH);
    p->row_kh[r] = int(r % KH);
  }
  for (int64_t gi = 0; gi < groups; ++gi) {
    int ra = -1, rb = -1;
    p->taps[gi] = 0;
    for (int t = 0; t < 4; ++t) {
      const int64_t k = 4 * gi + t;
      if (k >= K) continue;
      const int r = int(k / KW);  // (c * KH + kh)
      if (ra < 0 || r == ra) ra = r;
      else if (rb < 0 || r == rb) rb = r;
      else return false;  // a third row
    }
    if (rb < 0) rb = ra;
    p->ra[gi] = ra;
    p->rb[gi] = rb;
    for (int j = 0; j < 16; ++j)
      for (int t = 0; t < 4; ++t) {
        const int64_t k = 4 * gi + t;
        uint8_t v = 0;
        if (k < K) {
          const int r = int(k / KW);
          v = uint8_t((r == ra ? 0 : 64) + j * SW + (k % KW) * DW);
          p->taps[gi] |= __mmask64(1) << (4 * j + t);
        }
        p->idx[gi][4 * j + t] = v;
      }
  }
  return true;
}

}  // namespace qim2col_avx512_detail

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) bool qim2col_panel_avx512(
    const ConvShape& g, const uint8_t* x, int64_t channels, int64_t o0, int64_t on, bool flip_sign, uint8_t pad_u8,
    uint8_t* panel) {
  using namespace qim2col_avx512_detail;
  static const bool usable = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
  }();
  Plan p;
  if (!usable || on <= 0 || !build_plan(g, channels, &p)) return false;
  const int64_t IH = g.in[0], IW = g.in[1], OW = g.out[1], IHW = IH * IW;
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0], PH = g.pad[0], PW = g.pad[1];
  const int64_t np = (on + kQCols - 1) / kQCols * kQCols;
  const __m512i flip = _mm512_set1_epi8(char(flip_sign ? 0x80 : 0)), pad = _mm512_set1_epi8(char(pad_u8));
  alignas(64) __m512i w[kMaxRows];
  int64_t oh = o0 / OW, ow = o0 % OW;
  for (int64_t j = 0; j < on;) {
    const int64_t n = std::min<int64_t>({16, OW - ow, on - j});
    const int64_t base = ow * SW - PW;  // input column of window byte 0
    const __mmask64 inside = base >= IW || base + 64 <= 0 ? 0
                             : (IW - base >= 64 ? ~__mmask64(0) : (__mmask64(1) << (IW - base)) - 1) &
                                   ~(base < 0 ? (__mmask64(1) << -base) - 1 : 0);
    for (int r = 0; r < p.rows; ++r) {
      const int64_t ih = oh * SH - PH + p.row_kh[r] * DH;
      if (ih < 0 || ih >= IH || inside == 0) {
        w[r] = pad;
        continue;
      }
      // Masked-off bytes are not accessed, so the window may start before the row.
      const uintptr_t at = reinterpret_cast<uintptr_t>(x) + uintptr_t(p.row_c[r] * IHW + ih * IW + base);
      const __m512i v = _mm512_maskz_loadu_epi8(inside, reinterpret_cast<const void*>(at));
      w[r] = _mm512_mask_mov_epi8(pad, inside, _mm512_xor_si512(v, flip));
    }
    const __mmask16 cols = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
    for (int gi = 0; gi < p.groups; ++gi) {
      const __m512i v = _mm512_maskz_permutex2var_epi8(p.taps[gi], w[p.ra[gi]], _mm512_load_si512(p.idx[gi]),
                                                       w[p.rb[gi]]);
      _mm512_mask_storeu_epi32(panel + gi * np * 4 + j * 4, cols, v);
    }
    j += n;
    if ((ow += n) == OW) {
      ow = 0;
      ++oh;
    }
  }
  if (np > on)
    for (int gi = 0; gi < p.groups; ++gi) std::memset(panel + gi * np * 4 + on * 4, 0, size_t(np - on) * 4);
  return true;
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#undef NETLITE_QAVX512_TARGET
#undef NETLITE_QAVX512_INLINE

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
