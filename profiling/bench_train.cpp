// bench_train: full training steps (forward, loss, backward, Adam) of a model after warm-up; prints a table
// (ms/step median and min, images/s, peak memory) and, when PyTorch is importable, its figure for the same model and
// shapes; the last line is `ms_per_step <median>`.
// Models: residual_unet (papers 1, 5: 2 classes, Adam 5e-4 β (0.9, 0.99)); unet_bn and small_cnn (paper 2: 1 input,
// 4 classes, Adam 1e-3 β (0.9, 0.999), optional positional encoding --pe λ and --padding reflect). Paper 2's figure:
//   bench_train --model unet_bn --size 256 --batch 4   (and --model small_cnn)
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
#include "models/residual_unet.h"
#include "models/small_cnn.h"
#include "models/unet_bn.h"

using namespace seg;

int main(int argc, char** argv) {
  cli::Args args("bench_train", "Times full training steps of a segmentation model.");
  args.option("model", "residual_unet", "model to time: residual_unet | unet_bn | small_cnn")
      .option("coordconv", "none", "residual_unet's CoordConv placement: none | 1st | enc | all")
      .option("pe", "0", "unet_bn / small_cnn: positional encoding range [0, λ] (0 = none)")
      .option("padding", "zeros", "unet_bn / small_cnn: zeros | reflect")
      .option("width", "64", "unet_bn: base width w (w-2w-4w-8w-8w); small_cnn: channels (the paper: 64)")
      .option("batch", "4", "batch size")
      .option("size", "128", "image size (S×S)")
      .option("steps", "10", "timed steps (after 2 warm-up steps)")
      .option("device", "cpu", "cpu | cuda | auto")
      .flag("no-torch", "do not run the PyTorch comparison");
  try {
    if (!args.parse(argc, argv)) return 0;
    const std::string name = args.str("model");
    SEG_CHECK(name == "residual_unet" || name == "unet_bn" || name == "small_cnn", "bench_train: unknown --model '", name,
              "' (residual_unet, unet_bn, small_cnn)");
    const int64_t B = args.integer("batch"), S = args.integer("size"), steps = args.integer("steps");
    const Device dev = parse_device(args.str("device"));
    const bool paper2 = name != "residual_unet";
    const int64_t classes = paper2 ? 4 : 2;
    const double pe = args.real("pe");
    std::shared_ptr<Module> model;
    std::function<Tensor(const Tensor&)> forward;
    std::string what;
    if (name == "residual_unet") {
      auto m = std::make_shared<ResidualUNet>(
          ResidualUNet::Config{.in_channels = 1, .classes = 2, .coord = parse_coord_placement(args.str("coordconv")), .seed = 0});
      forward = [m](const Tensor& x) { return m->forward(x); };
      model = m;
      what = "residual U-Net (coordconv " + args.str("coordconv") + ")";
    } else if (name == "unet_bn") {
      auto m = std::make_shared<UNetBN>(UNetBN::Config{.base_width = args.integer("width"), .pe_lambda = pe, .padding_mode = args.str("padding")});
      forward = [m](const Tensor& x) { return m->forward(x); };
      model = m;
      what = "U-Net-BN (PE λ " + args.str("pe") + ", " + args.str("padding") + " padding)";
    } else {
      auto m = std::make_shared<SmallCNN>(SmallCNN::Config{.width = args.integer("width"), .pe_lambda = pe, .padding_mode = args.str("padding")});
      forward = [m](const Tensor& x) { return m->forward(x); };
      model = m;
      what = "4-layer CNN (PE λ " + args.str("pe") + ", " + args.str("padding") + " padding)";
    }
    model->to(dev);
    model->train();
    Adam opt(model->named_parameters(), paper2 ? 1e-3 : 5e-4, 0.9, paper2 ? 0.999 : 0.99);
    Generator g(1);
    Tensor x = Tensor::empty({B, 1, S, S});
    fill_uniform(x, g, 0, 1);
    std::vector<int64_t> lab(static_cast<size_t>(B * S * S));
    for (size_t i = 0; i < lab.size(); ++i)
      lab[i] = paper2 ? static_cast<int64_t>((i / static_cast<size_t>(S)) % 4) : (i / static_cast<size_t>(S)) % 7 == 0;
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
                                std::to_string(steps) + " --model " + name + " --coordconv " + args.str("coordconv") +
                                " --pe " + args.str("pe") + " --padding " + args.str("padding") + " --width " + args.str("width") + " --threads " +
                                std::to_string(max_threads()));
    std::printf("bench_train: %s, %lld parameters, %lld classes, batch %lld, %lldx%lld, %s, %d threads\n", what.c_str(),
                static_cast<long long>(model->num_parameters()), static_cast<long long>(classes), static_cast<long long>(B),
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
    if (pt.count("parameters") && static_cast<int64_t>(pt["parameters"]) != model->num_parameters())
      std::printf("WARNING: PyTorch's model has %.0f parameters, ours %lld: not the same model\n", pt["parameters"],
                  static_cast<long long>(model->num_parameters()));
    if (pt.count("ms_per_step")) std::printf("\nratio ours/pytorch: %.2f (target <= 1.5, goal < 1)\n", tm.median_ms / pt["ms_per_step"]);
    std::printf("ms_per_step %.1f\n", tm.median_ms);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
}
