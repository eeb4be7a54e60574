// CUDA vs CPU: max pooling and unpooling, resize, batch norm and group norm (with running statistics), dropout (the
// same mask for the same generator state), PReLU.
#include "cuda_test_util.h"
#include "kernels/dropout.h"
#include "kernels/norm.h"
#include "kernels/pool.h"
#include "kernels/prelu.h"
#include "kernels/upsample.h"

using namespace seg;
using namespace seg::cudatest;
using V = std::vector<Tensor>;

TEST(CudaKernels, MaxPoolAndUnpool) {
  SEG_REQUIRE_GPU();
  compare_devices([](const V& v) { return max_pool2d(v[0], {2}).output; }, {rand_tensor({2, 3, 9, 10}, 1)});
  compare_devices([](const V& v) { return max_pool2d(v[0], {3}, {1}).output; }, {rand_tensor({2, 3, 9, 10}, 2)});
  compare_devices([](const V& v) { return max_pool3d(v[0], {2, 3, 2}, {2, 2, 1}).output; }, {rand_tensor({2, 2, 5, 7, 6}, 3)});
  Tensor x = rand_tensor({2, 3, 8, 10}, 4, -1, 1, false);
  PoolResult pc = max_pool2d(x, {2}), pg = max_pool2d(to_test_device(x), {2});
  EXPECT_EQ(pg.indices.to_labels(), pc.indices.to_labels());
  Tensor idx = pc.indices;
  compare_devices([idx](const V& v) { return max_unpool2d(v[0], on_side(idx), {8, 10}); },
                  {rand_tensor({2, 3, 4, 5}, 5)});
  Tensor bad = Tensor::from_labels(std::vector<int64_t>(2 * 3 * 4 * 5, 1000), {2, 3, 4, 5});
  EXPECT_THROW(max_unpool2d(to_test_device(rand_tensor({2, 3, 4, 5}, 6, -1, 1, false)), to_test_device(bad), {8, 10}),
               Error);
}

TEST(CudaKernels, Resize) {
  SEG_REQUIRE_GPU();
  for (bool ac : {false, true}) {
    compare_devices([ac](const V& v) { return upsample_bilinear2d(v[0], 17, 9, ac); }, {rand_tensor({2, 3, 7, 5}, 10)});
    compare_devices([ac](const V& v) { return upsample_bilinear2d_scale(v[0], {1.7, 2.0}, ac); }, {rand_tensor({1, 2, 6, 5}, 11)});
    compare_devices([ac](const V& v) { return upsample_trilinear3d(v[0], 7, 4, 9, ac); }, {rand_tensor({1, 2, 4, 5, 6}, 12)});
  }
  compare_devices([](const V& v) { return upsample_nearest2d(v[0], 13, 10); }, {rand_tensor({2, 3, 7, 5}, 13)});
  compare_devices([](const V& v) { return upsample_nearest2d_scale(v[0], {1.5, 2.0}); }, {rand_tensor({2, 3, 7, 5}, 14)});
  compare_devices([](const V& v) { return upsample_nearest3d(v[0], 8, 3, 10); }, {rand_tensor({1, 2, 4, 5, 5}, 15)});
}

TEST(CudaKernels, BatchNormTrainEvalAndRunningStats) {
  SEG_REQUIRE_GPU();
  const Tol tol{1e-4, 1e-4};
  for (bool affine : {true, false}) {
    Tensor rmc = Tensor::zeros({4}), rvc = Tensor::ones({4});
    Tensor rmg = to_test_device(rmc), rvg = to_test_device(rvc);
    compare_devices(
        [&](const V& v) {
          const bool dev = device_side();
          return batch_norm(v[0], v[1], v[2], dev ? rmg : rmc, dev ? rvg : rvc, true, 0.1, 1e-5);
        },
        {rand_tensor({3, 4, 7, 6}, 20, 5, 7), affine ? rand_tensor({4}, 21) : Tensor(), affine ? rand_tensor({4}, 22) : Tensor()},
        tol);
    EXPECT_TRUE(close(rmg, rmc, 1e-5, 1e-6));
    EXPECT_TRUE(close(rvg, rvc, 1e-5, 1e-6));
    compare_devices(
        [&](const V& v) {
          const bool dev = device_side();
          return batch_norm(v[0], v[1], v[2], dev ? rmg : rmc, dev ? rvg : rvc, false, 0.1, 1e-5);
        },
        {rand_tensor({3, 4, 5}, 23), affine ? rand_tensor({4}, 24) : Tensor(), affine ? rand_tensor({4}, 25) : Tensor()}, tol);
  }
}

TEST(CudaKernels, GroupNorm) {
  SEG_REQUIRE_GPU();
  const Tol tol{1e-4, 1e-4};
  compare_devices([](const V& v) { return group_norm(v[0], 2, v[1], v[2]); },
                  {rand_tensor({3, 6, 7, 5}, 30, -2, 3), rand_tensor({6}, 31), rand_tensor({6}, 32)}, tol);
  compare_devices([](const V& v) { return group_norm(v[0], 6, v[1], v[2]); },
                  {rand_tensor({2, 6, 3, 4, 5}, 33, 100, 101), rand_tensor({6}, 34), rand_tensor({6}, 35)}, tol);
  compare_devices([](const V& v) { return group_norm(v[0], 1); }, {rand_tensor({2, 4, 9, 9}, 36)}, tol);
}

TEST(CudaKernels, DropoutDrawsTheCpuMask) {
  SEG_REQUIRE_GPU();
  for (int kind = 0; kind < 2; ++kind) {
    Generator gc(5), gg(5);
    compare_devices(
        [&](const V& v) {
          Generator& g = device_side() ? gg : gc;
          return kind == 0 ? dropout(v[0], 0.3, true, g) : dropout2d(v[0], 0.5, true, g);
        },
        {rand_tensor({2, 8, 9, 7}, 40)});
  }
}

TEST(CudaKernels, PRelu) {
  SEG_REQUIRE_GPU();
  compare_devices([](const V& v) { return prelu(v[0], v[1]); }, {rand_tensor({2, 5, 6, 7}, 50), rand_tensor({5}, 51, 0, 0.5)});
  compare_devices([](const V& v) { return prelu(v[0], v[1]); }, {rand_tensor({2, 3, 4, 5, 6}, 52), rand_tensor({1}, 53, 0, 0.5)});
}
