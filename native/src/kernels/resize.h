// Resize / Upsample kernels: N-d separable interpolation (nearest, linear,
// cubic, optionally antialiased) per the ONNX Resize specification (opset 10-19)
// and its reference implementation (onnx/reference/ops/op_resize.py). For each
// axis a table of taps (clamped input index + weight per output index) is built
// in the caller's scratch; an output element is the tensor product of its axes'
// taps. Pure loops: no graph, no allocation, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netlite {
class ThreadPool;
namespace kernels {

constexpr int kMaxResizeRank = 8;
// Largest product of the taps of all axes but the last (bounds the per-row stack buffer).
constexpr int kMaxResizeCombos = 256;
// Largest number of taps along one axis (antialiased downscaling widens the window).
constexpr int kMaxResizeTaps = 512;

enum class ResizeMode { Nearest, Linear, Cubic };
enum class ResizeCoord {
  HalfPixel, HalfPixelSymmetric, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNN, TfCropAndResize
};
// Simple: truncate when upscaling, ceil when downscaling (Upsample and Resize-10, as onnxruntime does).
enum class ResizeNearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Simple };

struct ResizeParams {
  ResizeMode mode = ResizeMode::Nearest;
  ResizeCoord coord = ResizeCoord::HalfPixel;
  ResizeNearest nearest = ResizeNearest::RoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  bool antialias = false;
  float extrapolation = 0.0f;  // tf_crop_and_resize: value of samples outside the input
};

// One axis: input and output lengths, the scale used by the coordinate transform
// (given scale, or out/in when sizes were given), and the ROI (tf_crop_and_resize).
struct ResizeAxis {
  int64_t in = 1, out = 1;
  double scale = 1.0;
  double roi_start = 0.0, roi_end = 1.0;
};

// Input coordinate of output index o along an axis.
double resize_coordinate(const ResizeParams& p, const ResizeAxis& a, int64_t o);

// Taps per output index along an axis: 1 when the axis maps every output index to the
// same input index (identity), else 1 (nearest), 2 (linear), 4 (cubic) or wider (antialias).
int resize_taps(const ResizeParams& p, const ResizeAxis& a);

// Scratch bytes for the tables of `rank` axes.
size_t resize_scratch_bytes(const ResizeParams& p, const ResizeAxis* axes, int rank);

// y (contiguous, dims axes[d].out) = resize of x (contiguous, dims axes[d].in), float32.
void resize_float(const ResizeParams& p, const ResizeAxis* axes, int rank, const float* x, float* y, void* scratch,
                  ThreadPool* pool);

// Nearest-neighbour resize of any element type of 1/2/4/8 bytes; `extrapolation`
// points to one element used outside the ROI (tf_crop_and_resize).
void resize_nearest_bytes(const ResizeParams& p, const ResizeAxis* axes, int rank, size_t elem_size, const void* x,
                          void* y, const void* extrapolation, void* scratch, ThreadPool* pool);

}  // namespace kernels
}  // namespace netlite
