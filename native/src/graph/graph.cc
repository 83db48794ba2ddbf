#include "graph.h"

#include <algorithm>
#include <unordered_map>

namespace netlite {

const char* attribute_kind_name(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::Float: return "float";
    case Attribute::Kind::Int: return "int";
    case Attribute::Kind::String: return "string";
    case Attribute::Kind::Tensor: return "tensor";
    case Attribute::Kind::Graph: return "graph";
    case Attribute::Kind::Floats: return "floats";
    case Attribute::Kind::Ints: return "ints";
    case Attribute::Kind::Strings: return "strings";
    case Attribute::Kind::Tensors: return "tensors";
    default: return "undefined";
  }
}

std::string Node::describe() const { return op_type + " '" + name + "'"; }

namespace graph_detail {
const Attribute* find_attr(const Node& n, const std::string& name, Attribute::Kind kind) {
  auto it = n.attrs.find(name);
  if (it == n.attrs.end()) return nullptr;
  if (it->second.kind != kind)
    fail(StatusCode::InvalidModel, n.describe(), ": attribute '", name, "' has type ",
         attribute_kind_name(it->second.kind), ", expected ", attribute_kind_name(kind));
  return &it->second;
}
}  // namespace graph_detail

int64_t Node::attr_int(const std::string& n, int64_t def) const {
  const Attribute* a = graph_detail::find_attr(*this, n, Attribute::Kind::Int);
  return a ? a->i : def;
}

float Node::attr_float(const std::string& n, float def) const {
  auto it = attrs.find(n);
  // Some exporters write integral values for float attributes; accept them.
  if (it != attrs.end() && it->second.kind == Attribute::Kind::Int) return float(it->second.i);
  const Attribute* a = graph_detail::find_attr(*this, n, Attribute::Kind::Float);
  return a ? a->f : def;
}

std::string Node::attr_string(const std::string& n, const std::string& def) const {
  const Attribute* a = graph_detail::find_attr(*this, n, Attribute::Kind::String);
  return a ? a->s : def;
}

std::vector<int64_t> Node::attr_ints(const std::string& n, const std::vector<int64_t>& def) const {
  const Attribute* a = graph_detail::find_attr(*this, n, Attribute::Kind::Ints);
  return a ? a->ints : def;
}

std::vector<float> Node::attr_floats(const std::string& n, const std::vector<float>& def) const {
  const Attribute* a = graph_detail::find_attr(*this, n, Attribute::Kind::Floats);
  return a ? a->floats : def;
}

const Tensor* Node::attr_tensor(const std::string& n) const {
  const Attribute* a = graph_detail::find_attr(*this, n, Attribute::Kind::Tensor);
  return a ? &a->t : nullptr;
}

int Graph::add_value(const std::string& name) {
  Value v;
  v.name = name;
  values.push_back(std::move(v));
  return int(values.size() - 1);
}

int Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return int(i);
  return -1;
}

void Graph::toposort() {
  const size_t nv = values.size();
  for (auto& v : values) v.producer = -1;
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (int o : nodes[n].outputs) {
      if (o < 0) continue;
      Value& v = values[size_t(o)];
      if (v.producer >= 0 || v.is_constant)
        fail(StatusCode::InvalidModel, nodes[n].describe(), ": output '", v.name,
             "' is already produced by another node or is an initializer");
      v.producer = int(n);
    }
  }
  std::vector<char> is_input(nv, 0);
  for (int i : inputs) is_input[size_t(i)] = 1;
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int i : nodes[n].inputs) {
      if (i < 0) continue;
      const Value& v = values[size_t(i)];
      if (v.producer < 0 && !v.is_constant && !is_input[size_t(i)])
        fail(StatusCode::InvalidModel, nodes[n].describe(), ": input '", v.name,
             "' is not a graph input, an initializer, or any node's output");
    }
  // Kahn's algorithm, stable with respect to the file's order.
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<int>> consumers(nodes.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (int i : nodes[n].inputs) {
      if (i < 0) continue;
      int p = values[size_t(i)].producer;
      if (p >= 0) { ++pending[n]; consumers[size_t(p)].push_back(int(n)); }
    }
  }
  std::vector<int> order, ready;
  for (size_t n = 0; n < nodes.size(); ++n) if (pending[n] == 0) ready.push_back(int(n));
  std::reverse(ready.begin(), ready.end());
  while (!ready.empty()) {
    int n = ready.back();
    ready.pop_back();
    order.push_back(n);
    std::vector<int> next;
    for (int c : consumers[size_t(n)]) if (--pending[size_t(c)] == 0) next.push_back(c);
    std::sort(next.rbegin(), next.rend());
    for (int c : next) ready.push_back(c);
  }
  if (order.size() != nodes.size()) {
    for (size_t n = 0; n < nodes.size(); ++n)
      if (pending[n] > 0) fail(StatusCode::InvalidModel, "graph has a cycle through ", nodes[n].describe());
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (int n : order) sorted.push_back(std::move(nodes[size_t(n)]));
  nodes = std::move(sorted);
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int o : nodes[n].outputs) if (o >= 0) values[size_t(o)].producer = int(n);
}

void Graph::prune() {
  std::vector<char> needed(values.size(), 0);
  for (int o : outputs) needed[size_t(o)] = 1;
  std::vector<char> keep(nodes.size(), 0);
  for (size_t k = nodes.size(); k-- > 0;) {
    bool used = false;
    for (int o : nodes[k].outputs) if (o >= 0 && needed[size_t(o)]) used = true;
    if (!used) continue;
    keep[k] = 1;
    for (int i : nodes[k].inputs) if (i >= 0) needed[size_t(i)] = 1;
  }
  std::vector<Node> kept;
  for (size_t k = 0; k < nodes.size(); ++k) if (keep[k]) kept.push_back(std::move(nodes[k]));
  nodes = std::move(kept);
  // Free the bytes of constants nothing reads any more (value slots stay to keep indices stable).
  for (size_t v = 0; v < values.size(); ++v)
    if (!needed[v] && values[v].is_constant) { values[v].data = Tensor(); values[v].is_constant = false; }
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int o : nodes[n].outputs) if (o >= 0) values[size_t(o)].producer = int(n);
}

}  // namespace netlite
