// Pooling over one plane (one (n, c) slice of an N-d tensor) for MaxPool and
// AveragePool, and whole-plane reductions for the Global* ops. Window geometry
// is a ConvShape (kernels/conv.h); padded positions never contribute to a max
// and contribute zeros to an average only when count_include_pad is set.
#pragma once

#include <cstdint>

#include "conv.h"

namespace netlite {
namespace kernels {

// y[o] = max over the window's in-bounds taps (lowest() when it has none).
// When idx is non-null it receives, per output, the flat index of the chosen
// input element: idx_base + its position in the plane, row-major, or
// column-major over the spatial dims when col_major (MaxPool storage_order=1).
// Ties keep the first tap in row-major window order.
void max_pool_plane(const ConvShape& g, const float* x, float* y, int64_t* idx, int64_t idx_base, bool col_major);
// The scalar form of the float one (no SIMD fast path): the oracle of the tests.
void max_pool_plane_reference(const ConvShape& g, const float* x, float* y, int64_t* idx, int64_t idx_base,
                              bool col_major);
void max_pool_plane(const ConvShape& g, const int8_t* x, int8_t* y, int64_t* idx, int64_t idx_base, bool col_major);
void max_pool_plane(const ConvShape& g, const uint8_t* x, uint8_t* y, int64_t* idx, int64_t idx_base,
                    bool col_major);

// y[o] = sum of the window's in-bounds taps / divisor, where the divisor counts the
// in-bounds taps, or (count_include_pad) the taps inside [-pad, in + pad_end).
// A window with a zero divisor yields 0.
void avg_pool_plane(const ConvShape& g, const int64_t* pad_end, bool count_include_pad, const float* x, float* y);

// Mean / max over each of `planes` contiguous planes of `size` values.
void global_avg_pool(const float* x, int64_t planes, int64_t size, float* y);
void global_max_pool(const float* x, int64_t planes, int64_t size, float* y);

// True when this CPU runs the AVX-512 pooling rows (exposed for tests).
bool pool_avx512_available();

namespace x86 {
// Float max pooling, 2-D, stride[1] 1 or 2: outputs y[oh][lo..hi) of every row,
// columns whose windows lie inside the plane horizontally (the caller does the
// others). Defined in x86/pool_avx512.cc; callers check pool_avx512_available() first.
void max_pool_plane_avx512(const ConvShape& g, const float* x, float* y, int64_t lo, int64_t hi);
// Float max pooling, 2-D, columns 3 wide at stride 2 undilated (any rows, any padding):
// every output, edges included. False (nothing written) for other column geometries and
// rows of more than 1024 outputs. Callers check pool_avx512_available() first.
bool max_pool_plane_k3s2_avx512(const ConvShape& g, const float* x, float* y);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
