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

}  // namespace

int main() {
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
