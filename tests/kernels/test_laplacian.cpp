// The Laplacian quadratic form (kernels/laplacian.h): brute-force pair sums, gradient checks for every connectivity,
// error paths.
#include <algorithm>
#include <cmath>

#include "kernels/laplacian.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {
// Brute force over all unordered pairs of pixels that are neighbours (Chebyshev distance 1, or Manhattan 1 for 4/6).
double brute_laplacian(const double* p, int64_t D, int64_t H, int64_t W, int conn) {
  double s = 0;
  const int64_t n = D * H * W;
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = a + 1; b < n; ++b) {
      const int64_t dz = std::abs(a / (H * W) - b / (H * W)), dy = std::abs((a / W) % H - (b / W) % H),
                    dx = std::abs(a % W - b % W);
      const bool adj = (conn == 4 || conn == 6) ? dz + dy + dx == 1 : (std::max({dz, dy, dx}) == 1);
      if (adj) s += (p[a] - p[b]) * (p[a] - p[b]);
    }
  return s;
}
}  // namespace

TEST(Laplacian, MatchesBruteForcePairs) {
  const Tensor p = random_tensor({2, 2, 5, 7}, 9, 0, 1, 0, false);
  for (int conn : {4, 8}) {
    const Tensor q = laplacian_quadratic(p, conn);
    for (int64_t pl = 0; pl < 4; ++pl)
      EXPECT_NEAR(q.data<double>()[pl], brute_laplacian(p.data<double>() + pl * 35, 1, 5, 7, conn), 1e-12) << conn;
  }
  const Tensor p3 = random_tensor({1, 2, 3, 4, 5}, 10, 0, 1, 0, false);
  for (int conn : {6, 26}) {
    const Tensor q = laplacian_quadratic(p3, conn);
    for (int64_t pl = 0; pl < 2; ++pl)
      EXPECT_NEAR(q.data<double>()[pl], brute_laplacian(p3.data<double>() + pl * 60, 3, 4, 5, conn), 1e-12) << conn;
  }
  // A constant map has zero length; a single pixel of 1 has one unit pair per neighbour.
  EXPECT_EQ(laplacian_quadratic(Tensor::ones({1, 1, 4, 4}, DType::Float64), 8).item(), 0.0);
  Tensor one = Tensor::zeros({1, 1, 3, 3}, DType::Float64);
  one.data<double>()[4] = 1;
  EXPECT_EQ(laplacian_quadratic(one, 4).item(), 4.0);
  EXPECT_EQ(laplacian_quadratic(one, 8).item(), 8.0);
}

TEST(LaplacianGradcheck, AllConnectivities) {
  for (int conn : {4, 8})
    EXPECT_GRADCHECK([conn](const std::vector<Tensor>& in) { return laplacian_quadratic(in[0], conn); },
                     std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 11)}, GradcheckOptions{});
  for (int conn : {6, 26})
    EXPECT_GRADCHECK([conn](const std::vector<Tensor>& in) { return laplacian_quadratic(in[0], conn); },
                     std::vector<Tensor>{random_tensor({1, 2, 3, 5, 4}, 12)}, GradcheckOptions{});
}

TEST(Laplacian, Errors) {
  EXPECT_SEG_ERROR(laplacian_quadratic(Tensor::zeros({1, 1, 3, 3}, DType::Float64), 6), "connectivity");
  EXPECT_SEG_ERROR(laplacian_quadratic(Tensor::zeros({1, 1, 3, 3, 3}, DType::Float64), 8), "connectivity");
  EXPECT_SEG_ERROR(laplacian_quadratic(Tensor::zeros({1, 3, 3}, DType::Float64), 4), "laplacian_quadratic");
}
