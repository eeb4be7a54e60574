// CUDA vs CPU: the paper kernels — Sobel and edge maps, moments, the Laplacian quadratic form, fused balanced BCE /
// Dice / log-barrier, Gumbel noise (identical draws) and the hard Gumbel-softmax.
#include "cuda_test_util.h"
#include "kernels/fused_losses.h"
#include "kernels/gumbel.h"
#include "kernels/laplacian.h"
#include "kernels/moments.h"
#include "kernels/sobel.h"

using namespace seg;
using namespace seg::cudatest;
using V = std::vector<Tensor>;

TEST(CudaPaper, SobelAndEdgeMap) {
  SEG_REQUIRE_GPU();
  compare_devices([](const V& v) { return sobel2d(v[0]); }, {rand_tensor({2, 3, 11, 9}, 1)});
  compare_devices([](const V& v) { return sobel3d(v[0]); }, {rand_tensor({1, 2, 5, 7, 6}, 2)});
  Tensor onehot = rand_tensor({2, 3, 12, 10}, 3, 0, 1, false);
  onehot = Tensor::from_vector([&] {
    auto v = onehot.to_vector();
    for (auto& x : v) x = x > 0.5 ? 1.0 : 0.0;
    return v;
  }(), onehot.shape());
  EXPECT_TRUE(close(edge_map(to_test_device(onehot)), edge_map(onehot), 0, 0));
}

TEST(CudaPaper, Moments) {
  SEG_REQUIRE_GPU();
  const Tol tol{1e-4, 1e-3};
  compare_devices([](const V& v) { return moments2d(v[0]); }, {rand_tensor({2, 3, 37, 41}, 10, 0, 1)}, tol);
  compare_devices([](const V& v) { return moments3d(v[0]); }, {rand_tensor({1, 2, 9, 11, 13}, 11, 0, 1)}, tol);
  compare_devices([](const V& v) { return moments2d(v[0]); }, {rand_tensor({1, 1, 300, 257}, 12, 0, 1)}, {1e-4, 1e-1});
}

TEST(CudaPaper, LaplacianQuadraticForm) {
  SEG_REQUIRE_GPU();
  for (int c : {4, 8}) compare_devices([c](const V& v) { return laplacian_quadratic(v[0], c); }, {rand_tensor({2, 3, 13, 12}, 20, 0, 1)}, {1e-4, 1e-4});
  for (int c : {6, 26})
    compare_devices([c](const V& v) { return laplacian_quadratic(v[0], c); }, {rand_tensor({1, 2, 5, 6, 7}, 21, 0, 1)}, {1e-4, 1e-4});
}

TEST(CudaPaper, FusedLosses) {
  SEG_REQUIRE_GPU();
  Tensor t = Tensor::from_vector([] {
    Generator g(30);
    std::vector<double> v(2 * 1 * 17 * 19);
    for (auto& x : v) x = g.uniform() < 0.3 ? 1.0 : 0.0;
    return v;
  }(), {2, 1, 17, 19});
  compare_devices([](const V& v) { return balanced_bce_with_logits(v[0], v[1]); }, {rand_tensor({2, 1, 17, 19}, 31, -4, 4), t},
                  {1e-4, 1e-6});
  Tensor onehot = Tensor::from_vector([] {
    Generator g(32);
    std::vector<double> v(2 * 3 * 8 * 9, 0.0);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t s = 0; s < 72; ++s) v[static_cast<size_t>((n * 3 + g.randint(3)) * 72 + s)] = 1.0;
    return v;
  }(), {2, 3, 8, 9});
  compare_devices([](const V& v) { return dice_loss(v[0], v[1]); }, {rand_tensor({2, 3, 8, 9}, 33, 0, 1), onehot}, {1e-4, 1e-6});
  for (double tt : {1.0, 5.0})
    compare_devices([tt](const V& v) { return log_barrier(v[0], tt); }, {rand_tensor({4, 9}, 34, -3, 1)});
}

TEST(CudaPaper, GumbelNoiseAndHardSoftmax) {
  SEG_REQUIRE_GPU();
  Generator gc(7), gg(7);
  Tensor nc = gumbel_noise({3, 4, 5, 6}, gc), ng = gumbel_noise({3, 4, 5, 6}, gg, DType::Float32, test_device());
  EXPECT_TRUE(close(ng, nc, 1e-6, 1e-6));
  Generator hc(8), hg(8);
  compare_devices(
      [&](const V& v) { return gumbel_softmax(v[0], 0.5, true, device_side() ? hg : hc, 1); }, {rand_tensor({2, 4, 6, 5}, 40)});
  compare_devices([](const V& v) { return one_hot_argmax(v[0], -1); }, {rand_tensor({3, 7, 10}, 41, -1, 1, false)});
}
