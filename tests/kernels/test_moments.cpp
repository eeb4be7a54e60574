// Moments (kernels/moments.h): single pixels, naive sums, gradient checks, error paths.
#include "kernels/moments.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(Moments, SinglePixel) {
  Tensor p = Tensor::zeros({1, 2, 4, 5}, DType::Float64);
  p.data<double>()[20 + 2 * 5 + 3] = 2.0;  // class 1, row y = 2, column x = 3, mass 2
  expect_values(moments2d(p), {0, 0, 0, 0, 0, 0, 2, 2 * 3, 2 * 2, 2 * 9, 2 * 6, 2 * 4}, 1e-15);
  Tensor q = Tensor::zeros({1, 1, 3, 4, 5}, DType::Float32);
  q.data<float>()[2 * 20 + 1 * 5 + 4] = 1.0f;  // z = 2, y = 1, x = 4
  expect_values(moments3d(q), {1, 4, 1, 2, 16, 1, 4, 4, 8, 2}, 1e-6);
}

TEST(Moments, MatchesNaiveSums) {
  const Tensor p = random_tensor({2, 3, 4, 5, 6}, 6, 0, 1, 0, false);
  const Tensor m = moments3d(p);
  for (int64_t pl = 0; pl < 6; ++pl) {
    double want[10] = {0};
    for (int64_t i = 0; i < 120; ++i) {
      const double v = p.data<double>()[pl * 120 + i], x = static_cast<double>(i % 6), y = static_cast<double>((i / 6) % 5),
                   z = static_cast<double>(i / 30);
      const double b[10] = {1, x, y, z, x * x, y * y, z * z, x * y, x * z, y * z};
      for (int k = 0; k < 10; ++k) want[k] += v * b[k];
    }
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(m.data<double>()[pl * 10 + k], want[k], 1e-11) << pl << " " << k;
  }
}

TEST(MomentsGradcheck, Moments2dAnd3d) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return moments2d(in[0]); },
                   std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 7)}, GradcheckOptions{});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return moments3d(in[0]); },
                   std::vector<Tensor>{random_tensor({1, 2, 3, 5, 4}, 8)}, GradcheckOptions{});
}

TEST(Moments, Errors) {
  EXPECT_SEG_ERROR(moments2d(Tensor::zeros({1, 2, 3}, DType::Float64)), "moments2d");
  EXPECT_SEG_ERROR(moments3d(Tensor::zeros({1, 2, 3, 3}, DType::Float64)), "moments3d");
}
