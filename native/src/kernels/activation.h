// Float32 activation and elementwise math kernels: plain loops over a
// contiguous range [x, x+n) -> [y, y+n); x and y must not overlap. Each is the scalar
// reference; transcendental functions use the C++ standard library so results
// match numpy/ONNX reference implementations to about one ulp. Branch-free
// forms are used where that keeps the loop vectorisable by the compiler.
#pragma once

#include <cstdint>

namespace netlite {
namespace kernels {

// Attribute values an activation needs (meaning per function, below).
struct ActivationParams {
  float alpha = 0.0f;
  float beta = 0.0f;
  float gamma = 0.0f;
};

using ActivationFn = void (*)(const float* x, float* y, int64_t n, const ActivationParams& p);

void relu_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void leaky_relu_f32(const float* x, float* y, int64_t n, const ActivationParams& p);     // alpha: slope
void elu_f32(const float* x, float* y, int64_t n, const ActivationParams& p);            // alpha
void selu_f32(const float* x, float* y, int64_t n, const ActivationParams& p);           // alpha, gamma
void sigmoid_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void hard_sigmoid_f32(const float* x, float* y, int64_t n, const ActivationParams& p);   // alpha, beta
void hard_swish_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void tanh_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void softplus_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void gelu_f32(const float* x, float* y, int64_t n, const ActivationParams& p);           // exact (erf)
void gelu_tanh_f32(const float* x, float* y, int64_t n, const ActivationParams& p);      // tanh approximation
void erf_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void clip_f32(const float* x, float* y, int64_t n, const ActivationParams& p);           // alpha: min, beta: max
void sqrt_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void exp_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void log_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void abs_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void neg_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void reciprocal_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void floor_f32(const float* x, float* y, int64_t n, const ActivationParams& p);
void ceil_f32(const float* x, float* y, int64_t n, const ActivationParams& p);

// Softmax (log_softmax: the log of it) of one contiguous row of n values,
// numerically stable: exp(x - max) / sum, with the sum accumulated in double.
void softmax_row_f32(const float* x, float* y, int64_t n, bool log_softmax);
// The same along an axis of n values `stride` apart, for `cols` adjacent columns
// starting at x (cols <= stride); the inner loops run over contiguous columns.
void softmax_strided_f32(const float* x, float* y, int64_t n, int64_t stride, int64_t cols, bool log_softmax);

}  // namespace kernels
}  // namespace netlite
