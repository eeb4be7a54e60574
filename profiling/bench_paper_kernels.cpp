// bench_paper_kernels: forward and backward time of the papers' memory-bound kernels on the CPU (or --device cuda),
// with the effective bandwidth (bytes of the tensors each pass must read and write / time) to compare with the
// roofline bound (profiling/paper_kernels.md). Shapes: a batch of 4 softmax maps, 2 classes, 256² (2-D kernels), and a
// 1×2×64×128×128 volume (3-D kernels).
// Usage: bench_paper_kernels [--device cpu|cuda] [--reps N]
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "bench_util.h"
#include "engine/rng.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "kernels/fused_losses.h"
#include "kernels/laplacian.h"
#include "kernels/moments.h"
#include "kernels/sobel.h"

using namespace seg;

namespace {

Tensor make(const Shape& s, uint64_t seed, double lo, double hi, Device dev, bool grad) {
  Generator g(seed);
  Tensor t = Tensor::empty(s);
  fill_uniform(t, g, lo, hi);
  t = t.to(dev);
  t.set_requires_grad(grad);
  return t;
}

// Prints one row: forward ms, forward+backward ms, and GB/s of each from the given byte counts.
void row(const char* name, const Shape& s, const std::function<Tensor()>& f, double fwd_bytes, double bwd_bytes,
         Device dev, int reps) {
  auto sync = [dev] { if (dev == Device::CUDA) cuda_synchronize(); };
  const auto tf = bench::time_it([&] { NoGradGuard ng; f(); sync(); }, 2, reps);
  const auto tb = bench::time_it([&] {
    Tensor y = f();
    y.backward(Tensor::ones(y.shape(), y.dtype(), y.device()));
    sync();
  }, 2, reps);
  std::printf("| %s | %s | %.2f | %.1f | %.2f | %.1f |\n", name, shape_str(s).c_str(), tf.median_ms,
              fwd_bytes / tf.median_ms / 1e6, tb.median_ms, (fwd_bytes + bwd_bytes) / tb.median_ms / 1e6);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu";
  int reps = 7;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_paper_kernels [--device cpu|cuda] [--reps N]\n");
      return 2;
    }
  }
  const Device dev = device == "cuda" ? Device::CUDA : Device::CPU;
  if (dev == Device::CUDA && !cuda_available()) {
    std::fprintf(stderr, "bench_paper_kernels: no GPU (%s)\n", cuda_unavailable_reason().c_str());
    return 1;
  }
  std::printf("Paper kernels, float32, %s, median of %d (GB/s = compulsory bytes / time)\n", device.c_str(), reps);
  std::printf("| kernel | input | fwd ms | fwd GB/s | fwd+bwd ms | fwd+bwd GB/s |\n|---|---|---|---|---|---|\n");
  const Shape s2{4, 2, 256, 256}, s3{1, 2, 64, 128, 128};
  const double b2 = 4.0 * 4 * 2 * 256 * 256, b3 = 4.0 * 2 * 64 * 128 * 128;  // bytes of one float32 tensor
  const Tensor p2 = make(s2, 1, 0, 1, dev, true), p3 = make(s3, 2, 0, 1, dev, true);
  const Tensor t2 = make(s2, 3, 0, 1, dev, false);
  Tensor onehot = Tensor::empty(s2);
  {
    float* q = onehot.data<float>();
    for (int64_t i = 0; i < onehot.numel(); ++i) q[i] = static_cast<float>((i / 97) % 2);
  }
  onehot = onehot.to(dev);
  // Bytes: forward reads the input (and target) and writes the output; backward reads what it needs, writes dx.
  row("sobel2d", s2, [&] { return sobel2d(p2); }, b2 * 3, b2 * 3, dev, reps);
  row("sobel3d", s3, [&] { return sobel3d(p3); }, b3 * 4, b3 * 4, dev, reps);
  row("edge_map (2-D)", s2, [&] { return edge_map(onehot).set_requires_grad(true); }, b2 * 2, 0, dev, reps);
  row("moments2d", s2, [&] { return moments2d(p2); }, b2, b2, dev, reps);
  row("moments3d", s3, [&] { return moments3d(p3); }, b3, b3, dev, reps);
  row("laplacian 8", s2, [&] { return laplacian_quadratic(p2, 8); }, b2, b2 * 2, dev, reps);
  row("laplacian 26", s3, [&] { return laplacian_quadratic(p3, 26); }, b3, b3 * 2, dev, reps);
  row("balanced_bce", s2, [&] { return balanced_bce_with_logits(p2, onehot); }, b2 * 2, b2 * 3, dev, reps);
  row("dice_loss", s2, [&] { return dice_loss(p2, onehot); }, b2 * 2, b2 * 2, dev, reps);
  row("log_barrier", s2, [&] { return log_barrier(p2, 5.0); }, b2 * 2, b2 * 3, dev, reps);
  return 0;
}
