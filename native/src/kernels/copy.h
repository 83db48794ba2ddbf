// Byte-moving kernels of the data-movement ops (Transpose, Slice, Concat, Split,
// Expand, Tile, Pad, DepthToSpace...). They are typed by element size only
// (1, 2, 4 or 8 bytes), so one implementation serves every dtype. Pure loops over
// pointers: no graph, no allocation, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netlite {
class ThreadPool;
namespace kernels {

// Largest rank the strided kernels take (after the caller's own dims; the
// kernels coalesce dims internally, so this bounds only the caller's view).
constexpr int kMaxCopyRank = 16;

// For every index i of `shape` (rank dims):
//   dst[sum_d i_d * dst_strides[d]] = src[sum_d i_d * src_strides[d]]
// Strides are in elements and may be negative (reversed slices) or 0 in src
// (broadcast). Destination elements must not overlap each other. Dims are
// coalesced first; rows with unit strides are memcpy'd and 2-D transposes are
// tiled. Splits the work over `pool` (may be null: then single-threaded).
void strided_copy(size_t elem_size, int rank, const int64_t* shape, const void* src, const int64_t* src_strides,
                  void* dst, const int64_t* dst_strides, ThreadPool* pool);

// dst (contiguous, shape in_shape permuted by perm) = transpose of contiguous src:
// dst dim d is src dim perm[d].
void transpose(size_t elem_size, int rank, const int64_t* in_shape, const int64_t* perm, const void* src, void* dst,
               ThreadPool* pool);

// Channel de-interleave, the NHWC -> NCHW transpose of an image with few channels
// (transpose and strided_copy take it for 2-4 channels of 1- or 4-byte elements):
//   dst[c * plane + i] = src[i * C + c]      (c < C, i < n)
// AVX-512 VBMI where the CPU has it (kernels/x86/copy_avx512.cc), else the
// portable loop, which is also the reference.
void deinterleave(size_t elem_size, int64_t C, int64_t n, const void* src, void* dst, int64_t plane);
void deinterleave_reference(size_t elem_size, int64_t C, int64_t n, const void* src, void* dst, int64_t plane);

namespace x86 {
bool deinterleave_avx512_usable();
// False (nothing written) for element sizes other than 1 and 4 or C outside [2, 4].
bool deinterleave_avx512(size_t elem_size, int64_t C, int64_t n, const void* src, void* dst, int64_t plane);
}  // namespace x86

// Sets n elements of elem_size bytes at dst to the element at `value`.
void fill_elements(size_t elem_size, void* dst, int64_t n, const void* value, ThreadPool* pool);

}  // namespace kernels
}  // namespace netlite
