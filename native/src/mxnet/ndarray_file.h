// Reader of MXNet NDArray-list files: `.params` checkpoints and `.nd` files
// (mx.nd.save), in every version MXNet wrote:
//   legacy (2015/16: no per-array magic, uint32 dims), V1 (0xF993FAC8, int64 dims),
//   V2 (0xF993FAC9, storage type), V3 (0xF993FACA, numpy shape semantics).
// Layout per notes/mxnet.md section 3.3. All integers little-endian, no padding.
//
// Hostile-input rules: every read is bounds-checked, counts are checked against
// the bytes left before anything is reserved, and an array's data must be in
// the file before its storage is allocated - so the reader never allocates more
// than a small multiple of the file's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/tensor.h"

namespace netlite {
namespace mxnet {

// mshadow type flags, as stored in the files.
enum MxTypeFlag : int32_t {
  kMxFloat32 = 0, kMxFloat64 = 1, kMxFloat16 = 2, kMxUint8 = 3, kMxInt32 = 4, kMxInt8 = 5, kMxInt64 = 6,
  kMxBool = 7, kMxInt16 = 8, kMxUint16 = 9, kMxUint32 = 10, kMxUint64 = 11, kMxBfloat16 = 12,
};

const char* mx_type_name(int32_t flag);

struct NDArrayEntry {
  std::string name;       // "" when the file was saved from a list (no names)
  int version = 0;        // 0 legacy, 1, 2, 3
  int32_t mx_dtype = kMxFloat32;  // type flag as stored
  bool empty = false;     // a "none" array (no shape, no data)
  // Contents. float16, bfloat16 and float64 become float32; uint8, int8, int32,
  // int64 and bool keep their type; int16/uint16 widen to int32, uint32/uint64
  // to int64 (a uint64 above INT64_MAX is an error).
  Tensor tensor;
};

// Parses a whole NDArray-list file. `what` names it in errors ("params").
// Throws InvalidModel (malformed/truncated, naming the array and byte offset)
// or Unsupported (sparse storage, unknown dtype).
std::vector<NDArrayEntry> read_ndarray_list(const uint8_t* data, size_t size, const char* what = "params");

// A float32 copy of a numeric tensor (a view of the same bytes when it is float32 already).
Tensor to_float32(const Tensor& t);

}  // namespace mxnet
}  // namespace netlite
