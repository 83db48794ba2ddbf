// A test-side MXNet *writer*: small networks as symbol JSON (legacy `param`-era
// or NNVM `attrs`-era) and NDArray-list files in every version (legacy uint32
// shapes, V1, V2, V3), so native tests need no MXNet and no model files.
// Formats per notes/mxnet.md section 3.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace netlite_test {
namespace mxw {

// One array of an NDArray-list file. `bytes` holds the elements in `type_flag`'s
// type (0 float32, 1 float64, 2 float16, 4 int32, 6 int64, ...).
struct Array {
  std::string name;  // e.g. "arg:conv0_weight"; ignored when the list is written without names
  std::vector<int64_t> shape;
  int32_t type_flag = 0;
  std::string bytes;
  bool none = false;  // an empty ("none") array
};

inline Array f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
  Array a;
  a.name = name;
  a.shape = std::move(shape);
  a.bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  return a;
}

inline Array f64(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& v) {
  Array a;
  a.name = name;
  a.shape = std::move(shape);
  a.type_flag = 1;
  a.bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  return a;
}

// float32 -> IEEE binary16, round to nearest even (normal range only, enough for tests).
inline uint16_t to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = int32_t((x >> 23) & 0xFF) - 127 + 15;
  uint32_t man = x & 0x7FFFFF;
  if (exp <= 0) return uint16_t(sign);
  if (exp >= 31) return uint16_t(sign | 0x7C00);
  uint32_t h = sign | (uint32_t(exp) << 10) | (man >> 13);
  uint32_t rest = man & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
  return uint16_t(h);
}

inline Array f16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
  Array a;
  a.name = name;
  a.shape = std::move(shape);
  a.type_flag = 2;
  for (float f : v) {
    uint16_t h = to_half(f);
    a.bytes.append(reinterpret_cast<const char*>(&h), 2);
  }
  return a;
}

class Bytes {
 public:
  std::string s;
  template <typename T>
  void put(T v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); }
};

// version: 0 legacy (no magic, uint32 dims), 1 (0xF993FAC8), 2 (0xF993FAC9), 3 (0xF993FACA).
inline std::string nd_list(const std::vector<Array>& arrays, int version, bool with_names = true) {
  Bytes b;
  b.put<uint64_t>(0x112);
  b.put<uint64_t>(0);
  b.put<uint64_t>(arrays.size());
  for (const Array& a : arrays) {
    switch (version) {
      case 0:
        b.put<uint32_t>(a.none ? 0 : uint32_t(a.shape.size()));
        if (!a.none) for (int64_t d : a.shape) b.put<uint32_t>(uint32_t(d));
        break;
      case 1:
        b.put<uint32_t>(0xF993FAC8u);
        b.put<int32_t>(a.none ? 0 : int32_t(a.shape.size()));
        if (!a.none) for (int64_t d : a.shape) b.put<int64_t>(d);
        break;
      default:
        b.put<uint32_t>(version == 2 ? 0xF993FAC9u : 0xF993FACAu);
        b.put<int32_t>(0);  // dense
        if (a.none) {
          b.put<int32_t>(version == 2 ? 0 : -1);
        } else {
          b.put<int32_t>(int32_t(a.shape.size()));
          for (int64_t d : a.shape) b.put<int64_t>(d);
        }
        break;
    }
    if (a.none) continue;
    b.put<int32_t>(1);  // cpu
    b.put<int32_t>(0);
    b.put<int32_t>(a.type_flag);
    b.s += a.bytes;
  }
  if (with_names) {
    b.put<uint64_t>(arrays.size());
    for (const Array& a : arrays) {
      b.put<uint64_t>(a.name.size());
      b.s += a.name;
    }
  } else {
    b.put<uint64_t>(0);
  }
  return b.s;
}

inline std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

// Symbol JSON builder. Nodes are added in topological order (inputs first).
class Symbol {
 public:
  struct Node {
    std::string op, name;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::vector<std::pair<int, int>> inputs;
  };
  std::vector<Node> nodes;
  std::vector<std::pair<int, int>> heads;

  int var(const std::string& name) {
    nodes.push_back({"null", name, {}, {}});
    return int(nodes.size()) - 1;
  }
  // Inputs are node ids (output 0) or {id, output} pairs.
  int op(const std::string& op, const std::string& name, std::vector<std::pair<std::string, std::string>> attrs,
         std::vector<std::pair<int, int>> inputs) {
    nodes.push_back({op, name, std::move(attrs), std::move(inputs)});
    return int(nodes.size()) - 1;
  }
  void head(int id, int out = 0) { heads.push_back({id, out}); }

  // legacy: 2015/16 form ("param", [id, idx] inputs, backward_source_id, no version);
  // otherwise NNVM form ("attrs", [id, idx, 0] inputs, arg_nodes, node_row_ptr, mxnet_version).
  std::string json(bool legacy, int mxnet_version = 10600) const {
    std::string o = "{\n  \"nodes\": [\n";
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = nodes[i];
      o += "    {\"op\": " + json_str(n.op) + ", \"name\": " + json_str(n.name) + ", ";
      o += legacy ? "\"param\": {" : "\"attrs\": {";
      for (size_t k = 0; k < n.attrs.size(); ++k)
        o += (k ? ", " : "") + json_str(n.attrs[k].first) + ": " + json_str(n.attrs[k].second);
      o += "}, \"inputs\": [";
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        o += (k ? ", [" : "[") + std::to_string(n.inputs[k].first) + ", " + std::to_string(n.inputs[k].second);
        o += legacy ? "]" : ", 0]";
      }
      o += "]";
      if (legacy) o += ", \"backward_source_id\": -1";
      o += i + 1 < nodes.size() ? "},\n" : "}\n";
    }
    o += "  ],\n  \"arg_nodes\": [";
    bool first = true;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].op == "null") { o += (first ? "" : ", ") + std::to_string(i); first = false; }
    o += "],\n";
    if (!legacy) {
      o += "  \"node_row_ptr\": [";
      for (size_t i = 0; i <= nodes.size(); ++i) o += (i ? ", " : "") + std::to_string(i);
      o += "],\n";
    }
    o += "  \"heads\": [";
    for (size_t k = 0; k < heads.size(); ++k)
      o += (k ? ", [" : "[") + std::to_string(heads[k].first) + ", " + std::to_string(heads[k].second) + (legacy ? "]" : ", 0]");
    o += "]";
    if (!legacy) o += ",\n  \"attrs\": {\"mxnet_version\": [\"int\", " + std::to_string(mxnet_version) + "]}";
    return o + "\n}\n";
  }
};

}  // namespace mxw
}  // namespace netlite_test
