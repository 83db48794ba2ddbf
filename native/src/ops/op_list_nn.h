// nn ops: convolution, pooling, normalisation, GEMM (see op_list.h).
NETLITE_OP(AveragePool)
NETLITE_OP(BatchNormalization)
NETLITE_OP(Conv)
NETLITE_OP(ConvTranspose)
NETLITE_OP(Gemm)
NETLITE_OP(GlobalAveragePool)
NETLITE_OP(GlobalMaxPool)
NETLITE_OP(InstanceNormalization)
NETLITE_OP(LayerNormalization)
NETLITE_OP(LRN)
NETLITE_OP(MatMul)
NETLITE_OP(MaxPool)
// Of the "netlite" domain: [1x1 Conv ->] depthwise Conv -> 1x1 Conv, fused by passes/fuse_conv.cc.
NETLITE_OP(DepthwiseBlock)
// Of the "netlite" domain: first-layer Conv -> MaxPool, fused by passes/fuse_conv.cc.
NETLITE_OP(ConvMaxPool)
