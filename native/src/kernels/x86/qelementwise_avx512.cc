// AVX-512 forms of kernels/qelementwise.h: qadd 16 values per step (widen,
// float multiply-add in the reference's order, round half to even, narrow) and
// qlookup 64 bytes per step (two vpermi2b over table halves, blended on bit 7).
#include "../qelementwise.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

// GCC 12 reports the intrinsics' internal _mm512_undefined_*() values as maybe
// uninitialized once they are inlined into these target functions: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace netlite {
namespace kernels {
namespace x86 {

#define NETLITE_QEW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi")))

bool qelementwise_avx512_usable() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vbmi");
  }();
  return ok;
}

namespace qelementwise_avx512_detail {
// See qno_contract (qgemm.h): no FMA contraction across this point.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"), always_inline)) inline __m512 no_contract(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}
}  // namespace qelementwise_avx512_detail

NETLITE_QEW_TARGET void qadd_avx512(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const QAddParams& p) {
  using qelementwise_avx512_detail::no_contract;
  const __m128i af = _mm_set1_epi8(char(p.a_flip)), bf = _mm_set1_epi8(char(p.b_flip));
  const __m512i az = _mm512_set1_epi32(p.a_zero), bz = _mm512_set1_epi32(p.b_zero), zp = _mm512_set1_epi32(p.zero_point);
  const __m512 as = _mm512_set1_ps(p.a_scale), bs = _mm512_set1_ps(p.b_scale);
  const __m512 lo = _mm512_set1_ps(p.lo), hi = _mm512_set1_ps(p.hi);
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t left = n - i;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    const __m128i va = _mm_xor_si128(_mm_maskz_loadu_epi8(m, a + i), af);
    const __m128i vb = _mm_xor_si128(_mm_maskz_loadu_epi8(m, b + i), bf);
    __m512 v = no_contract(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(va), az)), as));
    const __m512 w = no_contract(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(vb), bz)), bs));
    v = _mm512_add_ps(v, w);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    const __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
    _mm512_mask_cvtepi32_storeu_epi8(y + i, m, q);
  }
}

NETLITE_QEW_TARGET void qlookup_avx512(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  for (int64_t i = 0; i < n; i += 64) {
    const int64_t left = n - i;
    const __mmask64 m = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
    const __m512i idx = _mm512_maskz_loadu_epi8(m, x + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, idx, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, idx, t3);
    _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), low, high));
  }
}

#undef NETLITE_QEW_TARGET

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
