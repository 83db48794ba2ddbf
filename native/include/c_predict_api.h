/*
 * c_predict_api.h - MXNet's C predict API (include/mxnet/c_predict_api.h, v1.x),
 * implemented on netlite. A drop-in replacement: same names, signatures, return
 * conventions and semantics, so programs written against MXNet's amalgamation
 * (C, C++, JNI, cgo, ctypes, emscripten) build and run unchanged against the
 * single-file netlite.cc.
 *
 * Every function returns 0 on success and -1 on failure (MXGetLastError() then
 * gives the message, on the same thread). Differences from MXNet, all on the
 * side of safety:
 *   - no C++ exception or abort ever crosses this API; NULL handles and pointers
 *     are errors, not crashes (MXPredFree(NULL) and MXNDListFree(NULL) are no-ops);
 *   - a symbol argument with no entry in the params file that is not a declared
 *     input is an error naming it (MXNet silently used uninitialised memory);
 *   - MXPredGetOutputType writes *out_dtype (MXNet wrote out_dtype[index]);
 *   - MXPredCreateMultiThread needs no MXNET_ENGINE_TYPE environment variable:
 *     its predictors share one read-only copy of the weights;
 *   - inputs are zero until set; outputs are always delivered as float32;
 *   - weights are shared and read-only: MXPredSetInput on a weight is an error;
 *   - netlite runs on the CPU: dev_type must be 1 (cpu), 3 (cpu_pinned) or 5 (cpu_shared);
 *   - MXPredPartialForward runs the whole graph at step 0 and then reports the
 *     remaining step count as MXNet would, so progress loops still terminate.
 *
 * Thread safety: one predictor handle is used by one thread at a time; handles
 * from MXPredCreateMultiThread or MXPredReshape may run concurrently.
 * This header is self-contained C99 (stdint.h, stdbool.h) and C++.
 */
#ifndef NETLITE_C_PREDICT_API_H_
#define NETLITE_C_PREDICT_API_H_

#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
#define MXNET_EXTERN_C extern "C"
#else
#define MXNET_EXTERN_C
#endif

#ifndef MXNET_DLL
#if defined(_WIN32)
#define MXNET_DLL __declspec(dllexport)
#elif defined(__GNUC__)
#define MXNET_DLL __attribute__((visibility("default")))
#else
#define MXNET_DLL
#endif
#endif

/*! \brief manually define unsigned int */
typedef uint32_t mx_uint;
/*! \brief manually define float */
typedef float mx_float;
/*! \brief handle to Predictor */
typedef void *PredictorHandle;
/*! \brief handle to NDArray list */
typedef void *NDListHandle;
/*! \brief handle to NDArray (only passed to monitor callbacks, which netlite does not support) */
typedef void *NDArrayHandle;
/*! \brief callback used for monitoring */
typedef void (*PredMonitorCallback)(const char *, NDArrayHandle, void *);

/*!
 * \brief Message of the last error on the calling thread ("" if none yet).
 *  Valid until the next failing call on this thread.
 */
MXNET_EXTERN_C MXNET_DLL const char *MXGetLastError(void);

/*!
 * \brief create a predictor
 * \param symbol_json_str The JSON string of the symbol (NUL-terminated).
 * \param param_bytes The in-memory raw bytes of the parameter ndarray file.
 * \param param_size The size of parameter ndarray file.
 * \param dev_type The device type, 1: cpu, 2: gpu (not supported by netlite)
 * \param dev_id The device id of the predictor.
 * \param num_input_nodes Number of input nodes to the net.
 * \param input_keys The name of the input argument, e.g. "data".
 * \param input_shape_indptr Index pointer of shapes of each input node:
 *        shape i is input_shape_data[input_shape_indptr[i] .. input_shape_indptr[i+1]).
 * \param input_shape_data A flattened data of shapes of each input node.
 * \param out The created predictor handle.
 * \return 0 when success, -1 when failure.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredCreate(const char *symbol_json_str, const void *param_bytes, int param_size,
                                          int dev_type, int dev_id, mx_uint num_input_nodes, const char **input_keys,
                                          const mx_uint *input_shape_indptr, const mx_uint *input_shape_data,
                                          PredictorHandle *out);

/*!
 * \brief MXPredCreate with the dtypes of some arguments given by name
 *  (mshadow type codes: 0 float32, 1 float64, 2 float16, 3 uint8, 4 int32, 5 int8, 6 int64).
 *  netlite computes in float32: inputs must be float32 (code 0).
 */
MXNET_EXTERN_C MXNET_DLL int MXPredCreateEx(const char *symbol_json_str, const void *param_bytes, int param_size,
                                            int dev_type, int dev_id, const mx_uint num_input_nodes,
                                            const char **input_keys, const mx_uint *input_shape_indptr,
                                            const mx_uint *input_shape_data, const mx_uint num_provided_arg_dtypes,
                                            const char **provided_arg_dtype_names, const int *provided_arg_dtypes,
                                            PredictorHandle *out);

/*!
 * \brief create a predictor whose outputs are internal nodes: key K selects the
 *  internal output "K_output" (e.g. "global_pool" -> "global_pool_output").
 */
MXNET_EXTERN_C MXNET_DLL int MXPredCreatePartialOut(const char *symbol_json_str, const void *param_bytes,
                                                    int param_size, int dev_type, int dev_id, mx_uint num_input_nodes,
                                                    const char **input_keys, const mx_uint *input_shape_indptr,
                                                    const mx_uint *input_shape_data, mx_uint num_output_nodes,
                                                    const char **output_keys, PredictorHandle *out);

/*!
 * \brief create num_threads predictors sharing one copy of the weights, one per thread.
 * \param out array of at least num_threads handles; all are set on success, none on failure.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredCreateMultiThread(const char *symbol_json_str, const void *param_bytes,
                                                     int param_size, int dev_type, int dev_id,
                                                     mx_uint num_input_nodes, const char **input_keys,
                                                     const mx_uint *input_shape_indptr,
                                                     const mx_uint *input_shape_data, int num_threads,
                                                     PredictorHandle *out);

/*!
 * \brief create a new predictor with new input shapes, sharing the weights of `handle`.
 *  Only input shapes may change. `handle` stays valid and must still be freed.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredReshape(mx_uint num_input_nodes, const char **input_keys,
                                           const mx_uint *input_shape_indptr, const mx_uint *input_shape_data,
                                           PredictorHandle handle, PredictorHandle *out);

/*!
 * \brief shape of output `index`. *shape_data points into the predictor and stays
 *  valid until the predictor is freed.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredGetOutputShape(PredictorHandle handle, mx_uint index, mx_uint **shape_data,
                                                  mx_uint *shape_ndim);

/*! \brief dtype code of output `out_index` (always 0, float32, in netlite) written to *out_dtype. */
MXNET_EXTERN_C MXNET_DLL int MXPredGetOutputType(PredictorHandle handle, mx_uint out_index, int *out_dtype);

/*!
 * \brief copy `size` floats (the input's exact element count) into input `key`.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredSetInput(PredictorHandle handle, const char *key, const mx_float *data,
                                            mx_uint size);

/*! \brief run the whole forward pass. */
MXNET_EXTERN_C MXNET_DLL int MXPredForward(PredictorHandle handle);

/*!
 * \brief run step `step` of the forward pass (call with 0, 1, 2, ... until
 *  *step_left is 0). netlite runs the whole pass at step 0.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredPartialForward(PredictorHandle handle, int step, int *step_left);

/*!
 * \brief copy output `index` into `data`; `size` must be its exact element count.
 */
MXNET_EXTERN_C MXNET_DLL int MXPredGetOutput(PredictorHandle handle, mx_uint index, mx_float *data, mx_uint size);

/*! \brief free a predictor (NULL is allowed). Weights are freed with the last predictor sharing them. */
MXNET_EXTERN_C MXNET_DLL int MXPredFree(PredictorHandle handle);

/*! \brief not supported by netlite: returns -1. */
MXNET_EXTERN_C MXNET_DLL int MXPredSetMonitorCallback(PredictorHandle handle, PredMonitorCallback callback,
                                                      void *callback_handle, bool monitor_all);

/*!
 * \brief load an NDArray-list file (e.g. a mean image) from memory; every array
 *  is converted to float32.
 * \param out_length number of arrays.
 */
MXNET_EXTERN_C MXNET_DLL int MXNDListCreate(const char *nd_file_bytes, int nd_file_size, NDListHandle *out,
                                            mx_uint *out_length);

/*!
 * \brief borrowed pointers to array `index`: its key ("" when unnamed), float data,
 *  shape and ndim. All stay valid until MXNDListFree.
 */
MXNET_EXTERN_C MXNET_DLL int MXNDListGet(NDListHandle handle, mx_uint index, const char **out_key,
                                         const mx_float **out_data, const mx_uint **out_shape, mx_uint *out_ndim);

/*! \brief free an NDArray list (NULL is allowed). */
MXNET_EXTERN_C MXNET_DLL int MXNDListFree(NDListHandle handle);

#endif /* NETLITE_C_PREDICT_API_H_ */
