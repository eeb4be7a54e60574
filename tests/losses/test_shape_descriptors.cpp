// Shape descriptors (losses/shape_descriptors.h): hand values in 2-D and 3-D, gradient checks of every descriptor,
// error paths.
#include "kernels/softmax.h"
#include "losses/shape_descriptors.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(ShapeDescriptors, HandValues) {
  // Class 0: mass 1 at (x=1, y=2) and (x=3, y=2): size 2, centroid (2, 2), spread (1, 0).
  Tensor p = Tensor::zeros({1, 1, 4, 5}, DType::Float64);
  p.data<double>()[2 * 5 + 1] = 1;
  p.data<double>()[2 * 5 + 3] = 1;
  const ShapeDescriptors d = shape_descriptors(p, 0.0);
  expect_values(d.size, {2});
  expect_values(d.centroid, {2, 2});
  expect_values(d.spread, {1, 0});
  EXPECT_EQ(length_descriptor(p).item(), 2 * 8.0);  // each pixel differs from its 8 zero neighbours
  // 3-D: one voxel at (x=4, y=1, z=2): centroid (4, 1, 2), spread 0.
  Tensor q = Tensor::zeros({1, 1, 3, 4, 5}, DType::Float64);
  q.data<double>()[2 * 20 + 1 * 5 + 4] = 3;
  const ShapeDescriptors e = shape_descriptors(q, 0.0);
  expect_values(e.size, {3});
  expect_values(e.centroid, {4, 1, 2});
  expect_values(e.spread, {0, 0, 0});
}

TEST(ShapeDescriptorsGradcheck, AllDescriptors) {
  auto f = [](int which) {
    return [which](const std::vector<Tensor>& in) {
      const Tensor p = softmax(in[0], 1);
      const ShapeDescriptors d = shape_descriptors(p);
      return which == 0 ? d.size : which == 1 ? d.centroid : which == 2 ? d.spread : length_descriptor(p);
    };
  };
  for (int which = 0; which < 4; ++which) {
    EXPECT_GRADCHECK(f(which), std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 14, -2, 2)}, GradcheckOptions{});
    EXPECT_GRADCHECK(f(which), std::vector<Tensor>{random_tensor({1, 2, 3, 4, 5}, 15, -2, 2)}, GradcheckOptions{});
  }
}

TEST(ShapeDescriptors, Errors) {
  EXPECT_SEG_ERROR(shape_descriptors(Tensor::zeros({2, 3, 4}, DType::Float64)), "shape_descriptors");
  EXPECT_SEG_ERROR(shape_descriptors(Tensor::zeros({1, 1, 3, 4}, DType::Float64), -1), "eps");
}
