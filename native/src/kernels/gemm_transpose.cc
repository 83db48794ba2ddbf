// gemm_transpose_epilogue: the store back of a transposed GEMM (see gemm.h).
// Blocks of kBlock x kBlock values go through a tile on the stack, so the
// strided side of the transpose stays in L1: the reads of a block are kBlock
// short rows of src, its writes kBlock short rows of dst.
#include <algorithm>

#include "gemm.h"
#include "gemm_internal.h"

namespace netlite {
namespace kernels {
namespace gemm_transpose_detail {

constexpr int64_t kBlock = 16;

inline float finish(float v, bool clamp, float lo, float hi) {
  if (!clamp) return v;
  // Two selects, as gemm_tile_epilogue (lo > hi gives hi, as ONNX Clip).
  const float t = v < lo ? lo : v;
  return hi < t ? hi : t;
}

// MobileNet-V2 at one thread spent 3.7% of its time in the portable form (perf),
// about 0.17 ms: the store back of every channels-last block and of the 7x7 1x1 conv.
inline bool transpose_avx512_available() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
#else
  return false;
#endif
}

}  // namespace gemm_transpose_detail

namespace testing {

void gemm_transpose_epilogue_portable(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                      int64_t ldd, const float* bias, const float* res, bool clamp, float lo,
                                      float hi) {
  using namespace gemm_transpose_detail;
  float tile[kBlock][kBlock];  // tile[j][i]
  for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
    const int64_t nj = std::min(kBlock, cols - j0);
    float b[kBlock];
    for (int64_t j = 0; j < nj; ++j) b[j] = bias ? bias[j0 + j] : 0.0f;
    for (int64_t i0 = 0; i0 < rows; i0 += kBlock) {
      const int64_t ni = std::min(kBlock, rows - i0);
      for (int64_t i = 0; i < ni; ++i) {
        const float* s = src + (i0 + i) * lds + j0;
        for (int64_t j = 0; j < nj; ++j) tile[j][i] = s[j] + b[j];
      }
      for (int64_t j = 0; j < nj; ++j) {
        float* d = dst + (j0 + j) * ldd + i0;
        const float* t = tile[j];
        if (res) {
          const float* r = res + (j0 + j) * ldd + i0;
          for (int64_t i = 0; i < ni; ++i) d[i] = finish(t[i] + r[i], clamp, lo, hi);
        } else {
          for (int64_t i = 0; i < ni; ++i) d[i] = finish(t[i], clamp, lo, hi);
        }
      }
    }
  }
}

}  // namespace testing

void gemm_transpose_epilogue(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd,
                             const float* bias, const float* res, bool clamp, float lo, float hi) {
  if (gemm_transpose_detail::transpose_avx512_available()) {
    x86::gemm_transpose_epilogue_avx512(src, lds, rows, cols, dst, ldd, bias, res, clamp, lo, hi);
    return;
  }
  testing::gemm_transpose_epilogue_portable(src, lds, rows, cols, dst, ldd, bias, res, clamp, lo, hi);
}

void gemm_transpose_epilogue_reference(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                       int64_t ldd, const float* bias, const float* res, bool clamp, float lo,
                                       float hi) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float v = src[i * lds + j];
      if (bias) v += bias[j];
      if (res) v += res[j * ldd + i];
      if (clamp) {
        v = v < lo ? lo : v;
        v = hi < v ? hi : v;
      }
      dst[j * ldd + i] = v;
    }
}

}  // namespace kernels
}  // namespace netlite
