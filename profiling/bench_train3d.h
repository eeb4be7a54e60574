// The 3-D half of bench_train (paper 3's networks): `bench_train --model unet3d|vnet|segresnet [--edge]` times full
// training steps (forward, loss, backward, Adam) at batch × C × S³ beside profiling/bench_train_torch3d.py, the PyTorch
// twin of the same definitions and the same loss (Dice of the softmax; with --edge the whole eq. (3) of
// losses/egcnn_losses.h). Included by bench_train.cpp only.
#pragma once
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>
#include <map>
#include <string>

#include "apps/toolkit/cli.h"
#include "bench_util.h"
#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "kernels/blas.h"
#include "kernels/conv_onednn.h"
#include "losses/egcnn_losses.h"
#include "models/egcnn.h"

namespace seg::bench3d {

inline void declare_options(cli::Args& a) {
  a.flag("edge", "3-D models: add the EG-CNN edge stream (and its losses)")
      .option("in-channels", "1", "3-D models: input channels (4 for BraTS' modalities)")
      .option("classes", "2", "3-D models: classes")
      .option("width", "0", "base width; 0: the model's (unet_bn / small_cnn 64; 3-D: 16 — U-Net 16 → 16-32-64-128, V-Net base width, SegResNet init filters)")
      .option("levels", "0", "3-D models: resolutions (0: the model's default, 4; V-Net 5)")
      .option("edge-width", "16", "3-D models: the edge stream's width C_e");
}

inline int run(const cli::Args& args) {
  const std::string name = args.str("model");
  const int64_t B = args.given("batch") ? args.integer("batch") : 1;
  const int64_t S = args.given("size") ? args.integer("size") : 64;
  const int64_t steps = args.given("steps") ? args.integer("steps") : 5;
  const int64_t C = args.integer("in-channels"), K = args.integer("classes");
  const bool edge = args.on("edge");
  const Device dev = parse_device(args.str("device"));
  Net3d net({.backbone = name, .in_channels = C, .classes = K, .width = args.integer("width") > 0 ? args.integer("width") : 16,
             .levels = static_cast<int>(args.integer("levels")), .edge = edge, .edge_width = args.integer("edge-width"),
             .seed = 0});
  SEG_CHECK(S % net.divisor() == 0, "bench_train: --size must be a multiple of ", net.divisor(), " for ", name);
  net.to(dev);
  net.train();
  Adam opt(net.named_parameters(), 1e-4, 0.9, 0.999);
  Generator g(1);
  Tensor x = Tensor::empty({B, C, S, S, S});
  fill_uniform(x, g, 0, 1);
  // Labels: a cylinder along z, class 2 in its upper half (as the PyTorch twin draws them).
  Tensor y = Tensor::zeros({B, K, S, S, S});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t z = 0; z < S; ++z)
      for (int64_t r = 0; r < S; ++r)
        for (int64_t c = 0; c < S; ++c) {
          const int64_t dz = z - S / 2, dr = r - S / 2;
          int64_t k = dz * dz + dr * dr < (S / 4) * (S / 4) ? 1 + (z > S / 2) : 0;
          k = std::min(k, K - 1);
          y.data<float>()[(((b * K + k) * S + z) * S + r) * S + c] = 1;
        }
  x = x.to(dev);
  y = y.to(dev);
  EgcnnTargets targets;
  targets.onehot = y;
  EgcnnLossConfig lc;
  Generator noise(2);
  auto step = [&] {
    const Net3d::Output o = net.forward(x);
    Tensor loss = egcnn_loss(o.logits, o.edge_logits, targets, lc, noise).total;
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (dev == Device::CUDA) cuda_synchronize();
  };
  host_allocator_reset_peak();
  cuda_allocator_reset_peak();
  // Process CPU time per step beside wall time: on a loaded machine wall time also counts waiting for a core.
  std::vector<double> cpu_ms;
  auto timed_step = [&] {
    timespec a{}, b{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    step();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    cpu_ms.push_back((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
  };
  const bench::Timing tm = bench::time_it(timed_step, 2, static_cast<int>(steps));
  cpu_ms.erase(cpu_ms.begin(), cpu_ms.begin() + 2);  // the warm-up steps
  std::sort(cpu_ms.begin(), cpu_ms.end());
  const double cpu_med = cpu_ms[cpu_ms.size() / 2];
  const double peak_mb =
      (dev == Device::CPU ? host_allocator_stats().peak_bytes : cuda_allocator_stats().peak_bytes) / 1048576.0;
  std::map<std::string, double> pt;
  if (!args.on("no-torch") && dev == Device::CPU)
    pt = bench::run_torch(bench::script_dir() + "/bench_train_torch3d.py",
                          "--model " + name + " --edge " + std::to_string(edge) + " --batch " + std::to_string(B) +
                              " --size " + std::to_string(S) + " --in_channels " + std::to_string(C) + " --classes " +
                              std::to_string(K) + " --width " + std::to_string(args.integer("width") > 0 ? args.integer("width") : 16) + " --levels " + args.str("levels") +
                              " --edge_width " + args.str("edge-width") + " --steps " + std::to_string(steps) +
                              " --threads " + std::to_string(max_threads()));
  std::printf("bench_train: %s (%lld parameters), batch %lld, %lld×%lld³, %s, %d threads\n",
              net.spec().describe().c_str(), static_cast<long long>(net.num_parameters()), static_cast<long long>(B),
              static_cast<long long>(C), static_cast<long long>(S), device_name(dev), max_threads());
  std::printf("loss: %s\n", edge ? lc.describe().c_str() : "Dice of the softmax");
  if (dev == Device::CPU)
    std::printf("CPU convolutions: %s\n", onednn::enabled() ? "oneDNN" : "im2col + BLAS");
  if (pt.count("parameters") && static_cast<int64_t>(pt["parameters"]) != net.num_parameters())
    std::printf("WARNING: the PyTorch twin has %.0f parameters, ours %lld: not the same definition\n", pt["parameters"],
                static_cast<long long>(net.num_parameters()));
  std::printf("\n| %-10s | %12s | %10s | %12s | %12s |\n", "impl", "ms/step med", "min", "CPU ms med", "peak MiB");
  std::printf("|------------|--------------|------------|--------------|--------------|\n");
  std::printf("| %-10s | %12.1f | %10.1f | %12.1f | %12.1f |\n", "ours", tm.median_ms, tm.min_ms, cpu_med, peak_mb);
  if (pt.count("ms_per_step")) {
    std::printf("| %-10s | %12.1f | %10.1f | %12.1f | %12s |\n", "pytorch", pt["ms_per_step"], pt["min_ms"],
                pt["cpu_ms_per_step"], "n/a");
    std::printf("\nratio ours/pytorch: %.2f (median), %.2f (min), %.2f (CPU time)\n", tm.median_ms / pt["ms_per_step"],
                tm.min_ms / pt["min_ms"], cpu_med / pt["cpu_ms_per_step"]);
  }
  std::printf("ms_per_step %.1f\n", tm.median_ms);
  return 0;
}

}  // namespace seg::bench3d
