// Per-node and per-op-type profile of a model run: loads an ONNX file with the
// engine's own Model (passes and kernels as the addon uses them), plans it for
// the model's declared input shapes (free dims = 1), then runs the steps the way
// Session::run does while timing each one. Prints the total, the time per op
// type and the slowest nodes with their shapes and GFLOP/s (for Conv).
//
// Build against the modular objects of `npm run test:native` and run:
//   c++ -std=c++17 -O2 -Inative/src -Inative/include test/native/bench_models.cc
//       $(find build-native/CMakeFiles/netlite_modular.dir -name '*.o') -lpthread
//       [$(pkg-config --libs openblas)] -o /tmp/bench_models
//   /tmp/bench_models model.onnx [--threads=1] [--iters=50] [--top=25] [--wall]
// (--wall: wall time at one thread too, to compare with more threads)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "plan/planner.h"
#include "runtime/model.h"

namespace {

using namespace netlite;

// One thread: this thread's CPU time (immune to being descheduled on a shared
// machine); more: wall time.
bool g_cpu_time = false;
double now() {
#if defined(__linux__)
  if (g_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string shape_s(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// Multiply-adds of a Conv node (0 for others).
double conv_macs(const Node& n, const std::vector<Tensor>& t) {
  if (n.op_type != "Conv" || n.outputs.empty()) return 0;
  const Shape& ws = t[size_t(n.inputs[1])].shape;
  const Shape& ys = t[size_t(n.outputs[0])].shape;
  double m = 1;
  for (int64_t d : ys) m *= double(d);
  for (size_t i = 1; i < ws.size(); ++i) m *= double(ws[i]);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_models model.onnx [--threads=1] [--iters=50] [--top=25] [--wall]\n");
    return 2;
  }
  int threads = 1, iters = 50, top = 25;
  bool wall = false;
  for (int i = 2; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--threads=", 10)) threads = std::atoi(argv[i] + 10);
    if (!std::strncmp(argv[i], "--iters=", 8)) iters = std::atoi(argv[i] + 8);
    if (!std::strncmp(argv[i], "--top=", 6)) top = std::atoi(argv[i] + 6);
    if (!std::strcmp(argv[i], "--wall")) wall = true;
  }
  g_cpu_time = threads == 1 && !wall;
  std::ifstream f(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ModelOptions opt;
  opt.threads = threads;
  std::unique_ptr<Model> model;
  try {
    model = Model::load_onnx(bytes.data(), bytes.size(), opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load failed: %s\n", e.what());
    return 1;
  }
  const Graph& g = model->graph();
  std::vector<InputMeta> metas(model->inputs().size());
  std::vector<std::vector<float>> input_data(metas.size());
  for (size_t i = 0; i < metas.size(); ++i) {
    metas[i].dtype = model->inputs()[i].dtype;
    for (int64_t d : model->inputs()[i].shape) metas[i].shape.push_back(d < 0 ? 1 : d);
    input_data[i].assign(size_t(shape_numel(metas[i].shape)) + 16, 0.5f);
    metas[i].data = nullptr;
  }
  Plan plan = make_plan(*model, metas);
  std::vector<uint8_t> arena_store(plan.arena_bytes + 64);
  uint8_t* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(arena_store.data()) + 63) & ~uintptr_t(63));
  std::vector<Tensor> tensors(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Plan::Slot& s = plan.slots[v];
    Tensor& t = tensors[v];
    t.dtype = s.dtype;
    t.shape = s.shape;
    switch (s.storage) {
      case Plan::Storage::Constant: t.data = g.values[v].data.data; break;
      case Plan::Storage::Folded: t.data = s.folded.data; break;
      case Plan::Storage::Arena: t.data = base + s.offset; break;
      case Plan::Storage::Input: t.data = input_data[size_t(s.input_index)].data(); break;
      default: break;
    }
  }
  for (size_t v = 0; v < g.values.size(); ++v)
    if (plan.slots[v].storage == Plan::Storage::Alias)
      tensors[v].data = static_cast<uint8_t*>(tensors[size_t(plan.slots[v].alias_of)].data) + plan.slots[v].alias_offset;
  std::vector<RunContext> ctxs;
  for (const Plan::Step& st : plan.steps) {
    const Node& node = g.nodes[size_t(st.node)];
    RunContext rc(node);
    for (int in : node.inputs) rc.inputs.push_back(in >= 0 ? &tensors[size_t(in)] : nullptr);
    for (int out : node.outputs) rc.outputs.push_back(out >= 0 ? &tensors[size_t(out)] : nullptr);
    rc.scratch = st.scratch_bytes ? base + st.scratch_offset : nullptr;
    rc.scratch_bytes = st.scratch_bytes;
    netlite::set_slot_scratch(plan, st, base, &rc);
    rc.pool = &model->pool();
    rc.gemm = model->options().gemm;
    ctxs.push_back(std::move(rc));
  }
  const size_t steps = ctxs.size();
  std::vector<std::vector<double>> times(steps);
  std::vector<double> totals;
  for (int it = 0; it < iters + 3; ++it) {
    const double t0 = now();
    for (size_t s = 0; s < steps; ++s) {
      const double a = now();
      model->kernel(size_t(plan.steps[s].node)).run(ctxs[s]);
      if (it >= 3) times[s].push_back(now() - a);
    }
    if (it >= 3) totals.push_back(now() - t0);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  std::vector<double> med(steps);
  double sum = 0;
  for (size_t s = 0; s < steps; ++s) sum += (med[s] = median(times[s]));
  std::printf("%s threads=%d: total median %.3f ms (sum of node medians %.3f ms), %zu steps\n", argv[1], threads,
              median(totals) * 1e3, sum * 1e3, steps);
  std::map<std::string, std::pair<double, int>> by_type;
  double conv_macs_total = 0, conv_time = 0;
  for (size_t s = 0; s < steps; ++s) {
    const Node& n = g.nodes[size_t(plan.steps[s].node)];
    std::string key = n.op_type;
    if (n.op_type == "Conv") {
      const Shape& ws = tensors[size_t(n.inputs[1])].shape;
      const int64_t grp = n.attr_int("group", 1);
      const bool dw = grp > 1 && grp == ws[0];
      key += dw ? "/dw" : "";
      key += ws.size() == 4 ? "/" + std::to_string(ws[2]) + "x" + std::to_string(ws[3]) : "";
      key += "/s" + std::to_string(n.attr_ints("strides").empty() ? 1 : n.attr_ints("strides")[0]);
      conv_macs_total += conv_macs(n, tensors);
      conv_time += med[s];
    }
    by_type[key].first += med[s];
    by_type[key].second += 1;
  }
  std::vector<std::pair<double, std::string>> order;
  for (auto& kv : by_type) order.push_back({kv.second.first, kv.first});
  std::sort(order.rbegin(), order.rend());
  std::printf("%-22s %9s %6s %5s\n", "op type", "ms", "%", "n");
  for (auto& o : order)
    std::printf("%-22s %9.3f %5.1f%% %5d\n", o.second.c_str(), o.first * 1e3, 100 * o.first / sum,
                by_type[o.second].second);
  std::printf("conv: %.1f GFLOP/s over %.3f GMAC\n", 2 * conv_macs_total / conv_time * 1e-9, conv_macs_total * 1e-9);
  std::vector<size_t> idx(steps);
  for (size_t s = 0; s < steps; ++s) idx[s] = s;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return med[a] > med[b]; });
  std::printf("\nslowest nodes:\n");
  for (int k = 0; k < top && k < int(steps); ++k) {
    const size_t s = idx[size_t(k)];
    const Node& n = g.nodes[size_t(plan.steps[s].node)];
    const double macs = conv_macs(n, tensors);
    std::string in = n.inputs.empty() || n.inputs[0] < 0 ? "" : shape_s(tensors[size_t(n.inputs[0])].shape);
    std::string w = n.inputs.size() > 1 && n.inputs[1] >= 0 ? shape_s(tensors[size_t(n.inputs[1])].shape) : "";
    std::printf("%8.3f ms %-10s %-40.40s x%s w%s", med[s] * 1e3, n.op_type.c_str(), n.name.c_str(), in.c_str(),
                w.c_str());
    if (macs > 0) std::printf(" s%lld g%lld %.1f GFLOP/s",
                              (long long)(n.attr_ints("strides").empty() ? 1 : n.attr_ints("strides")[0]),
                              (long long)n.attr_int("group", 1), 2 * macs / med[s] * 1e-9);
    std::printf("\n");
  }
  return 0;
}
