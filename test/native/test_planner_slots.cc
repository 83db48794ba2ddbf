// The planner's per-thread scratch (RunContext::slot_scratch): with several
// threads one region, a slot per pool thread as large as any step asks for,
// reserved for the whole run and shared with no activation or step scratch, so
// that what a thread writes there stays in its own core's cache from one step
// to the next; with one thread each step's slot is scratch of its own, clear of
// what that step reads and writes. And a model whose convs use it gives the same
// outputs at 1, 2 and 3 threads.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "check.h"
#include "model_runner.h"
#include "onnx_builder.h"
#include "plan/planner.h"

using namespace netlite_test;

namespace planner_slots_test {

// x[1,8,28,28] -> Conv 3x3 (16) -> Relu -> Conv 3x3 (16) -> Conv 1x1 (8) -> Conv 3x3 stride 2 (8) -> y:
// Winograd, im2col tiles and pointwise steps at 28x28 and 14x14.
std::string conv_stack() {
  GraphSpec g;
  auto weights = [&](const std::string& name, int64_t m, int64_t c, int64_t k, uint32_t seed) {
    g.initializers.push_back(tensor_f32(name, {m, c, k, k}, random_vec(size_t(m * c * k * k), seed, -0.3f, 0.3f)));
  };
  weights("w1", 16, 8, 3, 1);
  weights("w2", 16, 16, 3, 2);
  weights("w3", 8, 16, 1, 3);
  weights("w4", 8, 8, 3, 4);
  g.nodes.push_back(node("Conv", {"x", "w1"}, {"c1"}, "conv1", {attr_ints("pads", {1, 1, 1, 1})}));
  g.nodes.push_back(node("Relu", {"c1"}, {"r1"}, "relu1"));
  g.nodes.push_back(node("Conv", {"r1", "w2"}, {"c2"}, "conv2", {attr_ints("pads", {1, 1, 1, 1})}));
  g.nodes.push_back(node("Conv", {"c2", "w3"}, {"c3"}, "conv3"));
  g.nodes.push_back(node("Conv", {"c3", "w4"}, {"y"}, "conv4",
                         {attr_ints("pads", {1, 1, 1, 1}), attr_ints("strides", {2, 2})}));
  g.inputs.push_back(value_info("x", 1, {1, 8, 28, 28}));
  g.outputs.push_back(value_info("y", 1, {1, 8, 14, 14}));
  return model(g);
}

bool overlaps(size_t a0, size_t a1, size_t b0, size_t b1) { return a0 < b1 && b0 < a1; }

}  // namespace planner_slots_test

NETLITE_TEST(planner_slot_scratch_is_one_region_per_thread_apart_from_everything) {
  const std::string bytes = planner_slots_test::conv_stack();
  for (int threads : {1, 2, 3}) {
    netlite::ModelOptions o;
    o.threads = threads;
    auto m = netlite::Model::load_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
    std::vector<netlite::InputMeta> metas(1);
    metas[0].dtype = netlite::DType::Float32;
    metas[0].shape = {1, 8, 28, 28};
    const netlite::Plan plan = netlite::make_plan(*m, metas);
    size_t largest = 0;
    for (const netlite::Plan::Step& st : plan.steps) largest = std::max(largest, st.slot_scratch_bytes);
    if (!CHECK_MSG(largest > 0, "threads %d: no step asked for per-thread scratch", threads)) continue;
    CHECK(plan.slot_scratch_count == threads);
    CHECK(plan.slot_scratch_stride >= largest && plan.slot_scratch_stride % 64 == 0);
    int clashes = 0, moved = 0;
    size_t region = SIZE_MAX;
    for (const netlite::Plan::Step& step : plan.steps) {
      if (!step.slot_scratch_bytes) continue;
      const size_t r0 = step.slot_scratch_offset;
      const size_t r1 = r0 + (threads > 1 ? plan.slot_scratch_stride * size_t(threads) : step.slot_scratch_bytes);
      CHECK_MSG(r0 % 64 == 0 && r1 <= plan.arena_bytes, "threads %d: slots [%zu, %zu), arena %zu", threads, r0, r1,
                plan.arena_bytes);
      if (region == SIZE_MAX) region = r0;
      if (threads > 1 && r0 != region) ++moved;  // one region for every step
      // Several threads: nothing else in the arena overlaps the region. One: nothing this step uses.
      const netlite::Node& node = m->graph().nodes[size_t(step.node)];
      for (size_t v = 0; v < plan.slots.size(); ++v) {
        const netlite::Plan::Slot& s = plan.slots[v];
        if (s.storage != netlite::Plan::Storage::Arena) continue;
        const bool used = std::count(node.inputs.begin(), node.inputs.end(), int(v)) > 0 ||
                          std::count(node.outputs.begin(), node.outputs.end(), int(v)) > 0;
        if ((threads > 1 || used) && planner_slots_test::overlaps(r0, r1, s.offset, s.offset + s.bytes)) ++clashes;
      }
      for (const netlite::Plan::Step& other : plan.steps)
        if (other.scratch_bytes && (threads > 1 || &other == &step) &&
            planner_slots_test::overlaps(r0, r1, other.scratch_offset, other.scratch_offset + other.scratch_bytes))
          ++clashes;
    }
    CHECK_MSG(clashes == 0, "threads %d: %d buffers overlap the per-thread scratch", threads, clashes);
    CHECK_MSG(moved == 0, "threads %d: %d steps have their slots elsewhere", threads, moved);
  }
}

NETLITE_TEST(planner_slot_scratch_same_outputs_at_any_thread_count) {
  const std::string bytes = planner_slots_test::conv_stack();
  const std::vector<float> x = random_vec(8 * 28 * 28, 11, -1.0f, 1.0f);
  const std::vector<Feed> feeds = {{netlite::DType::Float32, {1, 8, 28, 28}, x.data(), x.size() * sizeof(float)}};
  const RunResult one = load_and_run(bytes, true, 1, feeds, 2);
  for (int threads : {2, 3}) {
    const RunResult r = load_and_run(bytes, true, threads, feeds, 3);
    const float* a = reinterpret_cast<const float*>(one.outputs[0].data());
    const float* b = reinterpret_cast<const float*>(r.outputs[0].data());
    double worst = 0;
    for (size_t i = 0; i < one.outputs[0].size() / sizeof(float); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
    CHECK_MSG(r.outputs[0].size() == one.outputs[0].size() && worst < 1e-4, "threads %d: max diff %g", threads, worst);
  }
}
