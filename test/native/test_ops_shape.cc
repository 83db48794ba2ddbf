// Shape and data-movement ops against plain index-arithmetic references written
// here from the ONNX operator specs (and the specs' own examples), on int64 /
// float / byte data, with 1 and 3 threads. These ops move bytes, so every check
// is exact.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../../native/src/kernels/copy.h"
#include "check.h"
#include "op_harness.h"

namespace shape_test {

using netlite::DType;
using netlite::Shape;
using netlite::StatusCode;
using netlite::Tensor;
using netlite_test::expect_error;
using netlite_test::make_tensor;
using netlite_test::OpHarness;
using netlite_test::tensor_f32;

Tensor i64(const Shape& s, const std::vector<int64_t>& v) { return make_tensor<int64_t>(s, v); }
Tensor i64v(const std::vector<int64_t>& v) { return make_tensor<int64_t>({int64_t(v.size())}, v); }
Tensor i32(const Shape& s, const std::vector<int32_t>& v) { return make_tensor<int32_t>(s, v); }

// 0, 1, 2, ... as float (exactly representable for our sizes).
Tensor iota_f32(const Shape& s, float start = 0.0f) {
  Tensor t = Tensor::allocate(DType::Float32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.ptr<float>()[i] = start + float(i);
  return t;
}
template <typename T> DType dtype_of() { return netlite::DTypeOf<T>::value; }
template <> DType dtype_of<uint16_t>() { return DType::Float16; }  // any 2-byte type: the ops move bytes

template <typename T>
Tensor iota(const Shape& s) {
  Tensor t = Tensor::allocate(dtype_of<T>(), s);
  for (int64_t i = 0; i < t.numel(); ++i) t.ptr<T>()[i] = T(i * 7 + 3);
  return t;
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.ptr<T>(), t.ptr<T>() + t.numel());
}

template <typename T>
bool same(const Tensor& got, const Shape& shape, const std::vector<T>& want) {
  if (got.shape != shape) {
    std::printf("  shape %s, want %s\n", netlite::shape_str(got.shape).c_str(), netlite::shape_str(shape).c_str());
    return false;
  }
  if (got.dtype != dtype_of<T>()) {
    std::printf("  dtype %s\n", netlite::dtype_name(got.dtype));
    return false;
  }
  for (size_t i = 0; i < want.size(); ++i)
    if (!(got.ptr<T>()[i] == want[i])) {
      std::printf("  element %zu: got %g want %g\n", i, double(got.ptr<T>()[i]), double(want[i]));
      return false;
    }
  return int64_t(want.size()) == got.numel();
}

// Multi-index of flat index i in shape s.
std::vector<int64_t> unravel(int64_t i, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t o = 0;
  for (size_t d = 0; d < s.size(); ++d) o = o * s[d] + idx[d];
  return o;
}

template <typename T>
std::vector<T> transpose_ref(const Tensor& x, const std::vector<int64_t>& perm, Shape* out_shape) {
  Shape os(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) os[d] = x.shape[size_t(perm[d])];
  *out_shape = os;
  std::vector<T> out(size_t(netlite::shape_numel(os)));
  for (int64_t i = 0; i < int64_t(out.size()); ++i) {
    std::vector<int64_t> o = unravel(i, os), in(perm.size());
    for (size_t d = 0; d < perm.size(); ++d) in[size_t(perm[d])] = o[d];
    out[size_t(i)] = x.ptr<T>()[ravel(in, x.shape)];
  }
  return out;
}

}  // namespace shape_test

using namespace shape_test;

// ------------------------------------------------------------------ Reshape & co

NETLITE_TEST(shape_reshape_zero_minus_one_and_allowzero) {
  Tensor x = iota_f32({2, 3, 4});
  auto y = OpHarness("Reshape", 13).input(x).value_input(i64v({0, -1})).run();
  CHECK(y[0].shape == Shape({2, 12}));
  CHECK(values<float>(y[0]) == values<float>(x));
  y = OpHarness("Reshape", 13).input(x).value_input(i64v({4, 0, -1})).run();
  CHECK(y[0].shape == Shape({4, 3, 2}));
  // allowzero=1: a 0 is a real 0 dim (empty input only).
  Tensor e = Tensor::allocate(DType::Float32, {0, 3});
  y = OpHarness("Reshape", 14).attr_int("allowzero", 1).input(e).value_input(i64v({3, 0})).run();
  CHECK(y[0].shape == Shape({3, 0}));
  // Before opset 14 allowzero is ignored: 0 copies.
  y = OpHarness("Reshape", 13).attr_int("allowzero", 1).input(x).value_input(i64v({0, 0, 4})).run();
  CHECK(y[0].shape == Shape({2, 3, 4}));
  // Opset 1-4: shape attribute.
  y = OpHarness("Reshape", 4).attr_ints("shape", {6, -1}).input(x).run();
  CHECK(y[0].shape == Shape({6, 4}));
  // Rank-0 result and from scalars.
  Tensor s = tensor_f32({1, 1}, {5.0f});
  y = OpHarness("Reshape", 13).input(s).value_input(i64({0}, {})).run();
  CHECK(y[0].shape == Shape({}) && y[0].ptr<float>()[0] == 5.0f);
  CHECK(expect_error([&] { OpHarness("Reshape", 13).input(x).value_input(i64v({5, -1})).run(); }) == StatusCode::ShapeMismatch);
  CHECK(expect_error([&] { OpHarness("Reshape", 13).input(x).value_input(i64v({-1, -1})).run(); }) == StatusCode::InvalidArgument);
  CHECK(expect_error([&] { OpHarness("Reshape", 13).input(x).input(i64v({2, 12})).run(); }) == StatusCode::Unsupported);
  CHECK(expect_error([&] { OpHarness("Reshape", 14).attr_int("allowzero", 1).input(e).value_input(i64v({0, -1})).run(); }) ==
        StatusCode::InvalidArgument);
}

NETLITE_TEST(shape_flatten_axes) {
  Tensor x = iota_f32({2, 3, 4, 5});
  const std::vector<std::pair<int64_t, Shape>> cases = {
      {0, {1, 120}}, {1, {2, 60}}, {2, {6, 20}}, {3, {24, 5}}, {4, {120, 1}}, {-1, {24, 5}}, {-4, {1, 120}}};
  for (auto& c : cases) {
    auto y = OpHarness("Flatten", 13).attr_int("axis", c.first).input(x).run();
    CHECK_MSG(y[0].shape == c.second, "axis %lld", (long long)c.first);
    CHECK(values<float>(y[0]) == values<float>(x));
  }
  auto y = OpHarness("Flatten", 13).input(x).run();
  CHECK(y[0].shape == Shape({2, 60}));
  CHECK(expect_error([&] { OpHarness("Flatten", 13).attr_int("axis", 5).input(x).run(); }) == StatusCode::InvalidArgument);
}

NETLITE_TEST(shape_squeeze_unsqueeze_attr_and_input) {
  Tensor x = iota_f32({1, 3, 1, 5});
  auto y = OpHarness("Squeeze", 11).attr_ints("axes", {0, -2}).input(x).run();
  CHECK(y[0].shape == Shape({3, 5}));
  y = OpHarness("Squeeze", 13).input(x).value_input(i64v({2})).run();
  CHECK(y[0].shape == Shape({1, 3, 5}));
  y = OpHarness("Squeeze", 13).input(x).run();
  CHECK(y[0].shape == Shape({3, 5}));
  CHECK(values<float>(y[0]) == values<float>(x));
  CHECK(expect_error([&] { OpHarness("Squeeze", 13).input(x).value_input(i64v({1})).run(); }) == StatusCode::ShapeMismatch);

  Tensor z = iota_f32({3, 4, 5});
  y = OpHarness("Unsqueeze", 11).attr_ints("axes", {0, 4}).input(z).run();
  CHECK(y[0].shape == Shape({1, 3, 4, 5, 1}));
  y = OpHarness("Unsqueeze", 13).input(z).value_input(i64v({5, 1, -7 + 1})).run();  // unsorted, negative
  CHECK(y[0].shape == Shape({1, 1, 3, 4, 5, 1}));
  y = OpHarness("Unsqueeze", 13).input(z).value_input(i64v({-1})).run();
  CHECK(y[0].shape == Shape({3, 4, 5, 1}));
  Tensor s = i64({}, {42});
  y = OpHarness("Unsqueeze", 13).input(s).value_input(i64v({0})).run();
  CHECK(same<int64_t>(y[0], {1}, {42}));
  CHECK(expect_error([&] { OpHarness("Unsqueeze", 13).input(z).value_input(i64v({1, 1})).run(); }) == StatusCode::InvalidArgument);
  CHECK(OpHarness("Unsqueeze", 13).input(z).value_input(i64v({0})).run().size() == 1);
}

NETLITE_TEST(shape_shape_start_end) {
  Tensor x = Tensor::allocate(DType::Float32, {2, 3, 4, 5});
  CHECK(same<int64_t>(OpHarness("Shape", 13).input(x).run()[0], {4}, {2, 3, 4, 5}));
  CHECK(same<int64_t>(OpHarness("Shape", 15).attr_int("start", 1).input(x).run()[0], {3}, {3, 4, 5}));
  CHECK(same<int64_t>(OpHarness("Shape", 15).attr_int("end", -1).input(x).run()[0], {3}, {2, 3, 4}));
  CHECK(same<int64_t>(OpHarness("Shape", 15).attr_int("start", -10).attr_int("end", 10).input(x).run()[0], {4}, {2, 3, 4, 5}));
  CHECK(same<int64_t>(OpHarness("Shape", 15).attr_int("start", 3).attr_int("end", 1).input(x).run()[0], {0}, {}));
  Tensor s = i64({}, {1});
  CHECK(same<int64_t>(OpHarness("Shape", 15).input(s).run()[0], {0}, {}));
}

// ---------------------------------------------------------------- Concat / Split

NETLITE_TEST(shape_concat_axes_types_and_empty) {
  Tensor a = iota_f32({2, 3, 4}), b = iota_f32({2, 2, 4}, 100.0f), c = iota_f32({2, 1, 4}, 200.0f);
  for (int threads : {1, 3}) {
    for (int64_t axis : {1, -2}) {
      auto y = OpHarness("Concat", 13).attr_int("axis", axis).input(a).input(b).input(c).threads(threads).run();
      CHECK(y[0].shape == Shape({2, 6, 4}));
      bool ok = true;
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 6; ++j)
          for (int64_t k = 0; k < 4; ++k) {
            float want = j < 3 ? a.ptr<float>()[(i * 3 + j) * 4 + k]
                               : j < 5 ? b.ptr<float>()[(i * 2 + j - 3) * 4 + k] : c.ptr<float>()[(i * 1) * 4 + k];
            ok = ok && y[0].ptr<float>()[(i * 6 + j) * 4 + k] == want;
          }
      CHECK(ok);
    }
  }
  // int64 shape math: 1-D pieces, including an empty one.
  auto y = OpHarness("Concat", 13).attr_int("axis", 0).value_input(i64v({1})).value_input(i64({0}, {}))
               .value_input(i64v({-1, 7})).run();
  CHECK(same<int64_t>(y[0], {3}, {1, -1, 7}));
  // uint8 along the last axis.
  Tensor u1 = iota<uint8_t>({2, 2}), u2 = iota<uint8_t>({2, 3});
  y = OpHarness("Concat", 13).attr_int("axis", 1).input(u1).input(u2).run();
  CHECK(same<uint8_t>(y[0], {2, 5}, {3, 10, 3, 10, 17, 17, 24, 24, 31, 38}));
  CHECK(expect_error([&] { OpHarness("Concat", 13).attr_int("axis", 0).input(a).input(b).run(); }) == StatusCode::ShapeMismatch);
  CHECK(expect_error([&] { OpHarness("Concat", 13).attr_int("axis", 0).input(a).input(iota<int64_t>({2, 3, 4})).run(); }) ==
        StatusCode::TypeMismatch);
}

NETLITE_TEST(shape_split_attr_input_equal_and_num_outputs) {
  Tensor x = iota_f32({2, 6});
  auto y = OpHarness("Split", 11).attr_int("axis", 1).attr_ints("split", {2, 4}).input(x).outputs(2).run();
  CHECK(same<float>(y[0], {2, 2}, {0, 1, 6, 7}));
  CHECK(same<float>(y[1], {2, 4}, {2, 3, 4, 5, 8, 9, 10, 11}));
  y = OpHarness("Split", 13).attr_int("axis", -1).input(x).value_input(i64v({1, 5})).outputs(2).run();
  CHECK(same<float>(y[0], {2, 1}, {0, 6}));
  CHECK(same<float>(y[1], {2, 5}, {1, 2, 3, 4, 5, 7, 8, 9, 10, 11}));
  y = OpHarness("Split", 13).attr_int("axis", 1).input(x).outputs(3).run();
  CHECK(same<float>(y[1], {2, 2}, {2, 3, 8, 9}));
  // num_outputs (18): ceil-sized parts, the last smaller: 7 -> 3, 3, 1.
  Tensor z = iota_f32({7});
  y = OpHarness("Split", 18).attr_int("num_outputs", 3).input(z).outputs(3).run();
  CHECK(same<float>(y[0], {3}, {0, 1, 2}));
  CHECK(same<float>(y[1], {3}, {3, 4, 5}));
  CHECK(same<float>(y[2], {1}, {6}));
  // An omitted output still takes its share.
  y = OpHarness("Split", 13).attr_int("axis", 1).input(x).value_input(i64v({1, 2, 3})).outputs(3).no_output(1).run();
  CHECK(same<float>(y[2], {2, 3}, {3, 4, 5, 9, 10, 11}));
  CHECK(expect_error([&] { OpHarness("Split", 13).attr_int("axis", 1).input(x).outputs(4).run(); }) == StatusCode::ShapeMismatch);
  CHECK(expect_error([&] { OpHarness("Split", 13).attr_int("axis", 1).input(x).value_input(i64v({1, 2})).outputs(2).run(); }) ==
        StatusCode::ShapeMismatch);
}

// ------------------------------------------------------------------ Transpose

NETLITE_TEST(shape_transpose_all_4d_perms_and_sizes) {
  std::vector<int64_t> perm = {0, 1, 2, 3};
  Tensor x = iota_f32({2, 3, 4, 5});
  Tensor xb = iota<uint8_t>({2, 3, 4, 5});
  Tensor xl = iota<int64_t>({2, 3, 4, 5});
  do {
    Shape os;
    auto want = transpose_ref<float>(x, perm, &os);
    auto y = OpHarness("Transpose", 13).attr_ints("perm", perm).input(x).threads(3).run();
    CHECK_MSG(same<float>(y[0], os, want), "perm %lld%lld%lld%lld", (long long)perm[0], (long long)perm[1],
              (long long)perm[2], (long long)perm[3]);
    CHECK(same<uint8_t>(OpHarness("Transpose", 13).attr_ints("perm", perm).input(xb).run()[0], os,
                        transpose_ref<uint8_t>(xb, perm, &os)));
    CHECK(same<int64_t>(OpHarness("Transpose", 13).attr_ints("perm", perm).input(xl).run()[0], os,
                        transpose_ref<int64_t>(xl, perm, &os)));
  } while (std::next_permutation(perm.begin(), perm.end()));
}

NETLITE_TEST(shape_transpose_large_tiled_nchw_nhwc_and_default) {
  for (int threads : {1, 3}) {
    Tensor x = iota_f32({2, 19, 37, 41});
    for (std::vector<int64_t> perm : {std::vector<int64_t>{0, 2, 3, 1}, {0, 3, 1, 2}, {3, 2, 1, 0}, {1, 0, 3, 2}}) {
      Shape os;
      auto want = transpose_ref<float>(x, perm, &os);
      CHECK(same<float>(OpHarness("Transpose", 13).attr_ints("perm", perm).input(x).threads(threads).run()[0], os, want));
    }
    Tensor m = iota<uint16_t>({133, 70});
    Shape os;
    auto want = transpose_ref<uint16_t>(m, {1, 0}, &os);
    Tensor y = OpHarness("Transpose", 13).input(m).threads(threads).run()[0];
    CHECK(y.shape == os && values<uint16_t>(y) == want);
  }
  CHECK(expect_error([&] { OpHarness("Transpose", 13).attr_ints("perm", {0, 0}).input(iota_f32({2, 2})).run(); }) ==
        StatusCode::InvalidModel);
}

// ------------------------------------------------------------------ Gather

NETLITE_TEST(shape_gather_axes_negative_and_scalar_indices) {
  Tensor x = iota_f32({3, 4, 2});
  // axis 1, 2-D int64 indices with a negative one.
  auto y = OpHarness("Gather", 13).attr_int("axis", 1).input(x).input(i64({2, 2}, {0, -1, 2, 1})).run();
  std::vector<float> want;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j : {0, 3, 2, 1})
      for (int64_t k = 0; k < 2; ++k) want.push_back(float((i * 4 + j) * 2 + k));
  CHECK(same<float>(y[0], {3, 2, 2, 2}, want));
  // int32 indices, axis 0, threads.
  y = OpHarness("Gather", 13).input(x).input(i32({3}, {2, 0, 2})).threads(3).run();
  CHECK(y[0].shape == Shape({3, 4, 2}) && y[0].ptr<float>()[0] == 16.0f && y[0].ptr<float>()[8] == 0.0f);
  // Rank-0 index on int64 shape data (the Shape -> Gather pattern).
  y = OpHarness("Gather", 13).value_input(i64v({7, 8, 9})).value_input(i64({}, {-1})).run();
  CHECK(same<int64_t>(y[0], {}, {9}));
  // Last axis, negative axis.
  y = OpHarness("Gather", 13).attr_int("axis", -1).input(x).input(i64({}, {1})).run();
  CHECK(same<float>(y[0], {3, 4}, {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}));
  CHECK(expect_error([&] { OpHarness("Gather", 13).input(x).value_input(i64v({3})).run(); }) == StatusCode::InvalidArgument);
  // A runtime index out of range gives zeros instead of reading out of bounds.
  y = OpHarness("Gather", 13).input(x).input(i64v({5})).run();
  CHECK(y[0].ptr<float>()[0] == 0.0f);
}

// ------------------------------------------------------------------ Slice

NETLITE_TEST(shape_slice_spec_examples_and_clamping) {
  Tensor x = iota_f32({2, 4}, 1.0f);  // [[1,2,3,4],[5,6,7,8]]
  // Spec example 1: starts [1,0], ends [2,3], steps [1,2] -> [[5,7]].
  auto y = OpHarness("Slice", 13).input(x).value_input(i64v({1, 0})).value_input(i64v({2, 3})).value_input(i64v({0, 1}))
               .value_input(i64v({1, 2})).run();
  CHECK(same<float>(y[0], {1, 2}, {5, 7}));
  // Spec example 2: starts [0,1], ends [-1,1000] -> [[2,3,4]].
  y = OpHarness("Slice", 13).input(x).value_input(i64v({0, 1})).value_input(i64v({-1, 1000})).run();
  CHECK(same<float>(y[0], {1, 3}, {2, 3, 4}));
  // Opset 1 attributes.
  y = OpHarness("Slice", 1).attr_ints("starts", {0, 1}).attr_ints("ends", {-1, 1000}).input(x).run();
  CHECK(same<float>(y[0], {1, 3}, {2, 3, 4}));
  // Negative steps with INT_MIN / INT_MAX ends.
  const int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  y = OpHarness("Slice", 13).input(x).value_input(i64v({-1})).value_input(i64v({kMin})).value_input(i64v({1}))
          .value_input(i64v({-1})).run();
  CHECK(same<float>(y[0], {2, 4}, {4, 3, 2, 1, 8, 7, 6, 5}));
  y = OpHarness("Slice", 13).input(x).value_input(i64v({kMax, 2})).value_input(i64v({kMin, kMax})).value_input(i64v({0, 1}))
          .value_input(i64v({-1, 1})).run();
  CHECK(same<float>(y[0], {2, 2}, {7, 8, 3, 4}));
  y = OpHarness("Slice", 13).input(x).value_input(i64v({3})).value_input(i64v({0})).value_input(i64v({1}))
          .value_input(i64v({-2})).run();
  CHECK(same<float>(y[0], {2, 2}, {4, 2, 8, 6}));
  // Empty results: start beyond end, start out of bounds.
  y = OpHarness("Slice", 13).input(x).value_input(i64v({3})).value_input(i64v({1})).value_input(i64v({1})).run();
  CHECK(y[0].shape == Shape({2, 0}));
  y = OpHarness("Slice", 13).input(x).value_input(i64v({1000})).value_input(i64v({1001})).value_input(i64v({1})).run();
  CHECK(y[0].shape == Shape({2, 0}));
  // int32 params, int64 data, threads.
  Tensor big = iota<int64_t>({5, 6, 7});
  y = OpHarness("Slice", 13).input(big).value_input(i32({3}, {1, -1, 6})).value_input(i32({3}, {5, -7, 0}))
          .value_input(i32({3}, {0, 1, 2})).value_input(i32({3}, {2, -2, -3})).threads(3).run();
  std::vector<int64_t> want;
  for (int64_t i = 1; i < 5; i += 2)
    for (int64_t j = 5; j > -1; j -= 2)
      for (int64_t k = 6; k > 0; k -= 3) want.push_back(big.ptr<int64_t>()[(i * 6 + j) * 7 + k]);
  CHECK(same<int64_t>(y[0], {2, 3, 2}, want));
  CHECK(expect_error([&] {
          OpHarness("Slice", 13).input(x).value_input(i64v({0})).value_input(i64v({1})).value_input(i64v({0}))
              .value_input(i64v({0})).run();
        }) == StatusCode::InvalidArgument);
}

// ------------------------------------------------------------------ Pad

NETLITE_TEST(shape_pad_spec_examples_all_modes) {
  Tensor x = tensor_f32({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  auto y = OpHarness("Pad", 13).input(x).value_input(i64v({0, 2, 0, 0})).input(tensor_f32({}, {0.0f})).run();
  CHECK(same<float>(y[0], {3, 4}, {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f}));
  y = OpHarness("Pad", 13).attr_string("mode", "reflect").input(x).value_input(i64v({0, 2, 0, 0})).run();
  CHECK(same<float>(y[0], {3, 4}, {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}));
  y = OpHarness("Pad", 13).attr_string("mode", "edge").input(x).value_input(i64v({0, 2, 0, 0})).run();
  CHECK(same<float>(y[0], {3, 4}, {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f}));
  // wrap (19): pads [2, 1, 1, 1] on [3, 2]
  y = OpHarness("Pad", 19).attr_string("mode", "wrap").input(x).value_input(i64v({2, 1, 1, 1})).run();
  CHECK(same<float>(y[0], {6, 4},
                    {3.4f, 2.3f, 3.4f, 2.3f, 5.7f, 4.5f, 5.7f, 4.5f, 1.2f, 1.0f, 1.2f, 1.0f,
                     3.4f, 2.3f, 3.4f, 2.3f, 5.7f, 4.5f, 5.7f, 4.5f, 1.2f, 1.0f, 1.2f, 1.0f}));
  // Opset 2 attributes with a value.
  y = OpHarness("Pad", 2).attr_ints("pads", {1, 0, 0, 0}).attr_float("value", 9.0f).input(x).run();
  CHECK(same<float>(y[0], {4, 2}, {9, 9, 1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}));
  // Axes input (18), negative axes, negative pads crop, int64 data with constant.
  Tensor z = iota<int64_t>({2, 3});  // 3 10 17 / 24 31 38
  y = OpHarness("Pad", 18).input(z).value_input(i64v({-1, 1})).input(i64({}, {-5})).value_input(i64v({-1})).run();
  CHECK(same<int64_t>(y[0], {2, 3}, {10, 17, -5, 31, 38, -5}));
}

NETLITE_TEST(shape_pad_modes_against_reference_3d) {
  Tensor x = iota_f32({3, 4, 5});
  const std::vector<int64_t> pads = {1, 3, 2, 2, -1, 4};
  for (const char* mode : {"constant", "reflect", "edge", "wrap"})
    for (int threads : {1, 3}) {
      auto y = OpHarness("Pad", 19).attr_string("mode", mode).input(x).value_input(i64v(pads)).input(tensor_f32({}, {-2.0f}))
                   .threads(threads).run();
      Shape os = {3 + 1 + 2, 4 + 3 - 1, 5 + 2 + 4};
      std::vector<float> want;
      for (int64_t i = 0; i < os[0]; ++i)
        for (int64_t j = 0; j < os[1]; ++j)
          for (int64_t k = 0; k < os[2]; ++k) {
            int64_t src[3] = {i - pads[0], j - pads[1], k - pads[2]};
            bool inside = true;
            for (int d = 0; d < 3; ++d) {
              int64_t n = x.shape[size_t(d)], s = src[d];
              if (s >= 0 && s < n) continue;
              std::string m = mode;
              if (m == "constant") inside = false;
              else if (m == "edge") s = s < 0 ? 0 : n - 1;
              else if (m == "wrap") s = ((s % n) + n) % n;
              else {
                while (s < 0 || s >= n) s = s < 0 ? -s : 2 * (n - 1) - s;
              }
              src[d] = s;
            }
            want.push_back(inside ? x.ptr<float>()[(src[0] * 4 + src[1]) * 5 + src[2]] : -2.0f);
          }
      CHECK_MSG(same<float>(y[0], os, want), "mode %s", mode);
    }
}

// ------------------------------------------------------------------ Expand / Tile / ConstantOfShape / Range

NETLITE_TEST(shape_expand_bidirectional) {
  Tensor x = tensor_f32({3, 1}, {1, 2, 3});
  auto y = OpHarness("Expand", 13).input(x).value_input(i64v({2, 1, 6})).run();
  std::vector<float> want;
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 6; ++j) want.push_back(float(i + 1));
  CHECK(same<float>(y[0], {2, 3, 6}, want));
  y = OpHarness("Expand", 13).input(x).value_input(i64v({3, 1})).run();  // spec: shape smaller than input is fine
  CHECK(same<float>(y[0], {3, 1}, {1, 2, 3}));
  Tensor r = tensor_f32({1, 4}, {1, 2, 3, 4});
  y = OpHarness("Expand", 13).input(r).value_input(i64v({3, 1})).threads(3).run();
  CHECK(same<float>(y[0], {3, 4}, {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}));
  CHECK(expect_error([&] { OpHarness("Expand", 13).input(x).value_input(i64v({2, 4})).run(); }) == StatusCode::ShapeMismatch);
}

NETLITE_TEST(shape_tile_and_constant_of_shape_and_range) {
  Tensor x = tensor_f32({2, 2}, {0, 1, 2, 3});
  auto y = OpHarness("Tile", 13).input(x).value_input(i64v({2, 3})).run();
  CHECK(same<float>(y[0], {4, 6}, {0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3}));
  y = OpHarness("Tile", 13).input(x).value_input(i64v({0, 3})).run();
  CHECK(y[0].shape == Shape({0, 6}));

  y = OpHarness("ConstantOfShape", 9).value_input(i64v({2, 3})).run();
  CHECK(same<float>(y[0], {2, 3}, {0, 0, 0, 0, 0, 0}));
  y = OpHarness("ConstantOfShape", 9).attr_tensor("value", i64({1}, {7})).value_input(i64v({3})).run();
  CHECK(same<int64_t>(y[0], {3}, {7, 7, 7}));
  y = OpHarness("ConstantOfShape", 9).attr_tensor("value", i32({1}, {4})).value_input(i64({0}, {})).run();
  CHECK(same<int32_t>(y[0], {}, {4}));

  y = OpHarness("Range", 11).value_input(tensor_f32({}, {3})).value_input(tensor_f32({}, {9})).value_input(tensor_f32({}, {3})).run();
  CHECK(same<float>(y[0], {2}, {3, 6}));
  y = OpHarness("Range", 11).value_input(i64({}, {10})).value_input(i64({}, {4})).value_input(i64({}, {-3})).run();
  CHECK(same<int64_t>(y[0], {2}, {10, 7}));
  y = OpHarness("Range", 11).value_input(i32({}, {0})).value_input(i32({}, {5})).value_input(i32({}, {2})).run();
  CHECK(same<int32_t>(y[0], {3}, {0, 2, 4}));
  y = OpHarness("Range", 11).value_input(i64({}, {5})).value_input(i64({}, {1})).value_input(i64({}, {1})).run();
  CHECK(y[0].shape == Shape({0}));
  y = OpHarness("Range", 11).value_input(tensor_f32({}, {1})).value_input(tensor_f32({}, {2})).value_input(tensor_f32({}, {0.3f})).run();
  CHECK(y[0].shape == Shape({4}));
  CHECK(expect_error([&] {
          OpHarness("Range", 11).value_input(i64({}, {0})).value_input(i64({}, {1})).value_input(i64({}, {0})).run();
        }) == StatusCode::InvalidArgument);
}

// ------------------------------------------------------------------ DepthToSpace / SpaceToDepth

NETLITE_TEST(shape_depth_to_space_spec_examples_and_round_trip) {
  Tensor x = iota_f32({1, 8, 2, 3});
  // Spec example, DCR.
  auto y = OpHarness("DepthToSpace", 13).attr_int("blocksize", 2).input(x).run();
  CHECK(same<float>(y[0], {1, 2, 4, 6},
                    {0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40, 29, 41,
                     6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47}));
  // Spec example, CRD.
  y = OpHarness("DepthToSpace", 13).attr_int("blocksize", 2).attr_string("mode", "CRD").input(x).run();
  CHECK(same<float>(y[0], {1, 2, 4, 6},
                    {0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23,
                     24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47}));
  // SpaceToDepth inverts DCR DepthToSpace.
  Tensor d = OpHarness("DepthToSpace", 13).attr_int("blocksize", 2).input(x).run()[0];
  y = OpHarness("SpaceToDepth", 13).attr_int("blocksize", 2).input(d).run();
  CHECK(same<float>(y[0], {1, 8, 2, 3}, values<float>(x)));
  CHECK(expect_error([&] { OpHarness("SpaceToDepth", 13).attr_int("blocksize", 4).input(x).run(); }) == StatusCode::ShapeMismatch);
}

// ------------------------------------------------------------------ the copy kernel itself

NETLITE_TEST(shape_strided_copy_matches_naive_loops) {
  netlite::ThreadPool pool(3);
  uint32_t seed = 1;
  auto rnd = [&](int64_t n) { seed = seed * 1664525u + 1013904223u; return int64_t((seed >> 8) % uint32_t(n)); };
  for (int iter = 0; iter < 300; ++iter) {
    const int r = 1 + int(rnd(5));
    int64_t shape[8], ss[8], ds[8];
    int64_t total = 1;
    for (int d = 0; d < r; ++d) { shape[d] = 1 + rnd(iter % 7 == 0 ? 40 : 6); total *= shape[d]; }
    // dst: contiguous in a random dim order; src: random strides (0, negative, transposed) into a big buffer.
    std::vector<int> order(static_cast<size_t>(r));
    for (int d = 0; d < r; ++d) order[size_t(d)] = d;
    for (int d = r - 1; d > 0; --d) std::swap(order[size_t(d)], order[size_t(rnd(d + 1))]);
    int64_t st = 1;
    for (int k = r - 1; k >= 0; --k) { ds[order[size_t(k)]] = st; st *= shape[order[size_t(k)]]; }
    int64_t span = 1, base = 0;
    for (int d = 0; d < r; ++d) {
      int64_t kind = rnd(4);
      ss[d] = kind == 0 ? 0 : (kind == 1 ? -span : span);
      if (ss[d] < 0) base += (shape[d] - 1) * span;
      span *= shape[d] + rnd(2);
    }
    std::vector<uint32_t> src(size_t(span + base + 1));
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint32_t(i * 2654435761u);
    std::vector<uint32_t> dst(size_t(total), 0xdeadbeef), want(size_t(total), 0xdeadbeef);
    for (int64_t i = 0; i < total; ++i) {
      int64_t rem = i, so = base, dof = 0;
      for (int d = r - 1; d >= 0; --d) {
        int64_t ix = rem % shape[d];
        rem /= shape[d];
        so += ix * ss[d];
        dof += ix * ds[d];
      }
      want[size_t(dof)] = src[size_t(so)];
    }
    netlite::kernels::strided_copy(4, r, shape, src.data() + base, ss, dst.data(), ds, iter % 2 ? &pool : nullptr);
    if (!CHECK_MSG(dst == want, "iteration %d rank %d", iter, r)) break;
  }
}

// The channel de-interleave (NHWC -> NCHW of a 2-4 channel image): the dispatched form
// (AVX-512 VBMI on this CPU) against the reference for every element size, channel counts
// on and off the fast path, pixel counts around its 64- and 16-lane steps, planes with a
// gap after them that must stay untouched; then transpose() taking it through the pool.
NETLITE_TEST(shape_deinterleave_matches_reference) {
  uint32_t seed = 7;
  auto next = [&] { seed = seed * 1664525u + 1013904223u; return seed >> 8; };
  for (size_t es : {size_t(1), size_t(2), size_t(4), size_t(8)})
    for (int64_t C = 1; C <= 5; ++C)
      for (int64_t n : {1, 15, 16, 17, 63, 64, 65, 100, 129, 1000, 16385}) {
        const int64_t plane = n + 3;
        std::vector<uint8_t> src(size_t(n * C) * es), want(size_t(plane * C) * es + 64, 0xA5), got(want);
        for (auto& v : src) v = uint8_t(next());
        netlite::kernels::deinterleave_reference(es, C, n, src.data(), want.data(), plane);
        netlite::kernels::deinterleave(es, C, n, src.data(), got.data(), plane);
        if (!CHECK_MSG(got == want, "deinterleave elem %zu C=%lld n=%lld", es, (long long)C, (long long)n)) return;
      }
  netlite::ThreadPool pool(2);
  for (size_t es : {size_t(1), size_t(4)}) {
    const int64_t N = 2, H = 150, W = 223, C = 3, in_shape[4] = {N, H, W, C}, perm[4] = {0, 3, 1, 2};
    std::vector<uint8_t> src(size_t(N * H * W * C) * es), got(src.size(), 0), want(src.size(), 0);
    for (auto& v : src) v = uint8_t(next());
    for (int64_t b = 0; b < N; ++b)
      for (int64_t p = 0; p < H * W; ++p)
        for (int64_t c = 0; c < C; ++c)
          std::memcpy(&want[size_t(((b * C + c) * H * W + p)) * es], &src[size_t((b * H * W + p) * C + c) * es], es);
    for (netlite::ThreadPool* tp : {static_cast<netlite::ThreadPool*>(nullptr), &pool}) {
      std::fill(got.begin(), got.end(), uint8_t(0));
      netlite::kernels::transpose(es, 4, in_shape, perm, src.data(), got.data(), tp);
      CHECK_MSG(got == want, "NHWC -> NCHW transpose elem %zu %s", es, tp ? "pool" : "no pool");
    }
  }
}

// ------------------------------------------------------------------ Resize / Upsample

namespace shape_test {

// A direct port of the structure of the ONNX reference (onnx/reference/ops/op_resize.py):
// recursive 1-D interpolation, neighbours chosen as the n nearest indices of the
// edge-padded data. Independent of the kernel's tap tables, so a real cross-check.
// Two documented choices follow the spec text over the reference: pytorch_half_pixel
// maps to 0 (not -0.5) for a length-1 output, and tf_crop_and_resize divides by the
// integer output length.
struct RefResize {
  std::string mode = "nearest", coord = "half_pixel", nearest = "round_prefer_floor";
  double A = -0.75;
  bool exclude_outside = false, antialias = false;
  double extrapolation = 0.0;
};

std::vector<double> ref_coeffs(const RefResize& p, double ratio, double scale) {
  if (p.mode == "nearest") {
    if (ratio == std::floor(ratio)) return {0, 1};
    if (p.nearest == "round_prefer_floor") return {double(ratio <= 0.5), double(ratio > 0.5)};
    if (p.nearest == "round_prefer_ceil") return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (p.nearest == "floor") return {1, 0};
    return {0, 1};
  }
  const double A = p.A;
  if (p.mode == "linear") {
    if (!p.antialias) return {1 - ratio, ratio};
    const double s = std::min(scale, 1.0);
    const int start = int(std::floor(-1 / s) + 1), footprint = 2 - 2 * start;
    std::vector<double> c;
    double sum = 0;
    for (int i = start; i < start + footprint; ++i) {
      c.push_back(std::min(1.0, std::max(0.0, 1 - std::fabs((i - ratio) * s))));
      sum += c.back();
    }
    for (double& v : c) v /= sum;
    return c;
  }
  if (!p.antialias)
    return {((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A,
            ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
            ((A + 2) * (1 - ratio) - (A + 3)) * (1 - ratio) * (1 - ratio) + 1,
            ((A * ((1 - ratio) + 1) - 5 * A) * ((1 - ratio) + 1) + 8 * A) * ((1 - ratio) + 1) - 4 * A};
  const double s = std::min(scale, 1.0);
  const int i_start = int(std::floor(-2 / s) + 1), i_end = 2 - i_start;
  std::vector<double> c;
  double sum = 0;
  for (int i = i_start; i < i_end; ++i) {
    double x = std::fabs(s * (i - ratio)), v;
    if (x <= 1) v = (A + 2) * x * x * x - (A + 3) * x * x + 1;
    else if (x < 2) v = A * x * x * x - 5 * A * x * x + 8 * A * x - 4 * A;
    else v = 0;
    c.push_back(v);
    sum += v;
  }
  for (double& v : c) v /= sum;
  return c;
}

double ref_interp_1d(const RefResize& p, const std::vector<double>& data, double scale, int64_t out_int, double x,
                     double roi0, double roi1) {
  const double in = double(data.size()), out_w = scale * in;
  double xo;
  if (p.coord == "align_corners") xo = out_w == 1 ? 0 : x * (in - 1) / (out_w - 1);
  else if (p.coord == "asymmetric") xo = x / scale;
  else if (p.coord == "tf_crop_and_resize") {
    xo = out_int == 1 ? (roi1 - roi0) * (in - 1) / 2 : x * (roi1 - roi0) * (in - 1) / double(out_int - 1);
    xo += roi0 * (in - 1);
    if (xo < 0 || xo > in - 1) return p.extrapolation;
  } else if (p.coord == "pytorch_half_pixel") xo = out_int == 1 ? 0 : (x + 0.5) / scale - 0.5;
  else if (p.coord == "half_pixel_symmetric") {
    const double adj = double(out_int) / out_w, center = in / 2, offset = center * (1 - adj);
    xo = offset + (x + 0.5) / scale - 0.5;
  } else xo = (x + 0.5) / scale - 0.5;
  const double ratio = xo == std::floor(xo) ? 1.0 : xo - std::floor(xo);
  std::vector<double> c = ref_coeffs(p, ratio, scale);
  const int n = int(c.size());
  const int pad = (n + 1) / 2;
  // n nearest indices of the padded array (ties to the smaller index).
  std::vector<int64_t> idx;
  for (int64_t i = -pad; i < int64_t(in) + pad; ++i) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    double da = std::fabs(xo - double(a)), db = std::fabs(xo - double(b));
    return da < db || (da == db && a < b);
  });
  idx.resize(size_t(n));
  std::sort(idx.begin(), idx.end());
  if (p.exclude_outside) {
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      if (idx[size_t(i)] < 0 || idx[size_t(i)] >= int64_t(in)) c[size_t(i)] = 0;
      sum += c[size_t(i)];
    }
    for (double& v : c) v /= sum;
  }
  double r = 0;
  for (int i = 0; i < n; ++i) {
    int64_t j = std::min<int64_t>(std::max<int64_t>(idx[size_t(i)], 0), int64_t(in) - 1);
    r += c[size_t(i)] * data[size_t(j)];
  }
  return r;
}

// data: flat, dims `in`; returns the value at output index `o`.
double ref_interp_nd(const RefResize& p, const std::vector<double>& data, const Shape& in, const std::vector<double>& scales,
                     const Shape& out, const std::vector<int64_t>& o, const std::vector<double>& roi, size_t axis) {
  const size_t r = in.size();
  if (axis + 1 == r)
    return ref_interp_1d(p, data, scales[axis], out[axis], double(o[axis]), roi[axis], roi[r + axis]);
  int64_t inner = 1;
  for (size_t d = axis + 1; d < r; ++d) inner *= in[d];
  std::vector<double> line;
  for (int64_t i = 0; i < in[axis]; ++i) {
    std::vector<double> sub(data.begin() + i * inner, data.begin() + (i + 1) * inner);
    line.push_back(ref_interp_nd(p, sub, in, scales, out, o, roi, axis + 1));
  }
  return ref_interp_1d(p, line, scales[axis], out[axis], double(o[axis]), roi[axis], roi[r + axis]);
}

std::vector<float> ref_resize(const RefResize& p, const Tensor& x, const std::vector<double>& scales, const Shape& out,
                              std::vector<double> roi = {}) {
  const size_t r = x.rank();
  if (roi.empty()) {
    roi.assign(r, 0.0);
    roi.insert(roi.end(), r, 1.0);
  }
  std::vector<double> data(x.ptr<float>(), x.ptr<float>() + x.numel());
  std::vector<float> y;
  for (int64_t i = 0; i < netlite::shape_numel(out); ++i)
    y.push_back(float(ref_interp_nd(p, data, x.shape, scales, out, unravel(i, out), roi, 0)));
  return y;
}

bool near_all(const Tensor& got, const Shape& shape, const std::vector<float>& want, double tol = 2e-5) {
  if (got.shape != shape) {
    std::printf("  shape %s, want %s\n", netlite::shape_str(got.shape).c_str(), netlite::shape_str(shape).c_str());
    return false;
  }
  for (size_t i = 0; i < want.size(); ++i) {
    double g = got.ptr<float>()[i];
    if (!(std::fabs(g - want[i]) <= tol * (1 + std::fabs(want[i])))) {
      std::printf("  element %zu: got %.8g want %.8g\n", i, g, double(want[i]));
      return false;
    }
  }
  return true;
}

Tensor f32v(const std::vector<float>& v) { return tensor_f32({int64_t(v.size())}, v); }

}  // namespace shape_test

NETLITE_TEST(shape_resize_spec_examples) {
  Tensor x2 = tensor_f32({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor x24 = tensor_f32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor x4 = iota_f32({1, 1, 4, 4}, 1.0f);
  Tensor none = tensor_f32({0}, {});
  auto y = OpHarness("Resize", 19).attr_string("mode", "nearest").input(x2).no_input().value_input(f32v({1, 1, 2, 3})).run();
  CHECK(near_all(y[0], {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  y = OpHarness("Resize", 19).attr_string("mode", "nearest").input(x24).no_input().value_input(f32v({1, 1, 0.6f, 0.6f})).run();
  CHECK(near_all(y[0], {1, 1, 1, 2}, {1, 3}));
  y = OpHarness("Resize", 19).attr_string("mode", "linear").input(x2).no_input().value_input(f32v({1, 1, 2, 2})).run();
  CHECK(near_all(y[0], {1, 1, 4, 4}, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4}));
  y = OpHarness("Resize", 19).attr_string("mode", "linear").attr_string("coordinate_transformation_mode", "align_corners")
          .input(x2).no_input().value_input(f32v({1, 1, 2, 2})).run();
  CHECK(near_all(y[0], {1, 1, 4, 4}, {1, 1.33333333f, 1.66666667f, 2, 1.66666667f, 2, 2.33333333f, 2.66666667f,
                                      2.33333333f, 2.66666667f, 3, 3.33333333f, 3, 3.33333333f, 3.66666667f, 4}));
  y = OpHarness("Resize", 19).attr_string("mode", "linear").input(x24).no_input().value_input(f32v({1, 1, 0.6f, 0.6f})).run();
  CHECK(near_all(y[0], {1, 1, 1, 2}, {2.6666665f, 4.3333331f}));
  y = OpHarness("Resize", 19).attr_string("mode", "linear").attr_string("coordinate_transformation_mode", "align_corners")
          .input(x24).no_input().value_input(f32v({1, 1, 0.6f, 0.6f})).run();
  CHECK(near_all(y[0], {1, 1, 1, 2}, {1, 3.142857f}));
  y = OpHarness("Resize", 19).attr_string("mode", "cubic").input(x4).no_input().value_input(f32v({1, 1, 2, 2})).run();
  CHECK(near_all(y[0], {1, 1, 8, 8},
                 {0.47265625f, 0.76953125f, 1.24609375f, 1.875f, 2.28125f, 2.91015625f, 3.38671875f, 3.68359375f,
                  1.66015625f, 1.95703125f, 2.43359375f, 3.0625f, 3.46875f, 4.09765625f, 4.57421875f, 4.87109375f,
                  3.56640625f, 3.86328125f, 4.33984375f, 4.96875f, 5.375f, 6.00390625f, 6.48046875f, 6.77734375f,
                  6.08203125f, 6.37890625f, 6.85546875f, 7.484375f, 7.890625f, 8.51953125f, 8.99609375f, 9.29296875f,
                  7.70703125f, 8.00390625f, 8.48046875f, 9.109375f, 9.515625f, 10.14453125f, 10.62109375f, 10.91796875f,
                  10.22265625f, 10.51953125f, 10.99609375f, 11.625f, 12.03125f, 12.66015625f, 13.13671875f, 13.43359375f,
                  12.12890625f, 12.42578125f, 12.90234375f, 13.53125f, 13.9375f, 14.56640625f, 15.04296875f, 15.33984375f,
                  13.31640625f, 13.61328125f, 14.08984375f, 14.71875f, 15.125f, 15.75390625f, 16.23046875f, 16.52734375f}));
  y = OpHarness("Resize", 19).attr_string("mode", "cubic").attr_string("coordinate_transformation_mode", "align_corners")
          .input(x4).no_input().value_input(f32v({1, 1, 2, 2})).run();
  CHECK(y[0].shape == Shape({1, 1, 8, 8}) && std::fabs(y[0].ptr<float>()[1] - 1.34110796f) < 1e-5f &&
        std::fabs(y[0].ptr<float>()[63] - 16.0f) < 1e-5f && std::fabs(y[0].ptr<float>()[9] - 2.70553946f) < 1e-5f);
  // tf_crop_and_resize with sizes, and with extrapolation.
  y = OpHarness("Resize", 19).attr_string("mode", "linear").attr_string("coordinate_transformation_mode", "tf_crop_and_resize")
          .input(x4).value_input(f32v({0, 0, 0.4f, 0.6f, 1, 1, 0.6f, 0.8f})).input(none).value_input(i64v({1, 1, 3, 3})).run();
  CHECK(near_all(y[0], {1, 1, 3, 3}, {7.6000004f, 7.9f, 8.2f, 8.8f, 9.1f, 9.400001f, 10.0f, 10.3f, 10.6f}));
  y = OpHarness("Resize", 19).attr_string("mode", "linear").attr_string("coordinate_transformation_mode", "tf_crop_and_resize")
          .attr_float("extrapolation_value", 10.0f)
          .input(x4).value_input(f32v({0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f})).input(none).value_input(i64v({1, 1, 3, 3})).run();
  CHECK(near_all(y[0], {1, 1, 3, 3}, {7.6000004f, 10, 10, 12.400001f, 10, 10, 10, 10, 10}));
  // nearest_mode ceil + half_pixel, sizes 8x8: first row 1 2 2 3 3 4 4 4.
  y = OpHarness("Resize", 19).attr_string("mode", "nearest").attr_string("nearest_mode", "ceil")
          .input(x4).no_input().no_input().value_input(i64v({1, 1, 8, 8})).run();
  CHECK(y[0].shape == Shape({1, 1, 8, 8}));
  CHECK(std::vector<float>(y[0].ptr<float>(), y[0].ptr<float>() + 8) == std::vector<float>({1, 2, 2, 3, 3, 4, 4, 4}));
  // Opset 10 (X, scales), and Upsample 7/9: asymmetric nearest = repeat.
  y = OpHarness("Resize", 10).attr_string("mode", "nearest").input(x2).value_input(f32v({1, 1, 2, 3})).run();
  CHECK(near_all(y[0], {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  y = OpHarness("Upsample", 7).attr_string("mode", "nearest").attr_floats("scales", {1, 1, 2, 3}).input(x2).run();
  CHECK(near_all(y[0], {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  y = OpHarness("Upsample", 9).attr_string("mode", "linear").input(x2).value_input(f32v({1, 1, 2, 2})).run();
  CHECK(near_all(y[0], {1, 1, 4, 4}, {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4}));
  // int64 nearest.
  Tensor xi = iota<int64_t>({1, 3});
  y = OpHarness("Resize", 13).attr_string("mode", "nearest").input(xi).no_input().value_input(f32v({1, 2})).run();
  CHECK(same<int64_t>(y[0], {1, 6}, {3, 3, 10, 10, 17, 17}));
  CHECK(expect_error([&] {
          OpHarness("Resize", 13).attr_string("mode", "linear").input(xi).no_input().value_input(f32v({1, 2})).run();
        }) == StatusCode::TypeMismatch);
  CHECK(expect_error([&] { OpHarness("Resize", 13).attr_string("mode", "area").input(x2).run(); }) == StatusCode::Unsupported);
}

NETLITE_TEST(shape_resize_against_reference_port) {
  Tensor x = netlite_test::random_f32({2, 3, 5, 6}, 7);
  const std::vector<std::vector<double>> scale_sets = {{1, 1, 2, 3}, {1, 1, 0.6, 0.5}, {1, 1, 1.7, 0.8}, {1, 1, 0.25, 0.3},
                                                      {1, 1, 1, 2.5}, {1, 1, 0.2, 1}};
  int cases = 0, failures = 0;
  for (const char* mode : {"nearest", "linear", "cubic"})
    for (const char* coord : {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"})
      for (const auto& sc : scale_sets)
        for (int variant = 0; variant < 4; ++variant) {
          RefResize p;
          p.mode = mode;
          p.coord = coord;
          if (p.mode == "nearest") {
            const char* nm[4] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
            p.nearest = nm[variant];
          } else {
            p.exclude_outside = variant & 1;
            p.antialias = (variant & 2) != 0;
            if (p.mode == "cubic" && variant == 1) p.A = -0.5;
          }
          OpHarness h("Resize", 19);
          h.attr_string("mode", mode).attr_string("coordinate_transformation_mode", coord).attr_string("nearest_mode", p.nearest)
              .attr_int("exclude_outside", p.exclude_outside).attr_int("antialias", p.antialias).attr_float("cubic_coeff_a", float(p.A));
          std::vector<float> sf(sc.begin(), sc.end());
          auto y = h.input(x).no_input().value_input(f32v(sf)).threads(1 + variant % 3).run();
          Shape out(4);
          std::vector<double> used(4);
          for (size_t d = 0; d < 4; ++d) {
            used[d] = double(sf[d]);
            out[d] = int64_t(std::floor(double(x.shape[d]) * used[d]));
          }
          ++cases;
          if (!CHECK_MSG(near_all(y[0], out, ref_resize(p, x, used, out), 1e-4), "mode %s coord %s scales %g,%g variant %d",
                         mode, coord, sc[2], sc[3], variant) && ++failures > 5)
            return;
        }
  // sizes + axes + keep_aspect_ratio_policy (18).
  for (const char* policy : {"stretch", "not_larger", "not_smaller"}) {
    auto y = OpHarness("Resize", 18).attr_string("mode", "linear").attr_ints("axes", {3, 2})
                 .attr_string("keep_aspect_ratio_policy", policy)
                 .input(x).no_input().no_input().value_input(i64v({9, 4})).run();
    double s3 = 9.0 / 6.0, s2 = 4.0 / 5.0;
    std::string pol = policy;
    if (pol != "stretch") s3 = s2 = pol == "not_larger" ? std::min(s3, s2) : std::max(s3, s2);
    Shape out = {2, 3, pol == "stretch" ? 4 : int64_t(s2 * 5 + 0.5), pol == "stretch" ? 9 : int64_t(s3 * 6 + 0.5)};
    RefResize p;
    p.mode = "linear";
    CHECK_MSG(near_all(y[0], out, ref_resize(p, x, {1, 1, s2, s3}, out), 1e-4), "policy %s", policy);
  }
  // tf_crop_and_resize on random data, nearest and cubic, with extrapolation.
  for (const char* mode : {"nearest", "linear", "cubic"}) {
    RefResize p;
    p.mode = mode;
    p.coord = "tf_crop_and_resize";
    p.extrapolation = -3;
    std::vector<float> roi = {0, 0, 0.1f, -0.2f, 1, 1, 0.9f, 1.3f};
    auto y = OpHarness("Resize", 13).attr_string("mode", mode).attr_string("coordinate_transformation_mode", "tf_crop_and_resize")
                 .attr_float("extrapolation_value", -3).input(x).value_input(f32v(roi)).no_input().value_input(i64v({2, 3, 7, 4})).run();
    Shape out = {2, 3, 7, 4};
    std::vector<double> r(roi.begin(), roi.end());
    CHECK_MSG(near_all(y[0], out, ref_resize(p, x, {1, 1, 7.0 / 5, 4.0 / 6}, out, r), 1e-4), "tf_crop mode %s", mode);
  }
  CHECK(cases == 3 * 5 * 6 * 4);
}

// ------------------------------------------------------------------ shape math through the engine

#include "../../native/include/netlite.h"
#include "onnx_builder.h"

// The subgraph PyTorch exports for x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape. The planner must evaluate it at plan time for each batch size.
NETLITE_TEST(shape_pytorch_flatten_subgraph_end_to_end) {
  using namespace netlite_test;
  GraphSpec g;
  g.opset = 13;
  g.initializers.push_back(tensor_i64("zero", {}, {0}));
  g.initializers.push_back(tensor_i64("axes0", {1}, {0}));
  g.initializers.push_back(tensor_i64("minus1", {1}, {-1}));
  g.nodes.push_back(node("Shape", {"x"}, {"s"}, "shape"));
  g.nodes.push_back(node("Gather", {"s", "zero"}, {"n"}, "gather", {attr_int("axis", 0)}));
  g.nodes.push_back(node("Unsqueeze", {"n", "axes0"}, {"n1"}, "unsqueeze"));
  g.nodes.push_back(node("Concat", {"n1", "minus1"}, {"shp"}, "concat", {attr_int("axis", 0)}));
  g.nodes.push_back(node("Reshape", {"x", "shp"}, {"y"}, "reshape"));
  g.inputs.push_back(value_info("x", 1, {-1, 3, 4}));
  g.outputs.push_back(value_info("y", 1, {-1, 12}));
  const std::string bytes = model(g);
  netlite_model* m = nullptr;
  if (!CHECK_MSG(netlite_model_load(bytes.data(), bytes.size(), nullptr, &m) == NETLITE_OK, "%s", netlite_last_error()))
    return;
  netlite_session* s = nullptr;
  CHECK(netlite_session_create(m, &s) == NETLITE_OK);
  for (int64_t batch : {2, 5}) {
    std::vector<float> x(size_t(batch * 12));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
    int64_t dims[3] = {batch, 3, 4};
    CHECK(netlite_session_set_input(s, "x", NETLITE_DTYPE_FLOAT32, dims, 3, x.data(), x.size() * 4) == NETLITE_OK);
    if (!CHECK_MSG(netlite_session_run(s) == NETLITE_OK, "%s", netlite_last_error())) break;
    netlite_tensor out;
    CHECK(netlite_session_output(s, 0, &out) == NETLITE_OK);
    CHECK(out.ndim == 2 && out.dims[0] == batch && out.dims[1] == 12);
    CHECK(std::memcmp(out.data, x.data(), x.size() * 4) == 0);
  }
  netlite_session_free(s);
  netlite_model_free(m);
}
