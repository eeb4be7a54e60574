// Sliding-window inference with a real 3-D network: one tile covering the volume reproduces the whole-volume forward
// (probabilities to float rounding, labels exactly), also when the volume is padded up to the tile; overlapping tiles
// agree with the whole-volume labels of a (briefly fitted) network on most voxels (GroupNorm's statistics are per tile,
// so not exactly); and on a
// tall volume the host memory peak of sliding-window inference stays well under a whole-volume forward's.
#include <gtest/gtest.h>

#include <cmath>

#include "data/pipeline3d/sliding_window.h"
#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/optim.h"
#include "kernels/nll.h"
#include "kernels/softmax.h"
#include "models/egcnn.h"

using namespace seg;

namespace {
Volume random_volume(std::array<int64_t, 3> d, int64_t channels, uint64_t seed) {
  Volume v = Volume::make(d);
  v.channels = channels;
  Generator g(seed);
  Tensor t = Tensor::empty({channels * v.voxels()});
  fill_normal(t, g, 0, 1);
  const std::vector<double> x = t.to_vector();
  v.data.assign(x.begin(), x.end());
  return v;
}

// The patch predictor of a network: softmax of its logits (eval mode, no gradients).
PatchPredictor predictor(const Net3d& net, int64_t channels) {
  return [&net, channels](const std::vector<float>& in, const std::array<int64_t, 3>& p, std::vector<float>& out) {
    NoGradGuard ng;
    Tensor x = Tensor::empty({1, channels, p[2], p[1], p[0]});
    std::copy(in.begin(), in.end(), x.data<float>());
    const Tensor prob = softmax(net.forward(x).logits, 1);
    out.assign(prob.data<float>(), prob.data<float>() + prob.numel());
  };
}

// Whole-volume forward: class probabilities (K × voxels).
std::vector<float> whole_forward(const Net3d& net, const Volume& v) {
  NoGradGuard ng;
  Tensor x = Tensor::empty({1, v.channels, v.nz(), v.ny(), v.nx()});
  std::copy(v.data.begin(), v.data.end(), x.data<float>());
  const Tensor prob = softmax(net.forward(x).logits, 1);
  return std::vector<float>(prob.data<float>(), prob.data<float>() + prob.numel());
}

std::vector<float> argmax(const std::vector<float>& prob, int64_t K, int64_t V) {
  std::vector<float> lab(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i) {
    int64_t b = 0;
    for (int64_t k = 1; k < K; ++k)
      if (prob[static_cast<size_t>(k * V + i)] > prob[static_cast<size_t>(b * V + i)]) b = k;
    lab[static_cast<size_t>(i)] = static_cast<float>(b);
  }
  return lab;
}
}  // namespace

TEST(SlidingWindowNet, OneTileReproducesTheWholeVolumeForward) {
  Net3d net({.backbone = "segresnet", .in_channels = 2, .classes = 3, .width = 4, .levels = 3, .seed = 4});
  net.eval();
  const Volume v = random_volume({16, 12, 8}, 2, 1);
  const int64_t K = 3, V = v.voxels(), plane = 16 * 12;
  std::vector<float> probs(static_cast<size_t>(K * V));
  const SlidingWindowStats st = sliding_window(v, K, {.patch = {16, 12, 8}}, predictor(net, 2), [&](int64_t z, const float* p) {
    for (int64_t k = 0; k < K; ++k) std::copy(p + k * plane, p + (k + 1) * plane, probs.begin() + k * V + z * plane);
  });
  EXPECT_EQ(st.tiles, 1);
  const std::vector<float> ref = whole_forward(net, v);
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(probs[i], ref[i], 1e-6) << i;
  EXPECT_EQ(argmax(probs, K, V), argmax(ref, K, V));
  // A volume smaller than the tile: the tile is the volume zero-padded (centred); the forward of that padded volume,
  // cropped back, is what sliding_window_argmax returns.
  const Volume small = random_volume({13, 12, 7}, 2, 2);
  const SlidingWindowLabels r = sliding_window_argmax(small, K, K, {.patch = {16, 12, 8}}, predictor(net, 2));
  Volume padded = Volume::make({16, 12, 8});
  padded.channels = 2;
  padded.data.assign(static_cast<size_t>(2 * 16 * 12 * 8), 0.f);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t z = 0; z < 7; ++z)
      for (int64_t y = 0; y < 12; ++y)
        for (int64_t x = 0; x < 13; ++x)  // tile_starts: x −1 (pad 3 → 1 before, 2 after), z 0 (pad 1 → 0 before)
          padded.data[static_cast<size_t>(c * 1536 + (x + 1) + 16 * (y + 12 * z))] = small.data[static_cast<size_t>(c * 1092 + x + 13 * (y + 12 * z))];
  const std::vector<float> lab = argmax(whole_forward(net, padded), K, 1536);
  for (int64_t z = 0; z < 7; ++z)
    for (int64_t y = 0; y < 12; ++y)
      for (int64_t x = 0; x < 13; ++x) ASSERT_EQ(r.labels.at(x, y, z), lab[static_cast<size_t>((x + 1) + 16 * (y + 12 * z))]);
}

TEST(SlidingWindowNet, OverlappingTilesMostlyAgreeAndUseLessMemoryThanAWholeForward) {
  Net3d net({.backbone = "unet3d", .in_channels = 1, .classes = 2, .width = 4, .levels = 3, .seed = 6});
  // A smooth volume; the network is first fitted for a few steps to label its bright half (v > 0.5) on one 16³ crop,
  // so its labels form regions rather than one class.
  Volume v = Volume::make({16, 16, 64});
  for (int64_t z = 0; z < 64; ++z)
    for (int64_t y = 0; y < 16; ++y)
      for (int64_t x = 0; x < 16; ++x) v.at(x, y, z) = static_cast<float>(std::sin(0.3 * x) + std::cos(0.2 * y + 0.1 * z));
  {
    Adam opt(net.named_parameters(), 1e-2);
    Tensor x = Tensor::empty({1, 1, 16, 16, 16});
    std::vector<int64_t> lab(4096);
    for (int64_t i = 0; i < 4096; ++i) x.data<float>()[i] = v.data[static_cast<size_t>(i + 4096 * 2)], lab[static_cast<size_t>(i)] = x.data<float>()[i] > 0.5f;
    const Tensor t = Tensor::from_labels(lab, {1, 16, 16, 16});
    for (int s = 0; s < 15; ++s) {
      Tensor loss = cross_entropy(net.forward(x).logits, t);
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  }
  net.eval();
  host_allocator_release_cache();
  host_allocator_reset_peak();
  const int64_t base = host_allocator_stats().current_bytes;
  const std::vector<float> whole = argmax(whole_forward(net, v), 2, v.voxels());
  const int64_t whole_peak = host_allocator_stats().peak_bytes - base;
  host_allocator_release_cache();
  host_allocator_reset_peak();
  const int64_t base2 = host_allocator_stats().current_bytes;
  const SlidingWindowLabels r = sliding_window_argmax(v, 2, 2, {.patch = {16, 16, 16}, .overlap = 0.5}, predictor(net, 1));
  const int64_t sw_peak = host_allocator_stats().peak_bytes - base2;
  EXPECT_EQ(r.stats.tiles, 7);  // z: tile_starts(64, 16, 0.5) = 0, 8, …, 48
  // The engine's tensors of one 16³ tile vs one 16×16×64 volume: about a quarter (the ring buffers are std::vectors,
  // counted in stats.buffer_floats: 16 slices × 3 planes + the map + one patch in and out).
  EXPECT_LT(sw_peak, whole_peak / 2) << "sliding window " << sw_peak << " B, whole " << whole_peak << " B";
  EXPECT_EQ(r.stats.buffer_floats, 16 * 3 * 256 + 4096 + 2 * 256 + 3 * 4096);
  int same = 0, ones = 0, sw_right = 0, whole_right = 0;
  for (size_t i = 0; i < whole.size(); ++i) {
    same += r.labels.data[i] == whole[i], ones += whole[i] == 1;
    const float truth = v.data[i] > 0.5f;
    sw_right += r.labels.data[i] == truth, whole_right += whole[i] == truth;
  }
  std::printf("accuracy on v > 0.5: sliding window %.3f, whole volume %.3f\n", sw_right / static_cast<double>(whole.size()),
              whole_right / static_cast<double>(whole.size()));
  EXPECT_GT(ones, static_cast<int>(whole.size() / 10));
  EXPECT_LT(ones, static_cast<int>(whole.size() * 9 / 10));
  // GroupNorm normalises over each tile instead of the volume, so labels near the class boundary move; both stay
  // about as accurate (here ~0.8 agreement, accuracies ~0.76 / ~0.80 after 15 steps).
  EXPECT_GT(same, static_cast<int>(whole.size() * 0.7)) << same << " of " << whole.size();
  EXPECT_GT(sw_right, whole_right - static_cast<int>(whole.size() / 10));
  std::printf("sliding window vs whole volume: %.1f%% of labels agree; host peak %.2f MiB vs %.2f MiB\n",
              100.0 * same / static_cast<double>(whole.size()), sw_peak / 1048576.0, whole_peak / 1048576.0);
}
