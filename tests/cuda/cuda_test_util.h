// Helpers of the CUDA-vs-CPU tests: skip without a GPU, seeded random inputs, and compare_devices(), which runs an op
// on CPU inputs and on their CUDA copies and compares the outputs and every input gradient.
// Key decision: both runs are float32 through the public autograd ops (what training runs), with one upstream
// gradient drawn once and copied, so a mismatch points at the CUDA launcher of that op.
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

#define SEG_REQUIRE_GPU()                                                        \
  do {                                                                           \
    if (!::seg::cuda_available()) GTEST_SKIP() << "no GPU: " << ::seg::cuda_unavailable_reason(); \
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

// Compares a (CUDA result) with b (CPU result): |a − b| ≤ atol + rtol·|b| everywhere.
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

// fn(inputs) on the CPU inputs and on CUDA copies; compares the output and, for every input that requires grad,
// its gradient after backward with the same random upstream gradient.
inline void compare_devices(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& cpu,
                            Tol tol = {}, uint64_t seed = 99) {
  std::vector<Tensor> gpu;
  for (const Tensor& t : cpu) {
    if (!t.defined()) {
      gpu.push_back(Tensor());
      continue;
    }
    Tensor c = t.detach().to(Device::CUDA);
    if (t.requires_grad()) c.set_requires_grad(true);
    gpu.push_back(c);
  }
  Tensor yc = fn(cpu);
  Tensor yg = fn(gpu);
  ASSERT_TRUE(yg.is_cuda()) << "the op returned " << yg.describe() << " for CUDA inputs";
  EXPECT_TRUE(close(yg, yc, tol.rtol, tol.atol)) << "forward";
  if (!yc.requires_grad()) return;
  Tensor g = rand_tensor(yc.shape(), seed, -1, 1, false).to(yc.dtype());
  yc.backward(g);
  yg.backward(g.to(Device::CUDA));
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (!cpu[i].defined() || !cpu[i].requires_grad()) continue;
    EXPECT_TRUE(close(gpu[i].grad(), cpu[i].grad(), tol.rtol, tol.atol)) << "gradient of input " << i;
  }
}

}  // namespace seg::cudatest
