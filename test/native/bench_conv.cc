// Micro-benchmarks of the float conv/pool kernels in GFLOP/s (thread CPU time,
// best of several runs) on the shapes of the golden models:
//   c++ -std=c++17 -O2 -Inative/src -Inative/include test/native/bench_conv.cc
//       $(find build-native/CMakeFiles/netlite_modular.dir -name '*.o') -lpthread -o /tmp/bench_conv
//   /tmp/bench_conv
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/winograd.h"

namespace {

namespace nk = netlite::kernels;

double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <class F>
double best_time(F&& f) {
  double best = 1e9;
  for (int rep = 0; rep < 15; ++rep) {
    const double t0 = cpu_now();
    for (int k = 0; k < 10; ++k) f();
    best = std::min(best, (cpu_now() - t0) / 10);
  }
  return best;
}

void bench_depthwise(int64_t C, int64_t H, int64_t s, bool scalar) {
  nk::ConvShape g;
  g.nd = 2;
  for (int d = 0; d < 2; ++d) {
    g.in[d] = H;
    g.kernel[d] = 3;
    g.stride[d] = s;
    g.dilation[d] = 1;
    g.pad[d] = 1;
    g.out[d] = (H + 2 - 3) / s + 1;
  }
  std::vector<float> x(size_t(C * g.in_size()), 0.5f), y(size_t(C * g.out_size())), w(size_t(C * 9), 0.1f);
  std::vector<float> scratch(size_t(nk::depthwise_scratch_floats(g)));
  nk::Epilogue e;
  e.clamp = true;
  e.lo = 0;
  e.hi = 6;
  const double t = best_time([&] {
    for (int64_t c = 0; c < C; ++c)
      (scalar ? nk::depthwise_conv2d_plane_padded_scalar : nk::depthwise_conv2d_plane_padded)(
          g, x.data() + c * g.in_size(), w.data() + c * 9, 0.1f, e, y.data() + c * g.out_size(), scratch.data());
  });
  std::printf("depthwise 3x3 s%lld C%lld %lldx%lld %-6s %8.3f ms %7.1f GFLOP/s\n", (long long)s, (long long)C,
              (long long)H, (long long)H, scalar ? "scalar" : "fast", t * 1e3,
              2.0 * 9 * double(C * g.out_size()) / t * 1e-9);
}

// Winograd F(2x2,3x3) on one image, split into its three stages.
void bench_winograd(int64_t C, int64_t M, int64_t H) {
  if (!nk::winograd_available()) return;
  nk::WinogradConv a;
  std::vector<float> x(size_t(C * H * H), 0.5f), y(size_t(M * H * H)), w(size_t(M * C * 9), 0.1f);
  std::vector<float> u(size_t(16 * M * C));
  nk::winograd_f23_transform_weights(w.data(), M, C, u.data());
  a.x = x.data();
  a.C = C;
  a.IH = a.IW = H;
  a.PH = a.PW = 1;
  a.u = u.data();
  a.M = M;
  a.y = y.data();
  a.OH = a.OW = H;
  const int64_t TH = nk::winograd_tile_rows(a), TW = nk::winograd_tile_cols(a);
  const int64_t rows = std::min<int64_t>(TH, (192 + TW - 1) / TW);
  std::vector<float> scratch(size_t(nk::winograd_scratch_floats(C, M, TW, rows)));
  const int64_t T = rows * TW;
  float* v = scratch.data();
  float* mt = v + 16 * C * T;
  const double t_in = best_time([&] { nk::x86::winograd_f23_input_avx512(a, 0, rows, v); });
  const double t_gemm = best_time([&] {
    for (int p = 0; p < 16; ++p) {
      nk::GemmArgs g;
      g.M = M;
      g.N = T;
      g.K = C;
      g.A = u.data() + p * M * C;
      g.lda = C;
      g.B = v + p * C * T;
      g.ldb = T;
      g.C = mt + p * M * T;
      g.ldc = T;
      nk::sgemm(g, nullptr);
    }
  });
  const double t_out = best_time([&] { nk::x86::winograd_f23_output_avx512(a, 0, rows, mt); });
  const double t_all = best_time([&] {
    for (int64_t ty = 0; ty < TH; ty += rows) nk::winograd_f23_conv_rows(a, ty, std::min(TH, ty + rows), scratch.data());
  });
  const double direct_flops = 2.0 * 9 * double(C * M * H * H);
  std::printf("winograd C%lld M%lld %lldx%lld: chunk of %lld tiles: input %.3f gemm %.3f (%.1f GFLOP/s) output %.3f ms;"
              " whole image %.3f ms = %.1f direct-equivalent GFLOP/s\n",
              (long long)C, (long long)M, (long long)H, (long long)H, (long long)T, t_in * 1e3, t_gemm * 1e3,
              2.0 * 16 * double(M * C * T) / t_gemm * 1e-9, t_out * 1e3, t_all * 1e3, direct_flops / t_all * 1e-9);
}

void bench_epilogue(int64_t rows, int64_t cols) {
  std::vector<float> y(size_t(rows * cols), 0.5f), b(size_t(rows), 0.1f);
  nk::Epilogue e;
  e.bias = b.data();
  e.clamp = true;
  e.lo = 0;
  e.hi = 6;
  const double t = best_time([&] { nk::apply_epilogue(e, 0, rows, cols, y.data(), cols); });
  std::printf("epilogue %lldx%lld: %.3f ms, %.2f Gelem/s\n", (long long)rows, (long long)cols, t * 1e3,
              double(rows * cols) / t * 1e-9);
}

}  // namespace

int main() {
  bench_epilogue(96, 688);
  bench_winograd(64, 64, 56);
  bench_winograd(128, 128, 28);
  bench_winograd(256, 256, 14);
  bench_winograd(16, 64, 55);
  bench_winograd(64, 256, 13);
  bench_winograd(512, 512, 7);
  for (bool scalar : {false}) {
    bench_depthwise(8, 56, 1, scalar);  // in L1/L2: the kernel's own speed
    bench_depthwise(8, 56, 2, scalar);
    bench_depthwise(32, 112, 1, scalar);
    bench_depthwise(96, 112, 2, scalar);
    bench_depthwise(144, 56, 1, scalar);
    bench_depthwise(144, 56, 2, scalar);
    bench_depthwise(384, 14, 1, scalar);
    bench_depthwise(960, 7, 1, scalar);
  }
  return 0;
}
