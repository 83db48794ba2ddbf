// Integer ops of the "netlite" domain that passes/fuse_qdq.cc creates from QDQ
// patterns (see op_list.h).
NETLITE_OP(QAdd)
NETLITE_OP(QConv)
NETLITE_OP(QGlobalAveragePool)
NETLITE_OP(QLookup)
NETLITE_OP(QMatMul)
