// Element types. Numeric values are ONNX TensorProto.DataType so the importer and
// the C API (netlite_dtype) can pass them through unchanged.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netlite {

enum class DType : int32_t {
  Undefined = 0,
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
};

// Size in bytes of one element; 0 for types netlite cannot hold in a tensor.
inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: case DType::Int32: case DType::UInt32: return 4;
    case DType::UInt8: case DType::Int8: case DType::Bool: return 1;
    case DType::UInt16: case DType::Int16: case DType::Float16: return 2;
    case DType::Int64: case DType::Float64: case DType::UInt64: return 8;
    default: return 0;
  }
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    case DType::UInt16: return "uint16";
    case DType::Int16: return "int16";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::String: return "string";
    case DType::Bool: return "bool";
    case DType::Float16: return "float16";
    case DType::Float64: return "float64";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    default: return "undefined";
  }
}

// Types the engine computes with. Others may appear in a model only as constants
// that are cast at load (e.g. float64 initializers), or are rejected at load.
inline bool dtype_supported(DType t) {
  switch (t) {
    case DType::Float32: case DType::UInt8: case DType::Int8: case DType::Int32:
    case DType::Int64: case DType::Bool:
      return true;
    default:
      return false;
  }
}

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::Float32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::Int8; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };

}  // namespace netlite
