// AVX-512 stride-2 row gather for im2col (kernels/conv.cc): dst[i] = src[2i],
// 16 outputs per two loads and one permute; the tail by masked loads so that
// nothing past src[2(n-1)] is read. Compiled with function-level target
// attributes and chosen at run time (conv_avx512_available()).
#include "../conv.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {
namespace x86 {

__attribute__((target("avx512f"))) void gather_stride2_avx512(float* dst, const float* src, int64_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  int64_t i = 0;
  // A full block reads src[2i .. 2i+31]; src[2i+31] is needed by the next block, so it exists when i+16 < n.
  for (; i + 16 < n; i += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * i), b = _mm512_loadu_ps(src + 2 * i + 16);
    _mm512_storeu_ps(dst + i, _mm512_permutex2var_ps(a, even, b));
  }
  if (i < n) {
    const int64_t need = 2 * (n - i) - 1;  // src[2i .. 2i + need - 1]
    const __mmask16 m0 = __mmask16(need >= 16 ? 0xFFFFu : (1u << need) - 1u);
    const __mmask16 m1 = __mmask16(need <= 16 ? 0u : (1u << (need - 16)) - 1u);
    const __m512 a = _mm512_maskz_loadu_ps(m0, src + 2 * i), b = _mm512_maskz_loadu_ps(m1, src + 2 * i + 16);
    _mm512_mask_storeu_ps(dst + i, __mmask16((1u << (n - i)) - 1u), _mm512_permutex2var_ps(a, even, b));
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
namespace x86 {
void gather_stride2_avx512(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[2 * i];
}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
