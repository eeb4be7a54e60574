// Max pooling and unpooling: gradient checks on tie-free inputs, forward values and indices, error paths.
#include "engine/autograd.h"
#include "kernels/pool.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {
GradFn pool2d(std::vector<int64_t> k, std::vector<int64_t> s) {
  return [k, s](const std::vector<Tensor>& in) { return max_pool2d(in[0], k, s).output; };
}
GradFn pool3d(std::vector<int64_t> k, std::vector<int64_t> s) {
  return [k, s](const std::vector<Tensor>& in) { return max_pool3d(in[0], k, s).output; };
}
}  // namespace

TEST(PoolGradcheck, MaxPool2d) {
  GradcheckOptions o;
  EXPECT_GRADCHECK(pool2d({2}, {}), std::vector<Tensor>{distinct_tensor({1, 3, 5, 7}, 1)}, o);
  EXPECT_GRADCHECK(pool2d({3}, {2}), std::vector<Tensor>{distinct_tensor({1, 3, 5, 7}, 2)}, o);   // overlapping
  EXPECT_GRADCHECK(pool2d({3, 2}, {1, 2}), std::vector<Tensor>{distinct_tensor({2, 2, 6, 5}, 3)}, o);
  EXPECT_GRADCHECK(pool2d({2}, {3}), std::vector<Tensor>{distinct_tensor({2, 3, 7, 8}, 4)}, o);   // gaps
}

TEST(PoolGradcheck, MaxPool3d) {
  GradcheckOptions o;
  EXPECT_GRADCHECK(pool3d({2}, {}), std::vector<Tensor>{distinct_tensor({2, 4, 3, 5, 6}, 5)}, o);
  EXPECT_GRADCHECK(pool3d({3, 2, 2}, {1, 2, 1}), std::vector<Tensor>{distinct_tensor({2, 4, 3, 5, 6}, 6)}, o);
  EXPECT_GRADCHECK(pool3d({1, 2, 2}, {1, 2, 2}), std::vector<Tensor>{distinct_tensor({1, 3, 3, 5, 7}, 7)}, o);
}

TEST(PoolGradcheck, MaxUnpool) {
  GradcheckOptions o;
  // Indices from a non-overlapping pool (as ENet uses them): each output position receives at most one value.
  Tensor idx2 = max_pool2d(distinct_tensor({1, 3, 5, 7}, 8, false), {2}).indices;
  auto f2 = [idx2](const std::vector<Tensor>& in) { return max_unpool2d(in[0], idx2, {5, 7}); };
  EXPECT_GRADCHECK(f2, std::vector<Tensor>{random_tensor({1, 3, 2, 3}, 9)}, o);
  Tensor idx3 = max_pool3d(distinct_tensor({2, 4, 3, 5, 6}, 10, false), {2}).indices;
  auto f3 = [idx3](const std::vector<Tensor>& in) { return max_unpool3d(in[0], idx3, {3, 5, 6}); };
  EXPECT_GRADCHECK(f3, std::vector<Tensor>{random_tensor({2, 4, 1, 2, 3}, 11)}, o);
  // Pool then unpool, differentiated end to end.
  auto f4 = [](const std::vector<Tensor>& in) {
    PoolResult p = max_pool2d(in[0], {2});
    return max_unpool2d(p.output, p.indices, {5, 7});
  };
  EXPECT_GRADCHECK(f4, std::vector<Tensor>{distinct_tensor({2, 2, 5, 7}, 12)}, o);
}

TEST(Pool, MaxPool2dValuesAndIndices) {
  // 1x1x4x4: rows 0..3, kernel 2 -> maxima and their flat plane offsets.
  Tensor x = Tensor::from_vector({1, 5, 2, 0,   //
                                  3, 4, 8, 6,   //
                                  9, 0, 1, 1,   //
                                  2, 7, 3, 4},  //
                                 {1, 1, 4, 4}, DType::Float64);
  PoolResult r = max_pool2d(x, {2});
  EXPECT_EQ(r.output.shape(), (Shape{1, 1, 2, 2}));
  expect_values(r.output, {5, 8, 9, 4});
  EXPECT_EQ(r.indices.dtype(), DType::Int64);
  EXPECT_EQ(r.indices.to_labels(), (std::vector<int64_t>{1, 6, 8, 15}));
  // Ties keep the first element in window order (PyTorch's CPU rule).
  PoolResult t = max_pool2d(Tensor::full({1, 1, 2, 2}, 3.0, DType::Float64), {2});
  EXPECT_EQ(t.indices.to_labels(), (std::vector<int64_t>{0}));
}

TEST(Pool, MaxPool2dKernel3Stride2FloorMode) {
  std::vector<double> v(25);
  for (int i = 0; i < 25; ++i) v[static_cast<size_t>(i)] = i;
  PoolResult r = max_pool2d(Tensor::from_vector(v, {1, 1, 5, 5}, DType::Float64), {3}, {2});
  expect_values(r.output, {12, 14, 22, 24});
  EXPECT_EQ(r.indices.to_labels(), (std::vector<int64_t>{12, 14, 22, 24}));
  // 6 columns with kernel 3 stride 2 -> floor((6-3)/2)+1 = 2 (the last column is dropped).
  EXPECT_EQ(max_pool2d(Tensor::zeros({2, 3, 5, 6}, DType::Float64), {3}, {2}).output.shape(), (Shape{2, 3, 2, 2}));
}

TEST(Pool, MaxPool3dValuesAndIndices) {
  std::vector<double> v(2 * 8);
  for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = (i * 5) % 16;  // a permutation of 0..15
  PoolResult r = max_pool3d(Tensor::from_vector(v, {1, 2, 2, 2, 2}, DType::Float64), {2});
  // channel 0 holds (i*5)%16 for i < 8: 0 5 10 15 4 9 14 3 -> max 15 at 3; channel 1: 8 13 2 7 12 1 6 11 -> 13 at 1.
  expect_values(r.output, {15, 13});
  EXPECT_EQ(r.indices.to_labels(), (std::vector<int64_t>{3, 1}));
}

TEST(Pool, MaxPoolPropagatesNaN) {
  Tensor x = Tensor::from_vector({1, NAN, 3, 2}, {1, 1, 2, 2}, DType::Float64);
  PoolResult r = max_pool2d(x, {2});
  EXPECT_TRUE(std::isnan(r.output.to_vector()[0]));
  EXPECT_EQ(r.indices.to_labels(), (std::vector<int64_t>{1}));
}

TEST(Pool, UnpoolScattersAndBackwardGathers) {
  Tensor x = Tensor::from_vector({1, 5, 2, 0, 3, 4, 8, 6, 9, 0, 1, 1, 2, 7, 3, 4}, {1, 1, 4, 4}, DType::Float64);
  PoolResult r = max_pool2d(x, {2});
  Tensor u = max_unpool2d(r.output, r.indices, {4, 4});
  expect_values(u, {0, 5, 0, 0, 0, 0, 8, 0, 9, 0, 0, 0, 0, 0, 0, 4});
  // Odd output size (ENet pads odd maps back): 5x5 with the same indices.
  Tensor u5 = max_unpool2d(r.output, r.indices, {5, 5});
  EXPECT_EQ(u5.shape(), (Shape{1, 1, 5, 5}));
  // Backward of pooling: dy lands at the argmax, accumulating where windows overlap.
  Tensor xs = Tensor::from_vector({0, 0, 0, 0, 9, 0, 0, 0, 0}, {1, 1, 3, 3}, DType::Float64);
  xs.set_requires_grad(true);
  Tensor y = max_pool2d(xs, {2}, {1}).output;  // all four windows pick the centre
  y.backward(Tensor::ones({1, 1, 2, 2}, DType::Float64));
  expect_values(xs.grad(), {0, 0, 0, 0, 4, 0, 0, 0, 0});
}

TEST(Pool, Float32MatchesFloat64) {
  Tensor x = distinct_tensor({2, 3, 6, 7}, 13, false);
  PoolResult a = max_pool2d(x, {3}, {2}), b = max_pool2d(x.to(DType::Float32), {3}, {2});
  EXPECT_EQ(b.output.dtype(), DType::Float32);
  EXPECT_LT(max_abs_diff(a.output, b.output), 1e-6);
  EXPECT_EQ(a.indices.to_labels(), b.indices.to_labels());
}

TEST(PoolErrors, NameTheOp) {
  Tensor x3 = Tensor::zeros({1, 4, 4}, DType::Float64);
  EXPECT_SEG_ERROR(max_pool2d(x3, {2}), "max_pool2d");
  EXPECT_SEG_ERROR(max_pool3d(Tensor::zeros({1, 1, 4, 4}, DType::Float64), {2}), "max_pool3d");
  EXPECT_SEG_ERROR(max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::Int64), {2}), "max_pool2d");
  EXPECT_SEG_ERROR(max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::Float64), {5}), "max_pool2d");
  EXPECT_SEG_ERROR(max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::Float64), {2, 2, 2}), "max_pool2d");
  EXPECT_SEG_ERROR(max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::Float64), {0}), "max_pool2d");
  PoolResult r = max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::Float64), {2});
  EXPECT_SEG_ERROR(max_unpool2d(r.output, r.indices.to(DType::Float64), {4, 4}), "max_unpool2d");
  EXPECT_SEG_ERROR(max_unpool2d(r.output, r.indices, {4, 4, 4}), "max_unpool2d");
  EXPECT_SEG_ERROR(max_unpool2d(r.output, Tensor::from_labels({0, 1, 2, 99}, {1, 1, 2, 2}), {4, 4}), "max_unpool2d");
  EXPECT_SEG_ERROR(max_unpool3d(r.output, r.indices, {4, 4, 4}), "max_unpool3d");
}
