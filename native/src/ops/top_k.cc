// TopK (ai.onnx 1-25): the k largest (or, with largest = 0, smallest) elements
// along `axis` (default -1) and their int64 indices. k is an attribute before
// opset 10 and a one-element int64 input from 10 (it fixes the output shape, so
// it must be known at plan time). Results are always sorted (sorted = 0 allows
// any order); equal values keep the lower index first. NaN orders above every
// number. Float32, int32, int64, uint8, int8.
#include <algorithm>

#include "common/reduce.h"

namespace netlite {
namespace ops {
namespace top_k_detail {

class TopK final : public OpKernel {
 public:
  TopK(int64_t k_attr, int64_t axis, bool largest) : k_attr_(k_attr), axis_(axis), largest_(largest) {}

  void infer(InferContext& ctx) const override {
    const Node& node = ctx.node;
    ctx.expect_dtype(0, {DType::Float32, DType::Int32, DType::Int64, DType::UInt8, DType::Int8});
    const Shape& s = ctx.input(0).shape;
    const int r = int(s.size());
    if (axis_ < -r || axis_ >= r)
      fail(StatusCode::InvalidArgument, node.describe(), ": axis ", axis_, " is out of range for input rank ", r);
    const int axis = int(axis_ < 0 ? axis_ + r : axis_);
    int64_t k = k_attr_;
    if (node.opset >= 10) {
      const Tensor& kt = ctx.input_value(1, "k");
      if (kt.dtype != DType::Int64 || kt.numel() != 1)
        fail(StatusCode::InvalidModel, node.describe(), ": k must be a one-element int64 tensor, got ",
             dtype_name(kt.dtype), " ", shape_str(kt.shape));
      k = kt.ptr<int64_t>()[0];
    }
    if (k < 0 || k > s[size_t(axis)])
      fail(StatusCode::InvalidArgument, node.describe(), ": k = ", k, " is out of range for axis ", axis,
           " of size ", s[size_t(axis)]);
    Shape out = s;
    out[size_t(axis)] = k;
    ctx.set_output(0, ctx.input(0).dtype, out);
    if (ctx.has_output(1)) ctx.set_output(1, DType::Int64, out);
    const AxisSplit sp = split_at_axis(s, axis);
    const int64_t slices = sp.outer * sp.inner;
    if (k > 0 && slices > 0) {
      const int64_t blocks = std::min<int64_t>(ctx.threads < 1 ? 1 : ctx.threads, slices);
      ctx.scratch_bytes = size_t(blocks) * size_t(sp.n) * sizeof(int64_t);
    }
  }

  void run(RunContext& ctx) const override {
    const Tensor& x = ctx.in(0);
    const int r = int(x.rank());
    const int axis = int(axis_ < 0 ? axis_ + r : axis_);
    const AxisSplit sp = split_at_axis(x.shape, axis);
    const int64_t k = ctx.out(0).shape[size_t(axis)];
    const int64_t slices = sp.outer * sp.inner;
    if (k == 0 || slices == 0 || !ctx.scratch) return;
    int64_t blocks = int64_t(ctx.scratch_bytes / (size_t(sp.n) * sizeof(int64_t)));
    if (blocks > slices) blocks = slices;
    if (blocks < 1) return;
    int64_t* idx_all = static_cast<int64_t*>(ctx.scratch);
    int64_t* yi = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.out(1).ptr<int64_t>() : nullptr;
    dispatch_numeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* px = x.ptr<T>();
      T* yv = ctx.out(0).ptr<T>();
      const int64_t per = (slices + blocks - 1) / blocks;
      ctx.pool->parallel_for(blocks, [&](int64_t b, int64_t e) {
        for (int64_t bi = b; bi < e; ++bi) {
          int64_t* idx = idx_all + bi * sp.n;
          const int64_t s_end = std::min(slices, (bi + 1) * per);
          for (int64_t sl = bi * per; sl < s_end; ++sl) {
            const int64_t o = sl / sp.inner, j = sl % sp.inner;
            const T* base = px + o * sp.n * sp.inner + j;
            select<T>(base, sp.n, sp.inner, k, idx);
            T* vout = yv + o * k * sp.inner + j;
            int64_t* iout = yi ? yi + o * k * sp.inner + j : nullptr;
            for (int64_t t = 0; t < k; ++t) {
              vout[t * sp.inner] = base[idx[t] * sp.inner];
              if (iout) iout[t * sp.inner] = idx[t];
            }
          }
        }
      }, 1);
    });
  }

 private:
  // Total order "a comes before b" for values with NaN as the largest.
  template <typename T>
  static bool greater(T a, T b) {
    if (a != a) return b == b;
    if (b != b) return false;
    return a > b;
  }

  template <typename T>
  void select(const T* v, int64_t n, int64_t stride, int64_t k, int64_t* idx) const {
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    auto cmp_largest = [&](int64_t a, int64_t b) {
      const T va = v[a * stride], vb = v[b * stride];
      if (greater(va, vb)) return true;
      if (greater(vb, va)) return false;
      return a < b;
    };
    auto cmp_smallest = [&](int64_t a, int64_t b) {
      const T va = v[a * stride], vb = v[b * stride];
      if (greater(vb, va)) return true;
      if (greater(va, vb)) return false;
      return a < b;
    };
    if (largest_) std::partial_sort(idx, idx + k, idx + n, cmp_largest);
    else std::partial_sort(idx, idx + k, idx + n, cmp_smallest);
  }

  int64_t k_attr_;
  int64_t axis_;
  bool largest_;
};

std::unique_ptr<OpKernel> create(const Node& node, const Graph&) {
  int64_t k = -1;
  if (node.opset < 10) {
    if (!node.has_attr("k")) fail(StatusCode::InvalidModel, node.describe(), ": attribute 'k' is required before opset 10");
    k = node.attr_int("k", -1);
  }
  const int64_t largest = node.opset >= 11 ? node.attr_int("largest", 1) : 1;
  return std::make_unique<TopK>(k, node.attr_int("axis", -1), largest != 0);
}

}  // namespace top_k_detail

extern const OpDef kOp_TopK = {"TopK", "", 1, 25,
                               "float32, int32, int64, uint8, int8; k must be known at plan time; always sorted",
                               top_k_detail::create};

}  // namespace ops
}  // namespace netlite
