// MXNet's C predict API (c_predict_api.h) on netlite's Model and Session.
//
// A predictor handle owns a Session, its input buffers (zero until set) and the
// output shapes planned for its input shapes; the Model - the imported graph,
// kernels and weights - is shared through a shared_ptr by every handle made
// from it by MXPredCreateMultiThread and MXPredReshape. The model declares its
// inputs with free dims, so one model serves every input shape a handle asks for.
//
// Every entry point is a wall: it catches everything, returns -1 and leaves the
// message in a thread-local string for MXGetLastError().
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../../include/c_predict_api.h"
#include "../mxnet/mxnet_import.h"
#include "../mxnet/ndarray_file.h"
#include "../plan/planner.h"
#include "../runtime/model.h"
#include "../runtime/session.h"

namespace netlite {
namespace c_predict_detail {

thread_local std::string last_error;

constexpr uint32_t kPredictorMagic = 0x4D585044;  // "MXPD"
constexpr uint32_t kListMagic = 0x4D584E44;       // "MXND"
constexpr uint32_t kFreed = 0xDEADF00D;
constexpr size_t kMaxInputRank = 32;

// What every predictor made from one MXPredCreate* call shares.
struct Shared {
  std::shared_ptr<const Model> model;
  std::vector<std::string> arguments;      // every variable of the symbol
  std::vector<std::string> unused_inputs;  // declared inputs the outputs do not read
  std::vector<Shape> unused_shapes;
};

struct Predictor {
  uint32_t magic = kPredictorMagic;
  std::shared_ptr<const Shared> shared;
  std::unique_ptr<Session> session;
  std::vector<Shape> input_shapes;              // per model input: this handle's shape
  std::vector<std::vector<float>> input_data;   // per model input: bound buffer (zero until set)
  std::vector<std::vector<mx_uint>> output_shapes;
  size_t steps = 1;  // plan steps, for MXPredPartialForward's countdown
  bool ran = false;
};

struct NDList {
  uint32_t magic = kListMagic;
  std::vector<std::string> keys;
  std::vector<Tensor> data;  // float32
  std::vector<std::vector<mx_uint>> shapes;
};

template <typename F>
int guarded(F&& fn) {
  try {
    fn();
    return 0;
  } catch (const Error& e) {
    last_error = e.message();
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
  } catch (const std::exception& e) {
    last_error = std::string("internal error: ") + e.what();
  } catch (...) {
    last_error = "internal error: unknown exception";
  }
  return -1;
}

void require(const void* p, const char* what) {
  if (!p) fail(StatusCode::InvalidArgument, what, " is NULL");
}

Predictor* predictor(PredictorHandle h) {
  require(h, "predictor handle");
  Predictor* p = static_cast<Predictor*>(h);
  if (p->magic == kFreed) fail(StatusCode::InvalidArgument, "predictor handle was already freed");
  if (p->magic != kPredictorMagic) fail(StatusCode::InvalidArgument, "handle is not a predictor (from MXPredCreate*)");
  return p;
}

NDList* nd_list(NDListHandle h) {
  require(h, "NDList handle");
  NDList* l = static_cast<NDList*>(h);
  if (l->magic == kFreed) fail(StatusCode::InvalidArgument, "NDList handle was already freed");
  if (l->magic != kListMagic) fail(StatusCode::InvalidArgument, "handle is not an NDList (from MXNDListCreate)");
  return l;
}

struct InputArgs {
  std::vector<std::string> keys;
  std::vector<Shape> shapes;
};

// CSR-style shapes: shape i is data[indptr[i] .. indptr[i+1]).
InputArgs read_inputs(mx_uint n, const char** keys, const mx_uint* indptr, const mx_uint* data) {
  InputArgs a;
  if (n == 0) return a;
  require(keys, "input_keys");
  require(indptr, "input_shape_indptr");
  if (n > 4096) fail(StatusCode::InvalidArgument, "num_input_nodes ", n, " is too large");
  if (indptr[n] > indptr[0]) require(data, "input_shape_data");
  for (mx_uint i = 0; i < n; ++i) {
    if (!keys[i]) fail(StatusCode::InvalidArgument, "input_keys[", i, "] is NULL");
    std::string key = keys[i];
    for (const std::string& k : a.keys)
      if (k == key) fail(StatusCode::InvalidArgument, "input key '", key, "' is given twice");
    if (indptr[i + 1] < indptr[i])
      fail(StatusCode::InvalidArgument, "input_shape_indptr must be non-decreasing offsets (indptr[", i, "]=", indptr[i],
           ", indptr[", i + 1, "]=", indptr[i + 1], "); it holds cumulative offsets, not shape lengths");
    if (indptr[i + 1] - indptr[i] > kMaxInputRank)
      fail(StatusCode::InvalidArgument, "input '", key, "' has rank ", indptr[i + 1] - indptr[i], " (at most ", kMaxInputRank, ")");
    Shape s;
    for (mx_uint j = indptr[i]; j < indptr[i + 1]; ++j) s.push_back(int64_t(data[j]));
    a.keys.push_back(key);
    a.shapes.push_back(s);
  }
  return a;
}

// Plans `p` at its input shapes: validates them against the graph and records output shapes.
void plan_outputs(Predictor* p) {
  const Model& m = *p->shared->model;
  std::vector<InputMeta> metas(m.inputs().size());
  for (size_t i = 0; i < metas.size(); ++i) {
    metas[i].dtype = m.inputs()[i].dtype;
    metas[i].shape = p->input_shapes[i];
  }
  Plan plan = make_plan(m, metas);
  p->steps = plan.steps.empty() ? 1 : plan.steps.size();
  p->output_shapes.clear();
  for (const IoInfo& io : m.outputs()) {
    const Plan::Slot& s = plan.slots[size_t(io.value)];
    Shape shape = s.shape;
    if (s.storage == Plan::Storage::Constant) shape = m.graph().values[size_t(io.value)].data.shape;
    std::vector<mx_uint> dims;
    for (int64_t d : shape) {
      if (d < 0 || d > int64_t(UINT32_MAX)) fail(StatusCode::ShapeMismatch, "output '", io.name, "' dim ", d, " does not fit mx_uint");
      dims.push_back(mx_uint(d));
    }
    p->output_shapes.push_back(dims);
  }
}

// A new handle on `shared` with the given shape per model input (buffers zeroed and bound).
std::unique_ptr<Predictor> make_predictor(std::shared_ptr<const Shared> shared, const std::vector<Shape>& shapes) {
  std::unique_ptr<Predictor> p(new Predictor());
  p->shared = std::move(shared);
  const Model& m = *p->shared->model;
  p->input_shapes = shapes;
  plan_outputs(p.get());
  p->session.reset(new Session(m));
  for (size_t i = 0; i < shapes.size(); ++i) {
    int64_t n = shape_numel(shapes[i]);
    p->input_data.emplace_back(size_t(n), 0.0f);
    p->session->set_input(i, DType::Float32, shapes[i], p->input_data.back().data(), size_t(n) * sizeof(float));
  }
  return p;
}

struct CreateArgs {
  const char* symbol = nullptr;
  const void* params = nullptr;
  int params_size = 0;
  int dev_type = 1;
  mx_uint num_inputs = 0;
  const char** input_keys = nullptr;
  const mx_uint* indptr = nullptr;
  const mx_uint* shape_data = nullptr;
  mx_uint num_dtypes = 0;
  const char** dtype_names = nullptr;
  const int* dtypes = nullptr;
  mx_uint num_outputs = 0;
  const char** output_keys = nullptr;
  int threads = 0;  // intra-op threads per predictor (0: all cores)
};

std::shared_ptr<const Shared> create_shared(const CreateArgs& a, std::vector<Shape>* shapes) {
  require(a.symbol, "symbol_json_str");
  if (a.params_size < 0) fail(StatusCode::InvalidArgument, "param_size is negative (", a.params_size, ")");
  if (a.params_size > 0) require(a.params, "param_bytes");
  if (a.dev_type != 1 && a.dev_type != 3 && a.dev_type != 5)
    fail(StatusCode::Unsupported, "dev_type ", a.dev_type, a.dev_type == 2 ? " (gpu)" : "",
         " is not supported: netlite runs on the CPU (dev_type 1)");
  if (a.num_inputs == 0) fail(StatusCode::InvalidArgument, "num_input_nodes is 0: give the shape of every input (e.g. \"data\")");
  InputArgs in = read_inputs(a.num_inputs, a.input_keys, a.indptr, a.shape_data);
  mxnet::ImportOptions opts;
  opts.inputs_complete = true;
  for (size_t i = 0; i < in.keys.size(); ++i) {
    mxnet::InputSpec s;
    s.name = in.keys[i];
    s.has_shape = true;
    s.shape = Shape(in.shapes[i].size(), -1);  // free dims: MXPredReshape reuses the model
    opts.inputs.push_back(s);
  }
  if (a.num_dtypes) {
    require(a.dtype_names, "provided_arg_dtype_names");
    require(a.dtypes, "provided_arg_dtypes");
    for (mx_uint i = 0; i < a.num_dtypes; ++i) {
      if (!a.dtype_names[i]) fail(StatusCode::InvalidArgument, "provided_arg_dtype_names[", i, "] is NULL");
      bool is_input = false;
      for (const std::string& k : in.keys) if (k == a.dtype_names[i]) is_input = true;
      if (is_input && a.dtypes[i] != mxnet::kMxFloat32)
        fail(StatusCode::Unsupported, "input '", a.dtype_names[i], "' has dtype ", mxnet::mx_type_name(a.dtypes[i]),
             " (code ", a.dtypes[i], "); netlite's predict API takes float32 inputs (code 0)");
    }
  }
  for (mx_uint i = 0; i < a.num_outputs; ++i) {
    require(a.output_keys, "output_keys");
    if (!a.output_keys[i]) fail(StatusCode::InvalidArgument, "output_keys[", i, "] is NULL");
    opts.output_keys.push_back(a.output_keys[i]);
  }
  std::vector<mxnet::NDArrayEntry> params;
  if (a.params_size > 0)
    params = mxnet::read_ndarray_list(static_cast<const uint8_t*>(a.params), size_t(a.params_size), "MXNet params");
  mxnet::ImportReport report;
  Graph g = mxnet::import_mxnet(a.symbol, std::strlen(a.symbol), params, opts, &report);
  params.clear();  // the graph shares the weight bytes it uses; the rest are freed here
  ModelOptions mo;
  mo.threads = a.threads;
  std::shared_ptr<Shared> sh(new Shared());
  sh->model = std::shared_ptr<const Model>(Model::from_graph(std::move(g), mo).release());
  sh->arguments = report.arguments;
  sh->unused_inputs = report.unused_inputs;
  for (const std::string& u : report.unused_inputs)
    for (size_t i = 0; i < in.keys.size(); ++i)
      if (in.keys[i] == u) sh->unused_shapes.push_back(in.shapes[i]);
  // Per model input, the caller's shape.
  shapes->clear();
  for (const IoInfo& io : sh->model->inputs()) {
    bool found = false;
    for (size_t i = 0; i < in.keys.size(); ++i)
      if (in.keys[i] == io.name) { shapes->push_back(in.shapes[i]); found = true; }
    if (!found) fail(StatusCode::Internal, "model input '", io.name, "' has no shape");
  }
  return sh;
}

void create(const CreateArgs& a, int count, PredictorHandle* out) {
  require(out, "out");
  for (int i = 0; i < count; ++i) out[i] = nullptr;
  std::vector<Shape> shapes;
  std::shared_ptr<const Shared> sh = create_shared(a, &shapes);
  std::vector<std::unique_ptr<Predictor>> made;
  for (int i = 0; i < count; ++i) made.push_back(make_predictor(sh, shapes));
  for (int i = 0; i < count; ++i) out[i] = made[size_t(i)].release();
}

int find_model_input(const Model& m, const std::string& key) {
  for (size_t i = 0; i < m.inputs().size(); ++i)
    if (m.inputs()[i].name == key) return int(i);
  return -1;
}

std::string input_list(const Predictor& p) {
  std::string s;
  for (const IoInfo& io : p.shared->model->inputs()) s += (s.empty() ? "'" : ", '") + io.name + "'";
  for (const std::string& u : p.shared->unused_inputs) s += (s.empty() ? "'" : ", '") + u + "'";
  return s;
}

bool is_argument(const Predictor& p, const std::string& key) {
  for (const std::string& a : p.shared->arguments) if (a == key) return true;
  return false;
}

void set_input(Predictor* p, const char* key, const mx_float* data, mx_uint size) {
  require(key, "key");
  const Model& m = *p->shared->model;
  int idx = find_model_input(m, key);
  if (idx < 0) {
    // A declared input the outputs do not read (e.g. a label): accepted, ignored.
    for (size_t u = 0; u < p->shared->unused_inputs.size(); ++u)
      if (p->shared->unused_inputs[u] == key) {
        int64_t n = shape_numel(p->shared->unused_shapes[u]);
        if (int64_t(size) != n)
          fail(StatusCode::ShapeMismatch, "input '", key, "' has ", n, " elements (shape ",
               shape_str(p->shared->unused_shapes[u]), "), got size ", size);
        return;
      }
    if (is_argument(*p, key))
      fail(StatusCode::InvalidArgument, "cannot set '", key, "': it is a weight, shared read-only by netlite; declare it "
           "among the input keys at create time to feed it (inputs: ", input_list(*p), ")");
    fail(StatusCode::NotFound, "cannot find input key '", key, "' (inputs: ", input_list(*p), ")");
  }
  std::vector<float>& buf = p->input_data[size_t(idx)];
  if (size_t(size) != buf.size())
    fail(StatusCode::ShapeMismatch, "input '", key, "' has ", buf.size(), " elements (shape ",
         shape_str(p->input_shapes[size_t(idx)]), "), got size ", size);
  if (size) {
    require(data, "data");
    std::memcpy(buf.data(), data, size_t(size) * sizeof(float));
  }
  p->session->set_input(size_t(idx), DType::Float32, p->input_shapes[size_t(idx)], buf.data(), buf.size() * sizeof(float));
  p->ran = false;
}

void forward(Predictor* p) {
  p->ran = false;
  p->session->run();
  p->ran = true;
}

void get_output(Predictor* p, mx_uint index, mx_float* data, mx_uint size) {
  const Model& m = *p->shared->model;
  if (index >= m.outputs().size())
    fail(StatusCode::NotFound, "output index ", index, " is out of range (the predictor has ", m.outputs().size(), " outputs)");
  if (!p->ran) fail(StatusCode::Runtime, "no output: call MXPredForward after setting the inputs");
  const Tensor& t = p->session->output(index);
  int64_t n = t.numel();
  if (int64_t(size) != n)
    fail(StatusCode::ShapeMismatch, "output ", index, " ('", m.outputs()[index].name, "') has ", n, " elements (shape ",
         shape_str(t.shape), "), got size ", size);
  if (!n) return;
  require(data, "data");
  if (t.dtype == DType::Float32) {
    std::memcpy(data, t.data, size_t(n) * sizeof(float));
  } else {
    for (int64_t i = 0; i < n; ++i) data[i] = float(read_scalar(t, i));
  }
}

std::unique_ptr<Predictor> reshape(Predictor* old, const InputArgs& in) {
  const Model& m = *old->shared->model;
  std::vector<Shape> shapes = old->input_shapes;
  for (size_t i = 0; i < in.keys.size(); ++i) {
    int idx = find_model_input(m, in.keys[i]);
    if (idx < 0) {
      bool unused = false;
      for (const std::string& u : old->shared->unused_inputs) if (u == in.keys[i]) unused = true;
      if (unused) continue;
      if (is_argument(*old, in.keys[i]))
        fail(StatusCode::InvalidArgument, "cannot reshape '", in.keys[i], "': only the shapes of inputs may change, not weights");
      fail(StatusCode::NotFound, "cannot find input key '", in.keys[i], "' (inputs: ", input_list(*old), ")");
    }
    if (in.shapes[i].size() != shapes[size_t(idx)].size())
      fail(StatusCode::ShapeMismatch, "input '", in.keys[i], "' has rank ", shapes[size_t(idx)].size(), ", got shape ",
           shape_str(in.shapes[i]));
    shapes[size_t(idx)] = in.shapes[i];
  }
  return make_predictor(old->shared, shapes);
}

}  // namespace c_predict_detail
}  // namespace netlite

using netlite::c_predict_detail::CreateArgs;
using netlite::c_predict_detail::guarded;

MXNET_EXTERN_C const char* MXGetLastError(void) { return netlite::c_predict_detail::last_error.c_str(); }

MXNET_EXTERN_C int MXPredCreate(const char* symbol_json_str, const void* param_bytes, int param_size, int dev_type,
                                int dev_id, mx_uint num_input_nodes, const char** input_keys,
                                const mx_uint* input_shape_indptr, const mx_uint* input_shape_data,
                                PredictorHandle* out) {
  (void)dev_id;
  return guarded([&] {
    CreateArgs a;
    a.symbol = symbol_json_str;
    a.params = param_bytes;
    a.params_size = param_size;
    a.dev_type = dev_type;
    a.num_inputs = num_input_nodes;
    a.input_keys = input_keys;
    a.indptr = input_shape_indptr;
    a.shape_data = input_shape_data;
    netlite::c_predict_detail::create(a, 1, out);
  });
}

MXNET_EXTERN_C int MXPredCreateEx(const char* symbol_json_str, const void* param_bytes, int param_size, int dev_type,
                                  int dev_id, const mx_uint num_input_nodes, const char** input_keys,
                                  const mx_uint* input_shape_indptr, const mx_uint* input_shape_data,
                                  const mx_uint num_provided_arg_dtypes, const char** provided_arg_dtype_names,
                                  const int* provided_arg_dtypes, PredictorHandle* out) {
  (void)dev_id;
  return guarded([&] {
    CreateArgs a;
    a.symbol = symbol_json_str;
    a.params = param_bytes;
    a.params_size = param_size;
    a.dev_type = dev_type;
    a.num_inputs = num_input_nodes;
    a.input_keys = input_keys;
    a.indptr = input_shape_indptr;
    a.shape_data = input_shape_data;
    a.num_dtypes = num_provided_arg_dtypes;
    a.dtype_names = provided_arg_dtype_names;
    a.dtypes = provided_arg_dtypes;
    netlite::c_predict_detail::create(a, 1, out);
  });
}

MXNET_EXTERN_C int MXPredCreatePartialOut(const char* symbol_json_str, const void* param_bytes, int param_size,
                                          int dev_type, int dev_id, mx_uint num_input_nodes, const char** input_keys,
                                          const mx_uint* input_shape_indptr, const mx_uint* input_shape_data,
                                          mx_uint num_output_nodes, const char** output_keys, PredictorHandle* out) {
  (void)dev_id;
  return guarded([&] {
    CreateArgs a;
    a.symbol = symbol_json_str;
    a.params = param_bytes;
    a.params_size = param_size;
    a.dev_type = dev_type;
    a.num_inputs = num_input_nodes;
    a.input_keys = input_keys;
    a.indptr = input_shape_indptr;
    a.shape_data = input_shape_data;
    a.num_outputs = num_output_nodes;
    a.output_keys = output_keys;
    netlite::c_predict_detail::create(a, 1, out);
  });
}

MXNET_EXTERN_C int MXPredCreateMultiThread(const char* symbol_json_str, const void* param_bytes, int param_size,
                                           int dev_type, int dev_id, mx_uint num_input_nodes, const char** input_keys,
                                           const mx_uint* input_shape_indptr, const mx_uint* input_shape_data,
                                           int num_threads, PredictorHandle* out) {
  (void)dev_id;
  return guarded([&] {
    if (num_threads < 1 || num_threads > 4096)
      netlite::fail(netlite::StatusCode::InvalidArgument, "num_threads must be from 1 to 4096, got ", num_threads);
    CreateArgs a;
    a.symbol = symbol_json_str;
    a.params = param_bytes;
    a.params_size = param_size;
    a.dev_type = dev_type;
    a.num_inputs = num_input_nodes;
    a.input_keys = input_keys;
    a.indptr = input_shape_indptr;
    a.shape_data = input_shape_data;
    // Each predictor runs on its caller's thread: the parallelism is across predictors.
    a.threads = num_threads > 1 ? 1 : 0;
    netlite::c_predict_detail::create(a, num_threads, out);
  });
}

MXNET_EXTERN_C int MXPredReshape(mx_uint num_input_nodes, const char** input_keys, const mx_uint* input_shape_indptr,
                                 const mx_uint* input_shape_data, PredictorHandle handle, PredictorHandle* out) {
  return guarded([&] {
    netlite::c_predict_detail::require(out, "out");
    *out = nullptr;
    netlite::c_predict_detail::Predictor* p = netlite::c_predict_detail::predictor(handle);
    netlite::c_predict_detail::InputArgs in =
        netlite::c_predict_detail::read_inputs(num_input_nodes, input_keys, input_shape_indptr, input_shape_data);
    *out = netlite::c_predict_detail::reshape(p, in).release();
  });
}

MXNET_EXTERN_C int MXPredGetOutputShape(PredictorHandle handle, mx_uint index, mx_uint** shape_data, mx_uint* shape_ndim) {
  return guarded([&] {
    netlite::c_predict_detail::Predictor* p = netlite::c_predict_detail::predictor(handle);
    netlite::c_predict_detail::require(shape_data, "shape_data");
    netlite::c_predict_detail::require(shape_ndim, "shape_ndim");
    if (index >= p->output_shapes.size())
      netlite::fail(netlite::StatusCode::NotFound, "output index ", index, " is out of range (the predictor has ",
                    p->output_shapes.size(), " outputs)");
    std::vector<mx_uint>& s = p->output_shapes[index];
    *shape_data = s.data();
    *shape_ndim = mx_uint(s.size());
  });
}

MXNET_EXTERN_C int MXPredGetOutputType(PredictorHandle handle, mx_uint out_index, int* out_dtype) {
  return guarded([&] {
    netlite::c_predict_detail::Predictor* p = netlite::c_predict_detail::predictor(handle);
    netlite::c_predict_detail::require(out_dtype, "out_dtype");
    if (out_index >= p->output_shapes.size())
      netlite::fail(netlite::StatusCode::NotFound, "output index ", out_index, " is out of range (the predictor has ",
                    p->output_shapes.size(), " outputs)");
    *out_dtype = netlite::mxnet::kMxFloat32;  // MXPredGetOutput always writes float32
  });
}

MXNET_EXTERN_C int MXPredSetInput(PredictorHandle handle, const char* key, const mx_float* data, mx_uint size) {
  return guarded([&] {
    netlite::c_predict_detail::set_input(netlite::c_predict_detail::predictor(handle), key, data, size);
  });
}

MXNET_EXTERN_C int MXPredForward(PredictorHandle handle) {
  return guarded([&] { netlite::c_predict_detail::forward(netlite::c_predict_detail::predictor(handle)); });
}

MXNET_EXTERN_C int MXPredPartialForward(PredictorHandle handle, int step, int* step_left) {
  return guarded([&] {
    netlite::c_predict_detail::Predictor* p = netlite::c_predict_detail::predictor(handle);
    netlite::c_predict_detail::require(step_left, "step_left");
    if (step < 0) netlite::fail(netlite::StatusCode::InvalidArgument, "step must not be negative, got ", step);
    if (step == 0 || !p->ran) netlite::c_predict_detail::forward(p);
    int64_t left = int64_t(p->steps) - int64_t(step) - 1;
    *step_left = left > 0 ? int(left) : 0;
  });
}

MXNET_EXTERN_C int MXPredGetOutput(PredictorHandle handle, mx_uint index, mx_float* data, mx_uint size) {
  return guarded([&] {
    netlite::c_predict_detail::get_output(netlite::c_predict_detail::predictor(handle), index, data, size);
  });
}

MXNET_EXTERN_C int MXPredFree(PredictorHandle handle) {
  return guarded([&] {
    if (!handle) return;
    netlite::c_predict_detail::Predictor* p = netlite::c_predict_detail::predictor(handle);
    p->magic = netlite::c_predict_detail::kFreed;
    delete p;
  });
}

MXNET_EXTERN_C int MXPredSetMonitorCallback(PredictorHandle handle, PredMonitorCallback callback, void* callback_handle,
                                            bool monitor_all) {
  (void)callback;
  (void)callback_handle;
  (void)monitor_all;
  return guarded([&] {
    netlite::c_predict_detail::predictor(handle);
    netlite::fail(netlite::StatusCode::Unsupported, "MXPredSetMonitorCallback is not supported by netlite");
  });
}

MXNET_EXTERN_C int MXNDListCreate(const char* nd_file_bytes, int nd_file_size, NDListHandle* out, mx_uint* out_length) {
  return guarded([&] {
    netlite::c_predict_detail::require(out, "out");
    *out = nullptr;
    netlite::c_predict_detail::require(out_length, "out_length");
    netlite::c_predict_detail::require(nd_file_bytes, "nd_file_bytes");
    if (nd_file_size <= 0) netlite::fail(netlite::StatusCode::InvalidArgument, "nd_file_size must be positive, got ", nd_file_size);
    std::vector<netlite::mxnet::NDArrayEntry> entries = netlite::mxnet::read_ndarray_list(
        reinterpret_cast<const uint8_t*>(nd_file_bytes), size_t(nd_file_size), "NDArray file");
    std::unique_ptr<netlite::c_predict_detail::NDList> l(new netlite::c_predict_detail::NDList());
    for (netlite::mxnet::NDArrayEntry& e : entries) {
      l->keys.push_back(e.name);
      std::vector<mx_uint> dims;
      for (int64_t d : e.tensor.shape) {
        if (d > int64_t(UINT32_MAX)) netlite::fail(netlite::StatusCode::Unsupported, "array '", e.name, "' has a dim beyond mx_uint");
        dims.push_back(mx_uint(d));
      }
      if (e.empty) dims.clear();
      l->shapes.push_back(dims);
      l->data.push_back(e.empty ? netlite::Tensor() : netlite::mxnet::to_float32(e.tensor));
    }
    *out_length = mx_uint(l->keys.size());
    *out = l.release();
  });
}

MXNET_EXTERN_C int MXNDListGet(NDListHandle handle, mx_uint index, const char** out_key, const mx_float** out_data,
                               const mx_uint** out_shape, mx_uint* out_ndim) {
  return guarded([&] {
    netlite::c_predict_detail::NDList* l = netlite::c_predict_detail::nd_list(handle);
    if (index >= l->keys.size())
      netlite::fail(netlite::StatusCode::NotFound, "index ", index, " is out of range (the list has ", l->keys.size(), " arrays)");
    netlite::c_predict_detail::require(out_key, "out_key");
    netlite::c_predict_detail::require(out_data, "out_data");
    netlite::c_predict_detail::require(out_shape, "out_shape");
    netlite::c_predict_detail::require(out_ndim, "out_ndim");
    *out_key = l->keys[index].c_str();
    *out_data = static_cast<const mx_float*>(l->data[index].data);
    *out_shape = l->shapes[index].data();
    *out_ndim = mx_uint(l->shapes[index].size());
  });
}

MXNET_EXTERN_C int MXNDListFree(NDListHandle handle) {
  return guarded([&] {
    if (!handle) return;
    netlite::c_predict_detail::NDList* l = netlite::c_predict_detail::nd_list(handle);
    l->magic = netlite::c_predict_detail::kFreed;
    delete l;
  });
}
