// Linear (de)quantization kernels (ONNX QuantizeLinear / DequantizeLinear):
//   quantize:   q = saturate(round_half_to_even(x / scale) + zero_point)
//   dequantize: x = (q - zero_point) * scale
// Plain loops over contiguous, non-overlapping ranges; the "rows" variants apply per-channel
// parameters to the last dimension (row length c, parameter j for column j).
// Quantization divides (not multiplies by 1/scale) so results match the ONNX
// reference bit for bit; NaN quantizes to the lowest representable value.
// The per-tensor runs use AVX2 when the CPU has it (chosen at run time); the
// *_reference functions are the scalar oracle they are tested against.
#pragma once

#include <cstdint>

namespace netlite {
namespace kernels {

void quantize_f32_u8_reference(const float* x, uint8_t* y, int64_t n, float scale, int32_t zero_point);
void quantize_f32_s8_reference(const float* x, int8_t* y, int64_t n, float scale, int32_t zero_point);
void dequantize_u8_f32_reference(const uint8_t* x, float* y, int64_t n, float scale, int32_t zero_point);
void dequantize_s8_f32_reference(const int8_t* x, float* y, int64_t n, float scale, int32_t zero_point);

void quantize_f32_u8(const float* x, uint8_t* y, int64_t n, float scale, int32_t zero_point);
void quantize_f32_s8(const float* x, int8_t* y, int64_t n, float scale, int32_t zero_point);
void quantize_rows_f32_u8(const float* x, uint8_t* y, int64_t rows, int64_t c, const float* scale, const uint8_t* zero_point);
void quantize_rows_f32_s8(const float* x, int8_t* y, int64_t rows, int64_t c, const float* scale, const int8_t* zero_point);

void dequantize_u8_f32(const uint8_t* x, float* y, int64_t n, float scale, int32_t zero_point);
void dequantize_s8_f32(const int8_t* x, float* y, int64_t n, float scale, int32_t zero_point);
void dequantize_s32_f32(const int32_t* x, float* y, int64_t n, float scale, int32_t zero_point);
void dequantize_rows_u8_f32(const uint8_t* x, float* y, int64_t rows, int64_t c, const float* scale, const uint8_t* zero_point);
void dequantize_rows_s8_f32(const int8_t* x, float* y, int64_t rows, int64_t c, const float* scale, const int8_t* zero_point);
void dequantize_rows_s32_f32(const int32_t* x, float* y, int64_t rows, int64_t c, const float* scale, const int32_t* zero_point);

}  // namespace kernels
}  // namespace netlite
