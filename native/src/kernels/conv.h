// Convolution building blocks over plain NCHW-style float buffers (no graph types):
//   im2col  - lowers a window of output positions to a [C*prod(kernel)] x [positions]
//             matrix so a convolution becomes one GEMM (N-d; 2-D fast path);
//   col2im  - the adjoint scatter-add used by ConvTranspose (GEMM + col2im);
//   depthwise_conv2d_plane - a direct kernel for group == C == M convolutions;
//   apply_epilogue - bias + clamp (Relu/Clip) over rows of an output while hot.
// Each has a scalar form; x86/conv_*_avx2.cc holds SIMD variants tested against it.
#pragma once

#include <cstdint>

namespace netlite {
namespace kernels {

constexpr int kMaxConvDims = 8;

// Geometry of one convolution/pooling window over `nd` spatial dims (row-major).
struct ConvShape {
  int nd = 0;
  int64_t in[kMaxConvDims] = {};
  int64_t out[kMaxConvDims] = {};
  int64_t kernel[kMaxConvDims] = {};
  int64_t stride[kMaxConvDims] = {};
  int64_t dilation[kMaxConvDims] = {};
  int64_t pad[kMaxConvDims] = {};  // leading padding; trailing padding only shows in `out`

  int64_t in_size() const { int64_t n = 1; for (int i = 0; i < nd; ++i) n *= in[i]; return n; }
  int64_t out_size() const { int64_t n = 1; for (int i = 0; i < nd; ++i) n *= out[i]; return n; }
  int64_t kernel_size() const { int64_t n = 1; for (int i = 0; i < nd; ++i) n *= kernel[i]; return n; }
};

// y = clamp(y + bias[row], lo, hi) applied by the kernels that produce a conv output.
struct Epilogue {
  const float* bias = nullptr;  // one value per output channel (row), or null
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
};

// Applies the epilogue to rows [0, rows) of y (row r has `cols` values at y + r*ldy),
// row r using bias[bias_row0 + r].
void apply_epilogue(const Epilogue& e, int64_t bias_row0, int64_t rows, int64_t cols, float* y, int64_t ldy);

// Residual epilogue (Conv fused with a following Add [+ Relu/Clip]): y = clamp(y + r)
// over rows [0, rows) of `cols` values (y + i*ldy, r + i*ldr), run on an output
// block just written, while it is still in cache. y and r may not overlap.
void add_residual(float* y, int64_t ldy, const float* r, int64_t ldr, int64_t rows, int64_t cols, bool clamp,
                  float lo, float hi);
void add_residual_reference(float* y, int64_t ldy, const float* r, int64_t ldr, int64_t rows, int64_t cols,
                            bool clamp, float lo, float hi);

// Lowers `channels` input planes x (each of g.in_size() values) for the output
// positions [o0, o0 + on) (flattened row-major over g.out) into
//   col[(c*K + k) * ldcol + (o - o0)]   with K = g.kernel_size(),
// where k enumerates kernel offsets row-major. Padded taps are 0.
void im2col(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col, int64_t ldcol);
void im2col_reference(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
                      int64_t ldcol);
// im2col without the SIMD variants (what a CPU without AVX-512 runs), for the tests.
void im2col_scalar(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
                   int64_t ldcol);

// Adjoint of im2col over all positions: for each of `channels` planes y (each of
// g.in_size() values, the *larger* image for ConvTranspose), adds
//   col[(c*K + k) * g.out_size() + o] into y at the input position tap k of output o reads.
// (For ConvTranspose pass the geometry of the forward conv whose gradient it is:
// in = ConvTranspose output, out = ConvTranspose input.)
void col2im_add(const ConvShape& g, const float* col, int64_t channels, float* y);

// Direct depthwise 2-D convolution of one plane: y[oh][ow] = sum w[kh][kw] * x[ih][iw]
// (nd must be 2), followed by the epilogue with bias value `bias` (0 if none) and clamp.
void depthwise_conv2d_plane(const ConvShape& g, const float* x, const float* w, float bias, const Epilogue& e,
                            float* y);
void depthwise_conv2d_plane_reference(const ConvShape& g, const float* x, const float* w, float bias,
                                      const Epilogue& e, float* y);

// Same result through a zero-padded copy of the plane in `scratch` (at least
// depthwise_scratch_floats(g) floats), so the inner loops have no bounds checks and
// vectorise across output columns (AVX2 when available).
int64_t depthwise_scratch_floats(const ConvShape& g);
void depthwise_conv2d_plane_padded(const ConvShape& g, const float* x, const float* w, float bias, const Epilogue& e,
                                   float* y, float* scratch);

// Same as depthwise_conv2d_plane_padded without the SIMD variants: the oracle of the tests.
void depthwise_conv2d_plane_padded_scalar(const ConvShape& g, const float* x, const float* w, float bias,
                                          const Epilogue& e, float* y, float* scratch);

// True when this CPU runs the AVX2 / AVX-512 variants (exposed for tests).
bool conv_avx2_available();
bool conv_avx512_available();

namespace x86 {
// AVX2+FMA row kernels used by depthwise_conv2d_plane (defined in x86/conv_depthwise_avx2.cc;
// callers check conv_avx2_available() first).
// acc[j] += w * x[j*stride] for j < n.
void dw_row_axpy_avx2(float* acc, const float* x, int64_t stride, float w, int64_t n);
// A whole depthwise plane over the zero-padded plane p (row pitch `pitch`):
//   y[i][j] = clamp(bias + sum_{kh,kw} w[kh*KW+kw] * p[(i*SH + kh*DH)*pitch + j*SW + kw*DW]).
// Reads up to 8*SW + 8 floats past the last tap of a row (the padded plane has room).
void dw_padded_plane_avx2(const float* p, int64_t pitch, const float* w, int64_t KH, int64_t KW, int64_t SH,
                          int64_t SW, int64_t DH, int64_t DW, float bias, bool clamp, float lo, float hi, float* y,
                          int64_t OH, int64_t OW);
// AVX-512 depthwise 3x3, stride 1 or 2 (both dims), no dilation, leading pads
// PH/PW, straight from the IH x IW plane x (zero padding by masked loads; no
// scratch) into y (OH x OW), with bias and clamp. Defined in
// x86/conv_depthwise_avx512.cc; callers check conv_avx512_available().
void dw3x3_plane_avx512(const float* x, int64_t IH, int64_t IW, int64_t PH, int64_t PW, int64_t stride,
                        const float* w, float bias, bool clamp, float lo, float hi, float* y, int64_t OH, int64_t OW);
// add_residual with AVX-512 (x86/residual_avx512.cc; callers check conv_avx512_available()).
void add_residual_avx512(float* y, int64_t ldy, const float* r, int64_t ldr, int64_t rows, int64_t cols, bool clamp,
                         float lo, float hi);
// dst[i] = src[2i] for i < n, reading nothing past src[2(n-1)] (x86/im2col_avx512.cc;
// callers check conv_avx512_available()).
void gather_stride2_avx512(float* dst, const float* src, int64_t n);
// im2col for a 2-D shape whose column stride is 1 or 2 (x86/im2col_avx512.cc;
// callers check conv_avx512_available()).
void im2col_2d_avx512(const ConvShape& g, const float* x, int64_t channels, int64_t o0, int64_t on, float* col,
                      int64_t ldcol);
}  // namespace x86

}  // namespace kernels
}  // namespace netlite
