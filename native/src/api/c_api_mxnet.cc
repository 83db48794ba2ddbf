// netlite_model_load_mxnet (netlite.h): the MXNet importer behind netlite's own
// C API, for the Node addon and other netlite.h callers. Shares the error
// message store and model wrapper of c_api.cc.
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../../include/netlite.h"
#include "../mxnet/mxnet_import.h"
#include "../mxnet/ndarray_file.h"
#include "../runtime/model.h"

namespace netlite {
namespace c_api_detail {
// Defined in c_api.cc.
extern thread_local std::string last_error;
ModelOptions to_model_options(const netlite_options* o);
netlite_model* wrap_model(std::unique_ptr<Model> m);
}  // namespace c_api_detail

namespace c_api_mxnet_detail {

template <typename F>
netlite_status guarded(F&& fn) {
  try {
    fn();
    c_api_detail::last_error.clear();
    return NETLITE_OK;
  } catch (const Error& e) {
    c_api_detail::last_error = e.message();
    return static_cast<netlite_status>(static_cast<int>(e.code()));
  } catch (const std::bad_alloc&) {
    c_api_detail::last_error = "out of memory";
    return NETLITE_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    c_api_detail::last_error = std::string("internal error: ") + e.what();
  } catch (...) {
    c_api_detail::last_error = "internal error: unknown exception";
  }
  return NETLITE_ERR_INTERNAL;
}

std::unique_ptr<Model> load(const char* symbol_json, size_t symbol_size, const void* params, size_t params_size,
                            const char* const* input_names, const int64_t* const* input_dims, const size_t* input_ndims,
                            size_t num_inputs, const netlite_options* options) {
  if (!symbol_json) fail(StatusCode::InvalidArgument, "symbol_json is null");
  if (params_size && !params) fail(StatusCode::InvalidArgument, "params is null");
  ModelOptions mo = c_api_detail::to_model_options(options);
  mxnet::ImportOptions opts;
  if (num_inputs) {
    if (!input_names) fail(StatusCode::InvalidArgument, "input_names is null");
    if (!input_dims || !input_ndims) fail(StatusCode::InvalidArgument, "input_dims / input_ndims is null");
    if (num_inputs > 4096) fail(StatusCode::InvalidArgument, "num_inputs ", num_inputs, " is too large");
    opts.inputs_complete = true;
    for (size_t i = 0; i < num_inputs; ++i) {
      if (!input_names[i]) fail(StatusCode::InvalidArgument, "input_names[", i, "] is null");
      if (input_ndims[i] > 32) fail(StatusCode::InvalidArgument, "input '", input_names[i], "': rank ", input_ndims[i], " is too large");
      if (input_ndims[i] && !input_dims[i]) fail(StatusCode::InvalidArgument, "input_dims[", i, "] is null");
      mxnet::InputSpec s;
      s.name = input_names[i];
      s.has_shape = true;
      for (size_t d = 0; d < input_ndims[i]; ++d) {
        int64_t v = input_dims[i][d];
        if (v < -1) fail(StatusCode::InvalidArgument, "input '", s.name, "': dim ", d, " is ", v, " (use -1 for a free dim)");
        s.shape.push_back(v);
      }
      opts.inputs.push_back(s);
    }
  }
  std::vector<mxnet::NDArrayEntry> entries;
  if (params_size) entries = mxnet::read_ndarray_list(static_cast<const uint8_t*>(params), params_size, "MXNet params");
  Graph g = mxnet::import_mxnet(symbol_json, symbol_size, entries, opts);
  entries.clear();
  return Model::from_graph(std::move(g), mo);
}

}  // namespace c_api_mxnet_detail
}  // namespace netlite

extern "C" netlite_status netlite_model_load_mxnet(const char* symbol_json, size_t symbol_size, const void* params,
                                                   size_t params_size, const char* const* input_names,
                                                   const int64_t* const* input_dims, const size_t* input_ndims,
                                                   size_t num_inputs, const netlite_options* options,
                                                   netlite_model** out_model) {
  return netlite::c_api_mxnet_detail::guarded([&] {
    if (!out_model) netlite::fail(netlite::StatusCode::InvalidArgument, "out_model is null");
    *out_model = nullptr;
    *out_model = netlite::c_api_detail::wrap_model(netlite::c_api_mxnet_detail::load(
        symbol_json, symbol_size, params, params_size, input_names, input_dims, input_ndims, num_inputs, options));
  });
}
