// bench_cuda_kernels: achieved bandwidth of each hand-written CUDA kernel against the device's copy bandwidth
// (a cudaMemcpy device-to-device of the same tensor, counted as read + write). Bytes are the minimum each pass must
// move (inputs read once, outputs written once); the target for memory-bound kernels is >= 70% of copy bandwidth.
// Shapes: a batch of 4 × 32 channels × 256² float32 maps (the residual U-Net's first level), 2-class maps for the
// loss kernels. Exits 0 with a "no GPU: reason" line when no GPU is usable (CI machines).
// Usage: bench_cuda_kernels [--device cuda] [--reps N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "bench_util.h"
// norm.h before elementwise.h: norm_math.h calls an unqualified sqrt(double), which seg::sqrt(const Tensor&) would
// hide if declared first.
#include "kernels/norm.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/fused_losses.h"
#include "kernels/laplacian.h"
#include "kernels/moments.h"
#include "kernels/nll.h"
#include "kernels/pool.h"
#include "kernels/prelu.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "kernels/sobel.h"
#include "kernels/softmax.h"
#include "kernels/upsample.h"

using namespace seg;

namespace {

Tensor make(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Generator g(seed);
  Tensor t = Tensor::empty(s);
  fill_uniform(t, g, lo, hi);
  return t.to(Device::CUDA);
}

double time_ms(const std::function<void()>& f, int reps) {
  const auto t = bench::time_it([&] { f(); cuda_synchronize(); }, 3, reps);
  return t.median_ms;
}

void row(const char* name, double bytes, double ms, double copy_gbs) {
  const double gbs = bytes / (ms * 1e-3) / 1e9;
  std::printf("| %-34s | %9.1f | %8.3f | %8.1f | %5.0f%% |\n", name, bytes / 1e6, ms, gbs, 100.0 * gbs / copy_gbs);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) ++i;  // always cuda; accepted for gpu_check.sh
  }
  if (!cuda_available()) {
    std::printf("no GPU: %s\n", cuda_unavailable_reason().c_str());
    return 0;
  }
  NoGradGuard ng;  // forward kernels only; the backward kernels are timed explicitly below where they matter
  const Shape s = {4, 32, 256, 256};
  const double n = static_cast<double>(shape_numel(s)), f4 = 4.0;
  Tensor x = make(s, 1), y = make(s, 2), b = make({1, 32, 1, 1}, 3);
  Tensor copy_dst = Tensor::empty(s, DType::Float32, Device::CUDA);
  const double copy_ms = time_ms([&] { copy_dst.copy_from_(x); }, reps);
  const double copy_gbs = 2 * n * f4 / (copy_ms * 1e-3) / 1e9;
  std::printf("device copy (cudaMemcpy D2D) of %.1f MB: %.3f ms, %.1f GB/s (read + write)\n\n", n * f4 / 1e6, copy_ms, copy_gbs);
  std::printf("| %-34s | %9s | %8s | %8s | %6s |\n", "kernel (float32, 4x32x256x256)", "MB moved", "ms", "GB/s", "% copy");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(11, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(), std::string(8, '-').c_str());

  row("relu", 2 * n * f4, time_ms([&] { relu(x); }, reps), copy_gbs);
  row("add (same shape)", 3 * n * f4, time_ms([&] { add(x, y); }, reps), copy_gbs);
  row("add (per-channel broadcast)", 2 * n * f4, time_ms([&] { add(x, b); }, reps), copy_gbs);
  row("sum over N, H, W (bias grad)", n * f4, time_ms([&] { sum(x, {0, 2, 3}); }, reps), copy_gbs);
  row("cat along channels", 4 * n * f4, time_ms([&] { cat({x, y}, 1); }, reps), copy_gbs);
  row("softmax over channels", 2 * n * f4, time_ms([&] { softmax(x, 1); }, reps), copy_gbs);
  row("max_pool2d 2x2 (+ int64 indices)", n * f4 + n / 4 * (f4 + 8), time_ms([&] { max_pool2d(x, {2}); }, reps), copy_gbs);
  {
    Tensor small = make({4, 32, 128, 128}, 4);
    row("upsample bilinear x2", (n / 4 + n) * f4, time_ms([&] { upsample_bilinear2d(small, 256, 256, false); }, reps), copy_gbs);
  }
  {
    Tensor w = make({32}, 5), bb = make({32}, 6), rm = Tensor::zeros({32}, DType::Float32, Device::CUDA),
           rv = Tensor::ones({32}, DType::Float32, Device::CUDA);
    row("batch_norm train (2 reads + 1 write)", 3 * n * f4, time_ms([&] { batch_norm(x, w, bb, rm, rv, true); }, reps), copy_gbs);
    row("group_norm 8 groups", 3 * n * f4, time_ms([&] { group_norm(x, 8, w, bb); }, reps), copy_gbs);
    Tensor pw = make({32}, 7, 0, 0.3);
    row("prelu (per channel)", 2 * n * f4, time_ms([&] { prelu(x, pw); }, reps), copy_gbs);
  }
  {
    Generator g(8);
    row("dropout p=0.5 (Philox mask)", 2 * n * f4, time_ms([&] { dropout(x, 0.5, true, g); }, reps), copy_gbs);
  }
  {
    Tensor p = make({4, 2, 256, 256}, 9, 0, 1), tt = make({4, 2, 256, 256}, 10, 0, 1);
    const double m = static_cast<double>(p.numel());
    row("sobel2d (2 classes)", 3 * m * f4, time_ms([&] { sobel2d(p); }, reps), copy_gbs);
    row("moments2d", m * f4, time_ms([&] { moments2d(p); }, reps), copy_gbs);
    row("laplacian_quadratic (8-conn.)", m * f4, time_ms([&] { laplacian_quadratic(p, 8); }, reps), copy_gbs);
    row("dice_loss", 2 * m * f4, time_ms([&] { dice_loss(p, tt); }, reps), copy_gbs);
    Tensor z = add_scalar(p, -2.0);
    row("log_barrier", 2 * m * f4, time_ms([&] { log_barrier(z, 5.0); }, reps), copy_gbs);
    Tensor logits = make({4, 1, 256, 256}, 11, -3, 3), bin = make({4, 1, 256, 256}, 12, 0, 1);
    bin = Tensor::from_vector([&] {
      auto v = bin.to_vector();
      for (auto& q : v) q = q > 0.7 ? 1.0 : 0.0;
      return v;
    }(), bin.shape()).to(Device::CUDA);
    row("balanced_bce_with_logits", 2 * (m / 2) * f4, time_ms([&] { balanced_bce_with_logits(logits, bin); }, reps), copy_gbs);
    Tensor labels = Tensor::zeros({4, 256, 256}, DType::Int64, Device::CUDA);
    row("cross_entropy (2 classes)", (2 * m + m / 2 * 2) * f4 + m / 2 * 8,
        time_ms([&] { cross_entropy(p, labels); }, reps), copy_gbs);
  }
  {
    Tensor p = make({8 << 20}, 13), g = make({8 << 20}, 14);
    Adam opt({{"p", p}}, 1e-3);
    p.set_grad(g);
    row("adam (8 M parameters: 4 reads, 3 writes)", 7.0 * (8 << 20) * f4, time_ms([&] { opt.step(); }, reps), copy_gbs);
  }
  std::printf("\nbytes: the minimum each kernel must move; %% copy = achieved / copy bandwidth (target >= 70%%).\n");
  return 0;
}
