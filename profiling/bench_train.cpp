// bench_train: full training steps (forward, loss, backward, Adam) of a model after warm-up; prints a table
// (ms/step median and min, images/s, peak memory) and, when PyTorch is importable, its figure for the same model and
// shapes; the last line is `ms_per_step <median>`.
// Models: residual_unet (papers 1 and 5; --coordconv) and multitask (paper 4; --variant m | 2dec-mc | 2dec-md |
// conv-mc | conv-md, 3-channel input, the composed loss). For multitask it also times inference as paper 4's Table 2
// does: one image at --infer-size² (256), warm, median of --infer-reps forward passes without autograd.
#include <cstdio>
#include <cstring>
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
#include "losses/multitask.h"
#include "models/multitask_unet.h"
#include "models/residual_unet.h"

using namespace seg;

int main(int argc, char** argv) {
  cli::Args args("bench_train", "Times full training steps of a segmentation model.");
  args.option("model", "residual_unet", "model to time (residual_unet | multitask)")
      .option("coordconv", "none", "residual_unet: CoordConv placement: none | 1st | enc | all")
      .option("variant", "conv-md", "multitask: m | 2dec-mc | 2dec-md | conv-mc | conv-md")
      .option("infer-size", "256", "multitask: inference image size (paper 4's Table 2: 256)")
      .option("infer-reps", "20", "multitask: timed inference passes (after 3 warm-up passes)")
      .option("batch", "4", "batch size")
      .option("size", "128", "image size (S×S)")
      .option("steps", "10", "timed steps (after 2 warm-up steps)")
      .option("device", "cpu", "cpu | cuda | auto")
      .flag("no-torch", "do not run the PyTorch comparison");
  try {
    if (!args.parse(argc, argv)) return 0;
    const std::string model_name = args.str("model");
    SEG_CHECK(model_name == "residual_unet" || model_name == "multitask", "bench_train: unknown --model '", model_name,
              "' (expected residual_unet or multitask)");
    const bool mt = model_name == "multitask";
    const int64_t B = args.integer("batch"), S = args.integer("size"), steps = args.integer("steps");
    const Device dev = parse_device(args.str("device"));
    const int64_t C = mt ? 3 : 1;
    std::unique_ptr<ResidualUNet> runet;
    std::unique_ptr<MultitaskUNet> munet;
    Module* model = nullptr;
    std::string what;
    if (mt) {
      munet = std::make_unique<MultitaskUNet>(MultitaskUNet::Config{.variant = parse_multitask_variant(args.str("variant"))});
      model = munet.get();
      what = std::string("multi-task U-Net ") + multitask_variant_paper(munet->config().variant);
    } else {
      runet = std::make_unique<ResidualUNet>(
          ResidualUNet::Config{.in_channels = 1, .classes = 2, .coord = parse_coord_placement(args.str("coordconv")), .seed = 0});
      model = runet.get();
      what = "residual U-Net (coordconv " + args.str("coordconv") + ")";
    }
    model->to(dev);
    model->train();
    // residual_unet: the papers 1/5 settings; multitask: paper 4's Adam (lr 1e-4, PyTorch's default betas)
    Adam opt(model->named_parameters(), mt ? 1e-4 : 5e-4, 0.9, mt ? 0.999 : 0.99);
    Generator g(1);
    Tensor x = Tensor::empty({B, C, S, S});
    fill_uniform(x, g, 0, 1);
    std::vector<int64_t> lab(static_cast<size_t>(B * S * S)), lab2(lab.size());
    std::vector<double> dist(lab.size());
    for (size_t i = 0; i < lab.size(); ++i) {
      lab[i] = (i / static_cast<size_t>(S)) % 7 == 0;
      lab2[i] = (i / static_cast<size_t>(S)) % 7 == 1;
      dist[i] = static_cast<double>(i % static_cast<size_t>(S)) / static_cast<double>(S);
    }
    Tensor t = Tensor::from_labels(lab, {B, S, S}).to(dev), tc = Tensor::from_labels(lab2, {B, S, S}).to(dev);
    Tensor td = Tensor::from_vector(dist, {B, 1, S, S}).to(dev);
    x = x.to(dev);
    auto step = [&] {
      Tensor loss;
      if (mt) {
        const auto o = munet->forward(x);
        loss = multitask_loss(o.mask, t, o.contour, o.contour.defined() ? tc : Tensor(), o.distance,
                              o.distance.defined() ? td : Tensor())
                   .total;
      } else {
        loss = cross_entropy(runet->forward(x), t);
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
      if (dev == Device::CUDA) cuda_synchronize();
    };
    host_allocator_reset_peak();
    cuda_allocator_reset_peak();
    auto tm = bench::time_it(step, 2, static_cast<int>(steps));
    const double peak_mb = (dev == Device::CPU ? host_allocator_stats().peak_bytes : cuda_allocator_stats().peak_bytes) / 1048576.0;
    bench::Timing inf;
    const int64_t IS = args.integer("infer-size");
    if (mt) {
      model->eval();
      Tensor xi = Tensor::empty({1, 3, IS, IS});
      fill_uniform(xi, g, 0, 1);
      xi = xi.to(dev);
      inf = bench::time_it([&] {
        NoGradGuard ng;
        (void)munet->forward(xi);
        if (dev == Device::CUDA) cuda_synchronize();
      }, 3, static_cast<int>(args.integer("infer-reps")));
    }
    std::map<std::string, double> pt;
    if (!args.on("no-torch") && dev == Device::CPU) {
      std::string targs = "--batch " + std::to_string(B) + " --size " + std::to_string(S) + " --steps " +
                          std::to_string(steps) + " --threads " + std::to_string(max_threads());
      targs += mt ? " --model multitask --variant " + args.str("variant") + " --infer-size " + std::to_string(IS) +
                        " --infer-reps " + std::to_string(args.integer("infer-reps"))
                  : " --coordconv " + args.str("coordconv");
      pt = bench::run_torch(bench::script_dir() + "/bench_train_torch.py", targs);
    }
    std::printf("bench_train: %s (%lld parameters), batch %lld, %lldx%lld, %s, %d threads\n", what.c_str(),
                static_cast<long long>(model->num_parameters()), static_cast<long long>(B),
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
    if (pt.count("parameters") && static_cast<int64_t>(pt["parameters"]) != model->num_parameters())
      std::printf("WARNING: the PyTorch model has %.0f parameters, ours %lld\n", pt["parameters"],
                  static_cast<long long>(model->num_parameters()));
    if (mt) {
      std::printf("\ninference, 1 image %lldx%lld, warm, median of %lld (paper 4's Table 2):\n", static_cast<long long>(IS),
                  static_cast<long long>(IS), static_cast<long long>(args.integer("infer-reps")));
      std::printf("| %-10s | %12s | %10s |\n", "impl", "ms/image med", "min");
      std::printf("|------------|--------------|------------|\n");
      std::printf("| %-10s | %12.2f | %10.2f |\n", "ours", inf.median_ms, inf.min_ms);
      if (pt.count("infer_ms"))
        std::printf("| %-10s | %12.2f | %10.2f |\n", "pytorch", pt["infer_ms"], pt["infer_min_ms"]);
      std::printf("infer_ms %.2f\n", inf.median_ms);
    }
    std::printf("ms_per_step %.1f\n", tm.median_ms);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
}
