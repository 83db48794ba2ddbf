// ONNX importer: ModelProto bytes -> Graph. Hand-written over pb::Reader, so no
// protobuf library is needed. Validates structure (names, references, tensor
// sizes) but not op semantics, which belong to the op registry and planner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "../graph/graph.h"

namespace netlite {

// Called with each initializer's raw bytes once they are copied into the graph:
// the importer never reads those bytes again, so a loader that mapped the file
// may drop their pages and keep resident memory near the weights' size alone.
using ConsumedBytesFn = std::function<void(const uint8_t* data, size_t size)>;

// Parses a serialized ONNX ModelProto. Throws netlite::Error (InvalidModel,
// Unsupported) naming the byte offset, node or tensor at fault. Initializer data
// is copied once, into uninitialised storage (huge-page backed when large).
Graph import_onnx(const uint8_t* data, size_t size, const ConsumedBytesFn& consumed = nullptr);

// Parses one serialized TensorProto (as in ONNX test data files).
Tensor parse_onnx_tensor(const uint8_t* data, size_t size, std::string* name);

}  // namespace netlite
