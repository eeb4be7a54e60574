// Dropout, elementwise and channel (kernels/dropout.h): gradient checks (a fixed generator gives a fixed mask), mask
// statistics and structure, reproducibility, error paths.
#include <cmath>

#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/dropout.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(DropoutGradcheck, FixedGenerator) {
  GradcheckOptions o;
  auto elem = [](const std::vector<Tensor>& in) {
    Generator gen(42);
    return dropout(in[0], 0.3, true, gen);
  };
  EXPECT_GRADCHECK(elem, std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 1)}, o);
  auto d2 = [](const std::vector<Tensor>& in) {
    Generator gen(43);
    return dropout2d(in[0], 0.3, true, gen);
  };
  EXPECT_GRADCHECK(d2, std::vector<Tensor>{random_tensor({3, 4, 5, 7}, 2)}, o);
  auto d3 = [](const std::vector<Tensor>& in) {
    Generator gen(44);
    return dropout3d(in[0], 0.3, true, gen);
  };
  EXPECT_GRADCHECK(d3, std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 3)}, o);
}

TEST(Dropout, ElementwiseStatisticsAndScale) {
  Generator gen(7);
  Tensor x = Tensor::ones({64, 1000}, DType::Float64);
  Tensor y = dropout(x, 0.3, true, gen);
  int64_t zeros = 0;
  for (double v : y.to_vector()) {
    if (v == 0) ++zeros;
    else EXPECT_NEAR(v, 1 / 0.7, 1e-12);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 64000.0, 0.3, 0.01);
  // The generator advanced: a second call draws a different mask.
  EXPECT_GT(max_abs_diff(y, dropout(x, 0.3, true, gen)), 0.0);
}

TEST(Dropout, ChannelDropsWholePlanes) {
  Generator gen(8);
  Tensor x = Tensor::ones({16, 32, 3, 4}, DType::Float64);
  Tensor y = dropout2d(x, 0.3, true, gen);
  const auto v = y.to_vector();
  int64_t dropped = 0;
  for (int64_t p = 0; p < 16 * 32; ++p) {
    const double first = v[static_cast<size_t>(p * 12)];
    EXPECT_TRUE(first == 0 || std::fabs(first - 1 / 0.7) < 1e-12);
    for (int64_t i = 1; i < 12; ++i) EXPECT_EQ(v[static_cast<size_t>(p * 12 + i)], first);
    if (first == 0) ++dropped;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 512.0, 0.3, 0.07);
  // Plane (n, c) uses draw n·C + c of the generator's counter range, so the mask is a function of (seed, offset).
  Generator g2(8);
  const uint64_t offset = g2.reserve(16 * 32);
  for (int64_t p = 0; p < 16 * 32; ++p)
    EXPECT_EQ(v[static_cast<size_t>(p * 12)] == 0, uniform_at(8, offset, static_cast<uint64_t>(p)) < 0.3);
}

TEST(Dropout, IdentityWhenNotTrainingOrPZeroAndReproducible) {
  Generator gen(9);
  Tensor x = random_tensor({2, 3, 4, 5}, 10);
  EXPECT_EQ(dropout(x, 0.5, false, gen).impl(), x.impl());
  EXPECT_EQ(dropout(x, 0.0, true, gen).impl(), x.impl());
  EXPECT_EQ(dropout2d(x, 0.5, false, gen).impl(), x.impl());
  EXPECT_EQ(gen.offset(), 0u);  // nothing drawn
  Generator a(11), b(11);
  EXPECT_EQ(max_abs_diff(dropout(x, 0.4, true, a), dropout(x, 0.4, true, b)), 0.0);
  Generator c(12);
  for (double v : dropout(x, 1.0, true, c).to_vector()) EXPECT_EQ(v, 0.0);
  // float32 draws the same mask.
  Generator d(13), e(13);
  const auto m64 = dropout(x, 0.4, true, d).to_vector(), m32 = dropout(x.to(DType::Float32), 0.4, true, e).to_vector();
  for (size_t i = 0; i < m64.size(); ++i) EXPECT_EQ(m64[i] == 0, m32[i] == 0);
}

TEST(DropoutErrors, NameTheOp) {
  Generator gen(1);
  Tensor x = Tensor::zeros({2, 3, 4, 5}, DType::Float64);
  EXPECT_SEG_ERROR(dropout(x, 1.5, true, gen), "dropout");
  EXPECT_SEG_ERROR(dropout(Tensor::zeros({2, 3}, DType::Int64), 0.5, true, gen), "dropout");
  EXPECT_SEG_ERROR(dropout2d(Tensor::zeros({2, 3, 4, 5, 6}, DType::Float64), 0.5, true, gen), "dropout2d");
  EXPECT_SEG_ERROR(dropout3d(x, 0.5, true, gen), "dropout3d");
  EXPECT_SEG_ERROR(dropout2d(x, -0.1, true, gen), "dropout2d");
  EXPECT_SEG_ERROR(channel_dropout(Tensor::zeros({4}, DType::Float64), 0.5, true, gen), "channel_dropout");
}
