#include "mxnet_import.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "json.h"

namespace netlite {
namespace mxnet {
namespace mx_import_detail {

// ---------------------------------------------------------------------------
// The symbol file, as read from JSON.

struct SymNode {
  std::string op;    // "null" for a variable
  std::string name;
  std::map<std::string, std::string> attrs;
  std::vector<std::pair<int, int>> inputs;  // (node id, output index)
};

struct Symbol {
  std::vector<SymNode> nodes;
  std::vector<std::pair<int, int>> heads;
  int version = 800;
};

constexpr size_t kMaxNodes = size_t(1) << 20;

[[noreturn]] void bad_json(const json::Value& at, const std::string& msg) {
  fail(StatusCode::InvalidModel, "MXNet symbol JSON: ", msg, " (at byte ", at.offset, ")");
}

int64_t json_index(const json::Value& v, const std::string& what) {
  if (!v.is_number() || !v.is_integer() || v.number < 0 || v.number > 2147483647.0)
    bad_json(v, what + " must be a non-negative integer");
  return int64_t(v.number);
}

std::string attr_text(const json::Value& v, const std::string& where) {
  switch (v.kind) {
    case json::Value::Kind::String: return v.text;
    case json::Value::Kind::Number: return v.text;
    case json::Value::Kind::Bool: return v.boolean ? "True" : "False";
    case json::Value::Kind::Null: return "None";
    default: bad_json(v, where + " must be a string, not an " + json::kind_name(v.kind));
  }
}

// Merges one attribute dict; `overwrite` false keeps keys already present.
void merge_attrs(const json::Value& dict, const std::string& where, bool overwrite, SymNode* n) {
  if (!dict.is_object()) bad_json(dict, where + " must be an object");
  for (const auto& kv : dict.members) {
    std::string v = attr_text(kv.second, where + " '" + kv.first + "'");
    if (overwrite) n->attrs[kv.first] = std::move(v);
    else n->attrs.emplace(kv.first, std::move(v));
  }
}

std::pair<int, int> read_entry(const json::Value& e, const std::string& what, size_t limit) {
  if (!e.is_array() || e.items.size() < 2 || e.items.size() > 3)
    bad_json(e, what + " must be [node, output] or [node, output, version]");
  int64_t id = json_index(e.items[0], what + " node id");
  int64_t idx = json_index(e.items[1], what + " output index");
  if (e.items.size() == 3) json_index(e.items[2], what + " version");
  if (size_t(id) >= limit) bad_json(e, what + " refers to node " + std::to_string(id) + ", which does not come before it");
  if (idx > 65535) bad_json(e, what + " has output index " + std::to_string(idx));
  return {int(id), int(idx)};
}

Symbol read_symbol(const char* text, size_t size) {
  json::Value root = json::parse(text, size, "MXNet symbol JSON");
  if (!root.is_object()) bad_json(root, "the document must be an object with \"nodes\" and \"heads\"");
  const json::Value* nodes = root.find("nodes");
  if (!nodes || !nodes->is_array()) bad_json(root, "missing \"nodes\" array (is this an MXNet symbol file?)");
  if (nodes->items.empty()) bad_json(*nodes, "\"nodes\" is empty");
  if (nodes->items.size() > kMaxNodes) bad_json(*nodes, "too many nodes");
  Symbol s;
  s.nodes.reserve(nodes->items.size());
  for (size_t i = 0; i < nodes->items.size(); ++i) {
    const json::Value& jn = nodes->items[i];
    const std::string where = "node #" + std::to_string(i);
    if (!jn.is_object()) bad_json(jn, where + " must be an object");
    SymNode n;
    const json::Value* op = jn.find("op");
    if (!op || !op->is_string()) bad_json(jn, where + " has no \"op\" string");
    n.op = op->text;
    const json::Value* name = jn.find("name");
    if (name && !name->is_string()) bad_json(*name, where + " \"name\" must be a string");
    n.name = name ? name->text : std::string();
    if (n.name.empty()) n.name = (n.op == "null" ? "var" : n.op) + std::to_string(i);
    // NNVM writes "attrs"; older files "attr" (user attrs) and "param" (op params).
    if (const json::Value* a = jn.find("attrs")) merge_attrs(*a, where + " attrs", true, &n);
    if (const json::Value* a = jn.find("attr")) merge_attrs(*a, where + " attr", false, &n);
    if (const json::Value* a = jn.find("param")) merge_attrs(*a, where + " param", false, &n);
    const json::Value* inputs = jn.find("inputs");
    if (inputs) {
      if (!inputs->is_array()) bad_json(*inputs, where + " \"inputs\" must be an array");
      for (const json::Value& e : inputs->items) n.inputs.push_back(read_entry(e, where + " input", i));
    }
    if (n.op == "null" && !n.inputs.empty()) bad_json(jn, where + " ('" + n.name + "') is a variable with inputs");
    if (const json::Value* sg = jn.find("subgraphs"))
      if (sg->is_array() && !sg->items.empty())
        fail(StatusCode::Unsupported, "MXNet symbol: node '", n.name, "' (", n.op, ") has subgraphs, which netlite does not support");
    s.nodes.push_back(std::move(n));
  }
  const json::Value* heads = root.find("heads");
  if (!heads || !heads->is_array()) bad_json(root, "missing \"heads\" array");
  if (heads->items.empty()) bad_json(*heads, "\"heads\" is empty: the symbol has no outputs");
  for (const json::Value& h : heads->items) s.heads.push_back(read_entry(h, "head", s.nodes.size()));
  if (const json::Value* arg_nodes = root.find("arg_nodes")) {
    if (!arg_nodes->is_array()) bad_json(*arg_nodes, "\"arg_nodes\" must be an array");
    for (const json::Value& a : arg_nodes->items)
      if (size_t(json_index(a, "arg_nodes entry")) >= s.nodes.size()) bad_json(a, "arg_nodes entry is out of range");
  }
  if (const json::Value* attrs = root.find("attrs")) {
    if (const json::Value* ver = attrs->find("mxnet_version")) {
      // ["int", 10300]
      if (ver->is_array() && ver->items.size() == 2 && ver->items[1].is_number() && ver->items[1].is_integer() &&
          ver->items[1].number >= 0 && ver->items[1].number < 1e8)
        s.version = int(ver->items[1].number);
      else
        bad_json(*ver, "\"mxnet_version\" must be [\"int\", <version>]");
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// Attribute values (all strings in the file; MXNet/dmlc syntax).

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_int(const std::string& raw, int64_t* out) {
  std::string s = trim(raw);
  if (!s.empty() && (s.back() == 'L' || s.back() == 'l')) s.pop_back();  // Python 2 longs: "3L"
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') { neg = s[0] == '-'; ++i; }
  if (i == s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + uint64_t(s[i] - '0');
    if (v > uint64_t(INT64_MAX)) return false;
  }
  *out = neg ? -int64_t(v) : int64_t(v);
  return true;
}

constexpr int64_t kNone = INT64_MIN;  // a "None" element of a tuple

// "(3, 3)", "[3,3]", "(1,)", "()", "3"; elements may be None when allow_none.
bool parse_tuple(const std::string& raw, bool allow_none, std::vector<int64_t>* out) {
  std::string s = trim(raw);
  out->clear();
  if (s.empty()) return false;
  if (s.front() == '(' || s.front() == '[') {
    char close = s.front() == '(' ? ')' : ']';
    if (s.back() != close) return false;
    std::string body = s.substr(1, s.size() - 2);
    if (trim(body).empty()) return true;
    size_t start = 0;
    for (;;) {
      size_t comma = body.find(',', start);
      std::string item = trim(body.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      bool last = comma == std::string::npos;
      if (item.empty()) {
        if (!last || out->empty()) return false;  // only "(1,)" may end with a comma
      } else if (allow_none && item == "None") {
        out->push_back(kNone);
      } else {
        int64_t v;
        if (!parse_int(item, &v)) return false;
        out->push_back(v);
      }
      if (last) break;
      start = comma + 1;
      if (trim(body.substr(start)).empty()) break;  // trailing comma
    }
    return out->size() <= 64;
  }
  if (allow_none && s == "None") { out->push_back(kNone); return true; }
  int64_t v;
  if (!parse_int(s, &v)) return false;
  out->push_back(v);
  return true;
}

// Read access to one node's attributes; every error names the node.
class OpAttrs {
 public:
  explicit OpAttrs(const SymNode& n) : n_(n) {}

  std::string where() const { return "MXNet node '" + n_.name + "' (" + n_.op + ")"; }

  [[noreturn]] void bad(const std::string& key, const std::string& expected) const {
    auto it = n_.attrs.find(key);
    std::string v = it == n_.attrs.end() ? std::string() : it->second;
    if (v.size() > 80) v = v.substr(0, 80) + "...";
    fail(StatusCode::InvalidModel, where(), ": attribute ", key, "='", v, "' is not ", expected);
  }
  [[noreturn]] void missing(const std::string& key) const {
    fail(StatusCode::InvalidModel, where(), ": required attribute '", key, "' is missing");
  }

  // Present and not "None".
  bool has(const std::string& key) const {
    auto it = n_.attrs.find(key);
    return it != n_.attrs.end() && trim(it->second) != "None";
  }
  const std::string& raw(const std::string& key) const { return n_.attrs.find(key)->second; }

  std::string str(const std::string& key, const std::string& def) const { return has(key) ? trim(raw(key)) : def; }

  int64_t integer(const std::string& key, int64_t def) const {
    if (!has(key)) return def;
    int64_t v;
    if (!parse_int(raw(key), &v)) {
      // dmlc accepts "2.0" for ints only by accident; real files write integers.
      bad(key, "an integer");
    }
    return v;
  }
  int64_t integer_req(const std::string& key) const {
    if (!has(key)) missing(key);
    return integer(key, 0);
  }
  double real(const std::string& key, double def) const {
    if (!has(key)) return def;
    double v;
    if (!json::parse_double(raw(key), &v)) bad(key, "a number");
    return v;
  }
  bool flag(const std::string& key, bool def) const {
    if (!has(key)) return def;
    std::string v = lower(trim(raw(key)));
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    bad(key, "a boolean (True or False)");
  }
  std::vector<int64_t> tuple(const std::string& key, const std::vector<int64_t>& def = {}) const {
    if (!has(key)) return def;
    std::vector<int64_t> v;
    if (!parse_tuple(raw(key), false, &v)) bad(key, "a tuple of integers");
    return v;
  }
  std::vector<int64_t> tuple_req(const std::string& key) const {
    if (!has(key)) missing(key);
    return tuple(key);
  }
  // Elements may be None (kNone).
  std::vector<int64_t> opt_tuple(const std::string& key) const {
    if (!has(key)) return {};
    std::vector<int64_t> v;
    if (!parse_tuple(raw(key), true, &v)) bad(key, "a tuple of integers or None");
    return v;
  }
  // A lower-case enum value that must be one of `allowed` (first is the default when def is null).
  std::string choice(const std::string& key, const char* def, std::initializer_list<const char*> allowed) const {
    if (!has(key)) {
      if (!def) missing(key);
      return def;
    }
    std::string v = lower(trim(raw(key)));
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return v;
      list += list.empty() ? "" : ", ";
      list += a;
    }
    fail(StatusCode::Unsupported, where(), ": ", key, "='", trim(raw(key)), "' is not supported (netlite supports ", list, ")");
  }

 private:
  const SymNode& n_;
};

// ---------------------------------------------------------------------------
// Graph-building helpers.

Attribute attr_i(int64_t v) { Attribute a; a.kind = Attribute::Kind::Int; a.i = v; return a; }
Attribute attr_f(double v) { Attribute a; a.kind = Attribute::Kind::Float; a.f = float(v); return a; }
Attribute attr_s(const std::string& v) { Attribute a; a.kind = Attribute::Kind::String; a.s = v; return a; }
Attribute attr_is(const std::vector<int64_t>& v) { Attribute a; a.kind = Attribute::Kind::Ints; a.ints = v; return a; }

using Attrs = std::map<std::string, Attribute>;

class Importer;

// What a mapping function sees: the MXNet node, its attributes, and helpers
// that add ONNX nodes and constants to the graph.
class Ctx {
 public:
  Ctx(Importer& im, int id, const SymNode& node, const std::vector<std::string>& slots)
      : im_(im), id_(id), node_(node), a(node), slots_(slots) {}

  const SymNode& node() const { return node_; }
  size_t num_inputs() const { return std::max(node_.inputs.size(), slots_.size()); }
  // Value of input i (a variable is materialised on first use).
  int in(size_t i);
  // Value of input i when it is a constant (params entry), else null.
  const Tensor* const_in(size_t i);
  // Adds a node; `final_outputs` true names its outputs after the MXNet node's outputs.
  std::vector<int> add(const char* op, const std::vector<int>& inputs, size_t num_outputs, Attrs attrs = {},
                       bool final_outputs = false, const char* domain = "");
  // Adds a node whose outputs take the given value names (made unique).
  std::vector<int> add_named(const char* op, const std::vector<int>& inputs, const std::vector<std::string>& out_names,
                             Attrs attrs, const std::string& node_name, const char* domain = "");
  // Name of the MXNet node's output i ("<name>_output" or "<name>_output<i>").
  std::string out_name(size_t i) const;
  // The graph value v (valid until the next value is added).
  const Value& value(int v) const;
  // mxnet_version of the file (800 when it has none).
  int version() const;
  int add1(const char* op, const std::vector<int>& inputs, Attrs attrs = {}, bool final_output = false) {
    return add(op, inputs, 1, std::move(attrs), final_output)[0];
  }
  int constant(const std::string& suffix, Tensor t);
  int scalar(double v);
  int ints(const std::vector<int64_t>& v);
  [[noreturn]] void unsupported(const std::string& what) const {
    fail(StatusCode::Unsupported, a.where(), ": ", what);
  }
  [[noreturn]] void invalid(const std::string& what) const { fail(StatusCode::InvalidModel, a.where(), ": ", what); }

 private:
  Importer& im_;
  int id_;
  const SymNode& node_;

 public:
  const OpAttrs a;

 private:
  const std::vector<std::string>& slots_;
};

using MapFn = std::vector<int> (*)(Ctx&);
using SlotFn = std::vector<std::string> (*)(const OpAttrs&);

struct OpEntry {
  const char* name;
  MapFn map;
  SlotFn slots;  // named inputs (for the 0.8 upgrade and error messages); null: data inputs only
};

const OpEntry* find_entry(const std::string& op);

bool is_param_slot(const std::string& slot) {
  return slot == "weight" || slot == "bias" || slot == "gamma" || slot == "beta" || slot == "moving_mean" ||
         slot == "moving_var";
}

class Importer {
 public:
  Importer(const Symbol& sym, const std::vector<NDArrayEntry>& params, const ImportOptions& opts)
      : sym_(sym), opts_(opts), outs_(sym.nodes.size()) {
    for (const NDArrayEntry& e : params) {
      std::string key;
      if (e.name.compare(0, 4, "arg:") == 0 || e.name.compare(0, 4, "aux:") == 0) key = e.name.substr(4);
      else continue;  // MXNet ignores keys without a prefix, and so do we
      if (!params_.emplace(key, &e).second)
        fail(StatusCode::InvalidModel, "MXNet params: '", key, "' appears twice (as arg: and aux:, or repeated)");
    }
    for (const InputSpec& in : opts.inputs) {
      if (in.name.empty()) fail(StatusCode::InvalidArgument, "MXNet import: an input has an empty name");
      if (!declared_.emplace(in.name, &in).second)
        fail(StatusCode::InvalidArgument, "MXNet import: input '", in.name, "' is given twice");
    }
  }

  Graph run(ImportReport* report);

  // --- used by Ctx
  int variable(const std::string& name, const std::string& slot, const std::string& consumer);
  int entry_value(const std::pair<int, int>& e, const std::string& slot, const std::string& consumer);
  std::string unique_name(const std::string& base) {
    std::string n = base;
    for (int k = 1; used_names_.count(n) || reserved_.count(n); ++k) n = base + "_" + std::to_string(k);
    used_names_.insert(n);
    return n;
  }
  int new_value(const std::string& base) { return g_.add_value(unique_name(base)); }
  Graph& graph() { return g_; }
  const Symbol& symbol() const { return sym_; }
  std::string output_name(int id, size_t i) const {
    const SymNode& n = sym_.nodes[size_t(id)];
    return visible_outputs(id) == 1 ? n.name + "_output" : n.name + "_output" + std::to_string(i);
  }
  size_t visible_outputs(int id) const {
    const SymNode& n = sym_.nodes[size_t(id)];
    if (n.op == "SliceChannel" || n.op == "split") {
      OpAttrs a(n);
      int64_t k = a.integer("num_outputs", 1);
      return k > 0 && k <= 65536 ? size_t(k) : 1;
    }
    return 1;
  }

 private:
  std::vector<std::pair<int, int>> select_outputs();

  const Symbol& sym_;
  const ImportOptions& opts_;
  Graph g_;
  std::unordered_map<std::string, const NDArrayEntry*> params_;
  std::unordered_map<std::string, const InputSpec*> declared_;
  std::unordered_map<std::string, int> variables_;  // materialised variables by name
  std::set<std::string> used_names_;
  std::set<std::string> reserved_;  // names of the symbol's variables: node outputs never take them
  std::vector<std::vector<int>> outs_;  // values of each mapped node's outputs
  std::vector<std::string> missing_;
};

int Importer::variable(const std::string& name, const std::string& slot, const std::string& consumer) {
  auto it = variables_.find(name);
  if (it != variables_.end()) return it->second;
  // Variables keep their names (they are the keys of inputs and params); node
  // outputs avoid the symbol's variable names, so only a synthetic upgrade
  // variable can collide with one.
  if (used_names_.count(name))
    fail(StatusCode::InvalidModel, "MXNet symbol: variable '", name, "' has the same name as another value");
  used_names_.insert(name);
  int v = g_.add_value(name);
  variables_.emplace(name, v);
  Value& val = g_.values[size_t(v)];
  auto d = declared_.find(name);
  auto p = params_.find(name);
  if (d != declared_.end()) {
    const InputSpec& s = *d->second;
    val.dtype = s.dtype;
    val.has_shape = s.has_shape;
    val.shape = s.has_shape ? s.shape : Shape();
    g_.inputs.push_back(v);
  } else if (p != params_.end()) {
    const NDArrayEntry& e = *p->second;
    if (e.empty)
      fail(StatusCode::InvalidModel, "MXNet params: '", e.name, "' (", consumer, ") is an empty (none) array");
    val.is_constant = true;
    val.data = e.tensor;  // shares the bytes: no copy
    val.dtype = e.tensor.dtype;
    val.shape = e.tensor.shape;
    val.has_shape = true;
  } else if (opts_.inputs_complete || is_param_slot(slot)) {
    std::string prefix = (slot == "moving_mean" || slot == "moving_var") ? "aux:" : "arg:";
    missing_.push_back("'" + name + "' (" + slot + " of " + consumer + "; expected params key '" + prefix + name + "')");
    val.dtype = DType::Float32;
  } else {
    val.dtype = DType::Float32;
    val.has_shape = false;
    g_.inputs.push_back(v);
  }
  return v;
}

int Importer::entry_value(const std::pair<int, int>& e, const std::string& slot, const std::string& consumer) {
  const SymNode& src = sym_.nodes[size_t(e.first)];
  if (src.op == "null") {
    if (e.second != 0) fail(StatusCode::InvalidModel, "MXNet symbol: ", consumer, " reads output ", e.second, " of variable '", src.name, "'");
    return variable(src.name, slot, consumer);
  }
  const std::vector<int>& outs = outs_[size_t(e.first)];
  if (size_t(e.second) >= outs.size())
    fail(StatusCode::InvalidModel, "MXNet symbol: ", consumer, " reads output ", e.second, " of node '", src.name, "' (",
         src.op, "), which has ", outs.size(), " output(s)");
  return outs[size_t(e.second)];
}

int Ctx::in(size_t i) {
  const std::string slot = i < slots_.size() ? slots_[i] : (num_inputs() == 1 ? "data" : "arg" + std::to_string(i));
  const std::string consumer = node_.op + " '" + node_.name + "'";
  if (i < node_.inputs.size()) return im_.entry_value(node_.inputs[i], slot, consumer);
  if (i < slots_.size()) return im_.variable(node_.name + "_" + slots_[i], slot, consumer);  // 0.8 -> 0.9 upgrade
  fail(StatusCode::InvalidModel, a.where(), ": input ", i, " is missing (the node has ", node_.inputs.size(), ")");
}

const Tensor* Ctx::const_in(size_t i) {
  int v = in(i);
  const Value& val = im_.graph().values[size_t(v)];
  return val.is_constant ? &val.data : nullptr;
}

std::vector<int> Ctx::add(const char* op, const std::vector<int>& inputs, size_t num_outputs, Attrs attrs,
                          bool final_outputs, const char* domain) {
  std::vector<std::string> names;
  for (size_t k = 0; k < num_outputs; ++k)
    names.push_back(final_outputs ? out_name(k) : node_.name + "/" + op + (num_outputs > 1 ? std::to_string(k) : ""));
  return add_named(op, inputs, names, std::move(attrs), final_outputs ? node_.name : node_.name + "/" + op, domain);
}

std::vector<int> Ctx::add_named(const char* op, const std::vector<int>& inputs, const std::vector<std::string>& out_names,
                                Attrs attrs, const std::string& node_name, const char* domain) {
  Node n;
  n.op_type = op;
  n.domain = domain;
  n.opset = domain[0] ? kMxDomainVersion : kImportOpset;
  n.name = node_name;
  n.inputs = inputs;
  n.attrs = std::move(attrs);
  for (const std::string& base : out_names) n.outputs.push_back(im_.new_value(base));
  // Declared output types, so a model whose input rank is left free (no planning at
  // load) still reports its outputs' types: MXNet graphs keep the data type except here.
  DType dt = DType::Undefined;
  std::string o = op;
  if (o == "Cast") dt = DType(n.attrs["to"].i);
  else if (o == "Equal" || o == "Greater" || o == "Less" || o == "Not") dt = DType::Bool;
  else if (o == "ArgMax" || o == "Shape") dt = DType::Int64;
  else if (o == "Gather" && !inputs.empty()) dt = value(inputs[0]).dtype;
  else if (o == "Where" && inputs.size() > 1) dt = value(inputs[1]).dtype;
  else if (!inputs.empty() && inputs[0] >= 0) dt = value(inputs[0]).dtype;
  for (int v : n.outputs) im_.graph().values[size_t(v)].dtype = dt;
  std::vector<int> outs = n.outputs;
  im_.graph().nodes.push_back(std::move(n));
  return outs;
}

std::string Ctx::out_name(size_t i) const { return im_.output_name(id_, i); }

const Value& Ctx::value(int v) const { return im_.graph().values[size_t(v)]; }

int Ctx::version() const { return im_.symbol().version; }

int Ctx::constant(const std::string& suffix, Tensor t) {
  int v = im_.new_value(node_.name + "/" + suffix);
  Value& val = im_.graph().values[size_t(v)];
  val.dtype = t.dtype;
  val.shape = t.shape;
  val.has_shape = true;
  val.is_constant = true;
  val.data = std::move(t);
  return v;
}

int Ctx::scalar(double v) {
  Tensor t = Tensor::allocate(DType::Float32, Shape());
  t.ptr<float>()[0] = float(v);
  return constant("scalar", std::move(t));
}

int Ctx::ints(const std::vector<int64_t>& v) {
  Tensor t = Tensor::allocate(DType::Int64, Shape{int64_t(v.size())});
  for (size_t i = 0; i < v.size(); ++i) t.ptr<int64_t>()[i] = v[i];
  return constant("const", std::move(t));
}

// ---------------------------------------------------------------------------
// Shared pieces of several mappings.

// y under the shape of `like` (a view). ONNX would say Reshape(y, Shape(like)),
// but netlite's planner knows Shape only when its input's values are known.
int reshape_like(Ctx& c, int y, int like, bool final) {
  return c.add("ReshapeLike", {y, like}, 1, {}, final, kMxDomain)[0];
}

// Softmax over everything but axis 0, keeping the input's shape (MXNet's
// SoftmaxOutput default and SoftmaxActivation instance mode).
int flat_softmax(Ctx& c, int x) {
  int flat = c.add1("Flatten", {x}, {{"axis", attr_i(1)}});
  int sm = c.add1("Softmax", {flat}, {{"axis", attr_i(1)}});
  return reshape_like(c, sm, x, true);
}

// Spatial params of Convolution/Deconvolution/Pooling: a tuple of length k (default `fill`).
std::vector<int64_t> spatial(const Ctx& c, const char* key, size_t k, int64_t fill, bool allow_empty_default = true) {
  std::vector<int64_t> v = c.a.tuple(key);
  if (v.empty() && allow_empty_default) return std::vector<int64_t>(k, fill);
  if (v.size() != k)
    c.invalid(std::string(key) + " has " + std::to_string(v.size()) + " values but the kernel has " + std::to_string(k));
  return v;
}

std::vector<int64_t> twice(const std::vector<int64_t>& p) {
  std::vector<int64_t> out = p;
  out.insert(out.end(), p.begin(), p.end());
  return out;
}

void check_layout(Ctx& c) {
  std::string layout = c.a.str("layout", "None");
  if (layout != "None" && layout != "NCW" && layout != "NCHW" && layout != "NCDHW")
    c.unsupported("layout '" + layout + "' is not supported (netlite runs channel-first layouts: NCW, NCHW, NCDHW)");
}

std::vector<int64_t> checked_kernel(Ctx& c) {
  std::vector<int64_t> kernel = c.a.tuple_req("kernel");
  if (kernel.empty() || kernel.size() > 3) c.invalid("kernel must have 1 to 3 values");
  for (int64_t k : kernel)
    if (k <= 0) c.invalid("kernel values must be positive");
  return kernel;
}

void check_num(Ctx& c, const Tensor* w, int64_t expected, const char* attr, size_t axis = 0) {
  if (w && w->shape.size() > axis && w->shape[axis] != expected)
    c.invalid(std::string(attr) + "=" + std::to_string(expected) + " but the weight has shape " + shape_str(w->shape));
}

// ---------------------------------------------------------------------------
// Slot (named input) lists.

std::vector<std::string> slots_conv(const OpAttrs& a) {
  if (a.flag("no_bias", false)) return {"data", "weight"};
  return {"data", "weight", "bias"};
}
std::vector<std::string> slots_deconv(const OpAttrs& a) {
  if (a.flag("no_bias", true)) return {"data", "weight"};
  return {"data", "weight", "bias"};
}
std::vector<std::string> slots_batchnorm(const OpAttrs&) { return {"data", "gamma", "beta", "moving_mean", "moving_var"}; }
std::vector<std::string> slots_instancenorm(const OpAttrs&) { return {"data", "gamma", "beta"}; }
std::vector<std::string> slots_leaky(const OpAttrs& a) {
  if (lower(a.str("act_type", "leaky")) == "prelu") return {"data", "gamma"};
  return {"data"};
}
std::vector<std::string> slots_embedding(const OpAttrs&) { return {"data", "weight"}; }
std::vector<std::string> slots_loss(const OpAttrs&) { return {"data", "label"}; }
std::vector<std::string> slots_binary(const OpAttrs&) { return {"lhs", "rhs"}; }
std::vector<std::string> slots_upsampling(const OpAttrs& a) {
  if (lower(a.str("sample_type", "nearest")) == "bilinear") return {"data", "weight"};
  return {};
}

// ---------------------------------------------------------------------------
// One mapping function per MXNet op (aliases share a row of the table below).

std::vector<int> map_convolution(Ctx& c) {
  check_layout(c);
  std::vector<int64_t> kernel = checked_kernel(c);
  size_t k = kernel.size();
  std::vector<int64_t> stride = spatial(c, "stride", k, 1), dilate = spatial(c, "dilate", k, 1), pad = spatial(c, "pad", k, 0);
  int64_t num_filter = c.a.integer_req("num_filter");
  int64_t group = c.a.integer("num_group", 1);
  if (group <= 0 || num_filter <= 0) c.invalid("num_filter and num_group must be positive");
  bool no_bias = c.a.flag("no_bias", false);
  std::vector<int> ins = {c.in(0), c.in(1)};
  check_num(c, c.const_in(1), num_filter, "num_filter");
  if (!no_bias) ins.push_back(c.in(2));
  Attrs at = {{"kernel_shape", attr_is(kernel)}, {"strides", attr_is(stride)}, {"dilations", attr_is(dilate)},
              {"pads", attr_is(twice(pad))}, {"group", attr_i(group)}};
  return {c.add1("Conv", ins, std::move(at), true)};
}

std::vector<int> map_deconvolution(Ctx& c) {
  check_layout(c);
  std::vector<int64_t> kernel = checked_kernel(c);
  size_t k = kernel.size();
  std::vector<int64_t> stride = spatial(c, "stride", k, 1), dilate = spatial(c, "dilate", k, 1), pad = spatial(c, "pad", k, 0),
                       adj = spatial(c, "adj", k, 0), target = spatial(c, "target_shape", k, 0);
  int64_t num_filter = c.a.integer_req("num_filter");
  int64_t group = c.a.integer("num_group", 1);
  if (group <= 0 || num_filter <= 0) c.invalid("num_filter and num_group must be positive");
  bool no_bias = c.a.flag("no_bias", true);
  std::vector<int> ins = {c.in(0), c.in(1)};
  check_num(c, c.const_in(1), num_filter / group, "num_filter/num_group", 1);
  if (!no_bias) ins.push_back(c.in(2));
  Attrs at = {{"kernel_shape", attr_is(kernel)}, {"strides", attr_is(stride)}, {"dilations", attr_is(dilate)},
              {"group", attr_i(group)}};
  bool has_target = false;
  for (int64_t t : target) if (t > 0) has_target = true;
  if (has_target) {
    // MXNet derives pad and adj from target_shape (pad = ceil(total/2), the odd
    // remainder at the end): ONNX output_shape with the default auto_pad does the same split.
    at["output_shape"] = attr_is(target);
  } else {
    at["pads"] = attr_is(twice(pad));
    at["output_padding"] = attr_is(adj);
  }
  return {c.add1("ConvTranspose", ins, std::move(at), true)};
}

std::vector<int> map_batchnorm(Ctx& c) {
  double eps = c.a.real("eps", 1e-3);
  bool fix_gamma = c.a.flag("fix_gamma", true);
  int64_t axis = c.a.integer("axis", 1);
  if (axis != 1) c.unsupported("axis=" + std::to_string(axis) + " is not supported (only the channel axis 1)");
  int x = c.in(0);
  int beta = c.in(2), mean = c.in(3), var = c.in(4);
  int scale;
  if (fix_gamma) {
    // fix_gamma=True (the default) means gamma is 1 whatever the params hold.
    const Tensor* like = c.const_in(2);
    if (!like) like = c.const_in(4);
    if (!like) c.unsupported("fix_gamma=True needs beta or moving_var in the params to size gamma");
    Tensor ones = Tensor::allocate(DType::Float32, like->shape);
    for (int64_t i = 0; i < ones.numel(); ++i) ones.ptr<float>()[i] = 1.0f;
    scale = c.constant("gamma_fixed", std::move(ones));
  } else {
    scale = c.in(1);
  }
  return {c.add1("BatchNormalization", {x, scale, beta, mean, var}, {{"epsilon", attr_f(eps)}}, true)};
}

std::vector<int> map_instancenorm(Ctx& c) {
  double eps = c.a.real("eps", 1e-3);
  return {c.add1("InstanceNormalization", {c.in(0), c.in(1), c.in(2)}, {{"epsilon", attr_f(eps)}}, true)};
}

int softsign(Ctx& c, int x, bool final) {
  int ab = c.add1("Abs", {x});
  int den = c.add1("Add", {ab, c.scalar(1.0)});
  return c.add1("Div", {x, den}, {}, final);
}

std::vector<int> map_activation(Ctx& c) {
  std::string t = c.a.choice("act_type", nullptr, {"relu", "sigmoid", "tanh", "softrelu", "softsign", "log_sigmoid", "mish"});
  int x = c.in(0);
  if (t == "relu") return {c.add1("Relu", {x}, {}, true)};
  if (t == "sigmoid") return {c.add1("Sigmoid", {x}, {}, true)};
  if (t == "tanh") return {c.add1("Tanh", {x}, {}, true)};
  if (t == "softrelu") return {c.add1("Softplus", {x}, {}, true)};
  if (t == "softsign") return {softsign(c, x, true)};
  if (t == "log_sigmoid") {
    int sp = c.add1("Softplus", {c.add1("Neg", {x})});
    return {c.add1("Neg", {sp}, {}, true)};
  }
  // mish: x * tanh(softplus(x))
  int th = c.add1("Tanh", {c.add1("Softplus", {x})});
  return {c.add1("Mul", {x, th}, {}, true)};
}

std::vector<int> map_leaky_relu(Ctx& c) {
  std::string t = c.a.choice("act_type", "leaky", {"leaky", "prelu", "elu", "selu", "gelu", "rrelu"});
  double slope = c.a.real("slope", 0.25);
  int x = c.in(0);
  if (t == "leaky") return {c.add1("LeakyRelu", {x}, {{"alpha", attr_f(slope)}}, true)};
  if (t == "elu") return {c.add1("Elu", {x}, {{"alpha", attr_f(slope)}}, true)};
  if (t == "selu") return {c.add1("Selu", {x}, {}, true)};  // ONNX defaults are MXNet's constants
  if (t == "rrelu") {
    // Inference uses the mean of the random slope's range.
    double lo = c.a.real("lower_bound", 0.125), hi = c.a.real("upper_bound", 0.334);
    return {c.add1("LeakyRelu", {x}, {{"alpha", attr_f((lo + hi) / 2)}}, true)};
  }
  if (t == "gelu") {
    // 0.5 * x * (1 + erf(x / sqrt(2)))
    int e = c.add1("Erf", {c.add1("Div", {x, c.scalar(std::sqrt(2.0))})});
    int one = c.add1("Add", {e, c.scalar(1.0)});
    int half = c.add1("Mul", {x, c.scalar(0.5)});
    return {c.add1("Mul", {half, one}, {}, true)};
  }
  // prelu: gamma (C,) applies along axis 1 whatever the rank. View x as
  // (N, C, rest) so ONNX PRelu's trailing broadcast of a (C, 1) slope matches.
  int gamma = c.in(1);
  int slope_v;
  if (c.value(gamma).is_constant) {
    Tensor t2 = c.value(gamma).data;  // same bytes, shape (C, 1)
    if (t2.shape.size() != 1) c.invalid("prelu gamma must be 1-D, got shape " + shape_str(t2.shape));
    t2.shape = Shape{t2.shape[0], 1};
    slope_v = c.constant("slope", std::move(t2));
  } else {
    slope_v = c.add1("Reshape", {gamma, c.ints({-1, 1})});
  }
  int x3 = c.add1("Reshape", {x, c.ints({0, 0, -1})});
  int y3 = c.add1("PRelu", {x3, slope_v});
  return {reshape_like(c, y3, x, true)};
}

std::vector<int> map_pooling(Ctx& c) {
  check_layout(c);
  bool global = c.a.flag("global_pool", false);
  std::string type = c.a.choice("pool_type", "max", {"max", "avg", "sum", "lp"});
  std::string conv = c.a.choice("pooling_convention", "valid", {"valid", "full", "same"});
  bool cip = c.a.flag("count_include_pad", true);
  int64_t p = c.a.integer("p_value", 2);
  int x = c.in(0);
  if (global) {
    if (type == "max") return {c.add1("GlobalMaxPool", {x}, {}, true)};
    if (type == "avg") return {c.add1("GlobalAveragePool", {x}, {}, true)};
    if (type == "lp") c.unsupported("global lp pooling is not supported");
    // sum over the spatial axes; their count comes from the kernel when given (legacy files), else 2-D.
    std::vector<int64_t> kernel = c.a.tuple("kernel");
    size_t k = kernel.empty() ? 2 : kernel.size();
    std::vector<int64_t> axes;
    for (size_t i = 0; i < k; ++i) axes.push_back(int64_t(i) + 2);
    return {c.add1("ReduceSum", {x, c.ints(axes)}, {{"keepdims", attr_i(1)}}, true)};
  }
  std::vector<int64_t> kernel = checked_kernel(c);
  size_t k = kernel.size();
  std::vector<int64_t> stride = spatial(c, "stride", k, 1), pad = spatial(c, "pad", k, 0);
  Attrs at = {{"kernel_shape", attr_is(kernel)}, {"strides", attr_is(stride)}};
  if (conv == "same") {
    at["auto_pad"] = attr_s("SAME_UPPER");
  } else {
    at["pads"] = attr_is(twice(pad));
    // MXNet "full" = 1 + ceil((x + 2p - k) / s): ONNX ceil_mode (Caffe-converted nets such as MTCNN).
    at["ceil_mode"] = attr_i(conv == "full" ? 1 : 0);
  }
  if (type == "max") return {c.add1("MaxPool", {x}, std::move(at), true)};
  if (type == "avg") {
    at["count_include_pad"] = attr_i(cip ? 1 : 0);
    return {c.add1("AveragePool", {x}, std::move(at), true)};
  }
  if (type == "lp") {
    at.erase("ceil_mode");
    at["p"] = attr_i(p);
    return {c.add1("LpPool", {x}, std::move(at), true)};
  }
  // sum = average (padding counted) times the window size
  at["count_include_pad"] = attr_i(1);
  int avg = c.add1("AveragePool", {x}, std::move(at));
  double win = 1;
  for (int64_t kk : kernel) win *= double(kk);
  return {c.add1("Mul", {avg, c.scalar(win)}, {}, true)};
}

std::vector<int> map_fully_connected(Ctx& c) {
  int64_t num_hidden = c.a.integer_req("num_hidden");
  bool no_bias = c.a.flag("no_bias", false);
  bool flatten = c.a.flag("flatten", true);
  int x = c.in(0), w = c.in(1);
  check_num(c, c.const_in(1), num_hidden, "num_hidden");
  int b = no_bias ? -1 : c.in(2);
  if (flatten) {
    int xf = c.add1("Flatten", {x}, {{"axis", attr_i(1)}});
    std::vector<int> ins = {xf, w};
    if (b >= 0) ins.push_back(b);
    return {c.add1("Gemm", ins, {{"transB", attr_i(1)}}, true)};
  }
  // flatten=False applies to the last axis: x @ W^T (+ b); the transpose folds at load.
  int wt = c.add1("Transpose", {w}, {{"perm", attr_is({1, 0})}});
  if (b < 0) return {c.add1("MatMul", {x, wt}, {}, true)};
  int y = c.add1("MatMul", {x, wt});
  return {c.add1("Add", {y, b}, {}, true)};
}

std::vector<int> map_softmax_output(Ctx& c) {
  bool multi = c.a.flag("multi_output", false);
  bool preserve = c.a.flag("preserve_shape", false);
  int x = c.in(0);  // the label (input 1) is not used at inference
  if (multi) return {c.add1("Softmax", {x}, {{"axis", attr_i(1)}}, true)};
  if (preserve) return {c.add1("Softmax", {x}, {{"axis", attr_i(-1)}}, true)};
  return {flat_softmax(c, x)};
}

std::vector<int> map_softmax_activation(Ctx& c) {
  std::string mode = c.a.choice("mode", "instance", {"instance", "channel"});
  int x = c.in(0);
  if (mode == "channel") return {c.add1("Softmax", {x}, {{"axis", attr_i(1)}}, true)};
  return {flat_softmax(c, x)};
}

int temperature(Ctx& c, int x) {
  double t = c.a.real("temperature", 1.0);
  if (c.a.flag("use_length", false)) c.unsupported("use_length=True is not supported");
  if (t == 1.0) return x;
  if (t == 0.0) c.invalid("temperature must not be 0");
  return c.add1("Div", {x, c.scalar(t)});
}

std::vector<int> map_softmax(Ctx& c) {
  int x = temperature(c, c.in(0));
  return {c.add1("Softmax", {x}, {{"axis", attr_i(c.a.integer("axis", -1))}}, true)};
}

std::vector<int> map_log_softmax(Ctx& c) {
  int x = temperature(c, c.in(0));
  return {c.add1("LogSoftmax", {x}, {{"axis", attr_i(c.a.integer("axis", -1))}}, true)};
}

std::vector<int> map_flatten(Ctx& c) { return {c.add1("Flatten", {c.in(0)}, {{"axis", attr_i(1)}}, true)}; }

std::vector<int> map_reshape(Ctx& c) {
  std::vector<int64_t> shape = c.a.tuple("shape");
  bool reverse = c.a.flag("reverse", false);
  if (shape.empty() && c.a.has("target_shape")) {
    // Legacy (pre-0.9) form: one 0 in target_shape is inferred; keep_highest keeps dim 0.
    shape = c.a.tuple("target_shape");
    for (int64_t& d : shape) if (d == 0) d = -1;
    if (c.a.flag("keep_highest", false) && !shape.empty()) shape[0] = 0;
  }
  if (shape.empty()) c.invalid("shape is missing or empty");
  bool simple = !reverse;
  int minus_ones = 0;
  for (int64_t d : shape) {
    if (d < -4) c.invalid("shape " + shape_str(shape) + " has the invalid code " + std::to_string(d));
    if (d < -1) simple = false;
    if (d == -1) ++minus_ones;
  }
  if (minus_ones > 1 && simple) c.invalid("shape may infer only one dim (-1)");
  int x = c.in(0);
  if (simple) return {c.add1("Reshape", {x, c.ints(shape)}, {}, true)};
  // -2/-3/-4 and reverse have no ONNX equivalent: netlite.mxnet Reshape implements them.
  Attrs at = {{"shape", attr_is(shape)}, {"reverse", attr_i(reverse ? 1 : 0)}};
  return c.add("Reshape", {x}, 1, std::move(at), true, kMxDomain);
}

std::vector<int> map_reshape_like(Ctx& c) {
  Attrs at;
  for (const char* k : {"lhs_begin", "lhs_end", "rhs_begin", "rhs_end"})
    if (c.a.has(k)) at[k] = attr_i(c.a.integer(k, 0));
  return c.add("ReshapeLike", {c.in(0), c.in(1)}, 1, std::move(at), true, kMxDomain);
}

std::vector<int> map_upsampling(Ctx& c) {
  int64_t scale = c.a.integer_req("scale");
  if (scale < 1) c.invalid("scale must be at least 1");
  std::string type = c.a.choice("sample_type", nullptr, {"nearest", "bilinear"});
  int64_t num_args = c.a.integer("num_args", 1);
  int x = c.in(0);
  if (type == "nearest") {
    if (num_args != 1 || c.node().inputs.size() != 1) c.unsupported("nearest UpSampling of several inputs is not supported");
    // out[y][x] = in[y / scale][x / scale]: asymmetric coordinates, floor.
    Tensor scales = Tensor::allocate(DType::Float32, Shape{4});
    float* sp = scales.ptr<float>();
    sp[0] = sp[1] = 1.0f;
    sp[2] = sp[3] = float(scale);
    int sc = c.constant("scales", std::move(scales));
    Attrs at = {{"mode", attr_s("nearest")}, {"coordinate_transformation_mode", attr_s("asymmetric")},
                {"nearest_mode", attr_s("floor")}};
    return {c.add1("Resize", {x, -1, sc}, std::move(at), true)};
  }
  // bilinear: MXNet's depthwise Deconvolution with the (learned or bilinear-initialised) weight input.
  int64_t num_filter = c.a.integer_req("num_filter");
  int64_t k = 2 * scale - scale % 2, pad = scale / 2;  // pad = ceil((scale - 1) / 2)
  Attrs at = {{"kernel_shape", attr_is({k, k})}, {"strides", attr_is({scale, scale})},
              {"pads", attr_is({pad, pad, pad, pad})}, {"group", attr_i(num_filter)}};
  return {c.add1("ConvTranspose", {x, c.in(1)}, std::move(at), true)};
}

std::vector<int> map_concat(Ctx& c) {
  int64_t dim = c.a.integer("dim", 1);
  size_t n = c.node().inputs.size();
  if (n == 0) c.invalid("has no inputs");
  if (c.a.has("num_args") && c.a.integer("num_args", 0) != int64_t(n))
    c.invalid("num_args=" + std::to_string(c.a.integer("num_args", 0)) + " but the node has " + std::to_string(n) + " inputs");
  std::vector<int> ins;
  for (size_t i = 0; i < n; ++i) ins.push_back(c.in(i));
  return {c.add1("Concat", ins, {{"axis", attr_i(dim)}}, true)};
}

std::vector<int> map_add_n(Ctx& c) {
  size_t n = c.node().inputs.size();
  if (n == 0) c.invalid("has no inputs");
  std::vector<int> ins;
  for (size_t i = 0; i < n; ++i) ins.push_back(c.in(i));
  return {c.add1("Sum", ins, {}, true)};
}

std::vector<int> map_identity(Ctx& c) { return {c.in(0)}; }

std::vector<int> map_logistic_regression_output(Ctx& c) { return {c.add1("Sigmoid", {c.in(0)}, {}, true)}; }

std::vector<int> map_lrn(Ctx& c) {
  int64_t nsize = c.a.integer_req("nsize");
  if (nsize <= 0) c.invalid("nsize must be positive");
  // MXNet: x / (knorm + alpha/nsize * sum(x^2))^beta - the same formula as ONNX LRN.
  Attrs at = {{"size", attr_i(nsize)}, {"alpha", attr_f(c.a.real("alpha", 1e-4))}, {"beta", attr_f(c.a.real("beta", 0.75))},
              {"bias", attr_f(c.a.real("knorm", 2.0))}};
  return {c.add1("LRN", {c.in(0)}, std::move(at), true)};
}

std::vector<int> map_slice_channel(Ctx& c) {
  int64_t n = c.a.integer_req("num_outputs");
  if (n <= 0 || n > 65536) c.invalid("num_outputs must be positive");
  int64_t axis = c.a.integer("axis", 1);
  bool squeeze = c.a.flag("squeeze_axis", false);
  int x = c.in(0);
  if (!squeeze) return c.add("Split", {x}, size_t(n), {{"axis", attr_i(axis)}}, true);
  std::vector<int> parts = c.add("Split", {x}, size_t(n), {{"axis", attr_i(axis)}});
  std::vector<int> outs;
  int axes = c.ints({axis});
  for (size_t i = 0; i < parts.size(); ++i)
    outs.push_back(c.add_named("Squeeze", {parts[i], axes}, {c.out_name(i)}, {},
                               c.node().name + "/squeeze" + std::to_string(i))[0]);
  return outs;
}

// Binary ops, elementwise or numpy-broadcast (ONNX broadcasts both ways).
template <const char* Op>
std::vector<int> map_binary(Ctx& c) {
  return {c.add1(Op, {c.in(0), c.in(1)}, {}, true)};
}

// Comparisons give 1.0/0.0 in MXNet.
template <const char* Op, bool Negate>
std::vector<int> map_compare(Ctx& c) {
  int r = c.add1(Op, {c.in(0), c.in(1)});
  if (Negate) r = c.add1("Not", {r});
  return {c.add1("Cast", {r}, {{"to", attr_i(int64_t(DType::Float32))}}, true)};
}

// x op scalar, or scalar op x when Reversed.
template <const char* Op, bool Reversed>
std::vector<int> map_scalar(Ctx& c) {
  int x = c.in(0);
  int s = c.scalar(c.a.real("scalar", 0.0));
  return {c.add1(Op, Reversed ? std::vector<int>{s, x} : std::vector<int>{x, s}, {}, true)};
}

template <const char* Op, bool Negate>
std::vector<int> map_compare_scalar(Ctx& c) {
  int x = c.in(0);
  int r = c.add1(Op, {x, c.scalar(c.a.real("scalar", 0.0))});
  if (Negate) r = c.add1("Not", {r});
  return {c.add1("Cast", {r}, {{"to", attr_i(int64_t(DType::Float32))}}, true)};
}

template <const char* Op>
std::vector<int> map_unary(Ctx& c) {
  return {c.add1(Op, {c.in(0)}, {}, true)};
}

std::vector<int> map_softsign(Ctx& c) { return {softsign(c, c.in(0), true)}; }

std::vector<int> map_square(Ctx& c) {
  int x = c.in(0);
  return {c.add1("Mul", {x, x}, {}, true)};
}

std::vector<int> map_rsqrt(Ctx& c) { return {c.add1("Reciprocal", {c.add1("Sqrt", {c.in(0)})}, {}, true)}; }

std::vector<int> map_clip(Ctx& c) {
  if (!c.a.has("a_min") || !c.a.has("a_max")) c.invalid("a_min and a_max are required");
  int lo = c.scalar(c.a.real("a_min", 0)), hi = c.scalar(c.a.real("a_max", 0));
  return {c.add1("Clip", {c.in(0), lo, hi}, {}, true)};
}

std::vector<int> map_hard_sigmoid(Ctx& c) {
  Attrs at = {{"alpha", attr_f(c.a.real("alpha", 0.2))}, {"beta", attr_f(c.a.real("beta", 0.5))}};
  return {c.add1("HardSigmoid", {c.in(0)}, std::move(at), true)};
}

std::vector<int> map_transpose(Ctx& c) {
  std::vector<int64_t> axes = c.a.tuple("axes");
  Attrs at;
  if (!axes.empty()) at["perm"] = attr_is(axes);
  return {c.add1("Transpose", {c.in(0)}, std::move(at), true)};
}

std::vector<int> map_expand_dims(Ctx& c) {
  int64_t axis = c.a.integer_req("axis");
  int x = c.in(0);
  return {c.add1("Unsqueeze", {x, c.ints({axis})}, {}, true)};
}

std::vector<int> map_squeeze(Ctx& c) {
  std::vector<int64_t> axes = c.a.tuple("axis");
  int x = c.in(0);
  if (axes.empty()) return {c.add1("Squeeze", {x}, {}, true)};
  return {c.add1("Squeeze", {x, c.ints(axes)}, {}, true)};
}

std::vector<int> map_slice_axis(Ctx& c) {
  int64_t axis = c.a.integer_req("axis");
  int64_t begin = c.a.integer_req("begin");
  int64_t end = c.a.has("end") ? c.a.integer("end", 0) : INT64_MAX;
  int x = c.in(0);
  return {c.add1("Slice", {x, c.ints({begin}), c.ints({end}), c.ints({axis})}, {}, true)};
}

std::vector<int> map_slice(Ctx& c) {
  std::vector<int64_t> begin = c.a.opt_tuple("begin"), end = c.a.opt_tuple("end"), step = c.a.opt_tuple("step");
  if (begin.empty() && !c.a.has("begin")) c.invalid("begin is required");
  if (end.size() != begin.size()) c.invalid("begin and end must have the same length");
  if (!step.empty() && step.size() != begin.size()) c.invalid("step must have the same length as begin");
  std::vector<int64_t> starts, ends, axes, steps;
  for (size_t i = 0; i < begin.size(); ++i) {
    int64_t st = step.empty() || step[i] == kNone ? 1 : step[i];
    if (st == 0) c.invalid("step must not be 0");
    starts.push_back(begin[i] != kNone ? begin[i] : (st > 0 ? 0 : INT64_MAX));
    ends.push_back(end[i] != kNone ? end[i] : (st > 0 ? INT64_MAX : INT64_MIN));
    axes.push_back(int64_t(i));
    steps.push_back(st);
  }
  int x = c.in(0);
  return {c.add1("Slice", {x, c.ints(starts), c.ints(ends), c.ints(axes), c.ints(steps)}, {}, true)};
}

std::vector<int> map_embedding(Ctx& c) {
  int64_t output_dim = c.a.integer_req("output_dim");
  int x = c.in(0), w = c.in(1);
  check_num(c, c.const_in(1), output_dim, "output_dim", 1);
  int idx = c.add1("Cast", {x}, {{"to", attr_i(int64_t(DType::Int64))}});
  return {c.add1("Gather", {w, idx}, {{"axis", attr_i(0)}}, true)};
}

std::vector<int> map_cast(Ctx& c) {
  std::string t = c.a.choice("dtype", nullptr, {"float32", "float16", "float64", "uint8", "int8", "int32", "int64", "bool"});
  DType d = DType::Float32;
  if (t == "uint8") d = DType::UInt8;
  else if (t == "int8") d = DType::Int8;
  else if (t == "int32") d = DType::Int32;
  else if (t == "int64") d = DType::Int64;
  else if (t == "bool") d = DType::Bool;
  else if (t != "float32") c.unsupported("casting to " + t + " is not supported (netlite computes in float32)");
  return {c.add1("Cast", {c.in(0)}, {{"to", attr_i(int64_t(d))}}, true)};
}

std::vector<int> map_pad(Ctx& c) {
  std::string mode = c.a.choice("mode", "constant", {"constant", "edge", "reflect"});
  std::vector<int64_t> pw = c.a.tuple_req("pad_width");
  if (pw.size() % 2) c.invalid("pad_width must have an even number of values");
  // MXNet (b0, a0, b1, a1, ...) -> ONNX (b0, b1, ..., a0, a1, ...)
  std::vector<int64_t> pads(pw.size());
  size_t r = pw.size() / 2;
  for (size_t i = 0; i < r; ++i) {
    pads[i] = pw[2 * i];
    pads[r + i] = pw[2 * i + 1];
  }
  int x = c.in(0);
  std::vector<int> ins = {x, c.ints(pads)};
  if (mode == "constant") ins.push_back(c.scalar(c.a.real("constant_value", 0.0)));
  return {c.add1("Pad", ins, {{"mode", attr_s(mode)}}, true)};
}

std::vector<int> map_l2_normalization(Ctx& c) {
  double eps = c.a.real("eps", 1e-10);
  std::string mode = c.a.choice("mode", "instance", {"instance", "channel", "spatial"});
  int x = c.in(0);
  // out = x / sqrt(sum(x^2) + eps) over everything but axis 0 (instance), axis 1 (channel)
  // or the spatial axes (spatial); x is viewed as 2-D or (N, C, -1) so the rank need not be known.
  int v, axes;
  if (mode == "instance") { v = c.add1("Flatten", {x}, {{"axis", attr_i(1)}}); axes = c.ints({1}); }
  else if (mode == "channel") { v = c.add1("Reshape", {x, c.ints({0, 0, -1})}); axes = c.ints({1}); }
  else { v = c.add1("Reshape", {x, c.ints({0, 0, -1})}); axes = c.ints({2}); }
  int sq = c.add1("Mul", {v, v});
  int sum = c.add1("ReduceSum", {sq, axes}, {{"keepdims", attr_i(1)}});
  int norm = c.add1("Sqrt", {c.add1("Add", {sum, c.scalar(eps)})});
  int y = c.add1("Div", {v, norm});
  return {reshape_like(c, y, x, true)};
}

template <const char* Op>
std::vector<int> map_reduce(Ctx& c) {
  std::vector<int64_t> axes = c.a.tuple("axis");
  bool keepdims = c.a.flag("keepdims", false);
  if (c.a.flag("exclude", false)) c.unsupported("exclude=True is not supported");
  int x = c.in(0);
  Attrs at = {{"keepdims", attr_i(keepdims ? 1 : 0)}};
  if (std::string(Op) == "ReduceSum") {  // axes became an input in opset 13
    if (axes.empty()) return {c.add1(Op, {x}, std::move(at), true)};
    return {c.add1(Op, {x, c.ints(axes)}, std::move(at), true)};
  }
  if (!axes.empty()) at["axes"] = attr_is(axes);
  return {c.add1(Op, {x}, std::move(at), true)};
}

std::vector<int> map_argmax(Ctx& c) {
  // Before 0.9.5, axis=-1 meant "unset" (the flattened input); MXNet's upgrade rewrites it.
  bool unset = !c.a.has("axis") || (c.version() < 905 && c.a.integer("axis", 0) == -1);
  if (unset) c.unsupported("argmax over the flattened input (axis unset) is not supported");
  Attrs at = {{"axis", attr_i(c.a.integer("axis", 0))}, {"keepdims", attr_i(c.a.flag("keepdims", false) ? 1 : 0)}};
  int r = c.add1("ArgMax", {c.in(0)}, std::move(at));
  return {c.add1("Cast", {r}, {{"to", attr_i(int64_t(DType::Float32))}}, true)};  // MXNet returns float indices
}

std::vector<int> map_where(Ctx& c) {
  int cond = c.add1("Cast", {c.in(0)}, {{"to", attr_i(int64_t(DType::Bool))}});
  return {c.add1("Where", {cond, c.in(1), c.in(2)}, {}, true)};
}

// Names the ONNX ops take in the template mappings above.
constexpr char kAdd[] = "Add", kSub[] = "Sub", kMul[] = "Mul", kDiv[] = "Div", kMax[] = "Max", kMin[] = "Min",
               kPow[] = "Pow", kEqual[] = "Equal", kGreater[] = "Greater", kLess[] = "Less", kAbs[] = "Abs",
               kExp[] = "Exp", kLog[] = "Log", kSqrt[] = "Sqrt", kNeg[] = "Neg", kReciprocal[] = "Reciprocal",
               kRelu[] = "Relu", kSigmoid[] = "Sigmoid", kTanh[] = "Tanh", kFloor[] = "Floor", kCeil[] = "Ceil",
               kErf[] = "Erf", kSoftplus[] = "Softplus", kReduceSum[] = "ReduceSum", kReduceMean[] = "ReduceMean",
               kReduceMax[] = "ReduceMax", kReduceMin[] = "ReduceMin";

// THE table: every MXNet op the importer maps, aliases included.
const OpEntry kOpTable[] = {
    {"Convolution", map_convolution, slots_conv},
    {"Convolution_v1", map_convolution, slots_conv},
    {"Deconvolution", map_deconvolution, slots_deconv},
    {"BatchNorm", map_batchnorm, slots_batchnorm},
    {"BatchNorm_v1", map_batchnorm, slots_batchnorm},
    {"InstanceNorm", map_instancenorm, slots_instancenorm},
    {"Activation", map_activation, nullptr},
    {"LeakyReLU", map_leaky_relu, slots_leaky},
    {"Pooling", map_pooling, nullptr},
    {"Pooling_v1", map_pooling, nullptr},
    {"FullyConnected", map_fully_connected, slots_conv},
    {"SoftmaxOutput", map_softmax_output, slots_loss},
    {"Softmax", map_softmax_output, slots_loss},  // the pre-0.9 name of SoftmaxOutput
    {"SoftmaxActivation", map_softmax_activation, nullptr},
    {"softmax", map_softmax, nullptr},
    {"log_softmax", map_log_softmax, nullptr},
    {"Flatten", map_flatten, nullptr},
    {"flatten", map_flatten, nullptr},
    {"Reshape", map_reshape, nullptr},
    {"reshape", map_reshape, nullptr},
    {"reshape_like", map_reshape_like, slots_binary},
    {"UpSampling", map_upsampling, slots_upsampling},
    {"Concat", map_concat, nullptr},
    {"concat", map_concat, nullptr},
    {"ElementWiseSum", map_add_n, nullptr},
    {"add_n", map_add_n, nullptr},
    {"Dropout", map_identity, nullptr},
    {"BlockGrad", map_identity, nullptr},
    {"stop_gradient", map_identity, nullptr},
    {"identity", map_identity, nullptr},
    {"_copy", map_identity, nullptr},
    {"MakeLoss", map_identity, nullptr},
    {"make_loss", map_identity, nullptr},
    {"LinearRegressionOutput", map_identity, slots_loss},
    {"MAERegressionOutput", map_identity, slots_loss},
    {"SVMOutput", map_identity, slots_loss},
    {"LogisticRegressionOutput", map_logistic_regression_output, slots_loss},
    {"LRN", map_lrn, nullptr},
    {"SliceChannel", map_slice_channel, nullptr},
    {"split", map_slice_channel, nullptr},
    {"elemwise_add", map_binary<kAdd>, slots_binary},
    {"_add", map_binary<kAdd>, slots_binary},
    {"_plus", map_binary<kAdd>, slots_binary},
    {"_Plus", map_binary<kAdd>, slots_binary},
    {"broadcast_add", map_binary<kAdd>, slots_binary},
    {"broadcast_plus", map_binary<kAdd>, slots_binary},
    {"elemwise_sub", map_binary<kSub>, slots_binary},
    {"_sub", map_binary<kSub>, slots_binary},
    {"_minus", map_binary<kSub>, slots_binary},
    {"_Minus", map_binary<kSub>, slots_binary},
    {"broadcast_sub", map_binary<kSub>, slots_binary},
    {"broadcast_minus", map_binary<kSub>, slots_binary},
    {"elemwise_mul", map_binary<kMul>, slots_binary},
    {"_mul", map_binary<kMul>, slots_binary},
    {"_Mul", map_binary<kMul>, slots_binary},
    {"broadcast_mul", map_binary<kMul>, slots_binary},
    {"elemwise_div", map_binary<kDiv>, slots_binary},
    {"_div", map_binary<kDiv>, slots_binary},
    {"_Div", map_binary<kDiv>, slots_binary},
    {"broadcast_div", map_binary<kDiv>, slots_binary},
    {"_maximum", map_binary<kMax>, slots_binary},
    {"_Maximum", map_binary<kMax>, slots_binary},
    {"broadcast_maximum", map_binary<kMax>, slots_binary},
    {"_minimum", map_binary<kMin>, slots_binary},
    {"_Minimum", map_binary<kMin>, slots_binary},
    {"broadcast_minimum", map_binary<kMin>, slots_binary},
    {"_power", map_binary<kPow>, slots_binary},
    {"_Power", map_binary<kPow>, slots_binary},
    {"broadcast_power", map_binary<kPow>, slots_binary},
    {"_equal", map_compare<kEqual, false>, slots_binary},
    {"broadcast_equal", map_compare<kEqual, false>, slots_binary},
    {"_not_equal", map_compare<kEqual, true>, slots_binary},
    {"broadcast_not_equal", map_compare<kEqual, true>, slots_binary},
    {"_greater", map_compare<kGreater, false>, slots_binary},
    {"broadcast_greater", map_compare<kGreater, false>, slots_binary},
    {"_greater_equal", map_compare<kLess, true>, slots_binary},
    {"broadcast_greater_equal", map_compare<kLess, true>, slots_binary},
    {"_lesser", map_compare<kLess, false>, slots_binary},
    {"broadcast_lesser", map_compare<kLess, false>, slots_binary},
    {"_lesser_equal", map_compare<kGreater, true>, slots_binary},
    {"broadcast_lesser_equal", map_compare<kGreater, true>, slots_binary},
    {"_plus_scalar", map_scalar<kAdd, false>, nullptr},
    {"_PlusScalar", map_scalar<kAdd, false>, nullptr},
    {"_minus_scalar", map_scalar<kSub, false>, nullptr},
    {"_MinusScalar", map_scalar<kSub, false>, nullptr},
    {"_rminus_scalar", map_scalar<kSub, true>, nullptr},
    {"_RMinusScalar", map_scalar<kSub, true>, nullptr},
    {"_mul_scalar", map_scalar<kMul, false>, nullptr},
    {"_MulScalar", map_scalar<kMul, false>, nullptr},
    {"_div_scalar", map_scalar<kDiv, false>, nullptr},
    {"_DivScalar", map_scalar<kDiv, false>, nullptr},
    {"_rdiv_scalar", map_scalar<kDiv, true>, nullptr},
    {"_RDivScalar", map_scalar<kDiv, true>, nullptr},
    {"_power_scalar", map_scalar<kPow, false>, nullptr},
    {"_PowerScalar", map_scalar<kPow, false>, nullptr},
    {"_rpower_scalar", map_scalar<kPow, true>, nullptr},
    {"_RPowerScalar", map_scalar<kPow, true>, nullptr},
    {"_maximum_scalar", map_scalar<kMax, false>, nullptr},
    {"_MaximumScalar", map_scalar<kMax, false>, nullptr},
    {"_minimum_scalar", map_scalar<kMin, false>, nullptr},
    {"_MinimumScalar", map_scalar<kMin, false>, nullptr},
    {"_equal_scalar", map_compare_scalar<kEqual, false>, nullptr},
    {"_not_equal_scalar", map_compare_scalar<kEqual, true>, nullptr},
    {"_greater_scalar", map_compare_scalar<kGreater, false>, nullptr},
    {"_greater_equal_scalar", map_compare_scalar<kLess, true>, nullptr},
    {"_lesser_scalar", map_compare_scalar<kLess, false>, nullptr},
    {"_lesser_equal_scalar", map_compare_scalar<kGreater, true>, nullptr},
    {"abs", map_unary<kAbs>, nullptr},
    {"exp", map_unary<kExp>, nullptr},
    {"log", map_unary<kLog>, nullptr},
    {"sqrt", map_unary<kSqrt>, nullptr},
    {"rsqrt", map_rsqrt, nullptr},
    {"square", map_square, nullptr},
    {"negative", map_unary<kNeg>, nullptr},
    {"reciprocal", map_unary<kReciprocal>, nullptr},
    {"relu", map_unary<kRelu>, nullptr},
    {"sigmoid", map_unary<kSigmoid>, nullptr},
    {"tanh", map_unary<kTanh>, nullptr},
    {"softsign", map_softsign, nullptr},
    {"floor", map_unary<kFloor>, nullptr},
    {"ceil", map_unary<kCeil>, nullptr},
    {"erf", map_unary<kErf>, nullptr},
    {"softrelu", map_unary<kSoftplus>, nullptr},
    {"clip", map_clip, nullptr},
    {"hard_sigmoid", map_hard_sigmoid, nullptr},
    {"transpose", map_transpose, nullptr},
    {"expand_dims", map_expand_dims, nullptr},
    {"squeeze", map_squeeze, nullptr},
    {"slice_axis", map_slice_axis, nullptr},
    {"slice", map_slice, nullptr},
    {"crop", map_slice, nullptr},
    {"Embedding", map_embedding, slots_embedding},
    {"Cast", map_cast, nullptr},
    {"cast", map_cast, nullptr},
    {"Pad", map_pad, nullptr},
    {"pad", map_pad, nullptr},
    {"L2Normalization", map_l2_normalization, nullptr},
    {"sum", map_reduce<kReduceSum>, nullptr},
    {"sum_axis", map_reduce<kReduceSum>, nullptr},
    {"mean", map_reduce<kReduceMean>, nullptr},
    {"max", map_reduce<kReduceMax>, nullptr},
    {"max_axis", map_reduce<kReduceMax>, nullptr},
    {"min", map_reduce<kReduceMin>, nullptr},
    {"min_axis", map_reduce<kReduceMin>, nullptr},
    {"argmax", map_argmax, nullptr},
    {"where", map_where, nullptr},
};

const OpEntry* find_entry(const std::string& op) {
  static const std::unordered_map<std::string, const OpEntry*> index = [] {
    std::unordered_map<std::string, const OpEntry*> m;
    for (const OpEntry& e : kOpTable) m.emplace(e.name, &e);
    return m;
  }();
  auto it = index.find(op);
  return it == index.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------------------

std::vector<std::pair<int, int>> Importer::select_outputs() {
  if (opts_.output_keys.empty()) {
    for (const auto& h : sym_.heads)
      if (sym_.nodes[size_t(h.first)].op != "null" && size_t(h.second) >= visible_outputs(h.first))
        fail(StatusCode::InvalidModel, "MXNet symbol: head [", h.first, ", ", h.second, "] refers to an output node '",
             sym_.nodes[size_t(h.first)].name, "' does not have");
    return sym_.heads;
  }
  std::vector<std::pair<int, int>> out;
  for (const std::string& key : opts_.output_keys) {
    bool found = false;
    // MXNet appends "_output" and searches the internal outputs; an exact internal name works too.
    for (const std::string& want : {key + "_output", key}) {
      for (size_t j = 0; j < sym_.nodes.size() && !found; ++j) {
        const SymNode& n = sym_.nodes[j];
        if (n.op == "null") {
          if (n.name == want) { out.push_back({int(j), 0}); found = true; }
          continue;
        }
        for (size_t i = 0; i < visible_outputs(int(j)) && !found; ++i)
          if (output_name(int(j), i) == want) { out.push_back({int(j), int(i)}); found = true; }
      }
      if (found) break;
    }
    if (!found) {
      std::string some;
      size_t shown = 0;
      for (size_t j = 0; j < sym_.nodes.size() && shown < 12; ++j)
        if (sym_.nodes[j].op != "null") { some += (shown ? ", " : "") + output_name(int(j), 0); ++shown; }
      fail(StatusCode::NotFound, "MXNet symbol has no internal output '", key, "_output' (output key '", key,
           "'); internal outputs include: ", some);
    }
  }
  return out;
}

Graph Importer::run(ImportReport* report) {
  g_.name = "mxnet";
  g_.producer = "mxnet";
  g_.ir_version = 8;
  g_.opsets[""] = kImportOpset;
  g_.opsets[kMxDomain] = kMxDomainVersion;

  std::vector<std::pair<int, int>> heads = select_outputs();
  // Nodes the outputs depend on (inputs always come before their consumers).
  std::vector<char> needed(sym_.nodes.size(), 0);
  for (const auto& h : heads) needed[size_t(h.first)] = 1;
  for (size_t j = sym_.nodes.size(); j-- > 0;)
    if (needed[j])
      for (const auto& e : sym_.nodes[j].inputs) needed[size_t(e.first)] = 1;

  // Every unsupported op, listed at once.
  std::string unknown;
  size_t n_unknown = 0;
  std::set<std::string> listed;
  for (size_t j = 0; j < sym_.nodes.size(); ++j) {
    const SymNode& n = sym_.nodes[j];
    if (!needed[j] || n.op == "null" || find_entry(n.op)) continue;
    ++n_unknown;
    if (listed.size() < 40 && listed.insert(n.op + "/" + n.name).second) unknown += "\n  node '" + n.name + "': " + n.op;
  }
  if (n_unknown)
    fail(StatusCode::Unsupported, "MXNet symbol uses ", n_unknown, " node(s) with ops netlite does not support:", unknown);

  // Names of every variable are reserved first so node outputs never take them.
  for (const SymNode& n : sym_.nodes)
    if (n.op == "null") {
      reserved_.insert(n.name);
      if (report) report->arguments.push_back(n.name);
    }

  for (size_t j = 0; j < sym_.nodes.size(); ++j) {
    const SymNode& n = sym_.nodes[j];
    if (!needed[j] || n.op == "null") continue;
    const OpEntry* e = find_entry(n.op);
    OpAttrs a(n);
    std::vector<std::string> slots = e->slots ? e->slots(a) : std::vector<std::string>();
    if (!slots.empty() && n.inputs.size() > slots.size())
      fail(StatusCode::InvalidModel, a.where(), " has ", n.inputs.size(), " inputs; it takes at most ", slots.size());
    Ctx c(*this, int(j), n, slots);
    outs_[j] = e->map(c);
  }

  // Outputs: each gets the MXNet output name; identity-like results and repeats get an Identity node.
  std::set<int> taken;
  for (const auto& h : heads) {
    const SymNode& n = sym_.nodes[size_t(h.first)];
    int v;
    std::string want;
    if (n.op == "null") {
      v = variable(n.name, "data", "a graph output");
      want = n.name;
    } else {
      v = outs_[size_t(h.first)][size_t(h.second)];
      want = output_name(h.first, size_t(h.second));
    }
    const Value& val = g_.values[size_t(v)];
    bool is_input = std::find(g_.inputs.begin(), g_.inputs.end(), v) != g_.inputs.end();
    if (taken.count(v) || (val.name != want && n.op != "null") || is_input || val.is_constant) {
      Node id;
      id.op_type = "Identity";
      id.opset = kImportOpset;
      id.name = n.name + "/output" + std::to_string(h.second);
      id.inputs = {v};
      DType dt = val.is_constant ? val.data.dtype : val.dtype;
      std::string name = val.name == want ? want + "_copy" : want;
      int o = new_value(name);  // `val` is invalid from here on
      g_.values[size_t(o)].dtype = dt;
      id.outputs = {o};
      g_.nodes.push_back(std::move(id));
      v = o;
    }
    taken.insert(v);
    g_.outputs.push_back(v);
  }

  if (!missing_.empty()) {
    std::string list;
    for (size_t i = 0; i < missing_.size() && i < 40; ++i) list += "\n  " + missing_[i];
    fail(StatusCode::InvalidModel, "MXNet model: ", missing_.size(),
         " argument(s) of the symbol have no entry in the params file and are not declared inputs:", list);
  }

  // Declared inputs first, in the caller's order; then the others in first-use order.
  std::vector<int> ordered;
  for (const InputSpec& s : opts_.inputs) {
    auto it = variables_.find(s.name);
    if (it != variables_.end()) ordered.push_back(it->second);
    else if (report) report->unused_inputs.push_back(s.name);
  }
  for (int v : g_.inputs)
    if (std::find(ordered.begin(), ordered.end(), v) == ordered.end()) ordered.push_back(v);
  g_.inputs = ordered;
  if (report) report->mxnet_version = sym_.version;

  g_.toposort();
  g_.prune();
  return std::move(g_);
}

}  // namespace mx_import_detail

Graph import_mxnet(const char* json, size_t json_size, const std::vector<NDArrayEntry>& params,
                   const ImportOptions& options, ImportReport* report) {
  using namespace mx_import_detail;
  if (!json || json_size == 0) fail(StatusCode::InvalidModel, "MXNet symbol JSON is empty");
  Symbol sym = read_symbol(json, json_size);
  // Declared inputs must be arguments of the symbol (a typo would otherwise pass silently).
  std::set<std::string> vars;
  for (const SymNode& n : sym.nodes) if (n.op == "null") vars.insert(n.name);
  for (const InputSpec& s : options.inputs)
    if (!vars.count(s.name)) {
      std::string names;
      size_t shown = 0;
      for (const SymNode& n : sym.nodes)
        if (n.op == "null" && !std::count_if(params.begin(), params.end(), [&](const NDArrayEntry& e) {
              return e.name == "arg:" + n.name || e.name == "aux:" + n.name;
            }) && shown++ < 12)
          names += (names.empty() ? "'" : ", '") + n.name + "'";
      fail(StatusCode::NotFound, "MXNet symbol has no argument named '", s.name, "' (arguments without params: ",
           names.empty() ? "none" : names, ")");
    }
  Importer im(sym, params, options);
  if (report) *report = ImportReport();
  return im.run(report);
}

}  // namespace mxnet
}  // namespace netlite
