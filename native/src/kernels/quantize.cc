#include "quantize.h"

#include <type_traits>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define NETLITE_QUANTIZE_AVX2 1
#include <immintrin.h>
#endif

namespace netlite {
namespace kernels {
namespace quantize_detail {

// Round half to even for |v| <= 2^22: adding 1.5 * 2^23 leaves an integer ulp,
// so the FPU's round-to-nearest-even does the rounding (no fast-math: the
// compiler may not fold the two operations). Callers clamp first.
inline float round_half_even(float v) {
  const float magic = 12582912.0f;
  return (v + magic) - magic;
}

// q = clamp(round(x / scale), qmin - zp, qmax - zp) + zp; clamping before rounding
// is equivalent because the bounds are integers.
template <typename Q>
inline Q quantize_one(float x, float scale, float lo, float hi, int32_t zp) {
  float v = x / scale;
  v = v > lo ? v : lo;  // NaN -> lo
  v = v < hi ? v : hi;
  return Q(int32_t(round_half_even(v)) + zp);
}

// Main loops cover a multiple of 16 elements through restrict pointers so GCC's
// -O2 vectoriser (no runtime alias checks, no epilogue) emits SIMD code.
template <typename Q>
void quantize_run(const float* __restrict x, Q* __restrict y, int64_t n, float scale, int32_t zp, int32_t qmin,
                  int32_t qmax) {
  const float lo = float(qmin - zp), hi = float(qmax - zp);
  const int64_t nv = n & ~int64_t(15);
  for (int64_t i = 0; i < nv; ++i) y[i] = quantize_one<Q>(x[i], scale, lo, hi, zp);
  for (int64_t i = nv; i < n; ++i) y[i] = quantize_one<Q>(x[i], scale, lo, hi, zp);
}

template <typename Q>
void quantize_rows(const float* x, Q* y, int64_t rows, int64_t c, const float* scale, const Q* zp, int32_t qmin,
                   int32_t qmax) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    Q* yr = y + r * c;
    for (int64_t j = 0; j < c; ++j) {
      const int32_t z = zp ? int32_t(zp[j]) : 0;
      yr[j] = quantize_one<Q>(xr[j], scale[j], float(qmin - z), float(qmax - z), z);
    }
  }
}

template <typename Q>
void dequantize_run(const Q* __restrict x, float* __restrict y, int64_t n, float scale, int32_t zp) {
  const int64_t nv = n & ~int64_t(15);
  if (sizeof(Q) == 1) {
    // |q - zp| < 2^9: int32 arithmetic is exact and vectorises.
    for (int64_t i = 0; i < nv; ++i) y[i] = float(int32_t(x[i]) - zp) * scale;
    for (int64_t i = nv; i < n; ++i) y[i] = float(int32_t(x[i]) - zp) * scale;
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = float(int64_t(x[i]) - zp) * scale;
  }
}

template <typename Q>
void dequantize_rows(const Q* x, float* y, int64_t rows, int64_t c, const float* scale, const Q* zp) {
  for (int64_t r = 0; r < rows; ++r) {
    const Q* xr = x + r * c;
    float* yr = y + r * c;
    for (int64_t j = 0; j < c; ++j) yr[j] = float(int64_t(xr[j]) - (zp ? int64_t(zp[j]) : 0)) * scale[j];
  }
}

#if NETLITE_QUANTIZE_AVX2
// AVX2 forms of the per-tensor runs, 32 elements per step, the scalar code for
// the tail; bit-identical to the reference (same IEEE division; max/min return
// their second operand for NaN, as the scalar selects do; vroundps rounds half
// to even, as the magic-number trick does in range).
bool avx2_available() {
  static const bool ok = __builtin_cpu_supports("avx2");
  return ok;
}

template <bool Signed>
__attribute__((target("avx2"))) void quantize_run_avx2(const float* x, void* out, int64_t n, float scale, int32_t zp,
                                                        int32_t qmin, int32_t qmax) {
  using Q = typename std::conditional<Signed, int8_t, uint8_t>::type;
  Q* y = static_cast<Q*>(out);
  const float lo = float(qmin - zp), hi = float(qmax - zp);
  const __m256 vs = _mm256_set1_ps(scale), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256i vz = _mm256_set1_epi32(zp);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i + 8 * k), vs);
      v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
      v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      q[k] = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
    }
    // Values are already in [qmin, qmax], so the saturating packs only narrow.
    const __m256i w0 = _mm256_packs_epi32(q[0], q[1]), w1 = _mm256_packs_epi32(q[2], q[3]);
    const __m256i b = Signed ? _mm256_packs_epi16(w0, w1) : _mm256_packus_epi16(w0, w1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_permutevar8x32_epi32(b, order));
  }
  for (; i < n; ++i) y[i] = quantize_one<Q>(x[i], scale, lo, hi, zp);
}

template <bool Signed>
__attribute__((target("avx2"))) void dequantize_run_avx2(const void* in, float* y, int64_t n, float scale,
                                                          int32_t zp) {
  using Q = typename std::conditional<Signed, int8_t, uint8_t>::type;
  const Q* x = static_cast<const Q*>(in);
  const __m256 vs = _mm256_set1_ps(scale);
  const __m256i vz = _mm256_set1_epi32(zp);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    const __m256i lo8 = Signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    const __m256i hi8 = Signed ? _mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)) : _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(lo8, vz)), vs));
    _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(hi8, vz)), vs));
  }
  for (; i < n; ++i) y[i] = float(int32_t(x[i]) - zp) * scale;
}
#endif

}  // namespace quantize_detail

void quantize_f32_u8_reference(const float* x, uint8_t* y, int64_t n, float scale, int32_t zero_point) {
  quantize_detail::quantize_run<uint8_t>(x, y, n, scale, zero_point, 0, 255);
}
void quantize_f32_s8_reference(const float* x, int8_t* y, int64_t n, float scale, int32_t zero_point) {
  quantize_detail::quantize_run<int8_t>(x, y, n, scale, zero_point, -128, 127);
}
void dequantize_u8_f32_reference(const uint8_t* x, float* y, int64_t n, float scale, int32_t zero_point) {
  quantize_detail::dequantize_run(x, y, n, scale, zero_point);
}
void dequantize_s8_f32_reference(const int8_t* x, float* y, int64_t n, float scale, int32_t zero_point) {
  quantize_detail::dequantize_run(x, y, n, scale, zero_point);
}

void quantize_f32_u8(const float* x, uint8_t* y, int64_t n, float scale, int32_t zero_point) {
#if NETLITE_QUANTIZE_AVX2
  if (quantize_detail::avx2_available()) return quantize_detail::quantize_run_avx2<false>(x, y, n, scale, zero_point, 0, 255);
#endif
  quantize_f32_u8_reference(x, y, n, scale, zero_point);
}
void quantize_f32_s8(const float* x, int8_t* y, int64_t n, float scale, int32_t zero_point) {
#if NETLITE_QUANTIZE_AVX2
  if (quantize_detail::avx2_available()) return quantize_detail::quantize_run_avx2<true>(x, y, n, scale, zero_point, -128, 127);
#endif
  quantize_f32_s8_reference(x, y, n, scale, zero_point);
}
void quantize_rows_f32_u8(const float* x, uint8_t* y, int64_t rows, int64_t c, const float* scale, const uint8_t* zero_point) {
  quantize_detail::quantize_rows<uint8_t>(x, y, rows, c, scale, zero_point, 0, 255);
}
void quantize_rows_f32_s8(const float* x, int8_t* y, int64_t rows, int64_t c, const float* scale, const int8_t* zero_point) {
  quantize_detail::quantize_rows<int8_t>(x, y, rows, c, scale, zero_point, -128, 127);
}

void dequantize_u8_f32(const uint8_t* x, float* y, int64_t n, float scale, int32_t zero_point) {
#if NETLITE_QUANTIZE_AVX2
  if (quantize_detail::avx2_available()) return quantize_detail::dequantize_run_avx2<false>(x, y, n, scale, zero_point);
#endif
  dequantize_u8_f32_reference(x, y, n, scale, zero_point);
}
void dequantize_s8_f32(const int8_t* x, float* y, int64_t n, float scale, int32_t zero_point) {
#if NETLITE_QUANTIZE_AVX2
  if (quantize_detail::avx2_available()) return quantize_detail::dequantize_run_avx2<true>(x, y, n, scale, zero_point);
#endif
  dequantize_s8_f32_reference(x, y, n, scale, zero_point);
}
void dequantize_s32_f32(const int32_t* x, float* y, int64_t n, float scale, int32_t zero_point) {
  quantize_detail::dequantize_run(x, y, n, scale, zero_point);
}
void dequantize_rows_u8_f32(const uint8_t* x, float* y, int64_t rows, int64_t c, const float* scale, const uint8_t* zero_point) {
  quantize_detail::dequantize_rows(x, y, rows, c, scale, zero_point);
}
void dequantize_rows_s8_f32(const int8_t* x, float* y, int64_t rows, int64_t c, const float* scale, const int8_t* zero_point) {
  quantize_detail::dequantize_rows(x, y, rows, c, scale, zero_point);
}
void dequantize_rows_s32_f32(const int32_t* x, float* y, int64_t rows, int64_t c, const float* scale, const int32_t* zero_point) {
  quantize_detail::dequantize_rows(x, y, rows, c, scale, zero_point);
}

}  // namespace kernels
}  // namespace netlite

#undef NETLITE_QUANTIZE_AVX2
