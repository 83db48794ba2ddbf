// The C predict API (netlite.h). Every entry point is a wall: it catches every
// C++ exception, turns it into a netlite_status, and leaves the message in a
// thread-local string for netlite_last_error().
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#endif

#include "../../include/netlite.h"
#include "../kernels/gemm.h"
#include "../core/memory.h"
#include "../runtime/model.h"
#include "../runtime/session.h"

struct netlite_model {
  std::unique_ptr<netlite::Model> model;
  // Flattened dims for netlite_tensor_info (stable for the model's lifetime).
  std::vector<std::vector<int64_t>> input_dims, output_dims;
};

struct netlite_session {
  std::unique_ptr<netlite::Session> session;
  netlite_model* owner = nullptr;
};

namespace netlite {
namespace c_api_detail {

thread_local std::string last_error;

netlite_status to_status(StatusCode c) { return static_cast<netlite_status>(static_cast<int>(c)); }

netlite_status set_error(netlite_status s, const std::string& msg) {
  last_error = msg;
  return s;
}

// Runs fn, translating every exception into a status. Clears the message on success.
template <typename F>
netlite_status guarded(F&& fn) {
  try {
    fn();
    last_error.clear();
    return NETLITE_OK;
  } catch (const Error& e) {
    return set_error(to_status(e.code()), e.message());
  } catch (const std::bad_alloc&) {
    return set_error(NETLITE_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return set_error(NETLITE_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(NETLITE_ERR_INTERNAL, "internal error: unknown exception");
  }
}

ModelOptions to_model_options(const netlite_options* o) {
  ModelOptions m;
  if (!o) return m;
  if (o->struct_size < sizeof(uint32_t) + 2 * sizeof(int32_t))
    fail(StatusCode::InvalidArgument, "options: struct_size is ", o->struct_size, "; initialise with netlite_options_init()");
  m.threads = o->threads;
  if (o->threads > 1024) fail(StatusCode::InvalidArgument, "options: threads must be at most 1024, got ", o->threads);
  if (o->gemm_backend < NETLITE_GEMM_AUTO || o->gemm_backend > NETLITE_GEMM_OPENBLAS)
    fail(StatusCode::InvalidArgument, "options: unknown gemm_backend ", o->gemm_backend);
  m.gemm = kernels::GemmBackend(o->gemm_backend);
  if (o->struct_size >= offsetof(netlite_options, optimize) + sizeof(int32_t)) m.optimize = o->optimize != 0;
  if (o->struct_size >= offsetof(netlite_options, memory_limit) + sizeof(uint64_t)) m.memory_limit = o->memory_limit;
  return m;
}

netlite_model* wrap_model(std::unique_ptr<Model> m) {
  std::unique_ptr<netlite_model> h(new netlite_model());
  for (const IoInfo& io : m->inputs()) h->input_dims.push_back(io.shape);
  for (const IoInfo& io : m->outputs()) h->output_dims.push_back(io.shape);
  h->model = std::move(m);
  return h.release();
}

void fill_info(const IoInfo& io, const std::vector<int64_t>& dims, netlite_tensor_info* out) {
  out->name = io.name.c_str();
  out->dtype = int32_t(io.dtype);
  out->ndim = dims.size();
  out->dims = dims.data();
}

// A model file's bytes. Where the system can, the file is mapped read-only and
// its pages populated in the mmap call (MAP_POPULATE: no fault per 4 KiB page,
// which costs several microseconds on VMs with shadow paging): the pages are the
// page cache's, so the load writes no memory of its own for the file. Read into
// a buffer instead, every page of that buffer is fresh memory the kernel must
// zero first, and on the VMs netlite is benchmarked on, zeroing memory that was
// freed a few seconds before (by any process) is slow: ResNet-18's load spent
// 73% of its samples in clear_page, a third of them under the file's read.
// Mapped: loads 2.5 s after another process freed memory 92-188 ms against
// 162-227, back to back 23 against 28 (C, load only). Elsewhere (no mmap, a
// pipe, a mapping refused) the file is read into a large_buffer. Either way
// pages of initializer data are dropped once the importer has copied them, so
// the file and the weights are not both resident at the peak.
//
// A mapped file must not be truncated while it loads (reading a page past the
// new end raises SIGBUS), as for any mapped file; the mapping is gone when the
// load returns.
class ModelFile {
 public:
  explicit ModelFile(const char* path) {
    std::FILE* f = std::fopen(path, "rb");
    if (!f) fail(StatusCode::Io, "cannot open model file '", path, "'");
    struct Closer {
      std::FILE* f;
      ~Closer() { std::fclose(f); }
    } closer{f};
    long n = -1;
    if (std::fseek(f, 0, SEEK_END) == 0) n = std::ftell(f);
    // A directory "seeks" to LONG_MAX; no model is anywhere near 2^46 bytes.
    if (n > 0 && static_cast<unsigned long long>(n) > (1ull << 46)) fail(StatusCode::Io, "cannot read model file '", path, "'");
    if (n >= 0 && std::fseek(f, 0, SEEK_SET) == 0) {
      size_ = size_t(n);
      if (size_ && map(f)) return;
      buffer_ = large_buffer(size_ ? size_ : 1, false);
      if (size_ && std::fread(buffer_.get(), 1, size_, f) != size_)
        fail(StatusCode::Io, "cannot read model file '", path, "'");
      return;
    }
    // Not seekable (a pipe, a device): read it as a stream.
    std::clearerr(f);
    std::vector<uint8_t> bytes;
    uint8_t chunk[65536];
    size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
    if (std::ferror(f)) fail(StatusCode::Io, "cannot read model file '", path, "'");
    size_ = bytes.size();
    buffer_ = large_buffer(size_ ? size_ : 1, false);
    if (size_) std::memcpy(buffer_.get(), bytes.data(), size_);
  }

  const uint8_t* data() const { return static_cast<const uint8_t*>(buffer_.get()); }
  size_t size() const { return size_; }

  // The importer is done with [p, p + n): give the whole pages inside it back
  // to the OS (they are never read again; the buffer is freed after the load).
  // (memory.h's release_pages: whole pages only, and kept out of huge pages, so
  // khugepaged does not fill a read-in buffer's released pages back in.)
  void release(const uint8_t* p, size_t n) const {
    if (p < data() || p + n > data() + size_) return;
    release_pages(p, n);
  }

 private:
  // Maps the whole file (size_ bytes) read-only with its pages populated; false
  // where mapping is not available or refused.
  bool map(std::FILE* f) {
#if defined(__linux__) && defined(MAP_POPULATE)
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, ::fileno(f), 0);
    if (m == MAP_FAILED) return false;
    const size_t len = size_;
    buffer_ = std::shared_ptr<void>(m, [len](void* q) { ::munmap(q, len); });
    return true;
#else
    (void)f;
    return false;
#endif
  }

  std::shared_ptr<void> buffer_;
  size_t size_ = 0;
};

void require(const void* p, const char* what) {
  if (!p) fail(StatusCode::InvalidArgument, what, " is null");
}

std::string build_info() {
  std::string s = "netlite ";
  s += netlite_version();
  s += kernels::openblas_available() ? " gemm=openblas" : " gemm=netlite";
  s += " kernel=";
  s += kernels::gemm_kernel_name();
  return s;
}

}  // namespace c_api_detail
}  // namespace netlite


extern "C" {

const char* netlite_version(void) {
#define NETLITE_STR2(x) #x
#define NETLITE_STR(x) NETLITE_STR2(x)
  return NETLITE_STR(NETLITE_VERSION_MAJOR) "." NETLITE_STR(NETLITE_VERSION_MINOR) "." NETLITE_STR(NETLITE_VERSION_PATCH);
#undef NETLITE_STR
#undef NETLITE_STR2
}

const char* netlite_last_error(void) { return netlite::c_api_detail::last_error.c_str(); }

const char* netlite_build_info(void) {
  static const std::string info = [] {
    try {
      return netlite::c_api_detail::build_info();
    } catch (...) {
      return std::string("netlite");
    }
  }();
  return info.c_str();
}

void netlite_options_init(netlite_options* options) {
  if (!options) return;
  options->struct_size = sizeof(netlite_options);
  options->threads = 0;
  options->gemm_backend = NETLITE_GEMM_AUTO;
  options->optimize = 1;
  options->memory_limit = 0;
}

netlite_status netlite_model_load(const void* data, size_t size, const netlite_options* options, netlite_model** out_model) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(out_model, "out_model");
    *out_model = nullptr;
    if (size == 0) netlite::fail(netlite::StatusCode::InvalidModel, "model is empty (0 bytes)");
    netlite::c_api_detail::require(data, "data");
    netlite::ModelOptions mo = netlite::c_api_detail::to_model_options(options);
    *out_model = netlite::c_api_detail::wrap_model(
        netlite::Model::load_onnx(static_cast<const uint8_t*>(data), size, mo));
  });
}

netlite_status netlite_model_load_file(const char* path, const netlite_options* options, netlite_model** out_model) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(out_model, "out_model");
    *out_model = nullptr;
    netlite::c_api_detail::require(path, "path");
    netlite::ModelOptions mo = netlite::c_api_detail::to_model_options(options);
    netlite::c_api_detail::ModelFile file(path);
    if (file.size() == 0) netlite::fail(netlite::StatusCode::InvalidModel, "model file '", path, "' is empty");
    *out_model = netlite::c_api_detail::wrap_model(netlite::Model::load_onnx(
        file.data(), file.size(), mo, [&file](const uint8_t* p, size_t n) { file.release(p, n); }));
  });
}

void netlite_model_free(netlite_model* model) { delete model; }

netlite_status netlite_model_input_count(const netlite_model* model, size_t* out_count) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(model, "model");
    netlite::c_api_detail::require(out_count, "out_count");
    *out_count = model->model->inputs().size();
  });
}

netlite_status netlite_model_output_count(const netlite_model* model, size_t* out_count) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(model, "model");
    netlite::c_api_detail::require(out_count, "out_count");
    *out_count = model->model->outputs().size();
  });
}

netlite_status netlite_model_input_info(const netlite_model* model, size_t index, netlite_tensor_info* out_info) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(model, "model");
    netlite::c_api_detail::require(out_info, "out_info");
    if (index >= model->model->inputs().size())
      netlite::fail(netlite::StatusCode::NotFound, "input index ", index, " is out of range (the model has ",
                    model->model->inputs().size(), " inputs)");
    netlite::c_api_detail::fill_info(model->model->inputs()[index], model->input_dims[index], out_info);
  });
}

netlite_status netlite_model_output_info(const netlite_model* model, size_t index, netlite_tensor_info* out_info) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(model, "model");
    netlite::c_api_detail::require(out_info, "out_info");
    if (index >= model->model->outputs().size())
      netlite::fail(netlite::StatusCode::NotFound, "output index ", index, " is out of range (the model has ",
                    model->model->outputs().size(), " outputs)");
    netlite::c_api_detail::fill_info(model->model->outputs()[index], model->output_dims[index], out_info);
  });
}

netlite_status netlite_model_memory(const netlite_model* model, netlite_memory_info* out_info) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(model, "model");
    netlite::c_api_detail::require(out_info, "out_info");
    out_info->weights_bytes = model->model->weights_bytes();
    out_info->arena_bytes = model->model->declared_arena_bytes();
    out_info->workspace_bytes = model->model->gemm_workspace_bytes();
  });
}

netlite_status netlite_session_create(netlite_model* model, netlite_session** out_session) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(out_session, "out_session");
    *out_session = nullptr;
    netlite::c_api_detail::require(model, "model");
    std::unique_ptr<netlite_session> s(new netlite_session());
    s->session.reset(new netlite::Session(*model->model));
    s->owner = model;
    *out_session = s.release();
  });
}

void netlite_session_free(netlite_session* session) { delete session; }

netlite_status netlite_session_set_input(netlite_session* session, const char* name, int32_t dtype, const int64_t* dims,
                                         size_t ndim, const void* data, size_t size_bytes) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(session, "session");
    netlite::c_api_detail::require(name, "name");
    if (ndim > 0) netlite::c_api_detail::require(dims, "dims");
    if (ndim > 64) netlite::fail(netlite::StatusCode::ShapeMismatch, "input '", name, "': rank ", ndim, " is too large");
    const netlite::Model& m = session->session->model();
    int idx = m.find_input(name);
    if (idx < 0) {
      std::string names;
      for (const auto& io : m.inputs()) names += (names.empty() ? "'" : ", '") + io.name + "'";
      netlite::fail(netlite::StatusCode::NotFound, "the model has no input named '", name, "' (inputs: ", names, ")");
    }
    netlite::DType dt = netlite::DType(dtype);
    if (!netlite::dtype_supported(dt))
      netlite::fail(netlite::StatusCode::TypeMismatch, "input '", name, "': unsupported dtype ", dtype);
    netlite::Shape shape(dims, dims + ndim);
    session->session->set_input(size_t(idx), dt, shape, data, size_bytes);
  });
}

netlite_status netlite_session_run(netlite_session* session) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(session, "session");
    // Bindings are borrowed pointers: one run consumes them, whatever its outcome.
    struct Unbind {
      netlite::Session& s;
      ~Unbind() { s.unbind_inputs(); }
    } unbind{*session->session};
    session->session->run();
  });
}

netlite_status netlite_session_warm_up(netlite_session* session) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(session, "session");
    session->session->warm_up();
  });
}

netlite_status netlite_session_output(netlite_session* session, size_t index, netlite_tensor* out_tensor) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(session, "session");
    netlite::c_api_detail::require(out_tensor, "out_tensor");
    const netlite::Tensor& t = session->session->output(index);
    out_tensor->name = session->session->model().outputs()[index].name.c_str();
    out_tensor->dtype = int32_t(t.dtype);
    out_tensor->ndim = t.shape.size();
    out_tensor->dims = t.shape.data();
    out_tensor->data = t.data;
    out_tensor->size_bytes = t.bytes();
  });
}

netlite_status netlite_session_arena_bytes(const netlite_session* session, uint64_t* out_bytes) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(session, "session");
    netlite::c_api_detail::require(out_bytes, "out_bytes");
    *out_bytes = session->session->arena_bytes();
  });
}

size_t netlite_op_count(void) { return netlite::all_ops().size(); }

netlite_status netlite_op_info(size_t index, netlite_op_def* out_def) {
  return netlite::c_api_detail::guarded([&] {
    netlite::c_api_detail::require(out_def, "out_def");
    const auto& ops = netlite::all_ops();
    if (index >= ops.size()) netlite::fail(netlite::StatusCode::NotFound, "op index ", index, " is out of range");
    const netlite::OpDef* d = ops[index];
    out_def->op_type = d->op_type;
    out_def->domain = d->domain;
    out_def->since_version = d->since_version;
    out_def->max_version = d->max_version;
    out_def->notes = d->notes;
  });
}

}  // extern "C"
