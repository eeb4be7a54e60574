// CUDA vs CPU: elementwise ops (broadcast, scalar, activations), reductions, cat/narrow, softmax, NLL / cross
// entropy / MSE, and the fused Adam step.
#include "cuda_test_util.h"
#include "engine/optim.h"
#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "kernels/softmax.h"

using namespace seg;
using namespace seg::cudatest;
using V = std::vector<Tensor>;

TEST(CudaCore, BinaryOpsSameBroadcastScalar) {
  SEG_REQUIRE_GPU();
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    SCOPED_TRACE(static_cast<int>(op));
    auto f = [op](const V& v) { return binary(op, v[0], v[1]); };
    compare_devices(f, {rand_tensor({2, 3, 5, 7}, 1), rand_tensor({2, 3, 5, 7}, 2, 0.5, 2)});
    compare_devices(f, {rand_tensor({2, 3, 5, 7}, 3), rand_tensor({1, 3, 1, 7}, 4, 0.5, 2)});
    compare_devices(f, {rand_tensor({3, 1, 7}, 5), rand_tensor({4, 3, 1, 1}, 6, 0.5, 2)});  // both sides broadcast
    compare_devices(f, {rand_tensor({2, 3, 4}, 7), rand_tensor({}, 8, 0.5, 2)});
  }
}

TEST(CudaCore, UnaryOps) {
  SEG_REQUIRE_GPU();
  const std::vector<std::pair<UnaryOp, std::pair<double, double>>> ops = {
      {UnaryOp::Neg, {0, 0}},      {UnaryOp::Exp, {0, 0}},       {UnaryOp::Log, {0, 0}},
      {UnaryOp::Sqrt, {0, 0}},     {UnaryOp::Square, {0, 0}},    {UnaryOp::Abs, {0, 0}},
      {UnaryOp::Relu, {0, 0}},     {UnaryOp::LeakyRelu, {0.2, 0}}, {UnaryOp::Sigmoid, {0, 0}},
      {UnaryOp::Tanh, {0, 0}},     {UnaryOp::Scale, {-1.5, 0}},  {UnaryOp::AddScalar, {0.25, 0}},
      {UnaryOp::Clamp, {-0.3, 0.4}}};
  for (const auto& [op, pq] : ops) {
    SCOPED_TRACE(static_cast<int>(op));
    const bool positive = op == UnaryOp::Log || op == UnaryOp::Sqrt;
    compare_devices([op = op, pq = pq](const V& v) { return unary(op, v[0], pq.first, pq.second); },
                    {rand_tensor({3, 4, 33, 17}, 10, positive ? 0.1 : -3, 3)});
  }
}

TEST(CudaCore, SumAndMean) {
  SEG_REQUIRE_GPU();
  Tensor x = rand_tensor({3, 4, 5, 6}, 20);
  compare_devices([](const V& v) { return sum(v[0], {1}); }, {x});
  compare_devices([](const V& v) { return mean(v[0], {0, 2, 3}, true); }, {x});
  compare_devices([](const V& v) { return sum(v[0], {0, 2}); }, {x});
  compare_devices([](const V& v) { return sum_all(v[0]); }, {x});
  compare_devices([](const V& v) { return mean_all(v[0]); }, {rand_tensor({4, 2, 64, 64}, 21)}, {1e-4, 1e-6});
  compare_devices([](const V& v) { return sum(v[0], {0}); }, {rand_tensor({3000, 7}, 22)}, {1e-4, 1e-4});
}

TEST(CudaCore, CatAndNarrow) {
  SEG_REQUIRE_GPU();
  compare_devices([](const V& v) { return cat({v[0], v[1], v[2]}, 1); },
                  {rand_tensor({2, 3, 4, 5}, 30), rand_tensor({2, 1, 4, 5}, 31), rand_tensor({2, 2, 4, 5}, 32)});
  compare_devices([](const V& v) { return cat({v[0], v[1]}, -1); }, {rand_tensor({3, 4}, 33), rand_tensor({3, 2}, 34)});
  compare_devices([](const V& v) { return narrow(v[0], 2, 1, 3); }, {rand_tensor({2, 3, 6, 5}, 35)});
  Tensor labels = rand_labels({4, 6}, 3, 36);
  EXPECT_EQ(cat({to_test_device(labels), to_test_device(labels)}, 0).to_labels(), cat({labels, labels}, 0).to_labels());
}

TEST(CudaCore, SoftmaxAndLogSoftmax) {
  SEG_REQUIRE_GPU();
  for (bool lg : {false, true}) {
    auto f = [lg](int64_t dim) {
      return [lg, dim](const V& v) { return lg ? log_softmax(v[0], dim) : softmax(v[0], dim); };
    };
    compare_devices(f(1), {rand_tensor({2, 5, 9, 11}, 40, -4, 4)});
    compare_devices(f(-1), {rand_tensor({6, 1000}, 41, -4, 4)});  // contiguous axis: one block per row
    compare_devices(f(0), {rand_tensor({3, 2, 4, 3, 5}, 42, -4, 4)});
  }
}

TEST(CudaCore, NllCrossEntropyMse) {
  SEG_REQUIRE_GPU();
  Tensor t = rand_labels({2, 9, 11}, 4, 50);
  {
    std::vector<int64_t> lab = t.to_labels();
    lab[3] = -100;  // an ignored pixel
    t = Tensor::from_labels(lab, t.shape());
  }
  Tensor w = rand_tensor({4}, 51, 0.5, 2, false);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    SCOPED_TRACE(static_cast<int>(r));
    compare_devices([&](const V& v) { return cross_entropy(v[0], v[1], v[2], -100, r); },
                    {rand_tensor({2, 4, 9, 11}, 52, -3, 3), t, w});
    compare_devices([&](const V& v) { return nll_loss(v[0], v[1], Tensor(), -100, r); }, {rand_tensor({2, 4, 9, 11}, 53), t});
    compare_devices([&](const V& v) { return mse_loss(v[0], v[1], r); }, {rand_tensor({3, 7}, 54), rand_tensor({3, 7}, 55)});
  }
  Tensor bad = Tensor::from_labels({0, 7}, {2});
  EXPECT_THROW(nll_loss(to_test_device(rand_tensor({2, 3}, 56, -1, 1, false)), to_test_device(bad)), Error);
}

TEST(CudaCore, FusedAdamMatchesCpu) {
  SEG_REQUIRE_GPU();
  Tensor pc = rand_tensor({37, 19}, 60, -1, 1, false), pg = to_test_device(pc);
  Adam ac({{"p", pc}}, 1e-2, 0.9, 0.99, 1e-8, 1e-3), ag({{"p", pg}}, 1e-2, 0.9, 0.99, 1e-8, 1e-3);
  for (int step = 0; step < 5; ++step) {
    Tensor g = rand_tensor({37, 19}, 61 + step, -1, 1, false);
    pc.set_grad(g);
    pg.set_grad(to_test_device(g));
    ac.step();
    ag.step();
  }
  EXPECT_TRUE(close(pg, pc, 1e-5, 1e-6));
}
