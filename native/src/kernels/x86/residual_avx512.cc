// AVX-512 residual epilogue (kernels/conv.h add_residual): y = clamp(y + r) over
// rows, 16 floats per step, the tail masked. ReLU data is about half negative,
// so the scalar form's compare-and-branch clamp mispredicted on every other
// value: 11% of ResNet-18 went there. Compiled with function-level target
// attributes and chosen at run time (conv_avx512_available()).
#include "../conv.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace netlite {
namespace kernels {
namespace x86 {

__attribute__((target("avx512f"))) void add_residual_avx512(float* y, int64_t ldy, const float* r, int64_t ldr,
                                                             int64_t rows, int64_t cols, bool clamp, float lo,
                                                             float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const __mmask16 tail = __mmask16((1u << (cols & 15)) - 1u);
  for (int64_t i = 0; i < rows; ++i) {
    float* yr = y + i * ldy;
    const float* rr = r + i * ldr;
    int64_t j = 0;
    // max(lo, v) and min(hi, v) return v when v is NaN (the second operand), as
    // the scalar form does; masked forms because gcc 12 warns about the
    // unmasked ones' undefined source.
    if (clamp) {
      for (; j + 16 <= cols; j += 16) {
        __m512 v = _mm512_add_ps(_mm512_loadu_ps(yr + j), _mm512_loadu_ps(rr + j));
        v = _mm512_mask_max_ps(v, 0xFFFF, vlo, v);
        _mm512_storeu_ps(yr + j, _mm512_mask_min_ps(v, 0xFFFF, vhi, v));
      }
      if (j < cols) {
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(tail, yr + j), _mm512_maskz_loadu_ps(tail, rr + j));
        v = _mm512_mask_max_ps(v, 0xFFFF, vlo, v);
        _mm512_mask_storeu_ps(yr + j, tail, _mm512_mask_min_ps(v, 0xFFFF, vhi, v));
      }
    } else {
      for (; j + 16 <= cols; j += 16)
        _mm512_storeu_ps(yr + j, _mm512_add_ps(_mm512_loadu_ps(yr + j), _mm512_loadu_ps(rr + j)));
      if (j < cols)
        _mm512_mask_storeu_ps(yr + j, tail,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(tail, yr + j), _mm512_maskz_loadu_ps(tail, rr + j)));
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#else

namespace netlite {
namespace kernels {
namespace x86 {
void add_residual_avx512(float* y, int64_t ldy, const float* r, int64_t ldr, int64_t rows, int64_t cols, bool clamp,
                         float lo, float hi) {
  add_residual_reference(y, ldy, r, ldr, rows, cols, clamp, lo, hi);
}
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
