// MXNet-specific ops (domain "netlite.mxnet"), used by the MXNet importer where
// MXNet semantics have no ONNX equivalent. One line per op, as in op_list.h.
NETLITE_OP(MxReshape)
NETLITE_OP(MxReshapeLike)
