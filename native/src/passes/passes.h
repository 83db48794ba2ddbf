// Graph passes: small named rewrites run in order at load, each leaving a valid,
// topologically sorted graph (checked after each pass in debug builds of the
// tests). Each returns how many rewrites it made.
#pragma once

#include <vector>
#include <memory>

#include "../graph/graph.h"
#include "../ops/op.h"

namespace netlite {

class ThreadPool;

namespace passes {

// Nodes whose inputs are all constants are evaluated once and become constants
// (Constant nodes, weight DequantizeLinear, shape math on initializers, ...).
int fold_constants(Graph& g, ThreadPool& pool);

// Identity and inference-mode Dropout forward their input: consumers read the
// input directly. Kept only where the output is a graph output.
int eliminate_identity(Graph& g);

// Conv -> BatchNormalization with constant weights and statistics becomes one Conv.
int fold_batchnorm_into_conv(Graph& g);

// Conv -> Add of a constant that is one value per output channel (or one value)
// becomes one Conv with that constant added to its bias.
int fold_add_into_conv(Graph& g);

// Conv -> Relu / Clip (constant bounds) becomes one Conv with a fused epilogue
// (attributes netlite_fused_activation{,_min,_max}, read by the Conv op).
int fuse_conv_activation(Graph& g);

int fuse_conv_residual(Graph& g);

// [1x1 Conv ->] depthwise Conv -> 1x1 Conv [+ fused residual] (after the two
// passes above) becomes one netlite.DepthwiseBlock that runs band by band with
// its intermediate tensors in per-thread buffers.
int fuse_depthwise_block(Graph& g);

// A first-layer Conv (<= 4 input channels, stride 2, where the direct small_c
// kernel runs) [with its fused activation] -> MaxPool becomes one
// netlite.ConvMaxPool that pools each band of conv rows while it is in cache.
int fuse_conv_max_pool(Graph& g);

// QDQ patterns (DequantizeLinear -> op -> QuantizeLinear) become integer ops of
// the "netlite" domain (QConv, QMatMul, QAdd, QGlobalAveragePool, QLookup) where
// that is exact up to rounding; runs before fold_constants (see fuse_qdq.cc).
int fuse_qdq(Graph& g);

// Runs every pass the `optimize` option enables, in order.
void optimize(Graph& g, ThreadPool& pool, bool enabled);

}  // namespace passes
}  // namespace netlite
