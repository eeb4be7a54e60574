// bench_train: full training steps (forward, loss, backward, Adam) of a model after warm-up; prints a table
// (ms/step median and min, images/s, peak memory) and, when PyTorch is importable, its figure for the same model and
// shapes; the last line is `ms_per_step <median>`.
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
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
#include "kernels/nll.h"
#include "models/enet.h"
#include "models/residual_unet.h"

using namespace seg;

int main(int argc, char** argv) {
  cli::Args args("bench_train", "Times full training steps of a segmentation model.");
  args.option("model", "residual_unet", "model to time: residual_unet | enet (paper 5's, 2 classes)")
      .option("coordconv", "none", "CoordConv placement: none | 1st | enc | all")
      .option("batch", "4", "batch size")
      .option("size", "128", "image size (S×S)")
      .option("steps", "10", "timed steps (after 2 warm-up steps)")
      .option("device", "cpu", "cpu | cuda | auto")
      .flag("no-torch", "do not run the PyTorch comparison");
  try {
    if (!args.parse(argc, argv)) return 0;
    const std::string model_name = args.str("model");
    SEG_CHECK(model_name == "residual_unet" || model_name == "enet", "bench_train: unknown --model '", model_name,
              "' (expected residual_unet or enet)");
    const int64_t B = args.integer("batch"), S = args.integer("size"), steps = args.integer("steps");
    const Device dev = parse_device(args.str("device"));
    std::unique_ptr<Module> owned;
    std::function<Tensor(const Tensor&)> forward;
    std::string title;
    if (model_name == "enet") {
      auto m = std::make_unique<ENet>(ENet::Config{.in_channels = 1, .classes = 2, .seed = 0});
      forward = [p = m.get()](const Tensor& in) { return p->forward(in); };
      title = "ENet";
      owned = std::move(m);
    } else {
      auto m = std::make_unique<ResidualUNet>(
          ResidualUNet::Config{.in_channels = 1, .classes = 2, .coord = parse_coord_placement(args.str("coordconv")), .seed = 0});
      forward = [p = m.get()](const Tensor& in) { return p->forward(in); };
      title = "residual U-Net (coordconv " + args.str("coordconv") + ")";
      owned = std::move(m);
    }
    Module& model = *owned;
    model.to(dev);
    model.train();
    Adam opt(model.named_parameters(), 5e-4, 0.9, 0.99);
    Generator g(1);
    Tensor x = Tensor::empty({B, 1, S, S});
    fill_uniform(x, g, 0, 1);
    std::vector<int64_t> lab(static_cast<size_t>(B * S * S));
    for (size_t i = 0; i < lab.size(); ++i) lab[i] = (i / static_cast<size_t>(S)) % 7 == 0;
    Tensor t = Tensor::from_labels(lab, {B, S, S});
    x = x.to(dev);
    t = t.to(dev);
    auto step = [&] {
      Tensor loss = cross_entropy(forward(x), t);
      opt.zero_grad();
      loss.backward();
      opt.step();
      if (dev == Device::CUDA) cuda_synchronize();
    };
    host_allocator_reset_peak();
    cuda_allocator_reset_peak();
    auto tm = bench::time_it(step, 2, static_cast<int>(steps));
    const double peak_mb = (dev == Device::CPU ? host_allocator_stats().peak_bytes : cuda_allocator_stats().peak_bytes) / 1048576.0;
    std::map<std::string, double> pt;
    if (!args.on("no-torch") && dev == Device::CPU)
      pt = bench::run_torch(bench::script_dir() + "/bench_train_torch.py",
                            "--batch " + std::to_string(B) + " --size " + std::to_string(S) + " --steps " +
                                std::to_string(steps) + " --model " + model_name + " --coordconv " + args.str("coordconv") + " --threads " +
                                std::to_string(max_threads()));
    std::printf("bench_train: %s (%.3f M parameters), batch %lld, %lldx%lld, %s, %d threads\n",
                title.c_str(), model.num_parameters() / 1e6, static_cast<long long>(B),
                static_cast<long long>(S), static_cast<long long>(S), device_name(dev), max_threads());
    if (dev == Device::CPU)
      std::printf("CPU convolutions: %s\n", onednn::enabled() ? "oneDNN (SEG_CPU_CONV=im2col times the im2col + BLAS reference)"
                                                              : "im2col + BLAS");
    std::printf("\n");
    std::printf("| %-10s | %12s | %10s | %10s | %12s |\n", "impl", "ms/step med", "min", "images/s", "peak MiB");
    std::printf("|------------|--------------|------------|------------|--------------|\n");
    std::printf("| %-10s | %12.1f | %10.1f | %10.2f | %12.1f |\n", "ours", tm.median_ms, tm.min_ms, B * 1e3 / tm.median_ms, peak_mb);
    if (pt.count("ms_per_step"))
      std::printf("| %-10s | %12.1f | %10.1f | %10.2f | %12s |\n", "pytorch", pt["ms_per_step"], pt["min_ms"],
                  B * 1e3 / pt["ms_per_step"], "n/a");
    if (pt.count("ms_per_step")) std::printf("\nratio ours/pytorch: %.2f (target <= 1.5, goal < 1)\n", tm.median_ms / pt["ms_per_step"]);
    std::printf("ms_per_step %.1f\n", tm.median_ms);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
}
