// netlite's Node.js binding: a thin N-API layer over the C API in netlite.h.
//
// The JS surface (mirrored 1:1 by lib/native.ts):
//   version(), buildInfo(), loadModel(source, options[, callback]), loadModelSync(source, options),
//   loadMxnetModel(symbol, params, inputShapes, options[, callback]), loadMxnetModelSync(...),
//   ops(), and Model objects with inputs(), outputs(), memory(), run(feeds[, callback]),
//   runSync(feeds), dispose().
//
// Rules this file keeps (see STYLE.md, "AsyncWorker discipline" and "Lifecycle guarded"):
//   - Per-env state lives in the Addon instance (context-aware: loads in worker_threads), and an
//     env cleanup hook frees every model when the env (main thread or a Worker) goes away.
//   - Execute() makes no N-API call. Input typed arrays are borrowed (their ArrayBuffers are
//     pinned by references until the run settles); outputs are copied once, on the worker thread,
//     into buffers that become the result ArrayBuffers without a further copy.
//   - A model's asynchronous runs execute on one thread of its own (RunThread, started at load,
//     where the warm-up runs when asked for), posted there from the JS thread and settled
//     through the addon's thread-safe function; a run that finds that thread busy runs on a
//     libuv worker.
//   - Error text comes from netlite_last_error() on the thread that made the failing call.
//   - A model's native state (ModelState) is shared by its JS wrapper and every run in flight;
//     dispose() drops the wrapper's share, so the native model is freed when the last run settles.
//   - Model objects are type-tagged: a foreign object passed as `this` is rejected.
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "netlite.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

namespace netlite_addon {

// ---------------------------------------------------------------------------------------------
// Errors

const char* StatusCode(netlite_status status) {
  switch (status) {
    case NETLITE_ERR_INVALID_ARGUMENT: return "ERR_INVALID_ARGUMENT";
    case NETLITE_ERR_INVALID_MODEL: return "ERR_INVALID_MODEL";
    case NETLITE_ERR_UNSUPPORTED: return "ERR_UNSUPPORTED";
    case NETLITE_ERR_SHAPE: return "ERR_SHAPE";
    case NETLITE_ERR_DTYPE: return "ERR_DTYPE";
    case NETLITE_ERR_OUT_OF_MEMORY: return "ERR_OUT_OF_MEMORY";
    case NETLITE_ERR_IO: return "ERR_IO";
    case NETLITE_ERR_NOT_FOUND: return "ERR_NOT_FOUND";
    case NETLITE_ERR_RUNTIME: return "ERR_RUNTIME";
    case NETLITE_OK:  // an OK status never becomes an error; treat a mix-up as a bug
    case NETLITE_ERR_INTERNAL:
    default: return "ERR_INTERNAL";
  }
}

constexpr const char* kDisposed = "ERR_DISPOSED";
constexpr const char* kInvalidArgument = "ERR_INVALID_ARGUMENT";

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message, bool type_error = false) {
  Napi::Error error = type_error ? Napi::TypeError::New(env, message) : Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error StatusError(Napi::Env env, netlite_status status, const std::string& message) {
  std::string text = message.empty() ? std::string("netlite failed with ") + StatusCode(status) : message;
  return CodedError(env, StatusCode(status), text);
}

[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message) {
  throw CodedError(env, kInvalidArgument, message, true);
}

[[noreturn]] void ThrowError(Napi::Env env, const char* code, const std::string& message) {
  throw CodedError(env, code, message);
}

// A status plus the thread-local message read right after the failing call.
struct Failure {
  netlite_status status = NETLITE_OK;
  std::string message;
  bool failed() const { return status != NETLITE_OK; }
  void Set(netlite_status s) {
    status = s;
    const char* m = netlite_last_error();
    message = (m && *m) ? m : std::string("netlite failed with ") + StatusCode(s);
  }
  void Set(netlite_status s, std::string m) {
    status = s;
    message = std::move(m);
  }
};

// ---------------------------------------------------------------------------------------------
// Element types

const char* DTypeName(int32_t dtype) {
  switch (dtype) {
    case NETLITE_DTYPE_FLOAT32: return "float32";
    case NETLITE_DTYPE_UINT8: return "uint8";
    case NETLITE_DTYPE_INT8: return "int8";
    case NETLITE_DTYPE_INT32: return "int32";
    case NETLITE_DTYPE_INT64: return "int64";
    case NETLITE_DTYPE_BOOL: return "bool";
    default: return "unknown";
  }
}

int32_t DTypeFromName(const std::string& name) {
  if (name == "float32") return NETLITE_DTYPE_FLOAT32;
  if (name == "uint8") return NETLITE_DTYPE_UINT8;
  if (name == "int8") return NETLITE_DTYPE_INT8;
  if (name == "int32") return NETLITE_DTYPE_INT32;
  if (name == "int64") return NETLITE_DTYPE_INT64;
  if (name == "bool") return NETLITE_DTYPE_BOOL;
  return NETLITE_DTYPE_UNDEFINED;
}

size_t DTypeSize(int32_t dtype) {
  switch (dtype) {
    case NETLITE_DTYPE_FLOAT32: case NETLITE_DTYPE_INT32: return 4;
    case NETLITE_DTYPE_INT64: return 8;
    case NETLITE_DTYPE_UINT8: case NETLITE_DTYPE_INT8: case NETLITE_DTYPE_BOOL: return 1;
    default: return 0;
  }
}

// The typed array class that carries each dtype (bool is one byte per element).
bool TypedArrayFits(int32_t dtype, napi_typedarray_type type) {
  switch (dtype) {
    case NETLITE_DTYPE_FLOAT32: return type == napi_float32_array;
    case NETLITE_DTYPE_INT64: return type == napi_bigint64_array;
    case NETLITE_DTYPE_INT32: return type == napi_int32_array;
    case NETLITE_DTYPE_INT8: return type == napi_int8_array;
    case NETLITE_DTYPE_UINT8: case NETLITE_DTYPE_BOOL:
      return type == napi_uint8_array || type == napi_uint8_clamped_array;
    default: return false;
  }
}

bool TypedArrayFor(int32_t dtype, napi_typedarray_type* out) {
  switch (dtype) {
    case NETLITE_DTYPE_FLOAT32: *out = napi_float32_array; return true;
    case NETLITE_DTYPE_INT64: *out = napi_bigint64_array; return true;
    case NETLITE_DTYPE_INT32: *out = napi_int32_array; return true;
    case NETLITE_DTYPE_INT8: *out = napi_int8_array; return true;
    case NETLITE_DTYPE_UINT8: case NETLITE_DTYPE_BOOL: *out = napi_uint8_array; return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Model state shared by the JS wrapper and the runs in flight

struct TensorInfo {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
};

class Addon;

// The thread a model's asynchronous runs execute on. libuv hands each queued run
// to whichever of its 4 workers is free, so consecutive runs of a model started
// on different threads, and about one run in three on the other core than the
// run before (counted with sched_getcpu): what the last run left in that core's
// caches and the thread's own scratch was elsewhere. MobileNetV2 at 1 thread took
// 0.18-0.38 ms longer through predict() than through predictSync() (4 rounds,
// alternating processes), and 0.0-0.05 ms with UV_THREADPOOL_SIZE=1.
//
// run() posts the run straight to this thread (TryPost) and the thread settles it
// through the addon's thread-safe function: no libuv worker in between. Handing the
// run from a libuv worker to this thread and back cost three thread wake-ups per run
// (the worker's, this thread's, the worker's again) on top of the JS thread's own: a
// predict() of the 28x28 MNIST model took 85-160 us against 30-50 us for
// predictSync(). For the same reason the thread spins a little (kSpin) before it
// sleeps: back-to-back predict() calls then find it awake. A run that finds the thread
// busy goes through a libuv worker (TryRun from there, else on the worker itself).
// The thread starts at load (a warm-up run is made on it, see NewRunThread) and ends
// when the model is freed.
class RunThread {
 public:
  RunThread() : thread_([this] { Loop(); }) {}
  ~RunThread() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
      pending_.store(true, std::memory_order_release);  // ends a spin at once
    }
    start_.notify_one();
    thread_.join();
  }
  RunThread(const RunThread&) = delete;
  RunThread& operator=(const RunThread&) = delete;

  // Runs fn() on this thread and returns when it has returned (rethrowing what it
  // threw). Returns false without running it when another run holds the thread
  // (concurrent runs of one model then run side by side on their libuv workers).
  template <typename F>
  bool TryRun(F&& fn) {
    using Fn = typename std::remove_reference<F>::type;
    std::unique_lock<std::mutex> lock(m_);
    if (busy_ || stop_) return false;
    job_ = Job{&fn, [](void* f) { (*static_cast<Fn*>(f))(); }, nullptr};
    Start();
    lock.unlock();
    start_.notify_one();
    lock.lock();
    finished_.wait(lock, [&] { return done_; });
    busy_ = false;
    if (error_) {
      std::exception_ptr e = nullptr;
      std::swap(e, error_);
      std::rethrow_exception(e);
    }
    return true;
  }

  // Starts work(arg) on this thread and returns at once; when work returns, the thread
  // is free for the next run and then calls done(arg). Neither may throw. Returns false
  // without starting anything when another run holds the thread.
  bool TryPost(void (*work)(void*), void (*done)(void*), void* arg) {
    {
      std::lock_guard<std::mutex> lock(m_);
      if (busy_ || stop_) return false;
      job_ = Job{arg, work, done};
      Start();
    }
    start_.notify_one();
    return true;
  }

 private:
  struct Job {
    void* arg;
    void (*call)(void*);
    void (*done)(void*);  // null: a TryRun caller waits for done_
  };

  // How long the thread looks for the next run before it sleeps on start_. Between one
  // run's end and the next predict() of a loop that awaits each, the JS thread takes
  // 130-250 us with a large model (MobileNetV2 at 1 thread: waking, settling, the next
  // call's checks, all from caches the run has emptied), so with 200 us the thread was
  // often asleep: the post then cost a futex wake-up (~20 us on the JS thread) and the run
  // started ~45 us later (a halted vCPU's wake-up). With 500 us, 0.5-1 us at p90.
  static constexpr std::chrono::microseconds kSpin{500};

  void Start() {  // under m_
    busy_ = true;
    done_ = false;
    pending_.store(true, std::memory_order_release);
  }

  void Loop() {
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + kSpin;
      // Every 64th round a yield, so that a woken thread that needs this core (the JS
      // thread picking up the result, say) gets it.
      for (int i = 1; !pending_.load(std::memory_order_acquire); ++i) {
        if ((i & 63) == 0) {
          if (std::chrono::steady_clock::now() > until) break;
          std::this_thread::yield();
        } else {
          Relax();
        }
      }
      std::unique_lock<std::mutex> lock(m_);
      start_.wait(lock, [&] { return stop_ || pending_.load(std::memory_order_relaxed); });
      if (stop_) return;  // the destructor runs only when no run holds the thread
      pending_.store(false, std::memory_order_relaxed);
      const Job job = job_;
      lock.unlock();
      if (job.done) {
        job.call(job.arg);
        lock.lock();
        busy_ = false;
        lock.unlock();
        job.done(job.arg);
        continue;
      }
      std::exception_ptr error = nullptr;
      try {
        job.call(job.arg);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      error_ = error;
      done_ = true;
      lock.unlock();
      finished_.notify_one();
    }
  }

  static void Relax() {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    std::this_thread::yield();
#endif
  }

  std::mutex m_;
  std::condition_variable start_, finished_;
  Job job_{};                        // the run being handed over or executed
  std::atomic<bool> pending_{false};  // job_ is set and not yet picked up
  bool busy_ = false;                 // a run holds the thread (from TryRun/TryPost until it is free)
  bool done_ = false;                 // a TryRun job has returned
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

// Idle sessions kept per model; more are created under load and freed on return.
constexpr size_t kMaxIdleSessions = 4;

class ModelState {
 public:
  ModelState(Addon* addon, netlite_model* model) : addon_(addon), model_(model) {}
  ~ModelState();
  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;

  netlite_model* model() const { return model_; }

  // Takes an idle session or creates one. Any thread.
  netlite_session* Acquire(Failure* failure) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!model_) {
      failure->Set(NETLITE_ERR_RUNTIME, "the model has been freed");
      return nullptr;
    }
    if (!idle_.empty()) {
      netlite_session* s = idle_.back();
      idle_.pop_back();
      return s;
    }
    netlite_session* s = nullptr;
    netlite_status st = netlite_session_create(model_, &s);
    if (st != NETLITE_OK) {
      failure->Set(st);
      return nullptr;
    }
    return s;
  }

  // Returns a session after a run. A session whose run failed is freed rather than
  // reused, so no half-bound state can leak into a later run. Any thread.
  void Release(netlite_session* s, bool healthy) {
    if (!s) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (healthy && model_ && idle_.size() < kMaxIdleSessions) {
        idle_.push_back(s);
        return;
      }
    }
    netlite_session_free(s);
  }

  // Adds a session made at load (its plan bound and its arena resident) to the
  // idle list, so the first run finds it ready. JS thread, before any run.
  void AddIdle(netlite_session* s) {
    if (!s) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (model_ && idle_.size() < kMaxIdleSessions) {
        idle_.push_back(s);
        return;
      }
    }
    netlite_session_free(s);
  }

  // Takes the run thread started at load (may be null). JS thread, before any run.
  void AdoptRunThread(std::unique_ptr<RunThread> t) {
    if (!t) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (model_ && !run_thread_) run_thread_ = std::move(t);
  }

  // Runs fn() on the model's RunThread (started at load, or here by the first run), or returns
  // false when that thread is busy or cannot be started. Any thread.
  template <typename F>
  bool RunOnThread(F&& fn) {
    RunThread* t = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!model_) return false;
      if (!run_thread_) {
        try {
          run_thread_.reset(new RunThread());
        } catch (...) {  // no thread to be had: run on the caller's
          return false;
        }
      }
      t = run_thread_.get();
    }
    // run_thread_ lives until FreeNative, which no run in flight can reach.
    return t->TryRun(std::forward<F>(fn));
  }

  // Starts work(arg) on the model's RunThread without waiting (RunThread::TryPost), or
  // returns false when there is no such thread or a run holds it. JS thread.
  bool TryPost(void (*work)(void*), void (*done)(void*), void* arg) {
    RunThread* t = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!model_ || !run_thread_) return false;
      t = run_thread_.get();
    }
    return t->TryPost(work, done, arg);
  }

  // Frees sessions and the model. JS thread; caller guarantees no run is in flight
  // (it holds the last reference, or the run count is zero).
  void FreeNative();

  void Detach() { addon_ = nullptr; }

  std::vector<TensorInfo> inputs, outputs;
  uint64_t weights_bytes = 0, arena_bytes = 0, workspace_bytes = 0;
  int64_t external_memory = 0;     // bytes reported to V8 with AdjustExternalMemory
  napi_env env = nullptr;
  int runs_in_flight = 0;          // JS thread only

 private:
  Addon* addon_;                   // null once the env is being torn down
  netlite_model* model_;
  std::mutex mu_;
  std::vector<netlite_session*> idle_;
  std::unique_ptr<RunThread> run_thread_;  // under mu_
};

// ---------------------------------------------------------------------------------------------
// The per-env addon instance

class ModelWrap;
class RunWorker;

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon() {
    if (!cleaned_up_) {
      Cleanup();
      napi_remove_env_cleanup_hook(env_, &Addon::CleanupHook, this);
    }
  }

  // Wraps a freshly loaded model into a JS Model object; takes ownership of `model`
  // and of `first_session` (may be null), the session the first run will use. Reports the
  // model's memory to V8 as external memory, of which `reported` bytes already are
  // (LoadWorkerBase::OnProgress): the object takes them over.
  Napi::Object NewModel(Napi::Env env, netlite_model* model, netlite_session* first_session = nullptr,
                        std::unique_ptr<RunThread> run_thread = nullptr, int64_t reported = 0);

  void Register(ModelState* s) { live_.insert(s); }
  void Unregister(ModelState* s) { live_.erase(s); }

  // The ModelState a Model constructor call may adopt (set only inside NewModel).
  std::shared_ptr<ModelState> pending_;

  // Posts a run to its model's RunThread, from which it is settled through settle_.
  // Returns false when it cannot be posted: the caller queues it on a libuv worker. JS thread.
  bool PostRun(ModelState& model, RunWorker* worker);

 private:
  Napi::Value Version(const Napi::CallbackInfo& info);
  Napi::Value BuildInfo(const Napi::CallbackInfo& info);
  Napi::Value LoadModel(const Napi::CallbackInfo& info);
  Napi::Value LoadModelSync(const Napi::CallbackInfo& info);
  Napi::Value LoadMxnetModel(const Napi::CallbackInfo& info);
  Napi::Value LoadMxnetModelSync(const Napi::CallbackInfo& info);
  Napi::Value LiveModels(const Napi::CallbackInfo& info);
  Napi::Value ExternalMemory(const Napi::CallbackInfo& info);
  Napi::Value Ops(const Napi::CallbackInfo& info);

  static void CleanupHook(void* arg) { static_cast<Addon*>(arg)->Cleanup(); }

  // RunThread: a posted run has returned; hands it to the JS thread.
  static void RunDone(void* worker);
  // JS thread (settle_'s callback): settles a posted run.
  static void SettleRun(napi_env env, napi_value, void* addon, void* worker);
  // Cleanup (no run is posted after it): waits for the posted runs still executing (one
  // inference each at most) and frees those that finished but were not settled.
  void ClosePosting();

  // The env is going away: free every model no run is using (runs in flight free
  // theirs when their worker is destroyed).
  void Cleanup() {
    cleaned_up_ = true;
    ClosePosting();
    std::unordered_set<ModelState*> live;
    live.swap(live_);
    for (ModelState* s : live) {
      s->Detach();
      if (s->runs_in_flight == 0) s->FreeNative();
    }
    model_ctor_.Reset();
  }

  napi_env env_;
  bool cleaned_up_ = false;
  Napi::FunctionReference model_ctor_;
  std::unordered_set<ModelState*> live_;

  // Posted runs (PostRun). settle_ is referenced (keeps the event loop alive) while
  // any is unsettled. Created before the env cleanup hook is added, so that hook runs
  // first (hooks run in reverse order) and the function outlives every RunDone call.
  napi_threadsafe_function settle_ = nullptr;
  std::unordered_set<RunWorker*> posted_;  // JS thread: posted and not settled
  std::mutex post_mu_;
  std::condition_variable post_cv_;
  int post_running_ = 0;  // under post_mu_: posted runs whose RunDone has not returned
};

ModelState::~ModelState() {
  FreeNative();
  if (addon_) addon_->Unregister(this);
}

void ModelState::FreeNative() {
  std::vector<netlite_session*> idle;
  netlite_model* model = nullptr;
  std::unique_ptr<RunThread> run_thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle.swap(idle_);
    model = model_;
    model_ = nullptr;
    run_thread.swap(run_thread_);
  }
  run_thread.reset();  // idle: no run is in flight (joined outside mu_)
  for (netlite_session* s : idle) netlite_session_free(s);
  netlite_model_free(model);
  if (external_memory && env && addon_) {
    int64_t ignored = 0;
    napi_adjust_external_memory(env, -external_memory, &ignored);
  }
  external_memory = 0;
}

// ---------------------------------------------------------------------------------------------
// Argument parsing (JS thread)

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsArray()) return "an array";
  if (v.IsTypedArray()) return "a typed array";
  if (v.IsFunction()) return "a function";
  if (v.IsString()) return "a string";
  if (v.IsNumber()) return "a number";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsObject()) return "an object";
  return "a value of another type";
}

// A non-negative integer that fits in a double exactly.
bool ToCount(const Napi::Value& v, uint64_t* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

// The C load options plus the addon's own.
struct LoadOptions {
  netlite_options native;
  bool warm_up = false;  // run the first session once on zeros at load (netlite_session_warm_up)
};

void ParseOptions(Napi::Env env, const Napi::Value& value, LoadOptions* load) {
  netlite_options* opts = &load->native;
  netlite_options_init(opts);
  if (value.IsUndefined() || value.IsNull()) return;
  if (!value.IsObject() || value.IsArray() || value.IsFunction()) {
    ThrowTypeError(env, "Expected options to be an object but received " + Describe(value));
  }
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value threads = o.Get("threads");
  if (!threads.IsUndefined()) {
    double d = threads.IsNumber() ? threads.As<Napi::Number>().DoubleValue() : -1;
    if (!threads.IsNumber() || !(d >= 0) || d > 1024 || d != static_cast<double>(static_cast<int32_t>(d))) {
      ThrowTypeError(env, "Expected options.threads to be an integer from 0 to 1024");
    }
    opts->threads = static_cast<int32_t>(d);
  }
  Napi::Value gemm = o.Get("gemm");
  if (!gemm.IsUndefined()) {
    std::string g = gemm.IsString() ? gemm.As<Napi::String>().Utf8Value() : "";
    if (g == "auto") opts->gemm_backend = NETLITE_GEMM_AUTO;
    else if (g == "reference") opts->gemm_backend = NETLITE_GEMM_REFERENCE;
    else if (g == "netlite") opts->gemm_backend = NETLITE_GEMM_NETLITE;
    else if (g == "openblas") opts->gemm_backend = NETLITE_GEMM_OPENBLAS;
    else ThrowTypeError(env, "Expected options.gemm to be 'auto', 'reference', 'netlite' or 'openblas'");
  }
  Napi::Value optimize = o.Get("optimize");
  if (!optimize.IsUndefined()) {
    if (!optimize.IsBoolean()) ThrowTypeError(env, "Expected options.optimize to be a boolean");
    opts->optimize = optimize.As<Napi::Boolean>().Value() ? 1 : 0;
  }
  Napi::Value limit = o.Get("memoryLimit");
  if (!limit.IsUndefined()) {
    uint64_t n = 0;
    if (!ToCount(limit, &n)) ThrowTypeError(env, "Expected options.memoryLimit to be a non-negative integer");
    opts->memory_limit = n;
  }
  Napi::Value warm = o.Get("warmUp");
  if (!warm.IsUndefined()) {
    if (!warm.IsBoolean()) ThrowTypeError(env, "Expected options.warmUp to be a boolean");
    load->warm_up = warm.As<Napi::Boolean>().Value();
  }
}

// A non-null pointer for empty buffers (a zero-length typed array may have none, and
// the C API reads a null pointer as a missing argument).
const unsigned char kEmpty[1] = {0};

// Model bytes (borrowed, pinned) or a file path.
struct ModelSource {
  std::string path;
  bool from_path = false;
  const void* data = nullptr;
  size_t size = 0;
  Napi::ObjectReference pin;
};

void ParseSource(Napi::Env env, const Napi::Value& v, ModelSource* src) {
  if (v.IsString()) {
    src->path = v.As<Napi::String>().Utf8Value();
    if (src->path.empty()) ThrowTypeError(env, "Expected a model path but received an empty string");
    if (src->path.find('\0') != std::string::npos) ThrowTypeError(env, "The model path contains a NUL character");
    src->from_path = true;
    return;
  }
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    void* data = nullptr;
    napi_value ab = nullptr;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset));
    if (type != napi_uint8_array && type != napi_uint8_clamped_array && type != napi_int8_array) {
      ThrowTypeError(env, "Expected the model bytes as a Uint8Array");
    }
    src->data = data ? data : kEmpty;
    src->size = length;
    src->pin = Napi::Persistent(Napi::Object(env, ab));
    return;
  }
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    src->data = ab.Data() ? ab.Data() : kEmpty;
    src->size = ab.ByteLength();
    src->pin = Napi::Persistent(Napi::Object(env, ab));
    return;
  }
  ThrowTypeError(env, "Expected a model path (string) or bytes (Uint8Array) but received " + Describe(v));
}

// An MXNet model: symbol JSON and params, each a path or bytes, and optional input shapes
// ({name: dims}, -1 for a free dim; absent: inputs found from the params, rank free).
struct MxnetSource {
  ModelSource symbol, params;
  std::vector<std::string> input_names;
  std::vector<std::vector<int64_t>> input_dims;
};

void ParseMxnetSource(Napi::Env env, const Napi::CallbackInfo& info, MxnetSource* src) {
  ParseSource(env, info[0], &src->symbol);
  ParseSource(env, info[1], &src->params);
  Napi::Value shapes = info[2];
  if (shapes.IsUndefined() || shapes.IsNull()) return;
  if (!shapes.IsObject() || shapes.IsArray()) {
    ThrowTypeError(env, "Expected inputShapes to be an object mapping input names to dims but received " + Describe(shapes));
  }
  Napi::Object o = shapes.As<Napi::Object>();
  Napi::Array names = o.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).ToString().Utf8Value();
    Napi::Value dims = o.Get(name);
    if (!dims.IsArray() || dims.As<Napi::Array>().Length() > 32) {
      ThrowTypeError(env, "Expected inputShapes['" + name + "'] to be an array of at most 32 integers");
    }
    Napi::Array a = dims.As<Napi::Array>();
    std::vector<int64_t> d;
    for (uint32_t k = 0; k < a.Length(); ++k) {
      Napi::Value v = a.Get(k);
      double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -2;
      if (!(x == -1 || (x >= 0 && x <= 9007199254740991.0 && x == double(int64_t(x))))) {
        ThrowTypeError(env, "Expected inputShapes['" + name + "'] to hold non-negative integers or -1");
      }
      d.push_back(int64_t(x));
    }
    src->input_names.push_back(name);
    src->input_dims.push_back(std::move(d));
  }
}

// The session the first run of a new model will use, made on the loading thread:
// for a model whose input shapes are fixed it comes with the load-time plan bound
// and its arena resident (see netlite_session_create), and with `warm_up` it has
// run once on zeros, so the first prediction is not slower than the others
// (netlite_session_warm_up; a model that fails on zeros just skips it). Null on
// failure: the first run then makes one and reports the error itself. No N-API.
netlite_session* FirstSession(netlite_model* model, bool warm_up) {
  netlite_session* s = nullptr;
  if (!model || netlite_session_create(model, &s) != NETLITE_OK) return nullptr;
  if (warm_up) netlite_session_warm_up(s);
  return s;
}

// A model's run thread, started at load so that the warm-up runs on the thread the
// predictions will use: the first predict() on a thread that had run nothing took
// up to 2x the median (first/median 1.5-2.0 in `npm run bench`). Null when no
// thread can be started (runs then stay on the libuv workers). No N-API.
std::unique_ptr<RunThread> NewRunThread() {
  try {
    return std::unique_ptr<RunThread>(new RunThread());
  } catch (...) {
    return nullptr;
  }
}

// FirstSession, made on `thread` when there is one.
netlite_session* FirstSessionOn(RunThread* thread, netlite_model* model, bool warm_up) {
  netlite_session* s = nullptr;
  if (!thread || !thread->TryRun([&] { s = FirstSession(model, warm_up); })) s = FirstSession(model, warm_up);
  return s;
}

// Reads a whole file; no N-API (runs on worker threads).
bool ReadWholeFile(const std::string& path, const char* what, std::string* out, Failure* failure) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  std::streamoff n = f ? std::streamoff(f.tellg()) : std::streamoff(-1);
  if (n < 0) {
    failure->Set(NETLITE_ERR_IO, std::string("cannot open the MXNet ") + what + " file '" + path + "'");
    return false;
  }
  out->resize(static_cast<size_t>(n));
  f.seekg(0);
  if (n > 0 && !f.read(&(*out)[0], n)) {
    failure->Set(NETLITE_ERR_IO, std::string("cannot read the MXNet ") + what + " file '" + path + "'");
    return false;
  }
  return true;
}

// Loads an ONNX model; no N-API (runs on worker threads). Null with `failure` set on error.
netlite_model* LoadFrom(const ModelSource& src, const netlite_options& options, Failure* failure) {
  netlite_model* model = nullptr;
  netlite_status st = src.from_path ? netlite_model_load_file(src.path.c_str(), &options, &model)
                                    : netlite_model_load(src.data, src.size, &options, &model);
  if (st != NETLITE_OK) {
    failure->Set(st);
    return nullptr;
  }
  return model;
}

// Releases the JS buffers a source pinned (JS thread).
void Unpin(ModelSource* src) { src->pin.Reset(); }

// Loads an MXNet model; no N-API (runs on worker threads). Null with `failure` set on error.
netlite_model* LoadFrom(const MxnetSource& src, const netlite_options& options, Failure* failure) {
  std::string symbol_file, params_file;
  const char* symbol = static_cast<const char*>(src.symbol.data);
  size_t symbol_size = src.symbol.size;
  const void* params = src.params.data;
  size_t params_size = src.params.size;
  if (src.symbol.from_path) {
    if (!ReadWholeFile(src.symbol.path, "symbol", &symbol_file, failure)) return nullptr;
    symbol = symbol_file.data();
    symbol_size = symbol_file.size();
  }
  if (src.params.from_path) {
    if (!ReadWholeFile(src.params.path, "params", &params_file, failure)) return nullptr;
    params = params_file.data();
    params_size = params_file.size();
  }
  std::vector<const char*> names;
  std::vector<const int64_t*> dims;
  std::vector<size_t> ndims;
  for (size_t i = 0; i < src.input_names.size(); ++i) {
    names.push_back(src.input_names[i].c_str());
    dims.push_back(src.input_dims[i].data());
    ndims.push_back(src.input_dims[i].size());
  }
  netlite_model* model = nullptr;
  netlite_status st = netlite_model_load_mxnet(symbol, symbol_size, params_size ? params : nullptr, params_size,
                                               names.data(), dims.data(), ndims.data(), names.size(), &options, &model);
  if (st != NETLITE_OK) {
    failure->Set(st);
    return nullptr;
  }
  return model;
}

void Unpin(MxnetSource* src) {
  src->symbol.pin.Reset();
  src->params.pin.Reset();
}

// One bound input of a run. `data` is borrowed from a pinned ArrayBuffer.
struct InputBinding {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  const void* data = nullptr;
  size_t bytes = 0;
};

// Reads `feeds` ({ name: { type, dims, data } }) on the JS thread. The model's input
// list is authoritative: every input must be fed (a session keeps bindings across runs,
// so a missing feed must never fall back to a previous run's borrowed pointer), and
// every feed must name an input.
void ParseFeeds(Napi::Env env, const ModelState& model, const Napi::Value& value,
                std::vector<InputBinding>* bindings, std::vector<Napi::ObjectReference>* pins) {
  if (!value.IsObject() || value.IsArray() || value.IsFunction() || value.IsTypedArray()) {
    ThrowTypeError(env, "Expected feeds to be an object mapping input names to tensors but received " +
                            Describe(value));
  }
  Napi::Object feeds = value.As<Napi::Object>();
  Napi::Array names = feeds.GetPropertyNames();
  std::vector<bool> fed(model.inputs.size(), false);
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).ToString().Utf8Value();
    size_t index = model.inputs.size();
    for (size_t k = 0; k < model.inputs.size(); ++k) {
      if (model.inputs[k].name == name) index = k;
    }
    if (index == model.inputs.size()) ThrowError(env, "ERR_NOT_FOUND", "The model has no input named '" + name + "'");
    const TensorInfo& info = model.inputs[index];
    Napi::Value feed = feeds.Get(name);
    if (!feed.IsObject() || feed.IsArray()) {
      ThrowTypeError(env, "Expected feed '" + name + "' to be a {type, dims, data} object but received " +
                              Describe(feed));
    }
    Napi::Object t = feed.As<Napi::Object>();
    InputBinding b;
    b.name = name;
    Napi::Value type = t.Get("type");
    b.dtype = type.IsString() ? DTypeFromName(type.As<Napi::String>().Utf8Value()) : NETLITE_DTYPE_UNDEFINED;
    if (b.dtype == NETLITE_DTYPE_UNDEFINED) {
      ThrowTypeError(env, "Expected feed '" + name + "'.type to be one of float32, int64, int32, uint8, int8, bool");
    }
    if (b.dtype != info.dtype) {
      ThrowError(env, "ERR_DTYPE", "Input '" + name + "' expects " + DTypeName(info.dtype) + " but received " +
                                       DTypeName(b.dtype));
    }
    Napi::Value dims = t.Get("dims");
    if (!dims.IsArray()) ThrowTypeError(env, "Expected feed '" + name + "'.dims to be an array of integers");
    Napi::Array dims_array = dims.As<Napi::Array>();
    uint32_t rank = dims_array.Length();
    if (rank > 64) ThrowError(env, "ERR_SHAPE", "Input '" + name + "' has too many dims");
    uint64_t count = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < rank; ++d) {
      uint64_t n = 0;
      if (!ToCount(dims_array.Get(d), &n)) {
        ThrowTypeError(env, "Expected feed '" + name + "'.dims to hold non-negative integers");
      }
      b.dims.push_back(static_cast<int64_t>(n));
      if (n != 0 && count > UINT64_MAX / n) overflow = true;
      count *= n;
    }
    Napi::Value data = t.Get("data");
    if (!data.IsTypedArray()) {
      ThrowTypeError(env, "Expected feed '" + name + "'.data to be a typed array but received " + Describe(data));
    }
    napi_typedarray_type ta_type;
    size_t length = 0, offset = 0;
    void* ptr = nullptr;
    napi_value ab = nullptr;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_typedarray_info(env, data, &ta_type, &length, &ptr, &ab, &offset));
    if (!TypedArrayFits(b.dtype, ta_type)) {
      ThrowError(env, "ERR_DTYPE", "Feed '" + name + "' has type " + DTypeName(b.dtype) +
                                       " but its data is not the matching typed array");
    }
    if (overflow || count != length) {
      ThrowError(env, "ERR_SHAPE", "Feed '" + name + "' has " + std::to_string(length) +
                                       " elements but its dims need " + (overflow ? "more" : std::to_string(count)));
    }
    b.bytes = length * DTypeSize(b.dtype);
    b.data = ptr ? ptr : kEmpty;
    pins->push_back(Napi::Persistent(Napi::Object(env, ab)));
    fed[index] = true;
    bindings->push_back(std::move(b));
  }
  std::string missing;
  for (size_t k = 0; k < fed.size(); ++k) {
    if (!fed[k]) missing += (missing.empty() ? "'" : ", '") + model.inputs[k].name + "'";
  }
  if (!missing.empty()) ThrowError(env, kInvalidArgument, "Missing feed for input " + missing);
}

// One output copied out of a session.
struct OutputCopy {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  void* data = nullptr;  // malloc'ed; ownership moves to an ArrayBuffer in OnOK
  size_t bytes = 0;
  OutputCopy() = default;
  OutputCopy(const OutputCopy&) = delete;
  OutputCopy& operator=(const OutputCopy&) = delete;
  OutputCopy(OutputCopy&& o) noexcept { *this = std::move(o); }
  OutputCopy& operator=(OutputCopy&& o) noexcept {
    std::swap(name, o.name);
    std::swap(dtype, o.dtype);
    std::swap(dims, o.dims);
    std::swap(data, o.data);
    std::swap(bytes, o.bytes);
    return *this;
  }
  ~OutputCopy() { std::free(data); }
};

// Binds, runs and reads outputs. Any thread; makes no N-API call. With `copy` false,
// outputs stay views into the session (runSync copies them straight into JS memory
// before releasing the session).
bool RunSession(netlite_session* session, size_t output_count, const std::vector<InputBinding>& inputs,
                Failure* failure, std::vector<netlite_tensor>* views) {
  for (const InputBinding& b : inputs) {
    netlite_status st = netlite_session_set_input(session, b.name.c_str(), b.dtype, b.dims.data(),
                                                  b.dims.size(), b.data, b.bytes);
    if (st != NETLITE_OK) {
      failure->Set(st);
      return false;
    }
  }
  netlite_status st = netlite_session_run(session);
  if (st != NETLITE_OK) {
    failure->Set(st);
    return false;
  }
  views->resize(output_count);
  for (size_t i = 0; i < output_count; ++i) {
    st = netlite_session_output(session, i, &(*views)[i]);
    if (st != NETLITE_OK) {
      failure->Set(st);
      return false;
    }
  }
  return true;
}

// Outputs at least this large become ArrayBuffers over the run's own copy (no second copy);
// smaller ones are copied into an ArrayBuffer that V8 allocates. Adopting memory costs Node
// a Buffer, a finalizer and a weak handle per array: for MobileNetV2's 4 KB output, 9% of
// the JS thread's time per predict (perf on the JS thread, 1 thread), against 3.8% for
// allocating and copying.
constexpr size_t kAdoptOutputBytes = size_t(64) << 10;

// Wraps `*data` (malloc'ed, `bytes` long) as a typed array: without copying from
// kAdoptOutputBytes on, by a copy below that or where the runtime forbids external buffers
// (e.g. Electron's memory cage). When the ArrayBuffer adopts the memory, *data is set to
// null at once, before any later call can throw: the buffer's finalizer frees it, so the
// caller must not (a throw between the two, as napi calls fail while a Worker terminates,
// used to free it twice).
Napi::Value MakeTypedArray(Napi::Env env, int32_t dtype, void** data, size_t bytes) {
  napi_typedarray_type type;
  if (!TypedArrayFor(dtype, &type)) {
    ThrowError(env, "ERR_UNSUPPORTED", std::string("Output element type ") + std::to_string(dtype) +
                                           " has no typed array");
  }
  napi_value ab = nullptr;
  bool adopted = false;
  if (*data && bytes >= kAdoptOutputBytes) {
    napi_status st = napi_create_external_arraybuffer(
        env, *data, bytes, [](napi_env, void* p, void*) { std::free(p); }, nullptr, &ab);
    if (st == napi_ok) {
      adopted = true;
      *data = nullptr;
    }
  }
  if (!adopted) {
    void* dst = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, bytes, &dst, &ab), Napi::Value());
    if (bytes) std::memcpy(dst, *data, bytes);
  }
  napi_value ta = nullptr;
  size_t esize = DTypeSize(dtype);
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, type, esize ? bytes / esize : 0, ab, 0, &ta),
                       Napi::Value());
  return Napi::Value(env, ta);
}

Napi::Array DimsArray(Napi::Env env, const int64_t* dims, size_t ndim) {
  Napi::Array a = Napi::Array::New(env, ndim);
  for (size_t i = 0; i < ndim; ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, double(dims[i])));
  return a;
}

Napi::Object OutputObject(Napi::Env env, const std::string& name, int32_t dtype, const int64_t* dims, size_t ndim,
                          Napi::Value data) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name);
  o.Set("type", DTypeName(dtype));
  o.Set("dims", DimsArray(env, dims, ndim));
  o.Set("data", data);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Workers: one base that settles a callback or a promise exactly once

template <typename Base>
class SettlingWorkerOn : public Base {
 protected:
  SettlingWorkerOn(Napi::Env env, const Napi::Value& callback, const char* name) : Base(env, name) {
    if (callback.IsFunction()) callback_ = Napi::Persistent(callback.As<Napi::Function>());
    else deferred_.emplace(Napi::Promise::Deferred::New(env));
  }

 public:
  // What the JS call returns: the promise, or undefined in callback style.
  Napi::Value Result() { return deferred_ ? deferred_->Promise() : this->Env().Undefined(); }

 protected:
  void Resolve(Napi::Value value) {
    if (deferred_) deferred_->Resolve(value);
    else callback_.Call({this->Env().Null(), value});
  }
  void Reject(Napi::Value error) {
    if (deferred_) deferred_->Reject(error);
    else callback_.Call({error});
  }
  // Execute() threw a C++ exception (only allocation can): still settle once.
  void OnError(const Napi::Error& e) override {
    Reject(CodedError(this->Env(), "ERR_INTERNAL", e.Message()).Value());
  }

 private:
  Napi::FunctionReference callback_;
  std::optional<Napi::Promise::Deferred> deferred_;
};
using SettlingWorker = SettlingWorkerOn<Napi::AsyncWorker>;

// An async load in two steps: the model is read and planned, then its first session
// is made (and, when asked for, makes the warm-up run) on the run thread. Between the
// two, OnProgress tells V8 on the JS thread how much native memory the model holds,
// so that V8 collects forgotten predictors. Reported only when the load settled, tens
// of MB at once made V8 start an incremental mark whose final pause (3-8 ms of
// Mark-Compact on the JS thread) fell into the first predict() and took a core from its
// threads (ResNet-18 at 2 threads: first run 13-16 ms against 10.5-11 for later ones, and
// 11.1-11.3 with no report). Reported before the first session is made (and before a
// warm-up run), V8 marks while the load finishes: with no warm-up, `--trace-gc` showed no
// collection in ResNet-18's first runs at 2 threads.
// node-addon-api delivers every OnProgress before OnOK / OnError.
class LoadWorkerBase : public SettlingWorkerOn<Napi::AsyncProgressWorker<int64_t>> {
 protected:
  using Progress = Napi::AsyncProgressWorker<int64_t>::ExecutionProgress;
  LoadWorkerBase(Napi::Env env, const Napi::Value& callback, const char* name, Addon* addon,
                 const LoadOptions& options)
      : SettlingWorkerOn(env, callback, name), addon_(addon), options_(options) {}
  ~LoadWorkerBase() override {  // non-null only if never handed over
    netlite_session_free(session_);
    netlite_model_free(model_);
  }

  // Execute's second step, after model_ is loaded: reports its memory, then starts the run
  // thread and makes the first session (with its warm-up run, when asked for) on it.
  void Prepare(const Progress& progress) {
    netlite_memory_info mem{};
    if (netlite_model_memory(model_, &mem) == NETLITE_OK) {
      const int64_t bytes = static_cast<int64_t>(mem.weights_bytes + mem.arena_bytes);
      progress.Send(&bytes, 1);
    }
    run_thread_ = NewRunThread();
    session_ = FirstSessionOn(run_thread_.get(), model_, options_.warm_up);
  }

  void OnProgress(const int64_t* bytes, size_t count) override {
    int64_t ignored = 0;
    for (size_t i = 0; i < count; ++i) {
      napi_adjust_external_memory(Env(), bytes[i], &ignored);
      reported_ += bytes[i];
    }
  }

  // Settles: the model, which takes over the reported bytes, or the failure.
  void Finish() {
    Napi::Env env = Env();
    if (failure_.failed()) {
      Withdraw();
      return Reject(StatusError(env, failure_.status, failure_.message).Value());
    }
    netlite_model* model = model_;
    netlite_session* session = session_;
    model_ = nullptr;
    session_ = nullptr;
    const int64_t reported = reported_;
    reported_ = 0;  // the model's from here on, even if NewModel throws (its state withdraws them)
    Napi::Object wrapped;
    try {
      wrapped = addon_->NewModel(env, model, session, std::move(run_thread_), reported);
    } catch (const Napi::Error& e) {
      return Reject(e.Value());
    }
    Resolve(wrapped);
  }

  void OnError(const Napi::Error& e) override {
    Withdraw();
    SettlingWorkerOn::OnError(e);
  }

  Addon* addon_;
  LoadOptions options_;
  netlite_model* model_ = nullptr;
  netlite_session* session_ = nullptr;
  std::unique_ptr<RunThread> run_thread_;
  Failure failure_;

 private:
  void Withdraw() {
    int64_t ignored = 0;
    if (reported_) napi_adjust_external_memory(Env(), -reported_, &ignored);
    reported_ = 0;
  }

  int64_t reported_ = 0;  // bytes OnProgress reported to V8
};

// An async load from a ModelSource (ONNX) or an MxnetSource.
template <typename Source>
class LoadWorker : public LoadWorkerBase {
 public:
  LoadWorker(Napi::Env env, const Napi::Value& callback, const char* name, Addon* addon, Source source,
             const LoadOptions& options)
      : LoadWorkerBase(env, callback, name, addon, options), source_(std::move(source)) {}

  void Execute(const Progress& progress) override {
    model_ = LoadFrom(source_, options_.native, &failure_);
    if (model_) Prepare(progress);
  }

  void OnOK() override {
    Unpin(&source_);
    Finish();
  }

 private:
  Source source_;
};

class RunWorker : public SettlingWorker {
 public:
  RunWorker(Napi::Env env, const Napi::Value& callback, std::shared_ptr<ModelState> model)
      : SettlingWorker(env, callback, "netlite.run"), model_(std::move(model)) {
    model_->runs_in_flight++;
  }
  ~RunWorker() override {
    model_->runs_in_flight--;
    // If this was the last owner (the model was disposed or collected), the native
    // model is freed here, on the JS thread, after the run settled.
  }

  std::vector<InputBinding> inputs;
  std::vector<Napi::ObjectReference> pins;

  void Execute() override {
    // On the model's own thread (see RunThread), or here when that one is busy.
    if (!model_->RunOnThread([this] { Run(); })) Run();
  }

  // A posted run's work (Addon::PostRun): on the model's RunThread, no N-API call.
  static void Work(void* worker) {
    RunWorker* self = static_cast<RunWorker*>(worker);
    try {
      self->Run();
    } catch (const std::exception& e) {  // only allocation can throw: settle as Execute would
      self->SetError(e.what());
    } catch (...) {
      self->SetError("unknown error");
    }
  }
  Addon* posted_by = nullptr;  // the addon that posted this run (PostRun)

  void OnOK() override {
    Napi::Env env = Env();
    pins.clear();  // the run is over: inputs are no longer borrowed
    if (failure_.failed()) return Reject(StatusError(env, failure_.status, failure_.message).Value());
    Napi::Array result = Napi::Array::New(env, outputs_.size());
    try {
      for (size_t i = 0; i < outputs_.size(); ++i) {
        OutputCopy& o = outputs_[i];
        Napi::Value data = MakeTypedArray(env, o.dtype, &o.data, o.bytes);  // may adopt o.data
        result.Set(static_cast<uint32_t>(i), OutputObject(env, o.name, o.dtype, o.dims.data(), o.dims.size(), data));
      }
    } catch (const Napi::Error& e) {
      return Reject(e.Value());
    }
    Resolve(result);
  }

 private:
  // The run itself: any thread, no N-API call.
  void Run() {
    netlite_session* session = model_->Acquire(&failure_);
    if (!session) return;
    std::vector<netlite_tensor> views;
    bool ok = RunSession(session, model_->outputs.size(), inputs, &failure_, &views);
    if (ok) {
      // Copy now so the session can serve another run while JS picks the results up.
      outputs_.reserve(views.size());
      for (const netlite_tensor& t : views) {
        OutputCopy o;
        o.name = t.name ? t.name : "";
        o.dtype = t.dtype;
        o.dims.assign(t.dims, t.dims + t.ndim);
        o.bytes = t.size_bytes;
        o.data = std::malloc(t.size_bytes ? t.size_bytes : 1);
        if (!o.data) {
          failure_.Set(NETLITE_ERR_OUT_OF_MEMORY, "Cannot allocate " + std::to_string(t.size_bytes) +
                                                      " bytes for output '" + o.name + "'");
          ok = false;
          break;
        }
        if (t.size_bytes) std::memcpy(o.data, t.data, t.size_bytes);
        outputs_.push_back(std::move(o));
      }
    }
    model_->Release(session, ok);
  }

  std::shared_ptr<ModelState> model_;
  Failure failure_;
  std::vector<OutputCopy> outputs_;
};

// ---------------------------------------------------------------------------------------------
// The Model wrapper

// Tag for Model objects: napi_check_object_type_tag rejects any other object as `this`.
constexpr napi_type_tag kModelTag = {0x6e65746c69746520ULL, 0x4d6f64656c2d7631ULL};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function ctor = DefineClass(env, "Model", {});
    // Methods are plain functions on the prototype (not InstanceMethod, which unwraps
    // `this` first) so the type tag is checked before anything is unwrapped.
    Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
    const auto attrs = static_cast<napi_property_attributes>(napi_writable | napi_configurable);
    auto method = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
      return Napi::PropertyDescriptor::Value(name, Napi::Function::New(env, fn, name), attrs);
    };
    proto.DefineProperties({
        method("inputs", &ModelWrap::Inputs),
        method("outputs", &ModelWrap::Outputs),
        method("memory", &ModelWrap::Memory),
        method("run", &ModelWrap::Run),
        method("runSync", &ModelWrap::RunSync),
        method("dispose", &ModelWrap::Dispose),
        method("isDisposed", &ModelWrap::IsDisposed),
    });
    return ctor;
  }

  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    Napi::Env env = info.Env();
    Addon* addon = env.GetInstanceData<Addon>();
    if (!addon || !addon->pending_) {
      ThrowTypeError(env, "Model cannot be constructed directly; use loadModel() or loadModelSync()");
    }
    state_ = std::move(addon->pending_);
    NAPI_THROW_IF_FAILED_VOID(env, napi_type_tag_object(env, info.This(), &kModelTag));
  }

 private:
  static ModelWrap* From(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    napi_value self = info.This();
    bool tagged = false;
    napi_valuetype type = napi_undefined;
    if (self) napi_typeof(env, self, &type);
    if (type == napi_object) napi_check_object_type_tag(env, self, &kModelTag, &tagged);
    if (!tagged) ThrowTypeError(env, "This method must be called on a netlite Model");
    return Unwrap(Napi::Object(env, self));
  }

  // The live state, or an ERR_DISPOSED error.
  static std::shared_ptr<ModelState> Live(const Napi::CallbackInfo& info) {
    ModelWrap* self = From(info);
    if (!self->state_) ThrowError(info.Env(), kDisposed, "The model has been disposed");
    return self->state_;
  }

  static Napi::Value InfoArray(Napi::Env env, const std::vector<TensorInfo>& infos) {
    Napi::Array a = Napi::Array::New(env, infos.size());
    for (size_t i = 0; i < infos.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", infos[i].name);
      o.Set("type", DTypeName(infos[i].dtype));
      o.Set("shape", DimsArray(env, infos[i].dims.data(), infos[i].dims.size()));
      a.Set(static_cast<uint32_t>(i), o);
    }
    return a;
  }

  static Napi::Value Inputs(const Napi::CallbackInfo& info) { return InfoArray(info.Env(), Live(info)->inputs); }
  static Napi::Value Outputs(const Napi::CallbackInfo& info) { return InfoArray(info.Env(), Live(info)->outputs); }

  static Napi::Value Memory(const Napi::CallbackInfo& info) {
    std::shared_ptr<ModelState> m = Live(info);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("weightsBytes", Napi::Number::New(info.Env(), double(m->weights_bytes)));
    o.Set("arenaBytes", Napi::Number::New(info.Env(), double(m->arena_bytes)));
    o.Set("workspaceBytes", Napi::Number::New(info.Env(), double(m->workspace_bytes)));
    return o;
  }

  static Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ModelState> model = Live(info);
    Napi::Value callback = info[1];
    if (!callback.IsUndefined() && !callback.IsFunction()) {
      ThrowTypeError(env, "Expected the callback to be a function but received " + Describe(callback));
    }
    // The worker holds the model (and counts the run) before feeds are read: reading
    // them may run user getters that dispose the model.
    auto worker = std::make_unique<RunWorker>(env, callback, model);
    ParseFeeds(env, *model, info[0], &worker->inputs, &worker->pins);
    if (!From(info)->state_) ThrowError(env, kDisposed, "The model was disposed while its feeds were read");
    Napi::Value result = worker->Result();
    // Straight to the model's run thread when it is free, else through a libuv worker.
    // Either way the AsyncWorker deletes itself once settled.
    Addon* addon = env.GetInstanceData<Addon>();
    if (!addon || !addon->PostRun(*model, worker.get())) worker->Queue();
    worker.release();
    return result;
  }

  static Napi::Value RunSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ModelState> model = Live(info);
    struct InFlight {  // counts the run for as long as it borrows the session
      ModelState* m;
      explicit InFlight(ModelState* s) : m(s) { m->runs_in_flight++; }
      ~InFlight() { m->runs_in_flight--; }
    } in_flight(model.get());
    std::vector<InputBinding> inputs;
    std::vector<Napi::ObjectReference> pins;
    ParseFeeds(env, *model, info[0], &inputs, &pins);
    Failure failure;
    netlite_session* session = model->Acquire(&failure);
    if (!session) throw StatusError(env, failure.status, failure.message);
    std::vector<netlite_tensor> views;
    bool ok = RunSession(session, model->outputs.size(), inputs, &failure, &views);
    if (!ok) {
      model->Release(session, false);
      throw StatusError(env, failure.status, failure.message);
    }
    Napi::Array result = Napi::Array::New(env, views.size());
    try {
      for (size_t i = 0; i < views.size(); ++i) {
        const netlite_tensor& t = views[i];
        napi_typedarray_type type;
        if (!TypedArrayFor(t.dtype, &type)) {
          ThrowError(env, "ERR_UNSUPPORTED", "Output element type " + std::to_string(t.dtype) + " has no typed array");
        }
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, t.size_bytes);
        if (t.size_bytes) std::memcpy(ab.Data(), t.data, t.size_bytes);
        napi_value ta = nullptr;
        NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, type, t.size_bytes / DTypeSize(t.dtype), ab, 0, &ta),
                             Napi::Value());
        result.Set(static_cast<uint32_t>(i),
                   OutputObject(env, t.name ? t.name : "", t.dtype, t.dims, t.ndim, Napi::Value(env, ta)));
      }
    } catch (...) {
      model->Release(session, true);
      throw;
    }
    model->Release(session, true);
    return result;
  }

  // Safe at any time: runs in flight keep the native model alive until they settle;
  // new runs fail with ERR_DISPOSED. A second call does nothing.
  static Napi::Value Dispose(const Napi::CallbackInfo& info) {
    ModelWrap* self = From(info);
    std::shared_ptr<ModelState> state = std::move(self->state_);
    if (state && state->runs_in_flight == 0) state->FreeNative();
    return info.Env().Undefined();
  }

  static Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !From(info)->state_);
  }

  std::shared_ptr<ModelState> state_;  // null once disposed; shared with runs in flight
};

// ---------------------------------------------------------------------------------------------
// Addon methods

bool Addon::PostRun(ModelState& model, RunWorker* worker) {
  if (!settle_ || cleaned_up_) return false;
  try {
    posted_.insert(worker);
  } catch (...) {
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    ++post_running_;
  }
  worker->posted_by = this;
  if (!model.TryPost(&RunWorker::Work, &Addon::RunDone, worker)) {
    worker->posted_by = nullptr;
    posted_.erase(worker);
    std::lock_guard<std::mutex> lock(post_mu_);
    --post_running_;
    return false;
  }
  if (posted_.size() == 1) napi_ref_threadsafe_function(env_, settle_);
  return true;
}

void Addon::RunDone(void* worker) {
  Addon* addon = static_cast<RunWorker*>(worker)->posted_by;
  // Under post_mu_, so that ClosePosting cannot return (after which the env may free
  // settle_) while this call is under way. A failed call (only at teardown) leaves the
  // run to ClosePosting.
  std::lock_guard<std::mutex> lock(addon->post_mu_);
  napi_call_threadsafe_function(addon->settle_, worker, napi_tsfn_nonblocking);
  if (--addon->post_running_ == 0) addon->post_cv_.notify_all();
}

void Addon::SettleRun(napi_env env, napi_value, void* context, void* data) {
  if (env == nullptr) return;  // torn down: ClosePosting freed what was not settled
  Addon* addon = static_cast<Addon*>(context);
  RunWorker* worker = static_cast<RunWorker*>(data);
  if (addon->posted_.erase(worker) == 0) return;
  if (addon->posted_.empty()) napi_unref_threadsafe_function(env, addon->settle_);
  worker->OnWorkComplete(Napi::Env(env), napi_ok);  // settles, then deletes the worker
}

void Addon::ClosePosting() {
  if (!settle_) return;
  {
    std::unique_lock<std::mutex> lock(post_mu_);
    post_cv_.wait(lock, [&] { return post_running_ == 0; });
  }
  // Every posted run has returned; those not settled are dropped (the env is going
  // away, nothing can observe them), which releases their models.
  std::unordered_set<RunWorker*> unsettled;
  unsettled.swap(posted_);
  for (RunWorker* w : unsettled) delete w;
  napi_release_threadsafe_function(settle_, napi_tsfn_abort);
  settle_ = nullptr;
}

Addon::Addon(Napi::Env env, Napi::Object exports) : env_(env) {
  DefineAddon(exports, {
                           InstanceMethod("version", &Addon::Version),
                           InstanceMethod("buildInfo", &Addon::BuildInfo),
                           InstanceMethod("loadModel", &Addon::LoadModel),
                           InstanceMethod("loadModelSync", &Addon::LoadModelSync),
                           InstanceMethod("loadMxnetModel", &Addon::LoadMxnetModel),
                           InstanceMethod("loadMxnetModelSync", &Addon::LoadMxnetModelSync),
                           InstanceMethod("ops", &Addon::Ops),
                           InstanceMethod("_liveModels", &Addon::LiveModels),
                           InstanceMethod("_externalMemory", &Addon::ExternalMemory),
                       });
  Napi::Function ctor = ModelWrap::Define(env);
  model_ctor_ = Napi::Persistent(ctor);
  exports.Set("Model", ctor);
  // Without it, every run goes through a libuv worker (still correct, a little slower).
  if (napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "netlite.run"), 0, 1,
                                      nullptr, nullptr, this, &Addon::SettleRun, &settle_) == napi_ok) {
    napi_unref_threadsafe_function(env, settle_);
  } else {
    settle_ = nullptr;
  }
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, &Addon::CleanupHook, this));
}

Napi::Value Addon::Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), netlite_version());
}

Napi::Value Addon::BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("text", netlite_build_info());
  o.Set("version", netlite_version());
#ifdef NETLITE_USE_OPENBLAS
  o.Set("openblas", true);
#else
  o.Set("openblas", false);
#endif
  o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return o;
}

// The op registry (netlite_op_count/netlite_op_info): [{ opType, domain, sinceVersion, maxVersion, notes }].
Napi::Value Addon::Ops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t count = netlite_op_count();
  Napi::Array result = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    netlite_op_def def{};
    netlite_status st = netlite_op_info(i, &def);
    if (st != NETLITE_OK) {
      Failure f;
      f.Set(st);
      throw StatusError(env, f.status, f.message);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("opType", def.op_type ? def.op_type : "");
    o.Set("domain", def.domain ? def.domain : "");
    o.Set("sinceVersion", Napi::Number::New(env, def.since_version));
    o.Set("maxVersion", Napi::Number::New(env, def.max_version));
    o.Set("notes", def.notes ? def.notes : "");
    result.Set(static_cast<uint32_t>(i), o);
  }
  return result;
}

Napi::Value Addon::LiveModels(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(live_.size()));
}

// V8's count of external memory in this isolate (every addon's reports and Node's own).
Napi::Value Addon::ExternalMemory(const Napi::CallbackInfo& info) {
  int64_t total = 0;
  napi_adjust_external_memory(info.Env(), 0, &total);
  return Napi::Number::New(info.Env(), double(total));
}

Napi::Value Addon::LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value callback = info[2];
  if (!callback.IsUndefined() && !callback.IsFunction()) {
    ThrowTypeError(env, "Expected the callback to be a function but received " + Describe(callback));
  }
  ModelSource source;
  ParseSource(env, info[0], &source);
  LoadOptions options;
  ParseOptions(env, info[1], &options);
  auto worker = std::make_unique<LoadWorker<ModelSource>>(env, callback, "netlite.loadModel", this, std::move(source),
                                                          options);
  Napi::Value result = worker->Result();
  worker.release()->Queue();
  return result;
}

Napi::Value Addon::LoadModelSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelSource source;
  ParseSource(env, info[0], &source);
  LoadOptions options;
  ParseOptions(env, info[1], &options);
  Failure f;
  netlite_model* model = LoadFrom(source, options.native, &f);
  if (!model) throw StatusError(env, f.status, f.message);
  std::unique_ptr<RunThread> run_thread = NewRunThread();
  netlite_session* first = FirstSessionOn(run_thread.get(), model, options.warm_up);
  return NewModel(env, model, first, std::move(run_thread));
}

Napi::Value Addon::LoadMxnetModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value callback = info[4];
  if (!callback.IsUndefined() && !callback.IsFunction()) {
    ThrowTypeError(env, "Expected the callback to be a function but received " + Describe(callback));
  }
  MxnetSource source;
  ParseMxnetSource(env, info, &source);
  LoadOptions options;
  ParseOptions(env, info[3], &options);
  auto worker = std::make_unique<LoadWorker<MxnetSource>>(env, callback, "netlite.loadMxnetModel", this,
                                                          std::move(source), options);
  Napi::Value result = worker->Result();
  worker.release()->Queue();
  return result;
}

Napi::Value Addon::LoadMxnetModelSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MxnetSource source;
  ParseMxnetSource(env, info, &source);
  LoadOptions options;
  ParseOptions(env, info[3], &options);
  Failure f;
  netlite_model* model = LoadFrom(source, options.native, &f);
  if (!model) throw StatusError(env, f.status, f.message);
  std::unique_ptr<RunThread> run_thread = NewRunThread();
  netlite_session* first = FirstSessionOn(run_thread.get(), model, options.warm_up);
  return NewModel(env, model, first, std::move(run_thread));
}

Napi::Object Addon::NewModel(Napi::Env env, netlite_model* model, netlite_session* first_session,
                             std::unique_ptr<RunThread> run_thread, int64_t reported) {
  auto state = std::make_shared<ModelState>(this, model);  // owns `model` from here on
  state->AddIdle(first_session);                            // and the session
  state->AdoptRunThread(std::move(run_thread));             // and the thread
  Register(state.get());
  state->env = env;
  state->external_memory = reported;  // and what is reported for it (withdrawn if this throws)
  Failure f;
  auto read_infos = [&](bool inputs, std::vector<TensorInfo>* out) {
    size_t count = 0;
    netlite_status st = inputs ? netlite_model_input_count(model, &count) : netlite_model_output_count(model, &count);
    if (st != NETLITE_OK) {
      f.Set(st);
      return false;
    }
    for (size_t i = 0; i < count; ++i) {
      netlite_tensor_info ti{};
      st = inputs ? netlite_model_input_info(model, i, &ti) : netlite_model_output_info(model, i, &ti);
      if (st != NETLITE_OK) {
        f.Set(st);
        return false;
      }
      TensorInfo t;
      t.name = ti.name ? ti.name : "";
      t.dtype = ti.dtype;
      if (ti.dims) t.dims.assign(ti.dims, ti.dims + ti.ndim);
      out->push_back(std::move(t));
    }
    return true;
  };
  if (!read_infos(true, &state->inputs) || !read_infos(false, &state->outputs)) {
    throw StatusError(env, f.status, f.message);
  }
  netlite_memory_info mem{};
  netlite_status st = netlite_model_memory(model, &mem);
  if (st != NETLITE_OK) {
    f.Set(st);
    throw StatusError(env, f.status, f.message);
  }
  state->weights_bytes = mem.weights_bytes;
  state->arena_bytes = mem.arena_bytes;
  state->workspace_bytes = mem.workspace_bytes;
  // Tell V8 how much native memory this object holds, so forgotten models get collected.
  const int64_t external = static_cast<int64_t>(mem.weights_bytes + mem.arena_bytes);
  int64_t ignored = 0;
  if (external != reported) napi_adjust_external_memory(env, external - reported, &ignored);
  state->external_memory = external;

  pending_ = state;
  Napi::Object obj;
  try {
    obj = model_ctor_.New({});
  } catch (...) {
    pending_.reset();
    throw;
  }
  pending_.reset();
  return obj;
}

}  // namespace netlite_addon

// Context-aware registration: one Addon instance per env (main thread and each Worker).
using NetliteAddon = netlite_addon::Addon;
NODE_API_ADDON(NetliteAddon)
