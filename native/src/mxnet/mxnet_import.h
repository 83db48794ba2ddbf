// MXNet importer: symbol JSON + NDArray-list params -> netlite Graph of ONNX ops
// (default domain at opset 13; MXNet-only semantics in domain "netlite.mxnet").
//
// Reads legacy (`param`, pair inputs, no mxnet_version) and NNVM (`attrs`,
// triple inputs) symbol files and applies the 0.8 -> 0.9 upgrade (missing aux
// inputs such as BatchNorm moving_mean/var become variables
// `<node>_<input name>`). Params keys `arg:<name>` / `aux:<name>` become
// initializers. Inference only: loss layers become their forward function
// (SoftmaxOutput -> softmax), Dropout and BlockGrad forward their input.
//
// Which variables are inputs: those listed in ImportOptions::inputs; when the
// list is not complete, also every variable used as data (not as a weight,
// bias, gamma, beta or moving statistic) that has no params entry. Anything
// else without a params entry is an error naming every such argument - never
// uninitialised memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../graph/graph.h"
#include "ndarray_file.h"

namespace netlite {
namespace mxnet {

// ONNX opset the importer emits for the default domain.
constexpr int kImportOpset = 13;
// Domain (and its version) of the MXNet-specific ops in ops/mx_*.cc.
constexpr const char* kMxDomain = "netlite.mxnet";
constexpr int kMxDomainVersion = 1;

struct InputSpec {
  std::string name;
  bool has_shape = false;  // false: rank and dims are known only when the input is bound
  Shape shape;             // -1 for a dim left free
  DType dtype = DType::Float32;
};

struct ImportOptions {
  // True (MXPredCreate): `inputs` lists every input and any other argument
  // without a params entry is an error. False: data arguments without params
  // entries become inputs too (shape unknown unless listed in `inputs`).
  bool inputs_complete = false;
  std::vector<InputSpec> inputs;
  // Outputs to expose instead of the symbol's heads (MXPredCreatePartialOut):
  // key K selects the internal output named "K_output" (or exactly K).
  std::vector<std::string> output_keys;
};

// What the caller of the importer may need besides the graph.
struct ImportReport {
  std::vector<std::string> arguments;       // every variable of the symbol, in file order
  std::vector<std::string> unused_inputs;   // names in ImportOptions::inputs the outputs do not depend on
  int mxnet_version = 0;                    // from the file's attrs; 800 (v0.8.0) when absent
};

// Builds the graph. Throws netlite::Error: InvalidModel (malformed JSON or
// graph, missing params, attribute values MXNet would reject), Unsupported
// (MXNet ops or attribute values netlite lacks, listing every such node).
Graph import_mxnet(const char* json, size_t json_size, const std::vector<NDArrayEntry>& params,
                   const ImportOptions& options, ImportReport* report = nullptr);

}  // namespace mxnet
}  // namespace netlite
