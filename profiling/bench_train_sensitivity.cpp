// bench_train_sensitivity: why two correct float32 backends disagree on the residual U-Net's training-step gradients
// (docs/cuda_backend.md, "Why the training step is so sensitive"). On the CPU, with the CudaTrain test's model
// (CoordConv everywhere, seed 3, batch 2, 32×32): gradients after a one-ulp input change in float32 and float64, and
// float32 against float64 on the same input; then, through a replica of the forward with a zero "tap" leaf added to
// every intermediate (its gradient is dLoss/d(intermediate)), the float32 error of every activation and gradient and
// the pre-activations whose sign differs between float32 and float64 (ReLU/LeakyReLU mask flips).
// Key decision: the replica reads the model's own parameters by name, so it measures the model the tests train.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "apps/toolkit/cli.h"
#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/conv.h"
#include "kernels/coordconv.h"
#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "kernels/norm.h"
#include "kernels/pool.h"
#include "models/residual_unet.h"

using namespace seg;

namespace {

using Params = std::vector<std::pair<std::string, Tensor>>;

void module_to_dtype(Module& m, DType dtype) {
  auto convert = [dtype](const Params& ts) {
    for (const auto& [n, t] : ts) {
      Tensor c = t.detach().to(dtype);
      t.impl()->storage = c.impl()->storage;
      t.impl()->dtype = dtype;
    }
  };
  convert(m.named_parameters());
  convert(m.named_buffers());
}

// The forward of ResidualUNet (models/residual_unet.cpp) on its parameters, with a tap after every op.
struct Replica {
  std::map<std::string, Tensor> P, B;
  bool train = true;
  std::vector<std::string> order;
  std::map<std::string, Tensor> value, tap;

  Tensor T(const std::string& name, const Tensor& t) {
    Tensor z = Tensor::zeros(t.shape(), t.dtype());
    z.set_requires_grad(true);
    tap[name] = z;
    value[name] = t.detach();
    order.push_back(name);
    return add(t, z);
  }
  Tensor conv(const std::string& p, const Tensor& x) {
    ConvOptions o;
    o.padding = {1};
    return coordconv2d(x, P.at(p + ".weight"), P.at(p + ".bias"), o);
  }
  Tensor bn(const std::string& p, const Tensor& x) {
    return batch_norm(x, P.at(p + ".weight"), P.at(p + ".bias"), B.at(p + ".running_mean"), B.at(p + ".running_var"),
                      train, 0.1, 1e-5);
  }
  Tensor cba(const std::string& p, const Tensor& x, int act) {
    Tensor b = T(p + ".bn", bn(p + ".bn", T(p + ".conv", conv(p + ".conv", x))));
    if (act == 1) return T(p + ".act", relu(b));
    if (act == 2) return T(p + ".act", leaky_relu(b, 0.2));
    return b;
  }
  Tensor block(const std::string& p, const Tensor& x, int act) {
    Tensor c1 = cba(p + ".conv1", x, act);
    Tensor c2 = cba(p + ".conv2c", cba(p + ".conv2b", cba(p + ".conv2a", c1, act), act), 0);
    return cba(p + ".conv3", add(c1, c2), act);
  }
  Tensor forward(const Tensor& x) {
    std::vector<Tensor> skips;
    Tensor h = x;
    for (int i = 1; i <= 4; ++i) {
      h = block("down" + std::to_string(i), h, 2);
      skips.push_back(h);
      h = max_pool2d(h, {2, 2}, {2, 2}).output;
    }
    h = block("bridge", h, 2);
    for (int i = 1; i <= 4; ++i) {
      const std::string id = "deconv" + std::to_string(i);
      ConvOptions o;
      o.stride = {2};
      o.padding = {1};
      o.output_padding = {1};
      Tensor d = T(id, coordconv_transpose2d(h, P.at(id + ".weight"), P.at(id + ".bias"), o));
      Tensor u = T(id + "_bn.act", relu(T(id + "_bn", bn(id + "_bn", d))));
      h = block("up" + std::to_string(i), scale(add(u, skips[skips.size() - static_cast<size_t>(i)]), 0.5), 1);
    }
    return T("logits", conv("head", h));
  }
};

struct Run {
  double loss = 0;
  std::vector<std::pair<std::string, std::vector<double>>> grads;  // parameters, model order
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> value, tap_grad;
  std::map<std::string, Shape> shape;
};

const ResidualUNet::Config kModel{.in_channels = 1, .classes = 2, .coord = CoordPlacement::All, .seed = 3};

Run run(DType dt, bool train, const std::vector<double>& xv, int64_t B, int64_t S, bool replica) {
  ResidualUNet m(kModel);
  if (dt != DType::Float32) module_to_dtype(m, dt);
  Tensor x = Tensor::from_vector(xv, {B, 1, S, S}, dt);
  Generator g(2);
  std::vector<int64_t> lab(static_cast<size_t>(B * S * S));
  for (auto& l : lab) l = g.randint(2);
  Tensor t = Tensor::from_labels(lab, {B, S, S});
  if (!train) {
    m.train();
    (void)m.forward(x);  // running statistics from one training-mode pass
  }
  m.train(train);
  Run r;
  Replica rep;
  rep.train = train;
  for (auto& [k, p] : m.named_parameters()) rep.P[k] = p;
  for (auto& [k, b] : m.named_buffers()) rep.B[k] = b;
  Tensor loss = cross_entropy(replica ? rep.forward(x) : m.forward(x), t);
  loss.backward();
  r.loss = loss.item();
  for (auto& [k, p] : m.named_parameters()) r.grads.emplace_back(k, p.grad().to_vector());
  r.order = rep.order;
  for (const auto& k : rep.order) {
    r.value[k] = rep.value[k].to_vector();
    r.tap_grad[k] = rep.tap[k].grad().to_vector();
    r.shape[k] = rep.value[k].shape();
  }
  return r;
}

double rel_l2(const std::vector<double>& a, const std::vector<double>& b) {
  double n = 0, d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    n += (a[i] - b[i]) * (a[i] - b[i]);
    d += b[i] * b[i];
  }
  return d > 0 ? std::sqrt(n / d) : std::sqrt(n);
}

// Relative L2 over all parameter gradients, leaving out the biases before BatchNorm (exact gradient 0 in training).
double grads_rel_l2(const Run& a, const Run& b) {
  double n = 0, d = 0;
  for (size_t i = 0; i < a.grads.size(); ++i) {
    const std::string& name = a.grads[i].first;
    const bool zero_bias = name.find(".conv.bias") != std::string::npos ||
                           (name.rfind("deconv", 0) == 0 && name.find("_bn") == std::string::npos &&
                            name.find(".bias") != std::string::npos);
    if (zero_bias) continue;
    for (size_t k = 0; k < a.grads[i].second.size(); ++k) {
      const double e = a.grads[i].second[k] - b.grads[i].second[k];
      n += e * e;
      d += b.grads[i].second[k] * b.grads[i].second[k];
    }
  }
  return std::sqrt(n / d);
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("bench_train_sensitivity", "Measures how float32 rounding moves the residual U-Net's gradients.");
  args.option("batch", "2", "batch size").option("size", "32", "image size (S×S, a multiple of 16)")
      .option("mode", "train", "BatchNorm mode: train | eval");
  try {
    if (!args.parse(argc, argv)) return 0;
    const int64_t B = args.integer("batch"), S = args.integer("size");
    const bool train = args.str("mode") != "eval";
    Generator g(1);
    std::vector<double> x(static_cast<size_t>(B * S * S)), xp(x.size());
    for (auto& v : x) v = static_cast<float>(g.uniform() * 2 - 1);
    for (size_t i = 0; i < x.size(); ++i) xp[i] = std::nextafter(static_cast<float>(x[i]), 2.0f);
    std::printf("residual U-Net (CoordConv all, seed 3), batch %lld, %lldx%lld, BatchNorm %s mode, CPU\n\n",
                static_cast<long long>(B), static_cast<long long>(S), static_cast<long long>(S), train ? "training" : "eval");
    const Run f32 = run(DType::Float32, train, x, B, S, true), f64 = run(DType::Float64, train, x, B, S, true);
    std::printf("| comparison | gradients, relative L2 |\n|---|---|\n");
    std::printf("| float64, input moved by one float32 ulp | %.2e |\n",
                grads_rel_l2(run(DType::Float64, train, xp, B, S, false), f64));
    std::printf("| float32 vs float64, same input | %.2e |\n", grads_rel_l2(f32, f64));
    std::printf("| float32, input moved by one ulp | %.2e |\n\n",
                grads_rel_l2(run(DType::Float32, train, xp, B, S, false), f32));

    std::printf("| intermediate | elements | float32 error of the value (rel. L2) | of its gradient | sign flips of the "
                "pre-activation |\n|---|---|---|---|---|\n");
    int64_t flips_total = 0, elements = 0;
    for (const auto& k : f32.order) {
      const bool act = k.size() > 4 && k.compare(k.size() - 4, 4, ".act") == 0;
      std::string flips = "";
      if (act) {
        const std::string base = k.substr(0, k.size() - 4);  // "<conv>" (its BatchNorm is "<conv>.bn") or "deconvK_bn"
        const bool deconv = base.size() > 3 && base.compare(base.size() - 3, 3, "_bn") == 0;
        const std::string pre_name = deconv ? base : base + ".bn";
        const auto& pa = f32.value.at(pre_name);
        const auto& pb = f64.value.at(pre_name);
        int64_t n = 0;
        for (size_t i = 0; i < pa.size(); ++i) n += (pa[i] > 0) != (pb[i] > 0);
        flips_total += n;
        elements += static_cast<int64_t>(pa.size());
        flips = std::to_string(n);
      }
      std::printf("| %s | %lld | %.1e | %.1e | %s |\n", k.c_str(), static_cast<long long>(shape_numel(f32.shape.at(k))),
                  rel_l2(f32.value.at(k), f64.value.at(k)), rel_l2(f32.tap_grad.at(k), f64.tap_grad.at(k)), flips.c_str());
    }
    std::printf("\npre-activation sign flips, float32 vs float64: %lld of %lld\n", static_cast<long long>(flips_total),
                static_cast<long long>(elements));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_sensitivity: %s\n", e.what());
    return 1;
  }
}
