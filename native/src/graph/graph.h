// The graph IR every importer produces and every pass and the planner consume.
// Values are referenced by index; a node input of -1 is an omitted optional input.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.h"

namespace netlite {

struct Graph;

struct Attribute {
  enum class Kind { Undefined, Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors };
  Kind kind = Kind::Undefined;
  float f = 0.0f;
  int64_t i = 0;
  std::string s;
  netlite::Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<netlite::Tensor> tensors;
};

const char* attribute_kind_name(Attribute::Kind k);

struct Value {
  std::string name;
  DType dtype = DType::Undefined;   // Undefined when not declared in the model (inferred later)
  Shape shape;                      // declared shape; -1 for symbolic or unknown dims
  std::vector<std::string> dim_names;  // symbolic dim names (same length as shape, "" when fixed), may be empty
  bool has_shape = false;           // false when the model declares no shape at all
  bool is_constant = false;         // an initializer or a folded constant: `data` holds it
  netlite::Tensor data;             // constant contents (owned)
  int producer = -1;                // index of the node that writes it, -1 for inputs/constants
};

struct Node {
  std::string name;       // may be empty in the file; the importer fills "<op_type>_<index>"
  std::string op_type;
  std::string domain;     // "" for the default ONNX domain (ai.onnx)
  int opset = 0;          // version of the node's domain the model imports
  std::vector<int> inputs;   // value indices, -1 = omitted optional input
  std::vector<int> outputs;  // value indices, -1 = omitted optional output
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& n) const { return attrs.count(n) != 0; }
  // Typed accessors: return the default when absent; throw (naming the node) on a wrong kind.
  int64_t attr_int(const std::string& n, int64_t def) const;
  float attr_float(const std::string& n, float def) const;
  std::string attr_string(const std::string& n, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& n, const std::vector<int64_t>& def = {}) const;
  std::vector<float> attr_floats(const std::string& n, const std::vector<float>& def = {}) const;
  const Tensor* attr_tensor(const std::string& n) const;  // null when absent
  // "Conv 'conv1'" - the prefix every node error message starts with.
  std::string describe() const;
};

struct Graph {
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;        // topologically sorted once the importer is done
  std::vector<int> inputs;        // runtime inputs (initializers excluded)
  std::vector<int> outputs;
  std::map<std::string, int64_t> opsets;  // domain -> version ("" = ai.onnx)
  int64_t ir_version = 0;
  std::string producer;

  int add_value(const std::string& name);
  int find_value(const std::string& name) const;  // -1 when absent
  // Sorts nodes topologically and fills Value::producer; throws InvalidModel on a cycle,
  // a value produced twice, or an input that nothing produces.
  void toposort();
  // Drops nodes whose outputs reach no graph output, and values nothing uses.
  void prune();
};

}  // namespace netlite
