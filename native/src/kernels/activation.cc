#include "activation.h"

#include <cmath>

namespace netlite {
namespace kernels {
namespace activation_detail {

// y[i] = f(x[i]). The main loop covers a multiple of 16 elements through
// restrict pointers so that GCC's -O2 vectoriser (cost model "very cheap":
// no runtime alias checks, no epilogue) turns simple bodies into SIMD code;
// the tail runs scalar. Calls into libm stay scalar either way.
template <typename F>
inline void map(const float* __restrict x, float* __restrict y, int64_t n, F f) {
  const int64_t nv = n & ~int64_t(15);
  for (int64_t i = 0; i < nv; ++i) y[i] = f(x[i]);
  for (int64_t i = nv; i < n; ++i) y[i] = f(x[i]);
}

}  // namespace activation_detail

using activation_detail::map;

// NaN-propagating max(x, 0): a NaN input stays NaN, as in numpy.
void relu_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return v < 0.0f ? 0.0f : v; });
}

void leaky_relu_f32(const float* x, float* y, int64_t n, const ActivationParams& p) {
  const float a = p.alpha;
  map(x, y, n, [a](float v) { return v < 0.0f ? v * a : v; });
}

void elu_f32(const float* x, float* y, int64_t n, const ActivationParams& p) {
  const float a = p.alpha;
  map(x, y, n, [a](float v) { return v < 0.0f ? a * std::expm1(v) : v; });
}

void selu_f32(const float* x, float* y, int64_t n, const ActivationParams& p) {
  const float a = p.alpha, g = p.gamma;
  map(x, y, n, [a, g](float v) { return v <= 0.0f ? g * (a * std::exp(v) - a) : g * v; });
}

// Stable logistic: never evaluates exp of a large positive number.
void sigmoid_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + std::exp(-v));
    const float e = std::exp(v);
    return e / (1.0f + e);
  });
}

// max(0, min(1, alpha * x + beta))
void hard_sigmoid_f32(const float* x, float* y, int64_t n, const ActivationParams& p) {
  const float a = p.alpha, b = p.beta;
  map(x, y, n, [a, b](float v) {
    float t = a * v + b;
    t = t > 1.0f ? 1.0f : t;
    return t < 0.0f ? 0.0f : t;
  });
}

// x * max(0, min(1, x / 6 + 0.5)) (ONNX HardSwish: alpha = 1/6, beta = 0.5).
void hard_swish_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  const float a = 1.0f / 6.0f;
  map(x, y, n, [a](float v) {
    float t = a * v + 0.5f;
    t = t > 1.0f ? 1.0f : t;
    t = t < 0.0f ? 0.0f : t;
    return v * t;
  });
}

void tanh_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::tanh(v); });
}

// log(1 + exp(x)) computed without overflow: x + log1p(exp(-x)) for x > 0.
void softplus_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return v > 0.0f ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); });
}

// 0.5 x (1 + erf(x / sqrt(2)))
void gelu_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  const float inv_sqrt2 = 0.70710678118654752440f;
  map(x, y, n, [inv_sqrt2](float v) { return 0.5f * v * (1.0f + std::erf(v * inv_sqrt2)); });
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
void gelu_tanh_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  const float k = 0.79788456080286535588f;
  map(x, y, n, [k](float v) { return 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v))); });
}

void erf_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::erf(v); });
}

// min(max(x, lo), hi): NaN stays NaN, and lo > hi gives hi everywhere (ONNX Clip).
void clip_f32(const float* x, float* y, int64_t n, const ActivationParams& p) {
  const float lo = p.alpha, hi = p.beta;
  map(x, y, n, [lo, hi](float v) {
    const float t = v < lo ? lo : v;
    return hi < t ? hi : t;
  });
}

void sqrt_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::sqrt(v); });
}

void exp_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::exp(v); });
}

void log_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::log(v); });
}

void abs_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::fabs(v); });
}

void neg_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return -v; });
}

void reciprocal_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return 1.0f / v; });
}

void floor_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::floor(v); });
}

void ceil_f32(const float* x, float* y, int64_t n, const ActivationParams&) {
  map(x, y, n, [](float v) { return std::ceil(v); });
}

void softmax_row_f32(const float* x, float* y, int64_t n, bool log_softmax) {
  if (n <= 0) return;
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  double sum = 0.0;
  if (log_softmax) {
    for (int64_t i = 0; i < n; ++i) sum += double(std::exp(x[i] - m));
    const float ls = float(std::log(sum));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float e = std::exp(x[i] - m);
      y[i] = e;
      sum += double(e);
    }
    const float s = float(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] / s;
  }
}

void softmax_strided_f32(const float* x, float* y, int64_t n, int64_t stride, int64_t cols, bool log_softmax) {
  constexpr int64_t kBlock = 64;
  float m[kBlock];
  double sum[kBlock];
  for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
    const int64_t w = cols - c0 < kBlock ? cols - c0 : kBlock;
    const float* xb = x + c0;
    float* yb = y + c0;
    for (int64_t j = 0; j < w; ++j) { m[j] = xb[j]; sum[j] = 0.0; }
    for (int64_t k = 1; k < n; ++k) {
      const float* r = xb + k * stride;
      for (int64_t j = 0; j < w; ++j) m[j] = r[j] > m[j] ? r[j] : m[j];
    }
    for (int64_t k = 0; k < n; ++k) {
      const float* r = xb + k * stride;
      float* o = yb + k * stride;
      for (int64_t j = 0; j < w; ++j) {
        const float e = std::exp(r[j] - m[j]);
        if (!log_softmax) o[j] = e;
        sum[j] += double(e);
      }
    }
    if (log_softmax) {
      float ls[kBlock];
      for (int64_t j = 0; j < w; ++j) ls[j] = float(std::log(sum[j]));
      for (int64_t k = 0; k < n; ++k) {
        const float* r = xb + k * stride;
        float* o = yb + k * stride;
        for (int64_t j = 0; j < w; ++j) o[j] = (r[j] - m[j]) - ls[j];
      }
    } else {
      float s[kBlock];
      for (int64_t j = 0; j < w; ++j) s[j] = float(sum[j]);
      for (int64_t k = 0; k < n; ++k) {
        float* o = yb + k * stride;
        for (int64_t j = 0; j < w; ++j) o[j] = o[j] / s[j];
      }
    }
  }
}

}  // namespace kernels
}  // namespace netlite
