// AVX2 integer GEMM panel kernel (see kernels/qgemm.h for the layouts), for
// CPUs without AVX-512 VNNI. vpmaddubsw would saturate u8 x s8 pairs, so the
// kernel widens both operands to int16 and uses vpmaddwd, which is exact:
// each 32-bit lane holds the sum of two products of one column, and the two
// lanes of a column are added at the end (vphaddd). Tile: 4 rows x 8 columns.
#include "../qgemm.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#include <cstring>

namespace netlite {
namespace kernels {
namespace qgemm_avx2_detail {

#define NETLITE_QAVX2_TARGET __attribute__((target("avx2")))

// See qno_contract (qgemm.h): no FMA contraction across this point.
__attribute__((target("avx2"), always_inline)) inline __m256 no_contract(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}

template <int MR>
NETLITE_QAVX2_TARGET void tile(const int8_t* a, int64_t groups, const uint8_t* b, int64_t b_step,
                               const int32_t* init, const QRequant& rq, int64_t m, int mrows, int64_t ncols,
                               uint8_t* c, int64_t ldc) {
  __m256i lo[MR], hi[MR];
  for (int i = 0; i < MR; ++i) lo[i] = hi[i] = _mm256_setzero_si256();
  for (int64_t g = 0; g < groups; ++g) {
    const __m256i bl = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
    const __m256i bh = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16)));
    const int8_t* ag = a + g * kQRows * 4;
    for (int i = 0; i < MR; ++i) {
      int32_t w4;
      std::memcpy(&w4, ag + i * 4, 4);
      const __m256i av = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(w4)));
      lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(bl, av));
      hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(bh, av));
    }
    b += b_step;
  }
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
  const __m256i zp = _mm256_set1_epi32(rq.zero_point), byte = _mm256_set1_epi16(0xFF);
  for (int i = 0; i < mrows; ++i) {
    // hadd: [c0 c1 c4 c5 | c2 c3 c6 c7] -> column order.
    __m256i acc = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(lo[i], hi[i]), order);
    acc = _mm256_add_epi32(acc, _mm256_set1_epi32(init[i]));
    __m256 v = no_contract(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(rq.scale[m + i])));
    v = _mm256_add_ps(v, _mm256_set1_ps(rq.offset[m + i]));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(rq.lo[m + i])), _mm256_set1_ps(rq.hi[m + i]));
    const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)), zp);
    // Low byte of each value: int32 -> int16 (in range), mask, unsigned pack.
    const __m256i w16 = _mm256_and_si256(_mm256_packs_epi32(q, q), byte);
    const __m256i b8 = _mm256_packus_epi16(w16, w16);  // per 128-bit lane: 4 bytes used
    const int32_t lo4 = _mm256_cvtsi256_si32(b8), hi4 = _mm256_extract_epi32(b8, 4);
    uint8_t out[8];
    std::memcpy(out, &lo4, 4);
    std::memcpy(out + 4, &hi4, 4);
    std::memcpy(c + i * ldc, out, size_t(ncols < 8 ? ncols : 8));
  }
}

}  // namespace qgemm_avx2_detail

namespace x86 {

NETLITE_QAVX2_TARGET void qgemm_panel_avx2(const QPackedWeights& a, int64_t m0, int64_t mc, const uint8_t* panel,
                                           int64_t n, const int32_t* acc_init, const QRequant& rq, uint8_t* c,
                                           int64_t ldc) {
  using namespace qgemm_avx2_detail;
  const int64_t groups = a.Kp / 4, np = (n + kQCols - 1) / kQCols * kQCols;
  for (int64_t j0 = 0; j0 < n; j0 += 8) {
    const int64_t nc = n - j0 < 8 ? n - j0 : 8;
    for (int64_t m = m0; m < m0 + mc; m += 4) {
      const int mrows = int(m0 + mc - m < 4 ? m0 + mc - m : 4);
      const int8_t* as = a.data + (m / kQRows) * a.Kp * kQRows + (m % kQRows) * 4;
      tile<4>(as, groups, panel + j0 * 4, np * 4, acc_init + m, rq, m, mrows, nc, c + (m - m0) * ldc + j0, ldc);
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#undef NETLITE_QAVX2_TARGET

#endif
