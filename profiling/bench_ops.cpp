// bench_ops: forward+backward time of the convolutions that dominate training, ours vs PyTorch on the same shapes.
// Rows: conv2d 3×3 at batch 4, 32→32, 256×256 (forward; forward+backward), transposed conv 3×3 stride 2, and the
// full stack of 3×3 convs of the residual U-Net at batch 4, 256×256 (forward+backward summed over its layers).
// Columns: our default CPU path (oneDNN where built), our im2col + BLAS reference path, and PyTorch.
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_util.h"
#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/blas.h"
#include "kernels/conv.h"
#include "kernels/conv_onednn.h"
#include "kernels/reduce.h"

using namespace seg;

namespace {

struct Shape4 {
  int64_t n, cin, cout, h, w;
};

double conv_gflop(const Shape4& s, int passes) {
  return passes * 2.0 * s.n * s.cout * s.cin * 9.0 * s.h * s.w / 1e9;
}

// Forward (and optionally backward) of one 3×3 pad-1 conv.
double time_conv(const Shape4& s, bool backward, int reps) {
  Generator g(1);
  Tensor x = Tensor::empty({s.n, s.cin, s.h, s.w}), w = Tensor::empty({s.cout, s.cin, 3, 3}), b = Tensor::zeros({s.cout});
  fill_normal(x, g, 0, 1);
  fill_normal(w, g, 0, 0.1);
  x.set_requires_grad(backward);
  w.set_requires_grad(backward);
  b.set_requires_grad(backward);
  Tensor gy = Tensor::ones({s.n, s.cout, s.h, s.w});
  ConvOptions o;
  o.padding = {1};
  auto t = bench::time_it(
      [&] {
        if (!backward) {
          NoGradGuard ng;
          conv2d(x, w, b, o);
          return;
        }
        Tensor y = conv2d(x, w, b, o);
        y.backward(gy);
      },
      2, reps);
  return t.median_ms;
}

double time_convt(const Shape4& s, int reps) {
  Generator g(2);
  Tensor x = Tensor::empty({s.n, s.cin, s.h, s.w}), w = Tensor::empty({s.cin, s.cout, 3, 3}), b = Tensor::zeros({s.cout});
  fill_normal(x, g, 0, 1);
  fill_normal(w, g, 0, 0.1);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  ConvOptions o;
  o.stride = {2};
  o.padding = {1};
  o.output_padding = {1};
  Tensor gy = Tensor::ones({s.n, s.cout, 2 * s.h, 2 * s.w});
  return bench::time_it([&] { conv_transpose2d(x, w, b, o).backward(gy); }, 2, reps).median_ms;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  bool torch = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-torch")) torch = false;
    else if (!std::strcmp(argv[i], "--help")) {
      std::printf("usage: bench_ops [--reps N] [--no-torch]\n");
      return 0;
    } else {
      std::fprintf(stderr, "bench_ops: unknown option '%s' (try --help)\n", argv[i]);
      return 2;
    }
  }
  const Shape4 base{4, 32, 32, 256, 256};
  // the residual U-Net's 3×3 convs at 256×256, batch 4: per level, five convs per block (down and up), bridge
  std::vector<Shape4> stack;
  int64_t in = 1;
  for (int l = 0; l < 4; ++l) {
    const int64_t c = 32 << l, hw = 256 >> l;
    stack.push_back({4, in, c, hw, hw});
    for (int k = 0; k < 4; ++k) stack.push_back({4, c, c, hw, hw});
    for (int k = 0; k < 5; ++k) stack.push_back({4, c, c, hw, hw});  // decoder block at the same level
    in = c;
  }
  stack.push_back({4, 256, 512, 16, 16});
  for (int k = 0; k < 4; ++k) stack.push_back({4, 512, 512, 16, 16});

  std::printf("bench_ops: %d threads, median of %d runs after warm-up; default CPU convolutions: %s\n\n", max_threads(), reps,
              onednn::enabled() ? "oneDNN" : "im2col + BLAS");
  struct Times {
    double fwd = 0, fb = 0, ct = 0, stack_ms = 0, stack_gf = 0;
  };
  auto time_all = [&] {
    Times t;
    t.fwd = time_conv(base, false, reps);
    t.fb = time_conv(base, true, reps);
    t.ct = time_convt({4, 64, 32, 128, 128}, reps);
    for (const auto& s : stack) {
      t.stack_ms += time_conv(s, true, std::max(1, reps / 2));
      t.stack_gf += conv_gflop(s, 3);
    }
    return t;
  };
  const Times dflt = time_all();
  Times ref;
  const bool two_paths = onednn::enabled();
  if (two_paths) {
    onednn::set_enabled(false);
    ref = time_all();
    onednn::set_enabled(true);
  }
  std::map<std::string, double> pt;
  if (torch) pt = bench::run_torch(bench::script_dir() + "/bench_ops_torch.py", "--reps " + std::to_string(reps));

  auto row = [&](const char* name, const char* key, double ms, double ref_ms, double gflop) {
    std::printf("| %-46s | %9.1f | %8.1f |", name, ms, gflop / (ms / 1e3));
    if (two_paths) std::printf(" %10.1f |", ref_ms);
    else std::printf(" %10s |", "n/a");
    auto it = pt.find(key);
    if (it != pt.end()) std::printf(" %9.1f | %6.2f |\n", it->second, ms / it->second);
    else std::printf(" %9s | %6s |\n", "n/a", "n/a");
  };
  std::printf("| %-46s | %9s | %8s | %10s | %9s | %6s |\n", "case", "ours ms", "GFLOP/s", "im2col ms", "torch ms", "ratio");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(48, '-').c_str(), std::string(11, '-').c_str(),
              std::string(10, '-').c_str(), std::string(12, '-').c_str(), std::string(11, '-').c_str(),
              std::string(8, '-').c_str());
  row("conv2d 3x3 fwd, 4x32->32, 256x256", "conv_fwd", dflt.fwd, ref.fwd, conv_gflop(base, 1));
  row("conv2d 3x3 fwd+bwd, 4x32->32, 256x256", "conv_fwdbwd", dflt.fb, ref.fb, conv_gflop(base, 3));
  row("conv_transpose2d 3x3 s2 fwd+bwd, 4x64->32, 128^2", "convt_fwdbwd", dflt.ct, ref.ct,
      conv_gflop({4, 32, 64, 128, 128}, 3));
  row("residual U-Net 3x3 conv stack fwd+bwd, 4x256^2", "stack_fwdbwd", dflt.stack_ms, ref.stack_ms, dflt.stack_gf);
  if (pt.empty() && torch) std::printf("\n(PyTorch figures: /usr/bin/python3 with torch not importable here)\n");
  std::printf("\nours = the default path; im2col = our reference path (SEG_CPU_CONV=im2col); ratio = ours / PyTorch (lower is\n"
              "better; target for conv2d fwd+bwd: <= 1.5)\n");
  return 0;
}
