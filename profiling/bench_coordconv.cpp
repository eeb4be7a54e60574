// bench_coordconv: what CoordConv costs over the plain convolution of the same shape (paper 1's "almost no additional
// computational cost", target ≤ 1.05×). Rows: the residual U-Net's 3×3 pad-1 conv, batch 4, 32→32, at 128² and 256².
// Columns: plain conv2d, concat-then-conv (the coordinate channels materialised, 34 input channels), fused coordconv2d;
// forward and forward+backward (median ms), and the overhead ratios over plain. `--device cuda` when a GPU exists.
// The three variants are timed in interleaved rounds (medians), so load on a shared machine affects them alike.
// Usage: bench_coordconv [--device cpu|cuda] [--reps N] [--sizes 128,256]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/rng.h"
#include "kernels/conv.h"
#include "kernels/coordconv.h"
#include "kernels/shape_ops.h"

using namespace seg;

namespace {

enum class Variant { Plain, Concat, Fused };

// Coordinate channels (N, 2, H, W) in [-1, 1], as a CoordConv layer without the fused kernel would build them.
Tensor coord_channels(int64_t n, int64_t h, int64_t w, Device dev) {
  Tensor c = Tensor::empty({n, 2, h, w});
  float* p = c.data<float>();
  for (int64_t s = 0; s < n; ++s)
    for (int ch = 0; ch < 2; ++ch)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j)
          *p++ = ch == 0 ? -1.0f + 2.0f * static_cast<float>(i) / static_cast<float>(h - 1)
                         : -1.0f + 2.0f * static_cast<float>(j) / static_cast<float>(w - 1);
  return c.to(dev);
}

// One variant's inputs and its timed step (forward, or forward+backward).
struct Case {
  Variant v;
  Tensor x, w, b, gy, coords;
  ConvOptions o;
  Case(Variant v_, int64_t n, int64_t c, int64_t hw, bool backward, Device dev) : v(v_) {
    Generator g(1);
    x = Tensor::empty({n, c, hw, hw});
    w = Tensor::empty({c, v == Variant::Plain ? c : c + 2, 3, 3});
    fill_normal(x, g, 0, 1);
    fill_normal(w, g, 0, 0.1);
    x = x.to(dev);
    w = w.to(dev);
    b = Tensor::zeros({c}).to(dev);
    for (Tensor* t : {&x, &w, &b}) t->set_requires_grad(backward);
    gy = Tensor::ones({n, c, hw, hw}, DType::Float32, dev);
    // The concat variant builds its channels once, as a layer would cache them (the cat itself is timed).
    if (v == Variant::Concat) coords = coord_channels(n, hw, hw, dev);
    o.padding = {1};
  }
  Tensor forward() const {
    switch (v) {
      case Variant::Plain: return conv2d(x, w, b, o);
      case Variant::Concat: return conv2d(cat({x, coords}, 1), w, b, o);
      case Variant::Fused: return coordconv2d(x, w, b, o);
    }
    return Tensor();
  }
  void step(bool backward) const {
    if (!backward) {
      NoGradGuard ng;
      forward();
    } else {
      forward().backward(gy);
    }
    if (x.is_cuda()) cuda_synchronize();
  }
};

// Medians of the three variants, timed in interleaved rounds so that load changes on a shared machine hit all three.
std::vector<double> time_round_robin(int64_t n, int64_t c, int64_t hw, bool backward, Device dev, int reps) {
  std::vector<Case> cases;
  for (Variant v : {Variant::Plain, Variant::Concat, Variant::Fused}) cases.emplace_back(v, n, c, hw, backward, dev);
  std::vector<std::vector<double>> t(cases.size());
  for (int r = 0; r < reps + 2; ++r)
    for (size_t i = 0; i < cases.size(); ++i) {
      auto a = std::chrono::steady_clock::now();
      cases[i].step(backward);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
      if (r >= 2) t[i].push_back(ms);  // two warm-up rounds
    }
  std::vector<double> med;
  for (auto& v : t) {
    std::sort(v.begin(), v.end());
    med.push_back(v[v.size() / 2]);
  }
  return med;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu";
  int reps = 7;
  std::vector<int64_t> sizes = {128, 256};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
      sizes.clear();
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ",")) sizes.push_back(std::atoll(t));
    } else {
      std::fprintf(stderr, "usage: bench_coordconv [--device cpu|cuda] [--reps N] [--sizes 128,256]\n");
      return 2;
    }
  }
  const Device dev = device == "cuda" ? Device::CUDA : Device::CPU;
  if (dev == Device::CUDA && !cuda_available()) {
    std::fprintf(stderr, "bench_coordconv: no GPU (%s)\n", cuda_unavailable_reason().c_str());
    return 1;
  }
  const int64_t n = 4, c = 32;
  std::printf("CoordConv overhead, 3x3 pad 1, batch %lld, %lld->%lld channels, float32, %s, median of %d\n",
              static_cast<long long>(n), static_cast<long long>(c), static_cast<long long>(c), device.c_str(), reps);
  std::printf("| size | pass | plain ms | concat+conv ms | fused ms | concat/plain | fused/plain |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int64_t hw : sizes)
    for (bool bwd : {false, true}) {
      const std::vector<double> m = time_round_robin(n, c, hw, bwd, dev, reps);
      const double p = m[0], cc = m[1], f = m[2];
      std::printf("| %lld² | %s | %.2f | %.2f | %.2f | %.3f | %.3f |\n", static_cast<long long>(hw),
                  bwd ? "fwd+bwd" : "fwd", p, cc, f, cc / p, f / p);
      std::fflush(stdout);
    }
  return 0;
}
