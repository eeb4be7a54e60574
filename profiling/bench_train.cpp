// bench_train: full training steps (forward, loss, backward, Adam) of a model after warm-up; prints a table
// (ms/step median and min, images/s, peak memory) and, when PyTorch is importable, its figure for the same model and
// shapes; the last line is `ms_per_step <median>`.
// Models (each one entry of make_bench_model: the model, its loss on synthetic targets, the paper's optimiser):
//   residual_unet (papers 1, 5; --coordconv), enet (paper 5, 2 classes),
//   unet_bn and small_cnn (paper 2: 4 classes, Adam 1e-3 β (0.9, 0.999), --pe λ, --padding reflect, --width; the
//   paper's figure: --model unet_bn --size 256 --batch 4),
//   multitask (paper 4; --variant m | 2dec-mc | 2dec-md | conv-mc | conv-md, 3-channel input, the composed loss; also
//   times inference as paper 4's Table 2 does: one image at --infer-size², warm, median of --infer-reps passes).
//   unet3d | vnet | segresnet (paper 3, --edge for the EG-CNN stream): 5-D inputs, timed by bench_train3d.h beside
//   profiling/bench_train_torch3d.py.
// Key decision: one timing/reporting path for every 2-D model; a model adds a factory entry and its PyTorch twin's
// flags.
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "apps/toolkit/cli.h"
#include "bench_train3d.h"
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
#include "models/enet.h"
#include "models/multitask_unet.h"
#include "models/residual_unet.h"
#include "models/small_cnn.h"
#include "models/unet_bn.h"

using namespace seg;

namespace {

// One benchmarked model: its module, the loss of one step on the fixed batch, an optional inference pass, the
// optimiser's settings and the flags its PyTorch twin needs.
struct BenchModel {
  std::unique_ptr<Module> module;
  std::string what;
  int64_t in_channels = 1;
  double lr = 5e-4, beta2 = 0.99;
  std::function<Tensor()> loss;      // set once the inputs exist
  std::function<void()> infer;       // optional (paper 4's Table 2)
  std::string torch_args;
};

// Synthetic targets shared by every model: class 1 on every 7th row; a second label map on the rows after them; a
// horizontal ramp in [0, 1) as a distance map; four classes as the row index mod 4 (paper 2).
struct Targets {
  Tensor labels, labels2, ramp, rows_mod4;
};

Targets make_targets(int64_t B, int64_t S, Device dev) {
  std::vector<int64_t> lab(static_cast<size_t>(B * S * S)), lab2(lab.size()), lab4(lab.size());
  std::vector<double> dist(lab.size());
  for (size_t i = 0; i < lab.size(); ++i) {
    lab[i] = (i / static_cast<size_t>(S)) % 7 == 0;
    lab2[i] = (i / static_cast<size_t>(S)) % 7 == 1;
    lab4[i] = static_cast<int64_t>((i / static_cast<size_t>(S)) % static_cast<size_t>(S) % 4);
    dist[i] = static_cast<double>(i % static_cast<size_t>(S)) / static_cast<double>(S);
  }
  return {Tensor::from_labels(lab, {B, S, S}).to(dev), Tensor::from_labels(lab2, {B, S, S}).to(dev),
          Tensor::from_vector(dist, {B, 1, S, S}).to(dev), Tensor::from_labels(lab4, {B, S, S}).to(dev)};
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("bench_train", "Times full training steps of a segmentation model.");
  args.option("model", "residual_unet",
              "model to time: residual_unet | enet | unet_bn | small_cnn | multitask | unet3d | vnet | segresnet")
      .option("coordconv", "none", "residual_unet: CoordConv placement: none | 1st | enc | all")
      .option("variant", "conv-md", "multitask: m | 2dec-mc | 2dec-md | conv-mc | conv-md")
      .option("infer-size", "256", "multitask: inference image size (paper 4's Table 2: 256)")
      .option("infer-reps", "20", "multitask: timed inference passes (after 3 warm-up passes)")
      .option("pe", "0", "unet_bn / small_cnn: positional encoding range [0, λ] (0 = none)")
      .option("padding", "zeros", "unet_bn / small_cnn: zeros | reflect")
      .option("batch", "4", "batch size")
      .option("size", "128", "image size (S×S)")
      .option("steps", "10", "timed steps (after 2 warm-up steps)")
      .option("device", "cpu", "cpu | cuda | auto")
      .flag("no-torch", "do not run the PyTorch comparison");
  bench3d::declare_options(args);  // 3-D models: batch 1, size 64, 5 steps unless given
  try {
    if (!args.parse(argc, argv)) return 0;
    const std::string name = args.str("model");
    if (name == "unet3d" || name == "vnet" || name == "segresnet") return bench3d::run(args);
    const int64_t B = args.integer("batch"), S = args.integer("size"), steps = args.integer("steps");
    const int64_t IS = args.integer("infer-size");
    const Device dev = parse_device(args.str("device"));
    Generator g(1);
    const Targets tg = make_targets(B, S, dev);
    Tensor x, xi;

    BenchModel bm;
    if (name == "residual_unet" || name == "enet") {
      std::unique_ptr<Module> m;
      std::function<Tensor(const Tensor&)> fwd;
      if (name == "enet") {
        auto e = std::make_unique<ENet>(ENet::Config{.in_channels = 1, .classes = 2, .seed = 0});
        fwd = [p = e.get()](const Tensor& in) { return p->forward(in); };
        bm.what = "ENet";
        m = std::move(e);
      } else {
        auto r = std::make_unique<ResidualUNet>(
            ResidualUNet::Config{.in_channels = 1, .classes = 2, .coord = parse_coord_placement(args.str("coordconv")), .seed = 0});
        fwd = [p = r.get()](const Tensor& in) { return p->forward(in); };
        bm.what = "residual U-Net (coordconv " + args.str("coordconv") + ")";
        m = std::move(r);
      }
      bm.module = std::move(m);
      bm.loss = [&x, &tg, fwd] { return cross_entropy(fwd(x), tg.labels); };
      bm.torch_args = " --model " + name + " --coordconv " + args.str("coordconv");
    } else if (name == "unet_bn" || name == "small_cnn") {
      // paper 2: 4 classes (row index mod 4), Adam 1e-3 with PyTorch's default betas
      const double pe = args.real("pe");
      const int64_t w = args.integer("width") > 0 ? args.integer("width") : 64;
      std::function<Tensor(const Tensor&)> fwd;
      if (name == "unet_bn") {
        auto m = std::make_unique<UNetBN>(UNetBN::Config{.base_width = w, .pe_lambda = pe, .padding_mode = args.str("padding")});
        fwd = [p = m.get()](const Tensor& in) { return p->forward(in); };
        bm.what = "U-Net-BN (PE λ " + args.str("pe") + ", " + args.str("padding") + " padding)";
        bm.module = std::move(m);
      } else {
        auto m = std::make_unique<SmallCNN>(SmallCNN::Config{.width = w, .pe_lambda = pe, .padding_mode = args.str("padding")});
        fwd = [p = m.get()](const Tensor& in) { return p->forward(in); };
        bm.what = "4-layer CNN (PE λ " + args.str("pe") + ", " + args.str("padding") + " padding)";
        bm.module = std::move(m);
      }
      bm.lr = 1e-3;
      bm.beta2 = 0.999;
      bm.loss = [&x, &tg, fwd] { return cross_entropy(fwd(x), tg.rows_mod4); };
      bm.torch_args = " --model " + name + " --pe " + args.str("pe") + " --padding " + args.str("padding") +
                      " --width " + std::to_string(w);
    } else if (name == "multitask") {
      // paper 4: Adam lr 1e-4 with PyTorch's default betas
      auto mt = std::make_unique<MultitaskUNet>(MultitaskUNet::Config{.variant = parse_multitask_variant(args.str("variant"))});
      MultitaskUNet* p = mt.get();
      bm.what = std::string("multi-task U-Net ") + multitask_variant_paper(p->config().variant);
      bm.in_channels = 3;
      bm.lr = 1e-4;
      bm.beta2 = 0.999;
      bm.loss = [&x, &tg, p] {
        const auto o = p->forward(x);
        return multitask_loss(o.mask, tg.labels, o.contour, o.contour.defined() ? tg.labels2 : Tensor(), o.distance,
                              o.distance.defined() ? tg.ramp : Tensor())
            .total;
      };
      bm.infer = [&xi, p, dev] {
        NoGradGuard ng;
        (void)p->forward(xi);
        if (dev == Device::CUDA) cuda_synchronize();
      };
      bm.torch_args = " --model multitask --variant " + args.str("variant") + " --infer-size " + std::to_string(IS) +
                      " --infer-reps " + std::to_string(args.integer("infer-reps"));
      bm.module = std::move(mt);
    } else {
      SEG_CHECK(false, "bench_train: unknown --model '", name, "' (expected residual_unet, enet, unet_bn, small_cnn, multitask, unet3d, vnet or segresnet)");
    }

    Module& model = *bm.module;
    model.to(dev);
    model.train();
    Adam opt(model.named_parameters(), bm.lr, 0.9, bm.beta2);
    x = Tensor::empty({B, bm.in_channels, S, S});
    fill_uniform(x, g, 0, 1);
    x = x.to(dev);
    auto step = [&] {
      Tensor loss = bm.loss();
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
    if (bm.infer) {
      model.eval();
      xi = Tensor::empty({1, bm.in_channels, IS, IS});
      fill_uniform(xi, g, 0, 1);
      xi = xi.to(dev);
      inf = bench::time_it(bm.infer, 3, static_cast<int>(args.integer("infer-reps")));
    }
    std::map<std::string, double> pt;
    if (!args.on("no-torch") && dev == Device::CPU)
      pt = bench::run_torch(bench::script_dir() + "/bench_train_torch.py",
                            "--batch " + std::to_string(B) + " --size " + std::to_string(S) + " --steps " +
                                std::to_string(steps) + " --threads " + std::to_string(max_threads()) + bm.torch_args);
    std::printf("bench_train: %s (%lld parameters), batch %lld, %lldx%lld, %s, %d threads\n", bm.what.c_str(),
                static_cast<long long>(model.num_parameters()), static_cast<long long>(B),
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
    if (pt.count("parameters") && static_cast<int64_t>(pt["parameters"]) != model.num_parameters())
      std::printf("WARNING: the PyTorch model has %.0f parameters, ours %lld: not the same model\n", pt["parameters"],
                  static_cast<long long>(model.num_parameters()));
    if (bm.infer) {
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
