// 8-bit integer GEMM for quantized (QDQ) models: u8 activations x s8 weights,
// int32 accumulation, and a requantizing epilogue that writes 8-bit outputs.
//
//   C[m, n] = requant_m( acc_init[m] + sum_k A[m, k] * B[k, n] )
//   requant_m(acc) = zero_point + round_half_even(clamp(float(acc) * scale[m] + offset[m], lo[m], hi[m]))
//
// A (weights, s8, zero point already subtracted) is packed once at model load
// into strips of kQRows rows, four consecutive k per 32-bit group:
//   strip s: a[((s * Kp/4 + k/4) * kQRows + i) * 4 + k%4] = A[s*kQRows + i, k]
// (Kp = K rounded up to 4; rows >= M and k >= K are 0). That is the operand
// layout of VNNI's vpdpbusd (u8 x s8, four products summed into each int32
// lane): the wide kernel broadcasts one group of A per row against 16 columns
// of B; the row kernel loads one strip group (16 rows) as a vector.
//
// B (activations) is packed per call into a panel of 4-k groups per column:
//   panel[(k/4 * NP + n) * 4 + k%4] = B[k, n]      (NP = n rounded up to kQCols)
// Signed activations are mapped to u8 by flipping the sign bit (x + 128), so the
// caller passes the zero point + 128 in acc_init: acc_init[m] = -zx_u8 * rowsum[m].
//
// Kernels: AVX-512 VNNI (vpdpbusd), AVX2 (widening vpmaddwd, exact), and a
// portable one; all three are bit-identical to the scalar reference
// (qgemm_reference), which is the oracle of test/native/test_quant.cc. The
// epilogue uses a multiply then an add (never fused into an FMA, see
// qno_contract) and rounds half to even in every variant, so that holds for
// the float steps too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "conv.h"

namespace netlite {
namespace kernels {

constexpr int kQRows = 16;  // rows per packed weight strip
constexpr int kQCols = 32;  // columns per B micro-panel (panel widths are multiples of this)

// Instruction sets of the integer kernels, for tests and for forcing a variant.
enum class QIsa { Auto = 0, Generic = 1, Avx2 = 2, Avx512Vnni = 3 };

// True when this binary and CPU can run `isa` (Auto and Generic always).
bool qisa_available(QIsa isa);
// The variant Auto picks on this CPU ("avx512vnni", "avx2", "generic").
const char* qisa_name();

// Per-output-channel requantization (see the file comment). lo/hi are the
// clamp bounds minus the zero point (integers held as floats), so the result
// always lies in [lo + zero_point, hi + zero_point].
struct QRequant {
  const float* scale = nullptr;
  const float* offset = nullptr;
  const float* lo = nullptr;
  const float* hi = nullptr;
  int32_t zero_point = 0;
};

// Round half to even of a value already clamped to a small range (|v| < 2^22).
inline float qround(float v) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  return (v + magic) - magic;
}

// An optimisation barrier: the compiler must treat the value as unknown, so a
// multiply before it and an add after it are never contracted into an FMA
// (GCC contracts by default in C++ wherever FMA is enabled). Every variant
// rounds the product and the sum separately, which keeps them bit-identical.
inline float qno_contract(float v) {
#if defined(__GNUC__) && defined(__x86_64__)
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile float t = v;
  v = t;
#endif
  return v;
}

// The requantization of one accumulator, the reference form every kernel matches.
inline int32_t qrequant(int32_t acc, float scale, float offset, float lo, float hi, int32_t zero_point) {
  float v = qno_contract(float(acc) * scale);
  v = v + offset;
  v = v > lo ? v : lo;  // NaN -> lo
  v = v < hi ? v : hi;
  return int32_t(qround(v)) + zero_point;
}

// Weights packed for the kernels above, with their row sums.
struct QPackedWeights {
  int64_t M = 0, K = 0, Kp = 0;
  std::shared_ptr<void> owner;
  const int8_t* data = nullptr;   // ceil(M / kQRows) strips of Kp * kQRows bytes
  std::vector<int32_t> row_sums;  // sum_k A[m, k]
  size_t bytes() const { return size_t((M + kQRows - 1) / kQRows) * size_t(Kp) * kQRows; }
};

// Packs A, element (m, k) read at a[m * row_stride + k * col_stride].
QPackedWeights qpack_weights(const int8_t* a, int64_t M, int64_t K, int64_t row_stride, int64_t col_stride);

// Packs quantized weights minus their zero point straight from the model's
// 8-bit data, with no int8 copy in between (at load every fresh page costs a
// fault, and the classifier of a MobileNet has 1.28 M weights):
//   A[m, k] = raw[m * row_stride + k * col_stride] - zero[m]
// raw is int8, or uint8 when raw_unsigned; zero may be null (all 0). Returns
// false, leaving *out empty, when some A[m, k] does not fit int8. Row-major A
// (col_stride 1: Conv, Gemm with transB) and column-major A (row_stride 1:
// MatMul's [K, N] weights) take vectorizable paths; each output byte is written
// once (no zero fill first).
bool qpack_quantized_weights(const void* raw, bool raw_unsigned, const int32_t* zero, int64_t M, int64_t K,
                             int64_t row_stride, int64_t col_stride, QPackedWeights* out);

// Bytes of a B panel for K rows and n columns.
inline size_t qpanel_bytes(int64_t K, int64_t n) {
  const int64_t kp = (K + 3) / 4 * 4, np = (n + kQCols - 1) / kQCols * kQCols;
  return size_t(kp * np);
}

// Packs B[k, j] = b[k * ldb + j] (j < n, k < K) into a panel (8-bit data;
// flip_sign: s8 input, stored + 128). Lanes past K or n are 0.
void qpack_panel(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel);
// The portable form (SSE2 on x86, 16 columns at a time) that qpack_panel uses on
// CPUs without AVX-512 BW, and the byte-by-byte reference both forms must equal.
void qpack_panel_portable(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel);
void qpack_panel_reference(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel);

// im2col straight into a panel: for `channels` planes x (each g.in_size() bytes,
// 2-D geometry), B[(c * KH + kh) * KW + kw, j] = the input tap of output
// position o0 + j, or pad_u8 (the input zero point in the u8 domain) for a
// padded tap; flip_sign as above (applied to real taps only).
void qim2col_panel(const ConvShape& g, const uint8_t* x, int64_t channels, int64_t o0, int64_t on, bool flip_sign,
                   uint8_t pad_u8, uint8_t* panel);
// Its portable form (tap by tap, byte by byte), used where the AVX-512 form does not
// apply and as that form's reference in the tests.
void qim2col_panel_portable(const ConvShape& g, const uint8_t* x, int64_t channels, int64_t o0, int64_t on,
                            bool flip_sign, uint8_t pad_u8, uint8_t* panel);

// C rows [m0, m0 + mc) (m0 a multiple of 8), columns [0, n) from packed A and a
// panel of n columns: c[(m - m0) * ldc + j] as 8 bits (the low byte of the
// requantized value, which the bounds keep in the output type's range).
// acc_init and the QRequant arrays are indexed by absolute row m.
void qgemm_panel(const QPackedWeights& a, int64_t m0, int64_t mc, const uint8_t* panel, int64_t n,
                 const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc, QIsa isa = QIsa::Auto);

// Row form, for few columns (MatMul with a handful of rows): x holds n rows of
// Kp u8 values (k >= K zero), and for every p < n and m < M
//   c[p * ldc + m] = requant_m(acc_init[m] + sum_k A[m, k] * x[p * Kp + k]).
void qgemm_rows(const QPackedWeights& a, const uint8_t* x, int64_t n, const int32_t* acc_init, const QRequant& rq,
                uint8_t* c, int64_t ldc, QIsa isa = QIsa::Auto);
// The same for outputs m in [m0, m1) only (m0 a multiple of kQRows): threads
// can share a wide layer's weights (a classifier's [1280, 1000]: each core
// streams, and keeps in its own L2, its part).
void qgemm_rows_part(const QPackedWeights& a, int64_t m0, int64_t m1, const uint8_t* x, int64_t n,
                     const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc, QIsa isa = QIsa::Auto);

// The scalar oracle on unpacked operands: A row-major [M, K] (lda), B [K, N]
// u8 (ldb), C[m * ldc + n].
void qgemm_reference(int64_t M, int64_t N, int64_t K, const int8_t* a, int64_t lda, const uint8_t* b, int64_t ldb,
                     const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc);

namespace x86 {
// Defined in x86/qgemm_avx512.cc and x86/qgemm_avx2.cc; callers check qisa_available().
void qgemm_panel_avx512vnni(const QPackedWeights& a, int64_t m0, int64_t mc, const uint8_t* panel, int64_t n,
                            const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc);
void qgemm_rows_avx512vnni(const QPackedWeights& a, int64_t m0, int64_t m1, const uint8_t* x, int64_t n,
                           const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc);
void qgemm_panel_avx2(const QPackedWeights& a, int64_t m0, int64_t mc, const uint8_t* panel, int64_t n,
                      const int32_t* acc_init, const QRequant& rq, uint8_t* c, int64_t ldc);
// qim2col_panel in AVX-512 VBMI (x86/qgemm_avx512.cc) for 2-D kernels whose every group
// of 4 taps lies in at most 2 (channel, kernel row) input rows, at most 16 such rows,
// and 16 output columns' taps within 64 bytes of a row (3x3 stride 2 on 3 channels, a
// first layer); false, with nothing written, for other shapes or CPUs.
bool qim2col_panel_avx512(const ConvShape& g, const uint8_t* x, int64_t channels, int64_t o0, int64_t on,
                          bool flip_sign, uint8_t pad_u8, uint8_t* panel);
// qpack_panel in AVX-512 BW (x86/qgemm_avx512.cc); callers check the CPU.
void qpack_panel_avx512(const uint8_t* b, int64_t ldb, int64_t K, int64_t n, bool flip_sign, uint8_t* panel);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
