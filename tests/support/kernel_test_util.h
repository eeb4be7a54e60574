// Helpers shared by the suites (segtest): gradcheck assertions, error-message checks, tie-free inputs, value
// comparison.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/tensor.h"
#include "tests/support/gradcheck.h"

namespace seg::testing {

#define EXPECT_GRADCHECK(fn, inputs, opts)          \
  do {                                              \
    auto r_ = ::seg::testing::gradcheck(fn, inputs, opts); \
    EXPECT_TRUE(r_.ok) << r_.message;               \
  } while (0)

// The statement throws seg::Error whose message contains `text` (the op name).
#define EXPECT_SEG_ERROR(stmt, text)                                                        \
  do {                                                                                      \
    bool thrown_ = false;                                                                   \
    try {                                                                                   \
      stmt;                                                                                 \
    } catch (const ::seg::Error& e_) {                                                      \
      thrown_ = true;                                                                       \
      EXPECT_NE(std::string(e_.what()).find(text), std::string::npos)                       \
          << "message '" << e_.what() << "' does not mention '" << text << "'";             \
    }                                                                                       \
    EXPECT_TRUE(thrown_) << #stmt " did not throw seg::Error";                              \
  } while (0)

// float64 values that are pairwise at least 1/numel apart (a permutation of a uniform grid in [-0.5, 0.5)), so max
// pooling has no ties and central differences (eps 1e-6) never change an argmax.
inline Tensor distinct_tensor(const Shape& shape, uint64_t seed, bool requires_grad = true) {
  Tensor t = Tensor::empty(shape, DType::Float64);
  const int64_t n = t.numel();
  const int64_t mult = 7919;  // prime; coprime with every n used in the tests (checked below)
  EXPECT_NE(n % mult, 0);
  double* p = t.data<double>();
  for (int64_t i = 0; i < n; ++i)
    p[i] = static_cast<double>((i * mult + static_cast<int64_t>(seed)) % n) / static_cast<double>(n) - 0.5;
  t.set_requires_grad(requires_grad);
  return t;
}

inline void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  const std::vector<double> got = t.to_vector();
  ASSERT_EQ(got.size(), want.size()) << t.describe();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  EXPECT_EQ(x.size(), y.size());
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

}  // namespace seg::testing
