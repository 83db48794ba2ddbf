#include "onnx_import.h"

#include <unordered_map>
#include <unordered_set>

#include "../core/memory.h"
#include "protobuf.h"

namespace netlite {
namespace onnx_detail {

using pb::Reader;
using pb::WireType;

// Raw pieces of a TensorProto before they become a Tensor.
struct TensorParts {
  std::vector<int64_t> dims;
  int32_t data_type = 0;
  std::string name;
  const uint8_t* raw = nullptr;
  size_t raw_size = 0;
  bool has_raw = false;
  std::vector<float> floats;
  std::vector<int32_t> int32s;
  std::vector<int64_t> int64s;
  std::vector<double> doubles;
  std::vector<uint64_t> uint64s;
  size_t string_count = 0;
  bool external = false;
  bool has_segment = false;
};

TensorParts read_tensor_parts(Reader r) {
  TensorParts t;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    switch (f) {
      case 1: r.repeated_int64(w, &t.dims); break;
      case 2: r.expect(w, pb::kVarint, f); t.data_type = r.int32(); break;
      case 3: t.has_segment = true; r.skip(w); break;
      case 4: r.repeated_float(w, &t.floats); break;
      case 5: r.repeated_int32(w, &t.int32s); break;
      case 6: ++t.string_count; r.skip(w); break;
      case 7: r.repeated_int64(w, &t.int64s); break;
      case 8: r.expect(w, pb::kLengthDelimited, f); t.name = r.string(); break;
      case 9: r.expect(w, pb::kLengthDelimited, f); r.bytes(&t.raw, &t.raw_size); t.has_raw = true; break;
      case 10: r.repeated_double(w, &t.doubles); break;
      case 11: r.repeated_uint64(w, &t.uint64s); break;
      case 13: t.external = true; r.skip(w); break;
      case 14: r.expect(w, pb::kVarint, f); if (r.int32() == 1) t.external = true; break;
      default: r.skip(w); break;
    }
  }
  return t;
}

template <typename Src, typename Dst>
void convert_into(const std::vector<Src>& src, Dst* dst) {
  for (size_t i = 0; i < src.size(); ++i) dst[i] = Dst(src[i]);
}

// Checks what the file holds before anything is allocated (a tensor that claims
// more elements than its bytes can carry is rejected here); returns the element count.
size_t check_parts(const TensorParts& p, const std::string& where) {
  const std::string label = "tensor '" + p.name + "'" + where;
  if (p.external)
    fail(StatusCode::Unsupported, label, " stores its data in an external file; external data is not supported "
         "(re-save the model with all tensors inside the .onnx file)");
  if (p.has_segment) fail(StatusCode::Unsupported, label, " is segmented; segmented tensors are not supported");
  DType dt = DType(p.data_type);
  if (dt == DType::String) fail(StatusCode::Unsupported, label, " has type string; string tensors are not supported");
  size_t es = dtype_size(dt);
  if (es == 0) fail(StatusCode::Unsupported, label, " has unsupported data type ", p.data_type);
  for (int64_t d : p.dims)
    if (d < 0) fail(StatusCode::InvalidModel, label, " has a negative dim ", d);
  int64_t n;
  try {
    n = shape_numel(p.dims);
  } catch (const Error&) {
    fail(StatusCode::InvalidModel, label, " has dims ", shape_str(p.dims), " with too many elements");
  }
  size_t count = size_t(n);
  // Check what the file holds before allocating anything: a tensor that claims
  // more elements than its bytes can carry is rejected here.
  if (p.has_raw) {
    if (p.raw_size / es != count || p.raw_size % es != 0)
      fail(StatusCode::InvalidModel, label, " has ", p.raw_size, " bytes of raw_data but dims ", shape_str(p.dims),
           " of ", dtype_name(dt), " need ", count * es);
  }
  size_t typed = 0;
  switch (dt) {
    case DType::Float32: typed = p.floats.size(); break;
    case DType::Int64: typed = p.int64s.size(); break;
    case DType::Float64: typed = p.doubles.size(); break;
    case DType::UInt32: case DType::UInt64: typed = p.uint64s.size(); break;
    default: typed = p.int32s.size(); break;
  }
  if (!p.has_raw && typed != count)
    fail(StatusCode::InvalidModel, label, " has ", typed, " values but dims ", shape_str(p.dims), " need ", count);
  return count;
}

// Writes the checked parts' values into t (count elements of its dtype).
void fill_from_parts(const TensorParts& p, size_t count, Tensor& t) {
  DType dt = t.dtype;
  size_t es = dtype_size(dt);
  if (p.has_raw) {
    if (count) std::memcpy(t.data, p.raw, count * es);
    return;
  }
  switch (dt) {
    case DType::Float32: convert_into(p.floats, t.ptr<float>()); break;
    case DType::Int64: convert_into(p.int64s, t.ptr<int64_t>()); break;
    case DType::Int32: convert_into(p.int32s, t.ptr<int32_t>()); break;
    case DType::Int8: convert_into(p.int32s, t.ptr<int8_t>()); break;
    case DType::UInt8: convert_into(p.int32s, t.ptr<uint8_t>()); break;
    case DType::Bool: for (size_t i = 0; i < count; ++i) t.ptr<uint8_t>()[i] = p.int32s[i] != 0; break;
    case DType::Int16: convert_into(p.int32s, t.ptr<int16_t>()); break;
    case DType::UInt16: case DType::Float16: convert_into(p.int32s, t.ptr<uint16_t>()); break;
    case DType::Float64: convert_into(p.doubles, t.ptr<double>()); break;
    case DType::UInt32: convert_into(p.uint64s, t.ptr<uint32_t>()); break;
    case DType::UInt64: convert_into(p.uint64s, t.ptr<uint64_t>()); break;
    default: if (count) std::memset(t.data, 0, count * es); break;
  }
}

Tensor tensor_from_parts(const TensorParts& p, const std::string& where) {
  size_t count = check_parts(p, where);
  // One copy, into storage that is not zeroed first: every byte is written.
  Tensor t = uninitialized_tensor(DType(p.data_type), p.dims);
  fill_from_parts(p, count, t);
  return t;
}

struct TypeInfo {
  bool is_tensor = false;
  int32_t elem_type = 0;
  bool has_shape = false;
  Shape shape;
  std::vector<std::string> dim_names;
};

void read_shape(Reader r, TypeInfo* ti) {
  ti->has_shape = true;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    if (f != 1) { r.skip(w); continue; }
    r.expect(w, pb::kLengthDelimited, f);
    Reader d = r.message("TensorShapeProto.Dimension");
    int64_t value = -1;
    std::string param;
    uint32_t g;
    WireType x;
    while (d.next(&g, &x)) {
      if (g == 1) { d.expect(x, pb::kVarint, g); value = d.int64(); if (value < 0) value = -1; }
      else if (g == 2) { d.expect(x, pb::kLengthDelimited, g); param = d.string(); }
      else d.skip(x);
    }
    ti->shape.push_back(value);
    ti->dim_names.push_back(value >= 0 ? std::string() : param);
  }
}

TypeInfo read_type(Reader r) {
  TypeInfo ti;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    if (f == 1) {
      r.expect(w, pb::kLengthDelimited, f);
      ti.is_tensor = true;
      Reader t = r.message("TypeProto.Tensor");
      uint32_t g;
      WireType x;
      while (t.next(&g, &x)) {
        if (g == 1) { t.expect(x, pb::kVarint, g); ti.elem_type = t.int32(); }
        else if (g == 2) { t.expect(x, pb::kLengthDelimited, g); read_shape(t.message("TensorShapeProto"), &ti); }
        else t.skip(x);
      }
    } else {
      r.skip(w);
    }
  }
  return ti;
}

struct ValueInfoParts {
  std::string name;
  TypeInfo type;
};

ValueInfoParts read_value_info(Reader r) {
  ValueInfoParts v;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    if (f == 1) { r.expect(w, pb::kLengthDelimited, f); v.name = r.string(); }
    else if (f == 2) { r.expect(w, pb::kLengthDelimited, f); v.type = read_type(r.message("TypeProto")); }
    else r.skip(w);
  }
  return v;
}

Attribute read_attribute(Reader r, std::string* name, const std::string& node_label) {
  Attribute a;
  int32_t type = 0;
  bool has_f = false, has_i = false, has_s = false, has_t = false, has_g = false;
  std::vector<TensorParts> tensors;
  TensorParts tparts;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    switch (f) {
      case 1: r.expect(w, pb::kLengthDelimited, f); *name = r.string(); break;
      case 20: r.expect(w, pb::kVarint, f); type = r.int32(); break;
      case 2: r.expect(w, pb::kFixed32, f); a.f = r.float32(); has_f = true; break;
      case 3: r.expect(w, pb::kVarint, f); a.i = r.int64(); has_i = true; break;
      case 4: r.expect(w, pb::kLengthDelimited, f); a.s = r.string(); has_s = true; break;
      case 5: r.expect(w, pb::kLengthDelimited, f); tparts = read_tensor_parts(r.message("TensorProto")); has_t = true; break;
      case 6: r.skip(w); has_g = true; break;
      case 7: r.repeated_float(w, &a.floats); break;
      case 8: r.repeated_int64(w, &a.ints); break;
      case 9: r.expect(w, pb::kLengthDelimited, f); a.strings.push_back(r.string()); break;
      case 10: r.expect(w, pb::kLengthDelimited, f); tensors.push_back(read_tensor_parts(r.message("TensorProto"))); break;
      case 11: r.skip(w); has_g = true; break;
      case 21: r.skip(w); break;  // ref_attr_name: only meaningful inside functions
      default: r.skip(w); break;
    }
  }
  const std::string where = " in attribute '" + *name + "' of " + node_label;
  // IR version >= 3 writes `type`; older files leave it out, so infer it from the field present.
  switch (type) {
    case 1: a.kind = Attribute::Kind::Float; break;
    case 2: a.kind = Attribute::Kind::Int; break;
    case 3: a.kind = Attribute::Kind::String; break;
    case 4: a.kind = Attribute::Kind::Tensor; break;
    case 5: a.kind = Attribute::Kind::Graph; break;
    case 6: a.kind = Attribute::Kind::Floats; break;
    case 7: a.kind = Attribute::Kind::Ints; break;
    case 8: a.kind = Attribute::Kind::Strings; break;
    case 9: a.kind = Attribute::Kind::Tensors; break;
    case 0:
      if (has_f) a.kind = Attribute::Kind::Float;
      else if (has_i) a.kind = Attribute::Kind::Int;
      else if (has_s) a.kind = Attribute::Kind::String;
      else if (has_t) a.kind = Attribute::Kind::Tensor;
      else if (has_g) a.kind = Attribute::Kind::Graph;
      else if (!a.floats.empty()) a.kind = Attribute::Kind::Floats;
      else if (!a.ints.empty()) a.kind = Attribute::Kind::Ints;
      else if (!a.strings.empty()) a.kind = Attribute::Kind::Strings;
      else if (!tensors.empty()) a.kind = Attribute::Kind::Tensors;
      else fail(StatusCode::InvalidModel, "attribute '", *name, "' of ", node_label, " has no type and no value");
      break;
    default:
      fail(StatusCode::Unsupported, "attribute '", *name, "' of ", node_label, " has unsupported type ", type);
  }
  if (a.kind == Attribute::Kind::Tensor) {
    if (!has_t) fail(StatusCode::InvalidModel, "attribute '", *name, "' of ", node_label, " is a tensor attribute without a tensor");
    a.t = tensor_from_parts(tparts, where);
  }
  for (const TensorParts& tp : tensors) a.tensors.push_back(tensor_from_parts(tp, where));
  return a;
}

struct NodeParts {
  std::vector<std::string> inputs, outputs;
  std::string name, op_type, domain;
  std::map<std::string, Attribute> attrs;
};

NodeParts read_node(Reader r, size_t index) {
  NodeParts n;
  std::vector<Reader> attr_readers;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    switch (f) {
      case 1: r.expect(w, pb::kLengthDelimited, f); n.inputs.push_back(r.string()); break;
      case 2: r.expect(w, pb::kLengthDelimited, f); n.outputs.push_back(r.string()); break;
      case 3: r.expect(w, pb::kLengthDelimited, f); n.name = r.string(); break;
      case 4: r.expect(w, pb::kLengthDelimited, f); n.op_type = r.string(); break;
      case 5: r.expect(w, pb::kLengthDelimited, f); attr_readers.push_back(r.message("AttributeProto")); break;
      case 7: r.expect(w, pb::kLengthDelimited, f); n.domain = r.string(); break;
      default: r.skip(w); break;
    }
  }
  if (n.op_type.empty()) fail(StatusCode::InvalidModel, "node #", index, " ('", n.name, "') has no op_type");
  if (n.name.empty()) n.name = n.op_type + "_" + std::to_string(index);
  if (n.domain == "ai.onnx") n.domain.clear();
  const std::string label = n.op_type + " '" + n.name + "'";
  for (Reader& ar : attr_readers) {
    std::string an;
    Attribute a = read_attribute(ar, &an, label);
    if (an.empty()) fail(StatusCode::InvalidModel, label, " has an attribute without a name");
    if (n.attrs.count(an)) fail(StatusCode::InvalidModel, label, " has attribute '", an, "' twice");
    n.attrs.emplace(an, std::move(a));
  }
  return n;
}

class GraphBuilder {
 public:
  explicit GraphBuilder(Graph* g) : g_(g) {}

  int value(const std::string& name) {
    auto it = index_.find(name);
    if (it != index_.end()) return it->second;
    int v = g_->add_value(name);
    index_.emplace(name, v);
    return v;
  }
  bool exists(const std::string& name) const { return index_.count(name) != 0; }

  void apply_type(int v, const TypeInfo& ti, const std::string& what) {
    Value& val = g_->values[size_t(v)];
    if (!ti.is_tensor) fail(StatusCode::Unsupported, what, " '", val.name, "' is not a tensor (sequences and maps are not supported)");
    if (ti.elem_type != 0) val.dtype = DType(ti.elem_type);
    if (ti.has_shape) {
      val.has_shape = true;
      val.shape = ti.shape;
      val.dim_names = ti.dim_names;
    }
  }

 private:
  Graph* g_;
  std::unordered_map<std::string, int> index_;
};

void read_graph(Reader r, Graph* g, const ConsumedBytesFn& consumed) {
  std::vector<Reader> node_r, init_r, input_r, output_r;
  uint32_t f;
  WireType w;
  while (r.next(&f, &w)) {
    switch (f) {
      case 1: r.expect(w, pb::kLengthDelimited, f); node_r.push_back(r.message("NodeProto")); break;
      case 2: r.expect(w, pb::kLengthDelimited, f); g->name = r.string(); break;
      case 5: r.expect(w, pb::kLengthDelimited, f); init_r.push_back(r.message("TensorProto")); break;
      case 11: r.expect(w, pb::kLengthDelimited, f); input_r.push_back(r.message("ValueInfoProto")); break;
      case 12: r.expect(w, pb::kLengthDelimited, f); output_r.push_back(r.message("ValueInfoProto")); break;
      case 15: fail(StatusCode::Unsupported, "graph has sparse initializers; sparse tensors are not supported");
      default: r.skip(w); break;
    }
  }
  GraphBuilder b(g);
  // Initializers: parse and check them all first, then copy their data once into
  // one weights slab (huge-page backed when large): a model's hundred-odd small
  // tensors then cost a few page faults instead of one per 4 KiB page. Each
  // tensor's owner shares the slab, which is freed with the last of them.
  struct Init {
    TensorParts parts;
    size_t count = 0;
    size_t offset = 0;
    int value = -1;
  };
  std::vector<Init> inits(init_r.size());
  size_t slab_bytes = 0;
  for (size_t i = 0; i < init_r.size(); ++i) {
    Init& in = inits[i];
    in.parts = read_tensor_parts(init_r[i]);
    const TensorParts& parts = in.parts;
    if (parts.name.empty()) fail(StatusCode::InvalidModel, "an initializer has no name");
    if (b.exists(parts.name)) fail(StatusCode::InvalidModel, "initializer '", parts.name, "' is defined twice");
    in.value = b.value(parts.name);
    in.count = check_parts(parts, "");
    in.offset = slab_bytes;
    size_t bytes = in.count * dtype_size(DType(parts.data_type));
    slab_bytes += (bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  WeightSlab slab(slab_bytes);
  for (Init& in : inits) {
    Value& val = g->values[size_t(in.value)];
    val.data = slab.tensor(DType(in.parts.data_type), in.parts.dims, in.offset);
    slab.populate(in.offset + in.count * dtype_size(DType(in.parts.data_type)));
    fill_from_parts(in.parts, in.count, val.data);
    if (consumed && in.parts.has_raw && in.parts.raw_size) consumed(in.parts.raw, in.parts.raw_size);
    val.is_constant = true;
    val.dtype = val.data.dtype;
    val.shape = val.data.shape;
    val.has_shape = true;
    in.parts = TensorParts();  // typed values are copied: drop them now
  }
  std::unordered_set<std::string> seen_inputs;
  for (Reader& ir : input_r) {
    ValueInfoParts vi = read_value_info(ir);
    if (vi.name.empty()) fail(StatusCode::InvalidModel, "a graph input has no name");
    if (!seen_inputs.insert(vi.name).second) fail(StatusCode::InvalidModel, "graph input '", vi.name, "' is listed twice");
    bool is_init = b.exists(vi.name);
    int v = b.value(vi.name);
    if (is_init) continue;  // IR < 4 lists initializers among inputs: they stay constants
    b.apply_type(v, vi.type, "graph input");
    if (g->values[size_t(v)].dtype == DType::Undefined)
      fail(StatusCode::InvalidModel, "graph input '", vi.name, "' has no element type");
    g->inputs.push_back(v);
  }
  std::unordered_set<std::string> produced;
  for (size_t k = 0; k < node_r.size(); ++k) {
    NodeParts np = read_node(node_r[k], k);
    Node node;
    node.name = np.name;
    node.op_type = np.op_type;
    node.domain = np.domain;
    node.attrs = std::move(np.attrs);
    auto os = g->opsets.find(node.domain);
    if (os == g->opsets.end())
      fail(StatusCode::InvalidModel, node.describe(), " uses domain '", node.domain.empty() ? "ai.onnx" : node.domain,
           "' which the model does not import");
    node.opset = int(os->second);
    for (const std::string& in : np.inputs) node.inputs.push_back(in.empty() ? -1 : b.value(in));
    for (const std::string& out : np.outputs) {
      if (out.empty()) { node.outputs.push_back(-1); continue; }
      if (!produced.insert(out).second)
        fail(StatusCode::InvalidModel, node.describe(), ": output '", out, "' is produced by more than one node");
      node.outputs.push_back(b.value(out));
    }
    g->nodes.push_back(std::move(node));
  }
  std::unordered_set<std::string> seen_outputs;
  for (Reader& orr : output_r) {
    ValueInfoParts vi = read_value_info(orr);
    if (vi.name.empty()) fail(StatusCode::InvalidModel, "a graph output has no name");
    if (!b.exists(vi.name)) fail(StatusCode::InvalidModel, "graph output '", vi.name, "' is not produced by any node");
    if (!seen_outputs.insert(vi.name).second) fail(StatusCode::InvalidModel, "graph output '", vi.name, "' is listed twice");
    int v = b.value(vi.name);
    Value& val = g->values[size_t(v)];
    if (!val.is_constant) {
      TypeInfo t = vi.type;
      b.apply_type(v, t, "graph output");
    }
    g->outputs.push_back(v);
  }
  if (g->outputs.empty()) fail(StatusCode::InvalidModel, "graph has no outputs");
}

}  // namespace onnx_detail

Graph import_onnx(const uint8_t* data, size_t size, const ConsumedBytesFn& consumed) {
  using namespace onnx_detail;
  if (!data || size == 0) fail(StatusCode::InvalidModel, "model is empty");
  Reader r(data, data + size, 0, "ModelProto");
  Graph g;
  const uint8_t* graph_bytes = nullptr;
  size_t graph_size = 0;
  bool has_graph = false;
  bool has_opset = false;
  uint32_t f;
  pb::WireType w;
  while (r.next(&f, &w)) {
    switch (f) {
      case 1: r.expect(w, pb::kVarint, f); g.ir_version = r.int64(); break;
      case 2: r.expect(w, pb::kLengthDelimited, f); g.producer = r.string(); break;
      case 7: r.expect(w, pb::kLengthDelimited, f); r.bytes(&graph_bytes, &graph_size); has_graph = true; break;
      case 8: {
        r.expect(w, pb::kLengthDelimited, f);
        Reader o = r.message("OperatorSetIdProto");
        std::string domain;
        int64_t version = 0;
        uint32_t g2;
        pb::WireType x;
        while (o.next(&g2, &x)) {
          if (g2 == 1) { o.expect(x, pb::kLengthDelimited, g2); domain = o.string(); }
          else if (g2 == 2) { o.expect(x, pb::kVarint, g2); version = o.int64(); }
          else o.skip(x);
        }
        if (domain == "ai.onnx") domain.clear();
        g.opsets[domain] = version;
        has_opset = true;
        break;
      }
      default: r.skip(w); break;
    }
  }
  if (!has_graph) fail(StatusCode::InvalidModel, "not an ONNX model: no graph found (is this an ONNX file?)");
  // IR version 1-2 files may omit opset_import; ONNX then means opset 1.
  if (!has_opset) g.opsets[""] = 1;
  size_t graph_offset = size_t(graph_bytes - data);
  read_graph(Reader(graph_bytes, graph_bytes + graph_size, graph_offset, "GraphProto"), &g, consumed);
  g.toposort();
  return g;
}

Tensor parse_onnx_tensor(const uint8_t* data, size_t size, std::string* name) {
  using namespace onnx_detail;
  if (!data) fail(StatusCode::InvalidArgument, "tensor bytes are null");
  TensorParts p = read_tensor_parts(pb::Reader(data, data + size, 0, "TensorProto"));
  if (name) *name = p.name;
  return tensor_from_parts(p, "");
}

}  // namespace netlite
