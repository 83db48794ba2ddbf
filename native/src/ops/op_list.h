// THE registry: every op netlite implements, one line each (NETLITE_OP(OpType)).
// The lists are split by family so several people can add ops at once:
//   op_list_math.h   - elementwise, activations, reductions, quantization, misc
//   op_list_shape.h  - shape and data movement
//   op_list_nn.h     - convolution, pooling, normalisation, GEMM
// Adding an op: write ops/<op_name>.cc defining `extern const OpDef kOp_<OpType>`
// in namespace netlite::ops, add a NETLITE_OP line to one list, and list the file
// in native/src/MANIFEST. (No include guard: op_registry.cc includes it twice.)
#include "op_list_math.h"
#include "op_list_shape.h"
#include "op_list_nn.h"
#include "op_list_mxnet.h"
#include "op_list_quant.h"
