/*
 * netlite.h - the C predict API of netlite.
 *
 * A model (netlite_model) is loaded once from ONNX bytes or a file and is
 * immutable afterwards: its weights are shared, read-only, by every session.
 * A session (netlite_session) is one run context: bound inputs, a plan for the
 * current input shapes, and an activation arena. Run one model from several
 * threads by giving each thread its own session.
 *
 * Errors: every function that can fail returns a netlite_status. On failure it
 * also sets a thread-local message, readable with netlite_last_error() on the
 * same thread until the next netlite call on that thread. No function throws a
 * C++ exception, aborts, or asserts, whatever the input bytes.
 *
 * Thread safety, unless a function says otherwise:
 *   - netlite_model_* functions on one model may be called from any number of
 *     threads at once, except netlite_model_free, which must not overlap any
 *     other use of that model or of its sessions.
 *   - A session may be used by one thread at a time; different sessions of the
 *     same model may run concurrently. Free every session before its model.
 */
#ifndef NETLITE_H
#define NETLITE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define NETLITE_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define NETLITE_API __attribute__((visibility("default")))
#else
#  define NETLITE_API
#endif

#define NETLITE_VERSION_MAJOR 0
#define NETLITE_VERSION_MINOR 1
#define NETLITE_VERSION_PATCH 0

/* Status codes. Stable: bindings map them to error codes by number. */
typedef enum netlite_status {
  NETLITE_OK = 0,
  NETLITE_ERR_INVALID_ARGUMENT = 1, /* a null pointer, bad option, unknown input name */
  NETLITE_ERR_INVALID_MODEL = 2,    /* malformed or inconsistent model file */
  NETLITE_ERR_UNSUPPORTED = 3,      /* valid model using an op, opset, type or feature netlite lacks */
  NETLITE_ERR_SHAPE = 4,            /* a shape that does not fit the model or an op */
  NETLITE_ERR_DTYPE = 5,            /* an element type that does not fit the model or an op */
  NETLITE_ERR_OUT_OF_MEMORY = 6,    /* an allocation failed or exceeded the memory limit */
  NETLITE_ERR_IO = 7,               /* a file could not be read */
  NETLITE_ERR_NOT_FOUND = 8,        /* no input/output with that name or index */
  NETLITE_ERR_RUNTIME = 9,          /* the run could not complete (e.g. inputs not all set) */
  NETLITE_ERR_INTERNAL = 10         /* a netlite bug; please report it */
} netlite_status;

/* Element types; the numbers are ONNX TensorProto.DataType values. */
typedef enum netlite_dtype {
  NETLITE_DTYPE_UNDEFINED = 0,
  NETLITE_DTYPE_FLOAT32 = 1,
  NETLITE_DTYPE_UINT8 = 2,
  NETLITE_DTYPE_INT8 = 3,
  NETLITE_DTYPE_INT32 = 6,
  NETLITE_DTYPE_INT64 = 7,
  NETLITE_DTYPE_BOOL = 9 /* one byte per element, 0 or 1 */
} netlite_dtype;

/* GEMM backend choice (mostly for testing and benchmarking). */
typedef enum netlite_gemm_backend {
  NETLITE_GEMM_AUTO = 0,      /* netlite's SIMD kernel when the CPU has one, else OpenBLAS if compiled in */
  NETLITE_GEMM_REFERENCE = 1, /* scalar reference: slow, for tests */
  NETLITE_GEMM_NETLITE = 2,   /* netlite's blocked SIMD kernel */
  NETLITE_GEMM_OPENBLAS = 3   /* cblas_sgemm; falls back to NETLITE when not compiled in. On Linux OpenBLAS is
                                 opened at its first use (this option, or netlite_build_info), which sets
                                 OPENBLAS_NUM_THREADS=1 while it initialises when the environment names no thread
                                 count: do that first use where no other thread reads the environment */
} netlite_gemm_backend;

typedef struct netlite_model netlite_model;
typedef struct netlite_session netlite_session;

/* Load options. Always initialise with netlite_options_init() so fields added
 * in later versions get their defaults. */
typedef struct netlite_options {
  uint32_t struct_size;      /* set by netlite_options_init */
  int32_t threads;           /* intra-op threads per run; <= 0 means the number of cores */
  int32_t gemm_backend;      /* a netlite_gemm_backend */
  int32_t optimize;          /* 1 (default): run graph passes; 0: execute the graph as written */
  uint64_t memory_limit;     /* bytes a model's weights plus one session's arena may take; 0 = no limit */
} netlite_options;

/* Describes one model input or output. Pointers stay valid for the model's lifetime. */
typedef struct netlite_tensor_info {
  const char* name;
  int32_t dtype;             /* a netlite_dtype */
  size_t ndim;
  const int64_t* dims;       /* -1 for a dim not fixed by the model (e.g. batch) */
} netlite_tensor_info;

/* A tensor view: dims and data belong to the session and stay valid until the
 * next netlite_session_run, netlite_session_set_input or netlite_session_free on it. */
typedef struct netlite_tensor {
  const char* name;
  int32_t dtype;
  size_t ndim;
  const int64_t* dims;
  const void* data;
  size_t size_bytes;
} netlite_tensor;

/* Memory figures of a model (and of one session's arena at the model's declared shapes). */
typedef struct netlite_memory_info {
  uint64_t weights_bytes;    /* constant tensors held by the model, with the copies its kernels keep transformed or
                                packed (Winograd, int8 panels) */
  uint64_t arena_bytes;      /* activation arena of one session, planned at the declared input shapes (0 if not known) */
  uint64_t workspace_bytes;  /* GEMM packing workspaces reserved at load, one per thread (2-3 MB of address space
                                each, resident only as far as GEMMs use it); shared by every model of the process, so
                                not to be summed over models */
} netlite_memory_info;

/* Version string "MAJOR.MINOR.PATCH". Never fails; any thread. */
NETLITE_API const char* netlite_version(void);

/* Text of the last error on the calling thread ("" if none). The pointer is
 * valid until the next netlite call on this thread. Any thread. */
NETLITE_API const char* netlite_last_error(void);

/* Short build description, e.g. "netlite 0.1.0 gemm=openblas kernel=avx512". Any thread. */
NETLITE_API const char* netlite_build_info(void);

/* Fills *options with defaults. */
NETLITE_API void netlite_options_init(netlite_options* options);

/* Loads an ONNX model from memory. The bytes are copied or parsed before
 * returning; the caller may free them afterwards. options may be NULL. */
NETLITE_API netlite_status netlite_model_load(const void* data, size_t size,
                                              const netlite_options* options,
                                              netlite_model** out_model);

/* Loads an ONNX model from a file path (UTF-8). On Linux the file is mapped
 * while it loads (read into memory elsewhere) and the model keeps nothing of it:
 * it may be replaced or deleted once this returns, but must not be truncated
 * while the load runs. */
NETLITE_API netlite_status netlite_model_load_file(const char* path,
                                                   const netlite_options* options,
                                                   netlite_model** out_model);

/* Loads an MXNet model: symbol JSON (legacy or NNVM) and its .params bytes
 * (NDArray list, any version; params may be NULL when params_size is 0). Both
 * are parsed before returning. Inputs are optional:
 *   num_inputs == 0: every data argument of the symbol without a params entry
 *     is an input of unknown rank (any shape is accepted when it is bound);
 *   num_inputs > 0: input i is named input_names[i] with input_ndims[i] dims
 *     input_dims[i] (-1 leaves a dim free); any other argument without a params
 *     entry is an error naming it.
 * Outputs are the symbol's heads, named "<node>_output". options may be NULL. */
NETLITE_API netlite_status netlite_model_load_mxnet(const char* symbol_json, size_t symbol_size,
                                                    const void* params, size_t params_size,
                                                    const char* const* input_names,
                                                    const int64_t* const* input_dims,
                                                    const size_t* input_ndims, size_t num_inputs,
                                                    const netlite_options* options,
                                                    netlite_model** out_model);

/* Frees a model. NULL is allowed. All its sessions must be freed first. */
NETLITE_API void netlite_model_free(netlite_model* model);

NETLITE_API netlite_status netlite_model_input_count(const netlite_model* model, size_t* out_count);
NETLITE_API netlite_status netlite_model_output_count(const netlite_model* model, size_t* out_count);
NETLITE_API netlite_status netlite_model_input_info(const netlite_model* model, size_t index,
                                                    netlite_tensor_info* out_info);
NETLITE_API netlite_status netlite_model_output_info(const netlite_model* model, size_t index,
                                                     netlite_tensor_info* out_info);
NETLITE_API netlite_status netlite_model_memory(const netlite_model* model,
                                                netlite_memory_info* out_info);

/* Creates a run context for a model. Cheap; the arena is allocated on first run. */
NETLITE_API netlite_status netlite_session_create(netlite_model* model, netlite_session** out_session);

/* Frees a session. NULL is allowed. */
NETLITE_API void netlite_session_free(netlite_session* session);

/* Binds an input by name. The data is BORROWED, not copied: it must stay valid
 * and unchanged until the next netlite_session_run on this session returns.
 * That run consumes every binding: bind all inputs again before the next run.
 * An output that is an input passed through (e.g. by Identity) points into the
 * caller's input buffer.
 * dims may differ from the model's where the model leaves a dim free (-1);
 * a change of shape re-plans the session on the next run. size_bytes must equal
 * the product of dims times the element size. */
NETLITE_API netlite_status netlite_session_set_input(netlite_session* session, const char* name,
                                                     int32_t dtype, const int64_t* dims, size_t ndim,
                                                     const void* data, size_t size_bytes);

/* Runs the model on the bound inputs. All inputs must be set; afterwards none is. */
NETLITE_API netlite_status netlite_session_run(netlite_session* session);

/* Runs the session once on zero-filled inputs of the load-time shapes (declared
 * shapes, free dims as 1), so that the first real run costs what later runs
 * cost: right after a load the weights are cold in the caches, and a first run
 * took up to 1.8x a later one. Does nothing (and returns NETLITE_OK) when the
 * model has no load-time plan or an input is not numeric. Afterwards no input is
 * bound and no output is readable. A model that fails on zeros returns that
 * error; the session stays usable. */
NETLITE_API netlite_status netlite_session_warm_up(netlite_session* session);

/* Reads output `index` of the last successful run (no copy). */
NETLITE_API netlite_status netlite_session_output(netlite_session* session, size_t index,
                                                  netlite_tensor* out_tensor);

/* Arena bytes the session's current plan uses (0 before the first run). */
NETLITE_API netlite_status netlite_session_arena_bytes(const netlite_session* session, uint64_t* out_bytes);

/* The operator registry, for tools and docs: one entry per supported op. */
typedef struct netlite_op_def {
  const char* op_type;      /* e.g. "Conv" */
  const char* domain;       /* "" for the default ONNX domain */
  int32_t since_version;    /* oldest opset supported */
  int32_t max_version;      /* newest opset supported */
  const char* notes;        /* one line: types and limits */
} netlite_op_def;

/* Number of registered ops. Never fails; any thread. */
NETLITE_API size_t netlite_op_count(void);

/* Describes op `index` (0 <= index < netlite_op_count()). Strings are static. */
NETLITE_API netlite_status netlite_op_info(size_t index, netlite_op_def* out_def);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NETLITE_H */
