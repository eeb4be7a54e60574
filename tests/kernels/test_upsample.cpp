// Resize ops: gradient checks for every mode (bilinear both align_corners, trilinear, nearest 2-D/3-D, by size and by
// scale factor, up and down), forward values against PyTorch 1.13 (hand-checked), error paths.
#include "engine/autograd.h"
#include "kernels/upsample.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(UpsampleGradcheck, Bilinear2d) {
  GradcheckOptions o;
  for (bool ac : {false, true}) {
    auto by_size = [ac](const std::vector<Tensor>& in) { return upsample_bilinear2d(in[0], 9, 11, ac); };
    EXPECT_GRADCHECK(by_size, std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 1)}, o);
    auto down = [ac](const std::vector<Tensor>& in) { return upsample_bilinear2d(in[0], 3, 4, ac); };
    EXPECT_GRADCHECK(down, std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 2)}, o);
    auto by_scale = [ac](const std::vector<Tensor>& in) { return upsample_bilinear2d_scale(in[0], {1.5, 2.0}, ac); };
    EXPECT_GRADCHECK(by_scale, std::vector<Tensor>{random_tensor({2, 2, 5, 7}, 3)}, o);
  }
}

TEST(UpsampleGradcheck, Trilinear3d) {
  GradcheckOptions o;
  for (bool ac : {false, true}) {
    auto by_scale = [ac](const std::vector<Tensor>& in) { return upsample_trilinear3d_scale(in[0], {2}, ac); };
    EXPECT_GRADCHECK(by_scale, std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 4)}, o);
    auto by_size = [ac](const std::vector<Tensor>& in) { return upsample_trilinear3d(in[0], 4, 3, 8, ac); };
    EXPECT_GRADCHECK(by_size, std::vector<Tensor>{random_tensor({1, 2, 3, 5, 6}, 5)}, o);
  }
}

TEST(UpsampleGradcheck, Nearest) {
  GradcheckOptions o;
  auto n2 = [](const std::vector<Tensor>& in) { return upsample_nearest2d(in[0], 8, 12); };
  EXPECT_GRADCHECK(n2, std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 6)}, o);
  auto n2s = [](const std::vector<Tensor>& in) { return upsample_nearest2d_scale(in[0], {2}); };
  EXPECT_GRADCHECK(n2s, std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 7)}, o);
  auto n2d = [](const std::vector<Tensor>& in) { return upsample_nearest2d(in[0], 3, 4); };
  EXPECT_GRADCHECK(n2d, std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 8)}, o);
  auto n3 = [](const std::vector<Tensor>& in) { return upsample_nearest3d_scale(in[0], {1.5, 2, 1}); };
  EXPECT_GRADCHECK(n3, std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 9)}, o);
  auto n3s = [](const std::vector<Tensor>& in) { return upsample_nearest3d(in[0], 5, 4, 9); };
  EXPECT_GRADCHECK(n3s, std::vector<Tensor>{random_tensor({1, 2, 3, 5, 6}, 10)}, o);
}

namespace {
Tensor arange(int64_t n, const Shape& shape) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>(i);
  return Tensor::from_vector(v, shape, DType::Float64);
}
}  // namespace

TEST(Upsample, BilinearAlignCorners) {
  // [[0,1],[2,3]] -> 3x3 with align_corners: the corners stay, midpoints average.
  Tensor y = upsample_bilinear2d(arange(4, {1, 1, 2, 2}), 3, 3, true);
  expect_values(y, {0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3});
}

TEST(Upsample, BilinearHalfPixel) {
  // [0, 1] -> 4 samples without align_corners: sources -0.25 (clamped), 0.25, 0.75, 1.25 (clamped to the edge).
  expect_values(upsample_bilinear2d(arange(2, {1, 1, 1, 2}), 1, 4, false), {0, 0.25, 0.75, 1});
  // 3x3 arange -> 4x4 by size uses in/out = 0.75 (F.interpolate(size=(4,4)), PyTorch 1.13).
  expect_values(upsample_bilinear2d(arange(9, {1, 1, 3, 3}), 4, 4, false),
                {0, 0.625, 1.375, 2, 1.875, 2.5, 3.25, 3.875, 4.125, 4.75, 5.5, 6.125, 6, 6.625, 7.375, 8});
}

TEST(Upsample, ScaleFactorUsesOneOverScale) {
  // F.interpolate(scale_factor=1.5) on 3x3 gives 4x4 but samples with 1/1.5, not 3/4 (PyTorch 1.13 values).
  Tensor y = upsample_bilinear2d_scale(arange(9, {1, 1, 3, 3}), {1.5}, false);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  expect_values(y, {0, 0.5, 7.0 / 6, 11.0 / 6, 1.5, 2, 8.0 / 3, 10.0 / 3, 3.5, 4, 14.0 / 3, 16.0 / 3, 5.5, 6,
                    20.0 / 3, 22.0 / 3});
  // Downsampling by 0.7 along W: 5 -> 3 samples at 1/0.7·(o+0.5)−0.5.
  expect_values(upsample_bilinear2d_scale(arange(5, {1, 1, 1, 5}), {1, 0.7}, false),
                {0.2142857142857143, 1.6428571428571428, 3.0714285714285716});
  // A scale whose floor leaves the size unchanged copies (PyTorch's in == out special case).
  expect_values(upsample_bilinear2d_scale(arange(9, {1, 1, 3, 3}), {1.3}, false), arange(9, {9}).to_vector());
}

TEST(Upsample, Nearest) {
  Tensor x = Tensor::from_vector({10, 20, 30}, {1, 1, 1, 3}, DType::Float64);
  expect_values(upsample_nearest2d(x, 1, 5), {10, 10, 20, 20, 30});       // floor(o·3/5)
  expect_values(upsample_nearest2d_scale(x, {1, 1.7}), {10, 10, 20, 20, 30});
  expect_values(upsample_nearest2d(x, 1, 6), {10, 10, 20, 20, 30, 30});   // exact 2x
  expect_values(upsample_nearest2d_scale(arange(5, {1, 1, 1, 5}), {1, 0.7}), {0, 1, 2});
  // 7 -> 11 samples: floor(o·7/11) computed in float as PyTorch does.
  expect_values(upsample_nearest2d(arange(7, {1, 1, 1, 7}), 1, 11), {0, 0, 1, 1, 2, 3, 3, 4, 5, 5, 6});
  Tensor y3 = upsample_nearest3d_scale(arange(8, {1, 1, 2, 2, 2}), {2});
  EXPECT_EQ(y3.shape(), (Shape{1, 1, 4, 4, 4}));
  EXPECT_EQ(y3.to_vector()[63], 7);
  EXPECT_EQ(y3.to_vector()[21], 0);  // (1,1,1) -> source (0,0,0)
}

TEST(Upsample, TrilinearMatchesBilinearOnFlatDepth) {
  // With one depth slice kept at depth 1, trilinear is bilinear on each slice.
  Tensor x = random_tensor({2, 3, 1, 4, 5}, 21, -1, 1, 0, false);
  Tensor x2 = Tensor::from_vector(x.to_vector(), {2, 3, 4, 5}, DType::Float64);
  for (bool ac : {false, true})
    EXPECT_LT(max_abs_diff(upsample_trilinear3d(x, 1, 7, 9, ac), upsample_bilinear2d(x2, 7, 9, ac)), 1e-14);
}

TEST(Upsample, BackwardConservesMassBilinear) {
  // Each output's weights sum to 1, so the input gradient of sum(y) sums to the number of outputs.
  Tensor x = random_tensor({1, 2, 5, 7}, 22);
  Tensor y = upsample_bilinear2d(x, 9, 13, false);
  y.backward(Tensor::ones(y.shape(), DType::Float64));
  double s = 0;
  for (double v : x.grad().to_vector()) s += v;
  EXPECT_NEAR(s, 2 * 9 * 13, 1e-9);
}

TEST(Upsample, Float32MatchesFloat64) {
  Tensor x = random_tensor({2, 3, 5, 7}, 23, -1, 1, 0, false);
  Tensor xf = x.to(DType::Float32);
  EXPECT_LT(max_abs_diff(upsample_bilinear2d_scale(x, {2}, false), upsample_bilinear2d_scale(xf, {2}, false)), 1e-6);
  EXPECT_LT(max_abs_diff(upsample_nearest2d(x, 11, 13), upsample_nearest2d(xf, 11, 13)), 1e-6);
  Tensor x3 = random_tensor({1, 2, 3, 4, 5}, 24, -1, 1, 0, false);
  EXPECT_LT(max_abs_diff(upsample_trilinear3d_scale(x3, {2}, true),
                         upsample_trilinear3d_scale(x3.to(DType::Float32), {2}, true)),
            1e-6);
}

TEST(UpsampleErrors, NameTheOp) {
  Tensor x5 = Tensor::zeros({1, 1, 2, 2, 2}, DType::Float64);
  Tensor x4 = Tensor::zeros({1, 1, 2, 2}, DType::Float64);
  EXPECT_SEG_ERROR(upsample_bilinear2d(x5, 4, 4, false), "upsample_bilinear2d");
  EXPECT_SEG_ERROR(upsample_trilinear3d(x4, 4, 4, 4, false), "upsample_trilinear3d");
  EXPECT_SEG_ERROR(upsample_nearest2d(Tensor::zeros({1, 1, 2, 2}, DType::Int64), 4, 4), "upsample_nearest2d");
  EXPECT_SEG_ERROR(upsample_nearest3d(x4, 4, 4, 4), "upsample_nearest3d");
  EXPECT_SEG_ERROR(upsample_bilinear2d(x4, 0, 4, true), "upsample_bilinear2d");
  EXPECT_SEG_ERROR(upsample_bilinear2d_scale(x4, {2, 2, 2}, true), "upsample_bilinear2d");
  EXPECT_SEG_ERROR(upsample_nearest2d_scale(x4, {-1}), "upsample_nearest2d");
  EXPECT_SEG_ERROR(upsample_nearest2d_scale(x4, {0.2}), "upsample_nearest2d");  // floor(2·0.2) = 0
}
