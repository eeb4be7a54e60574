// dist_worker: the program the multi-process tests of data-parallel training start (tests/distributed_train), as
// ranks by --nproc or by torchrun's variables set by hand. It is an app of the toolkit in miniature: its options are
// declared with cli::Args::distributed(), so it goes through exactly the launcher and rendezvous every app uses.
// Modes:
//   train        a small conv net (plain, or with BatchNorm) trained with the toolkit's run_experiment on a
//                deterministic synthetic slice set (augmentation on: its draws must follow the global batch order);
//                rank 0 writes the run folder (last.safetensors, curve.json, results.json)
//   collectives  every collective and string exchange checked against the known answer; each rank writes
//                <out>/rank<r>.txt with "ok"
//   loop         all-reduces until --seconds pass; <out>/ready<r> appears after the first (the kill / hang tests)
//   fail         like loop, but rank --fail-rank throws after --fail-at iterations
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "apps/toolkit/cli.h"
#include "apps/toolkit/run.h"
#include "apps/toolkit/slice_data.h"
#include "engine/data_parallel.h"
#include "engine/distributed.h"
#include "engine/rng.h"
#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "models/layers.h"

using namespace seg;

namespace {

class Net : public Module {
 public:
  Net(bool bn, uint64_t seed) {
    Generator g(seed);
    // no bias before the BatchNorm (it would cancel: its gradient is rounding noise, which Adam amplifies to ±lr)
    c1 = register_module("c1", std::make_shared<Conv2d>(1, 6, ConvSpec{.kernel = {3}, .bias = !bn}, g));
    if (bn) norm = register_module("bn", std::make_shared<BatchNorm>(6));
    c2 = register_module("c2", std::make_shared<Conv2d>(6, 2, ConvSpec{.kernel = {3}}, g));
  }
  Tensor forward(const Tensor& x) const {
    Tensor h = c1->forward(x);
    if (norm) h = norm->forward(h);
    return c2->forward(relu(h));
  }
  std::shared_ptr<Conv2d> c1, c2;
  std::shared_ptr<BatchNorm> norm;
};

// A case of `slices` 16×16 slices: a bright disc (class 1) at a drawn place over noise.
SliceSet make_case(const std::string& id, int64_t slices, uint64_t seed) {
  Generator g(seed);
  SliceSet s;
  s.id = id;
  s.slices = slices;
  s.height = s.width = 16;
  s.classes = 2;
  s.image.resize(static_cast<size_t>(slices * 256));
  s.labels.resize(static_cast<size_t>(slices * 256));
  for (int64_t z = 0; z < slices; ++z) {
    const double cy = 4 + 8 * g.uniform(), cx = 4 + 8 * g.uniform(), r = 2 + 2 * g.uniform();
    for (int64_t y = 0; y < 16; ++y)
      for (int64_t x = 0; x < 16; ++x) {
        const bool in = (y - cy) * (y - cy) + (x - cx) * (x - cx) < r * r;
        const size_t i = static_cast<size_t>(z * 256 + y * 16 + x);
        s.labels[i] = in ? 1 : 0;
        s.image[i] = static_cast<float>((in ? 1.0 : 0.0) + 0.3 * g.normal());
      }
  }
  return s;
}

int train(const cli::Args& a) {
  const bool bn = a.str("model") == "bn";
  SEG_CHECK(bn || a.str("model") == "plain", "--model: plain or bn");
  static std::vector<SliceSet> tr, va;
  tr = {make_case("t0", 6, 1), make_case("t1", 5, 2), make_case("t2", 5, 3)};  // 16 slices
  va = {make_case("v0", 3, 4), make_case("v1", 4, 5), make_case("v2", 2, 6)};
  Net net(bn, 7);
  SliceSampler sampler(tr, a.integer("batch"), 11, paper1_rotation_mirror_flip());
  SliceEvaluator val(va, foreground_structures(2, {"bg", "disc"}), SliceEvalOptions{.batch = 2});
  RunSpec spec;
  spec.out_dir = a.str("out");
  spec.title = "dist_worker";
  spec.config = {{"model", a.str("model")}, {"batch", a.integer("batch")}, {"epochs", a.integer("epochs")}};
  spec.model = &net;
  spec.forward = [&](const Tensor& x) { return Outputs{net.forward(x), {}}; };
  spec.loss = [](const Outputs& o, const Batch& b) {
    Tensor l = cross_entropy(o.seg, b.target);
    return LossTerms{l, {{"ce", l.item()}}};
  };
  spec.train = &sampler;
  spec.validation = &val;
  spec.train_cfg.epochs = static_cast<int>(a.integer("epochs"));
  spec.train_cfg.optim.name = a.str("optim");
  spec.train_cfg.optim.lr = a.real("lr");
  spec.train_cfg.progress_every = 1;
  spec.train_cfg.bucket_mb = 0.001;  // several buckets even for this small net
  const RunResult r = run_experiment(spec);
  std::printf("dist_worker: rank %d done, validation Dice %.6f\n", dist::rank(), r.validation.mean("dice"));
  return 0;
}

int collectives(const cli::Args& a) {
  SEG_CHECK(dist::active(), "collectives: start me as 2 or more ranks");
  const int r = dist::rank(), W = dist::world_size();
  auto expect = [&](bool ok, const std::string& what) { SEG_CHECK(ok, "collectives: rank ", r, ": ", what, " is wrong"); };
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor t = Tensor::from_vector({1.0 + r, -2.0 * r, 0.5}, {3}, dt);
    dist::all_reduce(t, dist::ReduceOp::Sum);
    const double s = W * (W + 1) / 2.0, s2 = -static_cast<double>(W * (W - 1));
    expect(t.to_vector() == std::vector<double>{s, s2, 0.5 * W}, "sum");
    Tensor m = Tensor::from_vector({1.0 + r}, {1}, dt);
    dist::all_reduce(m, dist::ReduceOp::Avg);
    expect(std::abs(m.item() - (W + 1) / 2.0) < 1e-6, "average");
    Tensor x = Tensor::from_vector({static_cast<double>(r)}, {1}, dt);
    dist::all_reduce(x, dist::ReduceOp::Max);
    expect(x.item() == W - 1, "max");
    dist::all_reduce(x = Tensor::from_vector({static_cast<double>(r)}, {1}, dt), dist::ReduceOp::Min);
    expect(x.item() == 0, "min");
    Tensor b = Tensor::from_vector({r == 1 ? 42.0 : -1.0, static_cast<double>(r)}, {2}, dt);
    dist::broadcast(b, 1);
    expect(b.to_vector() == std::vector<double>{42.0, 1.0}, "broadcast from rank 1");
  }
  Tensor n = Tensor::from_labels({int64_t{1} << 40, r}, {2});
  dist::all_reduce(n, dist::ReduceOp::Sum);
  expect(n.to_labels() == std::vector<int64_t>{W * (int64_t{1} << 40), W * (W - 1) / 2}, "int64 sum");
  dist::barrier();
  expect(dist::broadcast_string(r == 0 ? "from zero" : "") == "from zero", "broadcast_string");
  const auto all = dist::all_gather_strings("r" + std::to_string(r));
  for (int i = 0; i < W; ++i) expect(all[static_cast<size_t>(i)] == "r" + std::to_string(i), "all_gather_strings");
  std::ofstream(a.str("out") + "/rank" + std::to_string(r) + ".txt") << "ok " << dist::backend_name(Device::CPU) << "\n";
  return 0;
}

int loop(const cli::Args& a, bool failing) {
  const int r = dist::rank();
  Tensor t = Tensor::ones({1000});
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0;; ++i) {
    if (failing && r == a.integer("fail-rank") && i == a.integer("fail-at"))
      throw std::runtime_error("rank " + std::to_string(r) + " fails on purpose at iteration " + std::to_string(i));
    dist::all_reduce(t, dist::ReduceOp::Avg);
    if (i == 0) std::ofstream(a.str("out") + "/ready" + std::to_string(r)) << "ready\n";
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > a.real("seconds")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("dist_worker", "ranks for the data-parallel tests (tests/distributed_train)");
  args.option("mode", "train", "train | collectives | loop | fail")
      .option("model", "plain", "train: plain | bn")
      .option("batch", "4", "train: batch per rank")
      .option("epochs", "2", "train: epochs")
      .option("optim", "sgd", "train: sgd | adam")
      .option("lr", "0.05", "train: learning rate")
      .option("out", "", "output folder")
      .option("seconds", "60", "loop: how long")
      .option("fail-rank", "1", "fail: the rank that throws")
      .option("fail-at", "3", "fail: at which iteration")
      .distributed();
  try {
    if (!args.parse(argc, argv)) return 0;
    SEG_CHECK(!args.str("out").empty(), "--out is required");
    std::filesystem::create_directories(args.str("out"));
    const std::string m = args.str("mode");
    if (m == "train") return train(args);
    if (m == "collectives") return collectives(args);
    if (m == "loop") return loop(args, false);
    if (m == "fail") return loop(args, true);
    fail("--mode: train, collectives, loop or fail, got '", m, "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dist_worker: error: %s\n", e.what());
    return 1;
  }
}
