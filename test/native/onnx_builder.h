// A minimal ONNX protobuf *writer* for native tests: builds small models in
// memory so tests need no model files. Field numbers follow onnx.proto.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace netlite_test {

class PbWriter {
 public:
  std::string bytes;
  void varint(uint64_t v) {
    while (v >= 0x80) { bytes.push_back(char(v | 0x80)); v >>= 7; }
    bytes.push_back(char(v));
  }
  void key(uint32_t field, uint32_t wire) { varint((uint64_t(field) << 3) | wire); }
  void int_field(uint32_t f, int64_t v) { key(f, 0); varint(uint64_t(v)); }
  void bytes_field(uint32_t f, const std::string& s) { key(f, 2); varint(s.size()); bytes += s; }
  void float_field(uint32_t f, float v) { key(f, 5); char b[4]; std::memcpy(b, &v, 4); bytes.append(b, 4); }
};

struct AttrSpec {
  std::string name;
  int type = 0;  // 1 float, 2 int, 3 string, 6 floats, 7 ints
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};

inline AttrSpec attr_spec(const std::string& n, int type) { AttrSpec a; a.name = n; a.type = type; return a; }
inline AttrSpec attr_int(const std::string& n, int64_t v) { AttrSpec a = attr_spec(n, 2); a.i = v; return a; }
inline AttrSpec attr_float(const std::string& n, float v) { AttrSpec a = attr_spec(n, 1); a.f = v; return a; }
inline AttrSpec attr_ints(const std::string& n, std::vector<int64_t> v) { AttrSpec a = attr_spec(n, 7); a.ints = std::move(v); return a; }

// dims: -1 for a symbolic dim (named "N").
inline std::string value_info(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
  PbWriter shape;
  for (int64_t d : dims) {
    PbWriter dim;
    if (d >= 0) dim.int_field(1, d); else dim.bytes_field(2, "N");
    shape.bytes_field(1, dim.bytes);
  }
  PbWriter tensor_type;
  tensor_type.int_field(1, elem_type);
  tensor_type.bytes_field(2, shape.bytes);
  PbWriter type;
  type.bytes_field(1, tensor_type.bytes);
  PbWriter vi;
  vi.bytes_field(1, name);
  vi.bytes_field(2, type.bytes);
  return vi.bytes;
}

inline std::string tensor_f32(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& data) {
  PbWriter t;
  for (int64_t d : dims) t.int_field(1, d);
  t.int_field(2, 1);
  t.bytes_field(8, name);
  t.bytes_field(9, std::string(reinterpret_cast<const char*>(data.data()), data.size() * 4));
  return t.bytes;
}

inline std::string tensor_i64(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& data) {
  PbWriter t;
  for (int64_t d : dims) t.int_field(1, d);
  t.int_field(2, 7);
  t.bytes_field(8, name);
  t.bytes_field(9, std::string(reinterpret_cast<const char*>(data.data()), data.size() * 8));
  return t.bytes;
}

inline std::string node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                        const std::string& name = "", const std::vector<AttrSpec>& attrs = {}, const std::string& domain = "") {
  PbWriter n;
  for (auto& s : in) n.bytes_field(1, s);
  for (auto& s : out) n.bytes_field(2, s);
  if (!name.empty()) n.bytes_field(3, name);
  n.bytes_field(4, op);
  for (const AttrSpec& a : attrs) {
    PbWriter w;
    w.bytes_field(1, a.name);
    w.int_field(20, a.type);
    if (a.type == 1) w.float_field(2, a.f);
    if (a.type == 2) w.int_field(3, a.i);
    if (a.type == 3) w.bytes_field(4, a.s);
    for (int64_t v : a.ints) w.int_field(8, v);
    for (float v : a.floats) w.float_field(7, v);
    n.bytes_field(5, w.bytes);
  }
  if (!domain.empty()) n.bytes_field(7, domain);
  return n.bytes;
}

struct GraphSpec {
  std::vector<std::string> nodes, initializers, inputs, outputs;
  int64_t opset = 13;
  std::vector<std::pair<std::string, int64_t>> domains;  // more opset imports: (domain, version)
};

inline std::string model(const GraphSpec& g) {
  PbWriter graph;
  for (auto& n : g.nodes) graph.bytes_field(1, n);
  graph.bytes_field(2, "test");
  for (auto& t : g.initializers) graph.bytes_field(5, t);
  for (auto& i : g.inputs) graph.bytes_field(11, i);
  for (auto& o : g.outputs) graph.bytes_field(12, o);
  PbWriter opset;
  opset.bytes_field(1, "");
  opset.int_field(2, g.opset);
  PbWriter m;
  m.int_field(1, 8);
  m.bytes_field(2, "netlite-test");
  m.bytes_field(7, graph.bytes);
  m.bytes_field(8, opset.bytes);
  for (const auto& d : g.domains) {
    PbWriter o;
    o.bytes_field(1, d.first);
    o.int_field(2, d.second);
    m.bytes_field(8, o.bytes);
  }
  return m.bytes;
}

}  // namespace netlite_test
