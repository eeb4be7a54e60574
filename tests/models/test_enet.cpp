// ENet (paper 5): the authors' parameter count (460,845 at 2 classes, 463,475 at 4, 458,247 without their unused heads
// and PReLUs), output shapes and input checks, seeded determinism, dropout only in training, that Adam steps learn,
// and equality with the PyTorch twin (profiling/bench_train_torch.py, itself checked equal to the authors' module):
// the twin's weights and running statistics are loaded one to one and the eval-mode logits and input gradient compared
// (skipped when /usr/bin/python3 has no torch).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/autograd.h"
#include "engine/npy.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "kernels/elementwise.h"
#include "models/enet.h"

using namespace seg;
namespace fs = std::filesystem;

TEST(ENet, AuthorsParameterCounts) {
  EXPECT_EQ(ENet({.classes = 2}).num_parameters(), 460845);  // the authors' module, two unused heads included
  EXPECT_EQ(ENet({.classes = 4}).num_parameters(), 463475);  // ACDC: +1,315 per class (3×3·128, 3×3·16, 1×1·16 + biases)
  EXPECT_EQ(ENet({.classes = 3}).num_parameters() - ENet({.classes = 2}).num_parameters(), 1315);
  // without the unused 3×3 heads (128·2·9 + 2 and 16·2·9 + 2) and the two upsampling bottlenecks' PReLUs
  EXPECT_EQ(ENet({.classes = 2, .unused_heads = false}).num_parameters(), 460845 - 2306 - 290 - 2);
}

TEST(ENet, OutputShapeAndInputChecks) {
  ENet m({.in_channels = 1, .classes = 4, .seed = 1});
  m.eval();
  NoGradGuard ng;
  EXPECT_EQ(m.forward(Tensor::zeros({2, 1, 24, 16})).shape(), (Shape{2, 4, 24, 16}));
  EXPECT_THROW(m.forward(Tensor::zeros({1, 1, 36, 32})), Error);  // 36 is not a multiple of 8
  EXPECT_THROW(m.forward(Tensor::zeros({1, 2, 32, 32})), Error);  // wrong channel count
  EXPECT_THROW(ENet({.in_channels = 16}), Error);                  // the initial conv would have no channel
  ENet rgb({.in_channels = 3, .classes = 2});                      // 13 conv channels + 3 pooled
  rgb.eval();
  EXPECT_EQ(rgb.forward(Tensor::zeros({1, 3, 16, 16})).shape(), (Shape{1, 2, 16, 16}));
}

TEST(ENet, SeededInitFollowsTheAuthorsScheme) {
  ENet a({.seed = 7}), b({.seed = 7}), c({.seed = 8});
  auto pa = a.named_parameters(), pb = b.named_parameters(), pc = c.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].second.to_vector(), pb[i].second.to_vector()) << pa[i].first;
  EXPECT_NE(pa[0].second.to_vector(), pc[0].second.to_vector());
  // Xavier-normal conv weights: the 15×1×3×3 initial conv has std √(2/(9 + 135)); BatchNorm weights N(1, 0.02).
  double s2 = 0;
  int64_t n = 0, bn = 0;
  for (auto& [name, t] : pa) {
    const auto v = t.to_vector();
    if (name.size() >= 9 && name.compare(name.size() - 9, 9, "bn.weight") == 0) {
      for (double x : v) EXPECT_NEAR(x, 1.0, 0.12) << name;
      ++bn;
    }
    if (name == "bottleneck2_1.conv1.conv.weight") {  // 32×32×3×3: 9216 draws, std √(2/576)
      for (double x : v) s2 += x * x;
      n += static_cast<int64_t>(v.size());
    }
  }
  EXPECT_GT(bn, 50);
  ASSERT_EQ(n, 9216);
  EXPECT_NEAR(std::sqrt(s2 / static_cast<double>(n)), std::sqrt(2.0 / 576.0), 0.004);
}

TEST(ENet, DropoutOnlyInTraining) {
  ENet m({.classes = 2, .seed = 3});
  Generator g(2);
  Tensor x = Tensor::empty({2, 1, 16, 16});
  fill_uniform(x, g, 0, 1);
  NoGradGuard ng;
  m.eval();
  const auto e1 = m.forward(x).to_vector(), e2 = m.forward(x).to_vector();
  EXPECT_EQ(e1, e2);
  m.train();  // batch statistics and fresh dropout masks: two training passes differ
  EXPECT_NE(m.forward(x).to_vector(), m.forward(x).to_vector());
}

TEST(ENet, AdamStepsReduceTheLossOnAFixedBatch) {
  ENet m({.classes = 3, .seed = 4});
  Adam opt(m.named_parameters(), 5e-3, 0.9, 0.99);
  Generator g(5);
  Tensor x = Tensor::empty({2, 1, 16, 16});
  fill_uniform(x, g, 0, 1);
  std::vector<int64_t> lab(2 * 16 * 16);
  for (size_t i = 0; i < lab.size(); ++i) {
    const int64_t r = static_cast<int64_t>(i / 16) % 16, c = static_cast<int64_t>(i % 16);
    lab[i] = (r - 8) * (r - 8) + (c - 8) * (c - 8) < 16 ? 1 : (c < 4 ? 2 : 0);
  }
  Tensor t = Tensor::from_labels(lab, {2, 16, 16});
  double first = 0, last = 0;
  for (int s = 0; s < 15; ++s) {
    Tensor loss = cross_entropy(m.forward(x), t);
    if (s == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.5 * first);
}

namespace {

const char* kTwinScript = R"PY(
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
import bench_train_torch as twin
out = sys.argv[2]
torch.manual_seed(0)
m = twin.ENet(1, 4)
with torch.no_grad():
    for p in m.parameters():  # non-trivial values everywhere (BN affine and PReLU slopes too)
        p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.2) + (0.25 if p.dim() == 1 else 0.0))
    for n, b in m.named_buffers():
        if n.endswith('running_mean'): b.copy_(torch.randn_like(b) * 0.1)
        if n.endswith('running_var'): b.copy_(torch.rand_like(b) + 0.5)
m.eval()
ps = [p.detach().numpy() for p in m.parameters()]
bs = [b.numpy() for n, b in m.named_buffers() if not n.endswith('num_batches_tracked')]
for i, a in enumerate(ps): np.save(f'{out}/p{i}.npy', a.astype('<f4'))
for i, a in enumerate(bs): np.save(f'{out}/b{i}.npy', a.astype('<f4'))
x = torch.rand(2, 1, 24, 16, requires_grad=True)
y = m(x)
g = torch.randn_like(y)
y.backward(g)
for k, v in dict(x=x, y=y, g=g, gx=x.grad).items(): np.save(f'{out}/{k}.npy', v.detach().numpy().astype('<f4'))
open(f'{out}/counts.txt', 'w').write(f'{len(ps)} {len(bs)}\n')
)PY";

}  // namespace

TEST(ENet, MatchesThePyTorchTwinInEvalMode) {
  if (std::system(SEG_PYTHON " -c 'import torch, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << SEG_PYTHON " with torch and numpy is not available";
  const fs::path dir = fs::temp_directory_path() / ("seg_enet_twin_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "twin.py") << kTwinScript;
  const std::string cmd = std::string(SEG_PYTHON) + " " + (dir / "twin.py").string() + " " + SEG_PROFILING_DIR + " " +
                          dir.string() + " > " + (dir / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "the twin script failed; see " << (dir / "log.txt");
  int64_t np_ = 0, nb = 0;
  std::ifstream(dir / "counts.txt") >> np_ >> nb;
  ENet m({.classes = 4});
  auto params = m.named_parameters();
  auto buffers = m.named_buffers();
  ASSERT_EQ(static_cast<int64_t>(params.size()), np_);
  ASSERT_EQ(static_cast<int64_t>(buffers.size()), nb);
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor t = load_npy((dir / ("p" + std::to_string(i) + ".npy")).string());
    ASSERT_EQ(t.shape(), params[i].second.shape()) << params[i].first;
    params[i].second.copy_from_(t);
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    Tensor t = load_npy((dir / ("b" + std::to_string(i) + ".npy")).string());
    ASSERT_EQ(t.shape(), buffers[i].second.shape()) << buffers[i].first;
    buffers[i].second.copy_from_(t);
  }
  m.eval();
  Tensor x = load_npy((dir / "x.npy").string());
  x.set_requires_grad(true);
  Tensor y = m.forward(x);
  const auto want = load_npy((dir / "y.npy").string()).to_vector(), got = y.to_vector();
  ASSERT_EQ(got.size(), want.size());
  double scale = 0, err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    scale = std::max(scale, std::abs(want[i]));
    err = std::max(err, std::abs(got[i] - want[i]));
  }
  EXPECT_LT(err, 1e-4 * scale) << "max |logit difference| " << err << " for max |logit| " << scale;
  sum_all(mul(y, load_npy((dir / "g.npy").string()))).backward();
  const auto gw = load_npy((dir / "gx.npy").string()).to_vector(), gg = x.grad().to_vector();
  double gs = 0, ge = 0;
  for (size_t i = 0; i < gg.size(); ++i) {
    gs = std::max(gs, std::abs(gw[i]));
    ge = std::max(ge, std::abs(gg[i] - gw[i]));
  }
  EXPECT_LT(ge, 1e-3 * gs) << "max |input-gradient difference| " << ge << " for max " << gs;
  fs::remove_all(dir);
}
