// ONNX importer: ModelProto bytes -> Graph. Hand-written over pb::Reader, so no
// protobuf library is needed. Validates structure (names, references, tensor
// sizes) but not op semantics, which belong to the op registry and planner.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../graph/graph.h"

namespace netlite {

// Parses a serialized ONNX ModelProto. Throws netlite::Error (InvalidModel,
// Unsupported) naming the byte offset, node or tensor at fault.
Graph import_onnx(const uint8_t* data, size_t size);

// Parses one serialized TensorProto (as in ONNX test data files).
Tensor parse_onnx_tensor(const uint8_t* data, size_t size, std::string* name);

}  // namespace netlite
