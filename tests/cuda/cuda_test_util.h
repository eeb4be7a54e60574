// Helpers of the CUDA-vs-CPU tests: skip without a GPU, seeded random inputs, and compare_devices(), which runs an op
// on CPU inputs and on their CUDA copies and compares the outputs and every input gradient.
// Key decision: both runs are float32 through the public autograd ops (what training runs), with one upstream
// gradient drawn once and copied, so a mismatch points at the CUDA launcher of that op.
// The same test bodies build twice (tests/cuda/CMakeLists.txt): test_cuda compares CUDA with the CPU and skips
// without a GPU; test_cuda_cpu_half (SEG_CUDATEST_CPU_HALF) runs the "device" side on the CPU too, so every shape and
// option of these tests is exercised in CI on machines without a GPU (an invalid broadcast or a tolerance that two
// correct runs cannot meet shows up there). Test bodies therefore never name Device::CUDA: they use test_device(),
// to_test_device() and device_side().
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace seg::cudatest {

#ifdef SEG_CUDATEST_CPU_HALF
inline constexpr bool kCpuHalf = true;
#else
inline constexpr bool kCpuHalf = false;
#endif

// The device of the side under test: CUDA, or the CPU in the CPU-half build.
inline Device test_device() { return kCpuHalf ? Device::CPU : Device::CUDA; }

// A copy of t on the test device that never shares storage with t (Tensor::to returns t itself for its own device).
inline Tensor to_test_device(const Tensor& t) {
  if (!t.defined()) return t;
  return kCpuHalf ? t.clone() : t.to(Device::CUDA);
}

// True while compare_devices runs fn on the side under test; lambdas use it to pick that side's generator, weights
// or statistics (with both sides on the CPU, the inputs' device cannot tell them apart).
inline bool& device_side_flag() {
  static bool on = false;
  return on;
}
inline bool device_side() { return device_side_flag(); }
// t on the current side of compare_devices: to_test_device(t) on the side under test, t itself on the CPU side.
inline Tensor on_side(const Tensor& t) { return device_side() ? to_test_device(t) : t; }

// Skips without a GPU (the CPU-half build never skips: both of its sides run on the CPU).
#define SEG_REQUIRE_GPU()                                                                               \
  do {                                                                                                  \
    if (!::seg::cudatest::kCpuHalf && !::seg::cuda_available())                                         \
      GTEST_SKIP() << "no GPU: " << ::seg::cuda_unavailable_reason();                                   \
  } while (0)

// For checks of the CUDA device itself (its allocator, its out-of-memory message): no CPU half to run.
#define SEG_GPU_ONLY(what)                                                                              \
  do {                                                                                                  \
    if (::seg::cudatest::kCpuHalf) GTEST_SKIP() << "GPU-only check (" << what << "): no CPU half";       \
    SEG_REQUIRE_GPU();                                                                                  \
  } while (0)

inline Tensor rand_tensor(const Shape& s, uint64_t seed, double lo = -1, double hi = 1, bool grad = true) {
  Tensor t = Tensor::empty(s, DType::Float32);
  Generator g(seed);
  fill_uniform(t, g, lo, hi);
  if (grad) t.set_requires_grad(true);
  return t;
}

inline Tensor rand_labels(const Shape& s, int64_t classes, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(s)));
  for (auto& x : v) x = g.randint(classes);
  return Tensor::from_labels(v, s);
}

// Compares a (result on the test device) with b (CPU result): |a − b| ≤ atol + rtol·|b| everywhere.
inline ::testing::AssertionResult close(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (!a.defined() || !b.defined())
    return a.defined() == b.defined() ? ::testing::AssertionSuccess()
                                      : ::testing::AssertionFailure() << "one side is undefined";
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << "shapes " << a.describe() << " vs " << b.describe();
  const auto x = a.to_vector(), y = b.to_vector();
  int bad = 0;
  std::ostringstream os;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs(x[i] - y[i]);
    const bool ok = d <= atol + rtol * std::fabs(y[i]) || (std::isnan(x[i]) && std::isnan(y[i]));
    if (!ok) {
      if (bad < 5) os << " [" << i << "] cuda " << x[i] << " cpu " << y[i] << ";";
      ++bad;
      worst = std::max(worst, d);
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << x.size() << " elements differ (worst " << worst << "):" << os.str();
}

struct Tol {
  double rtol = 1e-4, atol = 1e-5;
};

// fn(inputs) on the CPU inputs and on copies on the test device; compares the output and, for every input that
// requires grad, its gradient after backward with the same random upstream gradient. Both sides get fresh leaves (the
// callers' tensors never accumulate gradients, so one input can serve several comparisons). A case that throws is
// reported as a failure of that case and the test goes on with its next case.
inline void compare_devices(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                            Tol tol = {}, uint64_t seed = 99) {
  std::vector<Tensor> cpu, gpu;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      cpu.push_back(Tensor());
      gpu.push_back(Tensor());
      continue;
    }
    Tensor r = t.detach(), c = to_test_device(t.detach());
    if (t.requires_grad()) {
      r.set_requires_grad(true);
      c.set_requires_grad(true);
    }
    cpu.push_back(r);
    gpu.push_back(c);
  }
  const char* side = "CPU";
  try {
    Tensor yc = fn(cpu);
    side = "test device";
    device_side_flag() = true;
    Tensor yg = fn(gpu);
    device_side_flag() = false;
    ASSERT_EQ(yg.device(), test_device()) << "the op returned " << yg.describe() << " for inputs on the test device";
    EXPECT_TRUE(close(yg, yc, tol.rtol, tol.atol)) << "forward";
    if (!yc.requires_grad()) return;
    Tensor g = rand_tensor(yc.shape(), seed, -1, 1, false).to(yc.dtype());
    side = "CPU (backward)";
    yc.backward(g);
    side = "test device (backward)";
    yg.backward(to_test_device(g));
    for (size_t i = 0; i < cpu.size(); ++i) {
      if (!cpu[i].defined() || !cpu[i].requires_grad()) continue;
      EXPECT_TRUE(close(gpu[i].grad(), cpu[i].grad(), tol.rtol, tol.atol)) << "gradient of input " << i;
    }
  } catch (const std::exception& e) {
    device_side_flag() = false;
    ADD_FAILURE() << "the case threw on the " << side << " side: " << e.what();
  }
}

}  // namespace seg::cudatest
