// NEON SGEMM micro-kernel (8 x 8) for ARM. Compiled out elsewhere.
// Packing and the matrix-vector forms reuse the portable code paths.
#include "../gemm_internal.h"

#if defined(__ARM_NEON) || defined(__aarch64__)

#include <arm_neon.h>

#include <cstdint>

namespace netlite {
namespace kernels {
namespace gemm_neon_detail {

constexpr int kMR = 8;
constexpr int kNR = 8;

bool usable() { return true; }  // NEON is baseline on AArch64 and on any build that defines __ARM_NEON

inline float32x4_t fma_lane(float32x4_t acc, float32x4_t b, float32x4_t a, int lane) {
  // Lane index must be a constant for vfmaq_laneq_f32; the callers below
  // pass literals through this switch, which the compiler folds away.
  switch (lane) {
#if defined(__aarch64__)
    case 0: return vfmaq_laneq_f32(acc, b, a, 0);
    case 1: return vfmaq_laneq_f32(acc, b, a, 1);
    case 2: return vfmaq_laneq_f32(acc, b, a, 2);
    default: return vfmaq_laneq_f32(acc, b, a, 3);
#else
    case 0: return vmlaq_n_f32(acc, b, vgetq_lane_f32(a, 0));
    case 1: return vmlaq_n_f32(acc, b, vgetq_lane_f32(a, 1));
    case 2: return vmlaq_n_f32(acc, b, vgetq_lane_f32(a, 2));
    default: return vmlaq_n_f32(acc, b, vgetq_lane_f32(a, 3));
#endif
  }
}

void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, float alpha,
            float beta) {
  float32x4_t acc[kMR][2];
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = vdupq_n_f32(0.0f);
  for (int64_t k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    acc[0][0] = fma_lane(acc[0][0], b0, a0, 0);
    acc[0][1] = fma_lane(acc[0][1], b1, a0, 0);
    acc[1][0] = fma_lane(acc[1][0], b0, a0, 1);
    acc[1][1] = fma_lane(acc[1][1], b1, a0, 1);
    acc[2][0] = fma_lane(acc[2][0], b0, a0, 2);
    acc[2][1] = fma_lane(acc[2][1], b1, a0, 2);
    acc[3][0] = fma_lane(acc[3][0], b0, a0, 3);
    acc[3][1] = fma_lane(acc[3][1], b1, a0, 3);
    acc[4][0] = fma_lane(acc[4][0], b0, a1, 0);
    acc[4][1] = fma_lane(acc[4][1], b1, a1, 0);
    acc[5][0] = fma_lane(acc[5][0], b0, a1, 1);
    acc[5][1] = fma_lane(acc[5][1], b1, a1, 1);
    acc[6][0] = fma_lane(acc[6][0], b0, a1, 2);
    acc[6][1] = fma_lane(acc[6][1], b1, a1, 2);
    acc[7][0] = fma_lane(acc[7][0], b0, a1, 3);
    acc[7][1] = fma_lane(acc[7][1], b1, a1, 3);
    a += kMR;
    b += kNR;
  }
  const float32x4_t va = vdupq_n_f32(alpha), vb = vdupq_n_f32(beta);
  if (m == kMR && n == kNR) {
    for (int i = 0; i < kMR; ++i) {
      float* cr = c + i * ldc;
      float32x4_t o0 = vmulq_f32(va, acc[i][0]), o1 = vmulq_f32(va, acc[i][1]);
      if (beta != 0.0f) {
        o0 = vmlaq_f32(o0, vb, vld1q_f32(cr));
        o1 = vmlaq_f32(o1, vb, vld1q_f32(cr + 4));
      }
      vst1q_f32(cr, o0);
      vst1q_f32(cr + 4, o1);
    }
    return;
  }
  float tile[kMR][kNR];
  for (int i = 0; i < kMR; ++i) {
    vst1q_f32(tile[i], acc[i][0]);
    vst1q_f32(tile[i] + 4, acc[i][1]);
  }
  for (int i = 0; i < m; ++i) {
    float* cr = c + i * ldc;
    for (int j = 0; j < n; ++j) cr[j] = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * cr[j];
  }
}

void pack_a(float* dst, const float* src, int64_t ls, int64_t ks, int w, int64_t kc) {
  gemm_pack_strip_generic<kMR>(dst, src, ls, ks, w, kc);
}
void pack_b(float* dst, const float* src, int64_t ls, int64_t ks, int w, int64_t kc) {
  gemm_pack_strip_generic<kNR>(dst, src, ls, ks, w, kc);
}

}  // namespace gemm_neon_detail

const GemmMicroKernel* gemm_neon_microkernel() {
  // Matrix-vector forms come from the portable kernel.
  static const GemmMicroKernel k = [] {
    GemmMicroKernel d = *gemm_generic_microkernel();
    d.name = "neon";
    d.mr = gemm_neon_detail::kMR;
    d.nr = gemm_neon_detail::kNR;
    d.mc = 512;
    d.kc = 256;
    d.nc = 1024;
    d.usable = gemm_neon_detail::usable;
    d.pack_a = gemm_neon_detail::pack_a;
    d.pack_b = gemm_neon_detail::pack_b;
    d.kernel = gemm_neon_detail::kernel;
    return d;
  }();
  return &k;
}

}  // namespace kernels
}  // namespace netlite

#else  // not ARM

namespace netlite {
namespace kernels {
const GemmMicroKernel* gemm_neon_microkernel() { return nullptr; }
}  // namespace kernels
}  // namespace netlite

#endif
