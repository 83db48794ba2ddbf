// Elementwise kernels on quantized 8-bit tensors (QDQ models):
//   qadd    - y = requant(float(a - za) * ma + float(b - zb) * mb), the integer
//             form of Q(DQ(a) + DQ(b)) with ma = sa / sy, mb = sb / sy;
//   qlookup - y = table[x], any unary function of one 8-bit value (the table is
//             the float op evaluated on all 256 inputs, so exact by construction);
//   qsum    - int32 sum of a plane (GlobalAveragePool).
// Inputs are handled in the u8 domain: s8 data has its sign bit flipped and its
// zero point + 128, which leaves every (x - zero point) unchanged. Outputs are
// the low bytes of the requantized values (the bounds keep them in range).
// Each has a scalar reference; the AVX-512 variants (x86/qelementwise_avx512.cc)
// are bit-identical to it.
#pragma once

#include <cstdint>

#include "qgemm.h"

namespace netlite {
namespace kernels {

struct QAddParams {
  uint8_t a_flip = 0, b_flip = 0;  // 0x80 for s8 inputs, else 0
  int32_t a_zero = 0, b_zero = 0;  // zero points in the u8 domain
  float a_scale = 1.0f, b_scale = 1.0f;  // sa / sy and sb / sy
  float lo = 0.0f, hi = 0.0f;      // clamp bounds minus the output zero point
  int32_t zero_point = 0;
};

// The value every qadd variant produces for one pair (raw input bytes).
inline uint8_t qadd_one(uint8_t a, uint8_t b, const QAddParams& p) {
  const float v0 = qno_contract(float(int32_t(uint8_t(a ^ p.a_flip)) - p.a_zero) * p.a_scale);
  const float w = qno_contract(float(int32_t(uint8_t(b ^ p.b_flip)) - p.b_zero) * p.b_scale);
  float v = v0 + w;
  v = v > p.lo ? v : p.lo;
  v = v < p.hi ? v : p.hi;
  return uint8_t(int32_t(qround(v)) + p.zero_point);
}

void qadd(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const QAddParams& p, QIsa isa = QIsa::Auto);
void qadd_reference(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const QAddParams& p);

void qlookup(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table, QIsa isa = QIsa::Auto);
void qlookup_reference(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table);

// Sum of n bytes, read as u8 (signed: false) or s8 (signed: true).
int64_t qsum(const uint8_t* x, int64_t n, bool is_signed);

namespace x86 {
bool qelementwise_avx512_usable();  // AVX-512 F/BW/VL/VBMI
void qadd_avx512(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const QAddParams& p);
void qlookup_avx512(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
