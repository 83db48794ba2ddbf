#include "ndarray_file.h"

#include <cstring>

namespace netlite {
namespace mxnet {

const char* mx_type_name(int32_t flag) {
  switch (flag) {
    case kMxFloat32: return "float32";
    case kMxFloat64: return "float64";
    case kMxFloat16: return "float16";
    case kMxUint8: return "uint8";
    case kMxInt32: return "int32";
    case kMxInt8: return "int8";
    case kMxInt64: return "int64";
    case kMxBool: return "bool";
    case kMxInt16: return "int16";
    case kMxUint16: return "uint16";
    case kMxUint32: return "uint32";
    case kMxUint64: return "uint64";
    case kMxBfloat16: return "bfloat16";
    default: return "unknown";
  }
}

namespace ndarray_detail {

constexpr uint64_t kListMagic = 0x112;
constexpr uint32_t kV1Magic = 0xF993FAC8u;
constexpr uint32_t kV2Magic = 0xF993FAC9u;
constexpr uint32_t kV3Magic = 0xF993FACAu;
constexpr int64_t kMaxNdim = 32;

size_t mx_type_size(int32_t flag) {
  switch (flag) {
    case kMxFloat32: case kMxInt32: case kMxUint32: return 4;
    case kMxFloat64: case kMxInt64: case kMxUint64: return 8;
    case kMxFloat16: case kMxInt16: case kMxUint16: case kMxBfloat16: return 2;
    case kMxUint8: case kMxInt8: case kMxBool: return 1;
    default: return 0;
  }
}

// IEEE 754 binary16 -> binary32, exact (subnormals, inf and NaN included).
float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t man = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do { ++e; man <<= 1; } while ((man & 0x400) == 0);
      bits = sign | (uint32_t(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
    }
  } else if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, const char* what) : base_(p), p_(p), end_(p + n), what_(what) {}

  size_t offset() const { return size_t(p_ - base_); }
  size_t left() const { return size_t(end_ - p_); }
  const uint8_t* here() const { return p_; }
  const char* what() const { return what_; }

  void need(size_t n, const std::string& item) const {
    if (left() < n)
      fail(StatusCode::InvalidModel, what_, ": truncated file: ", item, " needs ", n, " bytes at offset ", offset(),
           " but only ", left(), " remain");
  }
  template <typename T>
  T read(const std::string& item) {
    need(sizeof(T), item);
    T v;
    std::memcpy(&v, p_, sizeof(T));  // little-endian hosts only (checked in read_ndarray_list)
    p_ += sizeof(T);
    return v;
  }
  void skip(size_t n, const std::string& item) {
    need(n, item);
    p_ += n;
  }

 private:
  const uint8_t* base_;
  const uint8_t* p_;
  const uint8_t* end_;
  const char* what_;
};

// Shape64: int32 ndim, then int64 dims. `known` is false for V3's unknown shapes (ndim -1 or a -1 dim).
Shape read_shape64(Cursor& c, const std::string& item, bool v3, bool* known) {
  int32_t ndim = c.read<int32_t>(item + " ndim");
  *known = true;
  if (v3 && ndim == -1) { *known = false; return Shape(); }
  if (ndim < 0 || ndim > kMaxNdim)
    fail(StatusCode::InvalidModel, c.what(), ": ", item, ": invalid ndim ", ndim, " at offset ", c.offset() - 4);
  c.need(size_t(ndim) * 8, item + " dims");
  Shape s(static_cast<size_t>(ndim));
  for (int32_t i = 0; i < ndim; ++i) {
    int64_t d = c.read<int64_t>(item);
    if (d == -1 && v3) { *known = false; d = 0; }
    else if (d < 0) fail(StatusCode::InvalidModel, c.what(), ": ", item, ": negative dim ", d, " at offset ", c.offset() - 8);
    s[size_t(i)] = d;
  }
  return s;
}

// Tensor of the netlite type a stored type flag becomes (see NDArrayEntry).
DType target_dtype(int32_t flag) {
  switch (flag) {
    case kMxUint8: return DType::UInt8;
    case kMxInt8: return DType::Int8;
    case kMxBool: return DType::Bool;
    case kMxInt32: case kMxInt16: case kMxUint16: return DType::Int32;
    case kMxInt64: case kMxUint32: case kMxUint64: return DType::Int64;
    default: return DType::Float32;
  }
}

void convert(int32_t flag, const uint8_t* src, size_t n, Tensor* t, const std::string& item) {
  switch (flag) {
    case kMxFloat32: case kMxUint8: case kMxInt8: case kMxInt32: case kMxInt64:
      if (n) std::memcpy(t->data, src, n * mx_type_size(flag));
      return;
    case kMxBool: {
      uint8_t* d = t->ptr<uint8_t>();
      for (size_t i = 0; i < n; ++i) d[i] = src[i] != 0;
      return;
    }
    case kMxFloat64: {
      float* d = t->ptr<float>();
      for (size_t i = 0; i < n; ++i) { double v; std::memcpy(&v, src + 8 * i, 8); d[i] = float(v); }
      return;
    }
    case kMxFloat16: {
      float* d = t->ptr<float>();
      for (size_t i = 0; i < n; ++i) { uint16_t v; std::memcpy(&v, src + 2 * i, 2); d[i] = half_to_float(v); }
      return;
    }
    case kMxBfloat16: {
      float* d = t->ptr<float>();
      for (size_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, src + 2 * i, 2);
        uint32_t bits = uint32_t(v) << 16;
        std::memcpy(&d[i], &bits, 4);
      }
      return;
    }
    case kMxInt16: {
      int32_t* d = t->ptr<int32_t>();
      for (size_t i = 0; i < n; ++i) { int16_t v; std::memcpy(&v, src + 2 * i, 2); d[i] = v; }
      return;
    }
    case kMxUint16: {
      int32_t* d = t->ptr<int32_t>();
      for (size_t i = 0; i < n; ++i) { uint16_t v; std::memcpy(&v, src + 2 * i, 2); d[i] = v; }
      return;
    }
    case kMxUint32: {
      int64_t* d = t->ptr<int64_t>();
      for (size_t i = 0; i < n; ++i) { uint32_t v; std::memcpy(&v, src + 4 * i, 4); d[i] = v; }
      return;
    }
    case kMxUint64: {
      int64_t* d = t->ptr<int64_t>();
      for (size_t i = 0; i < n; ++i) {
        uint64_t v;
        std::memcpy(&v, src + 8 * i, 8);
        if (v > uint64_t(INT64_MAX)) fail(StatusCode::Unsupported, item, ": uint64 value ", v, " does not fit int64");
        d[i] = int64_t(v);
      }
      return;
    }
    default: break;
  }
  fail(StatusCode::Internal, item, ": unhandled type flag ", flag);
}

NDArrayEntry read_record(Cursor& c, size_t index, const char* what) {
  const std::string item = std::string(what) + ": array #" + std::to_string(index);
  const std::string short_item = "array #" + std::to_string(index);
  const size_t start = c.offset();
  NDArrayEntry e;
  uint32_t magic = c.read<uint32_t>(short_item + " header");
  Shape shape;
  bool known = true;
  if (magic == kV2Magic || magic == kV3Magic) {
    e.version = magic == kV2Magic ? 2 : 3;
    int32_t stype = c.read<int32_t>(short_item + " storage type");
    if (stype == 1 || stype == 2)
      fail(StatusCode::Unsupported, item, " (at offset ", start, ") is a sparse ", stype == 1 ? "row_sparse" : "csr",
           " array; netlite reads dense arrays only (save it with .tostype('default'))");
    if (stype != 0 && stype != -1)
      fail(StatusCode::InvalidModel, item, " (at offset ", start, ") has unknown storage type ", stype);
    shape = read_shape64(c, short_item + " shape", e.version == 3, &known);
    if (e.version == 2 && shape.empty()) known = false;
  } else if (magic == kV1Magic) {
    e.version = 1;
    shape = read_shape64(c, short_item + " shape", false, &known);
    if (shape.empty()) known = false;
  } else {
    // Legacy: the word is the ndim, followed by uint32 dims.
    e.version = 0;
    if (magic > uint32_t(kMaxNdim))
      fail(StatusCode::InvalidModel, item, " at offset ", start, " starts with 0x", std::hex, magic, std::dec,
           ", which is neither an NDArray magic (V1-V3) nor a legacy ndim: not an MXNet NDArray file, or corrupt");
    c.need(size_t(magic) * 4, short_item + " dims");
    shape.resize(magic);
    for (uint32_t i = 0; i < magic; ++i) shape[i] = c.read<uint32_t>(short_item + " dims");
    if (shape.empty()) known = false;
  }
  if (!known) {
    e.empty = true;
    e.tensor.shape = shape;
    return e;
  }
  c.read<int32_t>(short_item + " device type");
  c.read<int32_t>(short_item + " device id");
  e.mx_dtype = c.read<int32_t>(short_item + " type flag");
  size_t es = mx_type_size(e.mx_dtype);
  if (es == 0)
    fail(StatusCode::Unsupported, item, " (at offset ", start, ") has unknown type flag ", e.mx_dtype);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > kMaxElements / d)
      fail(StatusCode::InvalidModel, item, " has shape ", shape_str(shape), " with too many elements");
    n *= d;
  }
  size_t bytes = size_t(n) * es;
  // The data must be in the file before anything is allocated for it.
  c.need(bytes, short_item + " data (shape " + shape_str(shape) + ", " + mx_type_name(e.mx_dtype) + ")");
  e.tensor = Tensor::allocate(target_dtype(e.mx_dtype), shape);
  convert(e.mx_dtype, c.here(), size_t(n), &e.tensor, item);
  c.skip(bytes, short_item + " data");
  return e;
}

}  // namespace ndarray_detail

std::vector<NDArrayEntry> read_ndarray_list(const uint8_t* data, size_t size, const char* what) {
  using namespace ndarray_detail;
  {
    const uint16_t probe = 1;
    uint8_t first;
    std::memcpy(&first, &probe, 1);
    if (first != 1) fail(StatusCode::Unsupported, what, ": NDArray files can only be read on little-endian hosts");
  }
  if (!data || size == 0) fail(StatusCode::InvalidModel, what, ": the file is empty");
  Cursor c(data, size, what);
  uint64_t magic = c.read<uint64_t>("list header");
  if (magic != kListMagic)
    fail(StatusCode::InvalidModel, what, ": not an MXNet NDArray file (header 0x", std::hex, magic, std::dec,
         ", expected 0x112)");
  c.read<uint64_t>("reserved word");
  uint64_t count = c.read<uint64_t>("array count");
  // Every record takes at least 4 bytes: a count beyond that is a lie.
  if (count > c.left() / 4)
    fail(StatusCode::InvalidModel, what, ": claims ", count, " arrays but only ", c.left(), " bytes follow");
  std::vector<NDArrayEntry> out;
  out.reserve(size_t(count));
  for (uint64_t i = 0; i < count; ++i) out.push_back(read_record(c, size_t(i), what));
  uint64_t names = c.read<uint64_t>("name count");
  if (names != 0 && names != count)
    fail(StatusCode::InvalidModel, what, ": has ", count, " arrays but ", names, " names");
  if (names > c.left() / 8)
    fail(StatusCode::InvalidModel, what, ": claims ", names, " names but only ", c.left(), " bytes follow");
  for (uint64_t i = 0; i < names; ++i) {
    const std::string item = "name #" + std::to_string(i);
    uint64_t len = c.read<uint64_t>(item + " length");
    if (len > c.left())
      fail(StatusCode::InvalidModel, what, ": truncated file: ", item, " is ", len, " bytes long at offset ", c.offset(),
           " but only ", c.left(), " remain");
    out[size_t(i)].name.assign(reinterpret_cast<const char*>(c.here()), size_t(len));
    c.skip(size_t(len), item);
  }
  return out;
}

Tensor to_float32(const Tensor& t) {
  if (t.dtype == DType::Float32) return t;
  Tensor f = Tensor::allocate(DType::Float32, t.shape);
  int64_t n = t.numel();
  float* d = f.ptr<float>();
  for (int64_t i = 0; i < n; ++i) d[i] = float(read_scalar(t, i));
  return f;
}

}  // namespace mxnet
}  // namespace netlite
