// ArgMax (ai.onnx 1-25): int64 index of the largest element along `axis`
// (default 0), keepdims (default 1), select_last_index (opset 12+: ties give the
// last index instead of the first). NaN counts as the largest value, as in numpy.
// Float32, int32, int64, uint8, int8.
#include "common/reduce.h"

namespace netlite {
namespace ops {
namespace arg_max_detail {

class ArgMax final : public OpKernel {
 public:
  ArgMax(int64_t axis, bool keepdims, bool last) : axis_(axis), keepdims_(keepdims), last_(last) {}

  void infer(InferContext& ctx) const override {
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
    const Shape& s = ctx.input(0).shape;
    const int r = int(s.size());
    if (axis_ < -r || axis_ >= r)
      fail(StatusCode::InvalidArgument, ctx.node.describe(), ": axis ", axis_, " is out of range for input rank ", r);
    const int axis = int(axis_ < 0 ? axis_ + r : axis_);
    AxisSplit sp = split_at_axis(s, axis);
    if (sp.n == 0 && sp.outer * sp.inner > 0)
      fail(StatusCode::InvalidArgument, ctx.node.describe(), ": cannot take ArgMax over an empty axis (input shape ",
           shape_str(s), ")");
    Shape out;
    for (int d = 0; d < r; ++d) {
      if (d != axis) out.push_back(s[size_t(d)]);
      else if (keepdims_) out.push_back(1);
    }
    ctx.set_output(0, DType::Int64, out);
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int r = int(x.rank());
    AxisSplit sp = split_at_axis(x.shape, int(axis_ < 0 ? axis_ + r : axis_));
    if (sp.outer * sp.inner == 0) return;
    int64_t* y = ctx.out(0).ptr<int64_t>();
    dispatch_numeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      if (last_) search<T, true>(x.ptr<T>(), y, sp, ctx.pool);
      else search<T, false>(x.ptr<T>(), y, sp, ctx.pool);
    });
  }

 private:
  // Whether v replaces the current best b (NaN wins; the first NaN unless `Last`).
  template <typename T, bool Last>
  static bool better(T v, T b) {
    if (b != b) return Last && v != v;
    if (v != v) return true;
    return Last ? v >= b : v > b;
  }

  template <typename T, bool Last>
  static void search(const T* x, int64_t* y, const AxisSplit& sp, ThreadPool* pool) {
    const int64_t n = sp.n, inner = sp.inner;
    if (inner == 1) {
      int64_t grain = 8192 / n;
      pool->parallel_for(sp.outer, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
          const T* p = x + o * n;
          T best = p[0];
          int64_t bi = 0;
          for (int64_t k = 1; k < n; ++k)
            if (better<T, Last>(p[k], best)) { best = p[k]; bi = k; }
          y[o] = bi;
        }
      }, grain < 1 ? 1 : grain);
      return;
    }
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (inner + kBlock - 1) / kBlock;
    int64_t grain = 8192 / (n * (inner < kBlock ? inner : kBlock));
    pool->parallel_for(sp.outer * blocks, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t o = t / blocks, c0 = (t % blocks) * kBlock;
        const int64_t w = inner - c0 < kBlock ? inner - c0 : kBlock;
        const T* p = x + o * n * inner + c0;
        int64_t* out = y + o * inner + c0;
        T best[kBlock];
        for (int64_t j = 0; j < w; ++j) { best[j] = p[j]; out[j] = 0; }
        for (int64_t k = 1; k < n; ++k) {
          const T* row = p + k * inner;
          for (int64_t j = 0; j < w; ++j)
            if (better<T, Last>(row[j], best[j])) { best[j] = row[j]; out[j] = k; }
        }
      }
    }, grain < 1 ? 1 : grain);
  }

  int64_t axis_;
  bool keepdims_;
  bool last_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  const int64_t sli = node.attr_int("select_last_index", 0);
  if (sli != 0 && sli != 1)
    fail(StatusCode::InvalidModel, node.describe(), ": select_last_index must be 0 or 1, got ", sli);
  return std::make_unique<ArgMax>(node.attr_int("axis", 0), node.attr_int("keepdims", 1) != 0, sli == 1);
}

}  // namespace arg_max_detail

extern const OpDef kOp_ArgMax = {"ArgMax", "", 1, 25, "float32, int32, int64, uint8, int8; int64 output",
                                 arg_max_detail::create};

}  // namespace ops
}  // namespace netlite
