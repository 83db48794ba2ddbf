// passes::fuse_conv_residual on hand-built graphs: Conv -> Add(other) -> Relu
// becomes one Conv reading `other` as input 3, re-sorted when the residual's
// producer came later; no rewrite when the conv output is also a graph output or
// the Add's other operand is a constant (a broadcast bias).
#include <string>

#include "check.h"
#include "graph/graph.h"
#include "passes/passes.h"

namespace {

using netlite::Graph;
using netlite::Node;

int constant(Graph& g, const std::string& name, const netlite::Shape& shape) {
  const int v = g.add_value(name);
  netlite::Value& val = g.values[size_t(v)];
  val.is_constant = true;
  val.dtype = netlite::DType::Float32;
  val.shape = shape;
  val.has_shape = true;
  val.data = netlite::Tensor::allocate(netlite::DType::Float32, shape);
  return v;
}

Node node(const std::string& op, std::vector<int> in, std::vector<int> out) {
  Node n;
  n.name = op + std::to_string(out[0]);
  n.op_type = op;
  n.opset = 13;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// x -> Conv -> c; x -> Relu -> r (listed after the Add when `late`); Add(c, other) -> a; Relu(a) -> y.
struct Built {
  Graph g;
  int x, c, r, a, y;
};

Built build(bool late, bool const_other, bool c_is_output) {
  Built b;
  Graph& g = b.g;
  b.x = g.add_value("x");
  g.inputs.push_back(b.x);
  const int w = constant(g, "w", {4, 4, 3, 3}), bias = constant(g, "b", {4});
  b.c = g.add_value("c");
  b.r = g.add_value("r");
  b.a = g.add_value("a");
  b.y = g.add_value("y");
  const int other = const_other ? constant(g, "k", {1, 4, 1, 1}) : b.r;
  Node relu_x = node("Relu", {b.x}, {b.r});
  if (!late) g.nodes.push_back(relu_x);
  g.nodes.push_back(node("Conv", {b.x, w, bias}, {b.c}));
  g.nodes.push_back(node("Add", {b.c, other}, {b.a}));
  if (late) g.nodes.push_back(relu_x);
  g.nodes.push_back(node("Relu", {b.a}, {b.y}));
  g.outputs.push_back(b.y);
  g.outputs.push_back(b.r);
  if (c_is_output) g.outputs.push_back(b.c);
  return b;
}

}  // namespace

NETLITE_TEST(pass_fuse_conv_residual) {
  for (bool late : {false, true}) {
    Built b = build(late, false, false);
    CHECK(netlite::passes::fuse_conv_residual(b.g) == 1);
    CHECK(b.g.nodes.size() == 2);
    const Node& relu = b.g.nodes[0];
    const Node& conv = b.g.nodes[1];
    CHECK(relu.op_type == "Relu" && conv.op_type == "Conv");  // residual producer first
    CHECK(conv.inputs.size() == 4 && conv.inputs[3] == b.r);
    CHECK(conv.attr_int("netlite_fused_residual", 0) == 1);
    CHECK(conv.attr_string("netlite_fused_activation", "") == "Relu");
    CHECK(conv.outputs[0] == b.y);
  }
  {  // the conv output is also read by the caller: nothing changes
    Built b = build(false, false, true);
    CHECK(netlite::passes::fuse_conv_residual(b.g) == 0);
    CHECK(b.g.nodes.size() == 4);
  }
  {  // Add of a constant: a bias, left to the Add
    Built b = build(false, true, false);
    CHECK(netlite::passes::fuse_conv_residual(b.g) == 0);
    CHECK(b.g.nodes.size() == 4);
  }
}
