// Integer GEMM: weight and activation packing, the portable kernels, the scalar
// reference, and the run-time choice of the x86 variants (x86/qgemm_*.cc).
#include "qgemm.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

#include "../core/memory.h"
#include "../core/tensor.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NETLITE_QGEMM_X86 1
#include <emmintrin.h>
#endif

namespace netlite {
namespace kernels {
namespace qgemm_detail {

#if NETLITE_QGEMM_X86
bool cpu_avx512vnni() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
  }();
  return ok;
}
bool cpu_avx2() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return ok;
}
#endif

QIsa resolve(QIsa isa) {
  if (isa != QIsa::Auto) return isa;
#if NETLITE_QGEMM_X86
  if (cpu_avx512vnni()) return QIsa::Avx512Vnni;
  if (cpu_avx2()) return QIsa::Avx2;
#endif
  return QIsa::Generic;
}

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// ---- weight packing (see qpack_quantized_weights) ----

// Storage for packed weights, resident before it is written. First touches of
// fresh 4 KiB pages are what a load spends most on here (shadow paging: ~9 us a
// page by fault; writing 1.28 MB of fresh memory took ~3 ms faulted in, ~1.5 ms
// populated, ~0.07 ms as one transparent huge page). So buffers of 16 KiB and
// more are cut from 2 MiB chunks, 2 MiB aligned and advised as huge pages by
// large_buffer, and populated at once (MADV_POPULATE_WRITE, Linux 5.14; where
// unknown, one write per page). A chunk
// lives as long as its last buffer (each buffer shares its ownership) and the
// arena keeps only a weak reference to the chunk it cuts from, so freeing every
// model frees every chunk. Smaller buffers, and models with only small weights,
// stay on the heap: a chunk for a few KiB would hold 2 MiB resident.
class PackArena {
 public:
  static constexpr size_t kChunk = size_t(2) << 20;
  static constexpr size_t kFrom = size_t(16) << 10;

  std::shared_ptr<void> allocate(size_t bytes) {
    if (bytes < kFrom) return aligned_buffer(bytes, false);
    if (bytes > kChunk) return populated(bytes);
    const size_t take = (bytes + 63) / 64 * 64;
    std::lock_guard<std::mutex> lk(m_);
    std::shared_ptr<void> chunk = chunk_.lock();
    if (!chunk || used_ + take > kChunk) {
      chunk = populated(kChunk);
      chunk_ = chunk;
      used_ = 0;
    }
    void* p = static_cast<uint8_t*>(chunk.get()) + used_;
    used_ += take;
    return std::shared_ptr<void>(chunk, p);  // shares the chunk's ownership
  }

 private:
  // Resident at once (large_buffer's prefault: MADV_POPULATE_WRITE, page by page where
  // the kernel lacks it).
  static std::shared_ptr<void> populated(size_t bytes) { return large_buffer(bytes, true); }

  std::mutex m_;
  std::weak_ptr<void> chunk_;
  size_t used_ = 0;
};

std::shared_ptr<void> packed_storage(size_t bytes) {
  static PackArena arena;
  return arena.allocate(bytes);
}

// Whether every raw value minus its row's zero point fits int8: the extremes of
// each row (contiguous runs, or a column pass for column-major A), then one test.
template <typename T>
bool weights_fit(const T* raw, const int32_t* zero, int64_t M, int64_t K, int64_t rs, int64_t cs) {
  const bool is_signed = std::numeric_limits<T>::is_signed;
  if (K <= 0 || M <= 0 || (is_signed && (!zero || std::all_of(zero, zero + M, [](int32_t z) { return z == 0; }))))
    return true;  // int8 minus 0 always fits
  auto fits = [&](int64_t m, int32_t lo, int32_t hi) {
    const int32_t z = zero ? zero[m] : 0;
    return lo - z >= -128 && hi - z <= 127;
  };
  if (cs == 1 || rs != 1) {
    for (int64_t m = 0; m < M; ++m) {
      if (is_signed && zero[m] == 0) continue;
      const T* r = raw + m * rs;
      T mn = std::numeric_limits<T>::max(), mx = std::numeric_limits<T>::min();
      if (cs == 1) {
        for (int64_t k = 0; k < K; ++k) {
          mn = std::min(mn, r[k]);
          mx = std::max(mx, r[k]);
        }
      } else {
        for (int64_t k = 0; k < K; ++k) {
          mn = std::min(mn, r[k * cs]);
          mx = std::max(mx, r[k * cs]);
        }
      }
      if (!fits(m, mn, mx)) return false;
    }
    return true;
  }
  std::vector<T> mn(size_t(M), std::numeric_limits<T>::max()), mx(size_t(M), std::numeric_limits<T>::min());
  T* __restrict pmn = mn.data();
  T* __restrict pmx = mx.data();
  for (int64_t k = 0; k < K; ++k) {
    const T* __restrict r = raw + k * cs;
    for (int64_t m = 0; m < M; ++m) {
      pmn[m] = std::min(pmn[m], r[m]);
      pmx[m] = std::max(pmx[m], r[m]);
    }
  }
  for (int64_t m = 0; m < M; ++m)
    if (!fits(m, mn[size_t(m)], mx[size_t(m)])) return false;
  return true;
}

// dst[j] = src[j] - z (bytes, mod 256) for j < n; returns the sum of the results as int8.
int32_t sub_and_sum(const uint8_t* src, uint8_t z, int64_t n, uint8_t* dst) {
  int64_t j = 0;
  int64_t sum = 0;
#if NETLITE_QGEMM_X86
  const __m128i vz = _mm_set1_epi8(char(z)), bias = _mm_set1_epi8(char(0x80)), zero = _mm_setzero_si128();
  __m128i acc = zero;
  for (; j + 16 <= n; j += 16) {
    const __m128i v = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j)), vz);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j), v);
    acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_xor_si128(v, bias), zero));  // sum of (v + 128)
  }
  sum = int64_t(_mm_cvtsi128_si64(acc)) + int64_t(_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) - 128 * j;
#endif
  for (; j < n; ++j) {
    dst[j] = uint8_t(src[j] - z);
    sum += int8_t(dst[j]);
  }
  return int32_t(sum);
}

#if NETLITE_QGEMM_X86
// 4 rows of 16 bytes to 16 groups of 4 (byte t of group i = v[t][i]): two
// rounds of byte/word interleaves (SSE2, any x86-64).
inline void interleave_4x16(const __m128i v[4], uint8_t* dst) {
  const __m128i a = _mm_unpacklo_epi8(v[0], v[1]), b = _mm_unpackhi_epi8(v[0], v[1]);
  const __m128i c = _mm_unpacklo_epi8(v[2], v[3]), d = _mm_unpackhi_epi8(v[2], v[3]);
  __m128i* o = reinterpret_cast<__m128i*>(dst);
  _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(a, c));
  _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(a, c));
  _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(b, d));
  _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(b, d));
}
#endif

// A row after row (contiguous when cs == 1): each row minus its zero point into
// a zero-padded copy of Kp bytes, then its 4-byte groups to the strip.
void pack_row_major(const uint8_t* raw, const uint8_t* zb, int64_t M, int64_t K, int64_t Kp, int64_t rs, int64_t cs,
                    int8_t* d, int32_t* sums) {
  std::vector<uint8_t> row(static_cast<size_t>(Kp)), gathered(cs == 1 ? 0 : static_cast<size_t>(K));
  const int64_t strips = (M + kQRows - 1) / kQRows, groups = Kp / 4;
  for (int64_t s = 0; s < strips; ++s) {
    int8_t* strip = d + s * Kp * kQRows;
    for (int64_t i = 0; i < kQRows; ++i) {
      const int64_t m = s * kQRows + i;
      if (m < M) {
        const uint8_t* r = raw + m * rs;
        if (cs != 1) {
          for (int64_t k = 0; k < K; ++k) gathered[size_t(k)] = r[k * cs];
          r = gathered.data();
        }
        sums[m] = sub_and_sum(r, zb[m], K, row.data());
        std::memset(row.data() + K, 0, size_t(Kp - K));
      } else {
        std::memset(row.data(), 0, size_t(Kp));
      }
      int8_t* dst = strip + i * 4;
      const uint8_t* rw = row.data();
      for (int64_t g = 0; g < groups; ++g) std::memcpy(dst + g * kQRows * 4, rw + g * 4, 4);
    }
  }
}

// Column-major A (element (m, k) at raw[k * cs + m], MatMul's [K, N] weights):
// per group of 4 k, the 4 source rows are read in order and each strip's 16
// columns interleaved into its 64-byte block; row sums by whole source rows.
void pack_col_major(const uint8_t* raw, const uint8_t* zb, int64_t M, int64_t K, int64_t Kp, int64_t cs, int8_t* d,
                    int32_t* sums) {
  const int64_t strips = (M + kQRows - 1) / kQRows, groups = Kp / 4;
  const int64_t full = M / kQRows;  // strips with 16 real columns
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* r[4];
    for (int t = 0; t < 4; ++t) r[t] = 4 * g + t < K ? raw + (4 * g + t) * cs : nullptr;
    for (int t = 0; t < 4; ++t) {
      if (!r[t]) continue;
      const uint8_t* __restrict rt = r[t];
      for (int64_t m = 0; m < M; ++m) sums[m] += int8_t(uint8_t(rt[m] - zb[m]));
    }
    int64_t s = 0;
#if NETLITE_QGEMM_X86
    for (; s < full; ++s) {
      const __m128i vz = _mm_loadu_si128(reinterpret_cast<const __m128i*>(zb + s * kQRows));
      __m128i v[4];
      for (int t = 0; t < 4; ++t)
        v[t] = r[t] ? _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r[t] + s * kQRows)), vz)
                    : _mm_setzero_si128();
      interleave_4x16(v, reinterpret_cast<uint8_t*>(d + (s * groups + g) * kQRows * 4));
    }
#else
    (void)full;
#endif
    for (; s < strips; ++s) {
      uint8_t* dst = reinterpret_cast<uint8_t*>(d + (s * groups + g) * kQRows * 4);
      for (int64_t i = 0; i < kQRows; ++i) {
        const int64_t m = s * kQRows + i;
        for (int t = 0; t < 4; ++t) dst[i * 4 + t] = m < M && r[t] ? uint8_t(r[t][m] - zb[m]) : 0;
      }
    }
  }
}

// Any other strides, one element at a time.
void pack_generic(const uint8_t* raw, const uint8_t* zb, int64_t M, int64_t K, int64_t Kp, int64_t rs, int64_t cs,
                  int8_t* d, int32_t* sums) {
  std::memset(d, 0, size_t((M + kQRows - 1) / kQRows) * size_t(Kp) * kQRows);
  for (int64_t m = 0; m < M; ++m) {
    int8_t* strip = d + (m / kQRows) * Kp * kQRows + (m % kQRows) * 4;
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t v = int8_t(uint8_t(raw[m * rs + k * cs] - zb[m]));
      strip[(k / 4) * kQRows * 4 + k % 4] = v;
      sum += v;
    }
    sums[m] = sum;
  }
}

// Portable panel kernel: one output at a time over the packed layouts.
void panel_generic(const QPackedWeights& a, int64_t m0, int64_t mc, const uint8_t* panel, int64_t n,
                   const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc) {
  const int64_t groups = a.Kp / 4, np = round_up(n, kQCols);
  for (int64_t m = m0; m < m0 + mc; ++m) {
    const int8_t* strip = a.data + (m / kQRows) * a.Kp * kQRows + (m % kQRows) * 4;
    uint8_t* cr = c + (m - m0) * ldc;
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = acc_init[m];
      for (int64_t g = 0; g < groups; ++g) {
        const int8_t* ag = strip + g * kQRows * 4;
        const uint8_t* bg = panel + (g * np + j) * 4;
        acc += int32_t(ag[0]) * bg[0] + int32_t(ag[1]) * bg[1] + int32_t(ag[2]) * bg[2] + int32_t(ag[3]) * bg[3];
      }
      cr[j] = uint8_t(qrequant(acc, rq.scale[m], rq.offset[m], rq.lo[m], rq.hi[m], rq.zero_point));
    }
  }
}

void rows_generic(const QPackedWeights& a, int64_t m0, int64_t m1, const uint8_t* x, int64_t n,
                  const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc) {
  const int64_t groups = a.Kp / 4;
  for (int64_t p = 0; p < n; ++p) {
    const uint8_t* xp = x + p * a.Kp;
    for (int64_t m = m0; m < m1; ++m) {
      const int8_t* strip = a.data + (m / kQRows) * a.Kp * kQRows + (m % kQRows) * 4;
      int32_t acc = acc_init[m];
      for (int64_t g = 0; g < groups; ++g) {
        const int8_t* ag = strip + g * kQRows * 4;
        const uint8_t* bg = xp + g * 4;
        acc += int32_t(ag[0]) * bg[0] + int32_t(ag[1]) * bg[1] + int32_t(ag[2]) * bg[2] + int32_t(ag[3]) * bg[3];
      }
      c[p * ldc + m] = uint8_t(qrequant(acc, rq.scale[m], rq.offset[m], rq.lo[m], rq.hi[m], rq.zero_point));
    }
  }
}

}  // namespace qgemm_detail

bool qisa_available(QIsa isa) {
  switch (isa) {
    case QIsa::Auto:
    case QIsa::Generic: return true;
#if NETLITE_QGEMM_X86
    case QIsa::Avx2: return qgemm_detail::cpu_avx2();
    case QIsa::Avx512Vnni: return qgemm_detail::cpu_avx512vnni();
#endif
    default: return false;
  }
}

const char* qisa_name() {
  switch (qgemm_detail::resolve(QIsa::Auto)) {
    case QIsa::Avx512Vnni: return "avx512vnni";
    case QIsa::Avx2: return "avx2";
    default: return "generic";
  }
}

QPackedWeights qpack_weights(const int8_t* a, int64_t M, int64_t K, int64_t row_stride, int64_t col_stride) {
  QPackedWeights p;
  qpack_quantized_weights(a, false, nullptr, M, K, row_stride, col_stride, &p);  // int8 minus 0 always fits
  return p;
}

bool qpack_quantized_weights(const void* raw, bool raw_unsigned, const int32_t* zero, int64_t M, int64_t K,
                             int64_t row_stride, int64_t col_stride, QPackedWeights* out) {
  using namespace qgemm_detail;
  *out = QPackedWeights();
  const bool fit = raw_unsigned ? weights_fit(static_cast<const uint8_t*>(raw), zero, M, K, row_stride, col_stride)
                                : weights_fit(static_cast<const int8_t*>(raw), zero, M, K, row_stride, col_stride);
  if (!fit) return false;
  QPackedWeights p;
  p.M = M;
  p.K = K;
  p.Kp = round_up(std::max<int64_t>(K, 1), 4);
  p.owner = packed_storage(std::max<size_t>(p.bytes(), 1));  // every byte is written below
  int8_t* d = static_cast<int8_t*>(p.owner.get());
  p.data = d;
  p.row_sums.assign(size_t(M), 0);
  // The zero points as bytes: A's byte is raw - zero (mod 256) for int8 and uint8 raw alike.
  std::vector<uint8_t> zb(size_t(M), 0);
  if (zero) for (int64_t m = 0; m < M; ++m) zb[size_t(m)] = uint8_t(zero[m]);
  const uint8_t* src = static_cast<const uint8_t*>(raw);
  if (col_stride == 1 || M <= 1) pack_row_major(src, zb.data(), M, K, p.Kp, row_stride, col_stride, d, p.row_sums.data());
  else if (row_stride == 1) pack_col_major(src, zb.data(), M, K, p.Kp, col_stride, d, p.row_sums.data());
  else pack_generic(src, zb.data(), M, K, p.Kp, row_stride, col_stride, d, p.row_sums.data());
  *out = std::move(p);
  return true;
}

void qpack_panel_reference(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel) {
  const int64_t np = qgemm_detail::round_up(n, kQCols), kp = (K + 3) / 4 * 4;
  for (int64_t k = 0; k < kp; ++k)
    for (int64_t j = 0; j < np; ++j)
      panel[(k / 4) * np * 4 + j * 4 + k % 4] = k < K && j < n ? uint8_t(b[k * ldb + j] ^ (flip_sign ? 0x80 : 0)) : 0;
}

void qpack_panel(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel) {
#if NETLITE_QGEMM_X86
  static const bool avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }();
  if (avx512) return x86::qpack_panel_avx512(b, ldb, K, n, flip_sign, panel);
#endif
  qpack_panel_portable(b, ldb, K, n, flip_sign, panel);
}

void qpack_panel_portable(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel) {
  const int64_t np = qgemm_detail::round_up(n, kQCols), groups = (K + 3) / 4;
  const uint8_t flip = flip_sign ? 0x80 : 0;
  static const uint8_t zeros[16] = {};
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* r[4];
    for (int t = 0; t < 4; ++t) r[t] = 4 * g + t < K ? b + (4 * g + t) * ldb : nullptr;
    uint8_t* dst = panel + g * np * 4;
    int64_t j = 0;
#if NETLITE_QGEMM_X86
    // 16 columns of 4 rows (SSE2, any x86-64).
    const __m128i vf = _mm_set1_epi8(char(flip));
    for (; j + 16 <= n; j += 16) {
      __m128i v[4];
      for (int t = 0; t < 4; ++t)
        v[t] = r[t] ? _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r[t] + j)), vf)
                    : _mm_loadu_si128(reinterpret_cast<const __m128i*>(zeros));
      qgemm_detail::interleave_4x16(v, dst + j * 4);
    }
#endif
    for (; j < n; ++j)
      for (int t = 0; t < 4; ++t) dst[j * 4 + t] = r[t] ? uint8_t(r[t][j] ^ flip) : 0;
    if (np > n) std::memset(dst + n * 4, 0, size_t(np - n) * 4);
  }
}

void qim2col_panel(const ConvShape& g, const uint8_t* x, int64_t channels, int64_t o0, int64_t on, bool flip_sign,
                   uint8_t pad_u8, uint8_t* panel) {
#if NETLITE_QGEMM_X86
  if (x86::qim2col_panel_avx512(g, x, channels, o0, on, flip_sign, pad_u8, panel)) return;
#endif
  qim2col_panel_portable(g, x, channels, o0, on, flip_sign, pad_u8, panel);
}

void qim2col_panel_portable(const ConvShape& g, const uint8_t* x, int64_t channels, int64_t o0, int64_t on,
                            bool flip_sign, uint8_t pad_u8, uint8_t* panel) {
  const int64_t KH = g.kernel[0], KW = g.kernel[1], IH = g.in[0], IW = g.in[1], OW = g.out[1];
  const int64_t K = channels * KH * KW, np = qgemm_detail::round_up(on, kQCols);
  const int64_t kp = (K + 3) / 4 * 4;
  const uint8_t flip = flip_sign ? 0x80 : 0;
  for (int64_t c = 0; c < channels; ++c) {
    const uint8_t* xc = x + c * IH * IW;
    for (int64_t kh = 0; kh < KH; ++kh) {
      for (int64_t kw = 0; kw < KW; ++kw) {
        const int64_t k = (c * KH + kh) * KW + kw;
        uint8_t* dst = panel + (k / 4) * np * 4 + k % 4;
        // Output row by output row: padded taps at the ends, a strided gather between.
        int64_t oh = o0 / OW, ow = o0 % OW;
        for (int64_t j = 0; j < on; ow = 0, ++oh) {
          const int64_t run = std::min(OW - ow, on - j);
          const int64_t ih = oh * g.stride[0] - g.pad[0] + kh * g.dilation[0];
          int64_t t_lo = run, t_hi = run;
          const int64_t base = ow * g.stride[1] - g.pad[1] + kw * g.dilation[1], sw = g.stride[1];
          const uint8_t* row = nullptr;
          if (ih >= 0 && ih < IH && base < IW) {
            t_lo = base >= 0 ? 0 : std::min(run, (-base + sw - 1) / sw);
            t_hi = std::min(run, (IW - 1 - base) / sw + 1);
            if (t_hi < t_lo) t_hi = t_lo;
            row = xc + ih * IW;
          }
          uint8_t* d = dst + j * 4;
          for (int64_t t = 0; t < t_lo; ++t) d[t * 4] = pad_u8;
          for (int64_t t = t_lo; t < t_hi; ++t) d[t * 4] = uint8_t(row[base + t * sw] ^ flip);
          for (int64_t t = t_hi; t < run; ++t) d[t * 4] = pad_u8;
          j += run;
        }
        for (int64_t j = on; j < np; ++j) dst[j * 4] = 0;
      }
    }
  }
  for (int64_t k = K; k < kp; ++k) {
    uint8_t* dst = panel + (k / 4) * np * 4 + k % 4;
    for (int64_t j = 0; j < np; ++j) dst[j * 4] = 0;
  }
}

void qgemm_panel(const QPackedWeights& a, int64_t m0, int64_t mc, const uint8_t* panel, int64_t n,
                 const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc, QIsa isa) {
  if (mc <= 0 || n <= 0) return;
  switch (qgemm_detail::resolve(isa)) {
#if NETLITE_QGEMM_X86
    case QIsa::Avx512Vnni: return x86::qgemm_panel_avx512vnni(a, m0, mc, panel, n, acc_init, rq, c, ldc);
    case QIsa::Avx2: return x86::qgemm_panel_avx2(a, m0, mc, panel, n, acc_init, rq, c, ldc);
#endif
    default: return qgemm_detail::panel_generic(a, m0, mc, panel, n, acc_init, rq, c, ldc);
  }
}

void qgemm_rows(const QPackedWeights& a, const uint8_t* x, int64_t n, const int32_t* acc_init, const QRequant& rq,
                uint8_t* c, int64_t ldc, QIsa isa) {
  qgemm_rows_part(a, 0, a.M, x, n, acc_init, rq, c, ldc, isa);
}

void qgemm_rows_part(const QPackedWeights& a, int64_t m0, int64_t m1, const uint8_t* x, int64_t n,
                     const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc, QIsa isa) {
  m0 = std::max<int64_t>(m0, 0);
  m1 = std::min(m1, a.M);
  if (n <= 0 || m1 <= m0) return;
#if NETLITE_QGEMM_X86
  if (qgemm_detail::resolve(isa) == QIsa::Avx512Vnni)
    return x86::qgemm_rows_avx512vnni(a, m0, m1, x, n, acc_init, rq, c, ldc);
#endif
  (void)isa;
  qgemm_detail::rows_generic(a, m0, m1, x, n, acc_init, rq, c, ldc);
}

void qgemm_reference(int64_t M, int64_t N, int64_t K, const int8_t* a, int64_t lda, const uint8_t* b, int64_t ldb,
                     const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < N; ++j) {
      int32_t acc = acc_init ? acc_init[m] : 0;
      for (int64_t k = 0; k < K; ++k) acc += int32_t(a[m * lda + k]) * int32_t(b[k * ldb + j]);
      c[m * ldc + j] = uint8_t(qrequant(acc, rq.scale[m], rq.offset[m], rq.lo[m], rq.hi[m], rq.zero_point));
    }
}

}  // namespace kernels
}  // namespace netlite

#undef NETLITE_QGEMM_X86
