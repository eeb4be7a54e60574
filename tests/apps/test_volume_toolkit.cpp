// The toolkit's 3-D pieces: PatchSampler (batch shapes, one-hot and edge targets consistent with the class ids,
// the same batches for the same (seed, epoch), other batches for another epoch) and VolumeEvaluator (an oracle that
// reads the labels off the image scores Dice 1 on every region, also through isotropic resampling and back; the extra
// head is averaged; memory per volume is recorded; a wrong model output is a clear error).
#include <gtest/gtest.h>

#include <cmath>

#include "apps/toolkit/patch_sampler.h"
#include "apps/toolkit/volume_evaluator.h"
#include "engine/error.h"
#include "kernels/elementwise.h"
#include "kernels/shape_ops.h"

using namespace seg;

namespace {
// A case whose single image channel is its class id (so an oracle can read the labels off the image), with a box of
// NCR/NET inside ED and ET in a corner: BraTS numbering 1, 2, 4.
LoadedCase oracle_case(const std::string& id, std::array<double, 3> spacing) {
  LoadedCase lc;
  lc.info.id = lc.info.patient = id;
  Volume lab = Volume::make({20, 18, 16}, spacing);
  for (int64_t z = 0; z < 16; ++z)
    for (int64_t y = 0; y < 18; ++y)
      for (int64_t x = 0; x < 20; ++x) {
        float v = 0;
        if (x >= 4 && x < 16 && y >= 4 && y < 14 && z >= 3 && z < 13) v = 2;
        if (x >= 8 && x < 12 && y >= 7 && y < 11 && z >= 6 && z < 10) v = 1;
        if (x >= 12 && x < 16 && y >= 4 && y < 8 && z >= 3 && z < 7) v = 4;
        lab.at(x, y, z) = v;
      }
  Volume img = lab;
  for (float& v : img.data) v = v == 4 ? 3.f : v;  // the class id
  lc.images = {img};
  lc.label = lab;
  lc.has_label = true;
  return lc;
}

CaseStore oracle_store(double spacing_mm) {
  std::vector<Case3d> cases;
  for (int i = 0; i < 3; ++i)
    cases.push_back(preprocess_case(oracle_case("c" + std::to_string(i), {1, 1, 1}), brats_scheme(),
                                    {.norm = VolumeNorm::None, .spacing_mm = spacing_mm}));
  return CaseStore(std::move(cases), brats_scheme(), {.norm = VolumeNorm::None, .spacing_mm = spacing_mm});
}

// Logits 10·one-hot(round(image)) and an "edge" head of zeros.
ForwardFn oracle() {
  return [](const Tensor& x) {
    const int64_t V = x.numel() / x.size(0);
    Tensor l = Tensor::zeros({x.size(0), 4, x.size(2), x.size(3), x.size(4)});
    for (int64_t n = 0; n < x.size(0); ++n)
      for (int64_t i = 0; i < V; ++i) {
        const int k = static_cast<int>(std::lround(x.data<float>()[n * V + i]));
        l.data<float>()[(n * 4 + std::clamp(k, 0, 3)) * V + i] = 10.f;
      }
    return Outputs{l, {{"edge", Tensor::zeros({x.size(0), 1, x.size(2), x.size(3), x.size(4)})}}};
  };
}

const std::vector<Structure> kRegions{{"ET", {3}}, {"TC", {1, 3}}, {"WT", {1, 2, 3}}};
}  // namespace

TEST(PatchSampler, BatchesHoldConsistentTargetsAndAreReproducible) {
  CaseStore store = oracle_store(0);
  PatchConfig pc;
  pc.size = {8, 6, 4};
  pc.p_flip = 0.5;
  pc.intensity_scale = 0;
  pc.intensity_shift = 0;
  pc.edges = true;
  PatchSampler a(store, {0, 1, 2}, 3, 4, pc, 11), b(store, {0, 1, 2}, 3, 4, pc, 11);
  EXPECT_EQ(a.steps_per_epoch(), 4);
  a.start_epoch(1);
  b.start_epoch(1);
  const Batch x = a.next(Device::CPU), y = b.next(Device::CPU);
  EXPECT_EQ(x.image.shape(), (Shape{3, 1, 4, 6, 8}));
  EXPECT_EQ(x.target.shape(), (Shape{3, 4, 6, 8}));
  EXPECT_EQ(x.extra.at("onehot").shape(), (Shape{3, 4, 4, 6, 8}));
  EXPECT_EQ(x.extra.at("edges").shape(), (Shape{3, 1, 4, 6, 8}));
  EXPECT_EQ(x.image.to_vector(), y.image.to_vector());
  EXPECT_EQ(x.target.to_vector(), y.target.to_vector());
  // The oracle image is the class id; the target and the one-hot agree with it voxel by voxel.
  const auto img = x.image.to_vector(), t = x.target.to_vector(), oh = x.extra.at("onehot").to_vector();
  const size_t V = 4 * 6 * 8;
  for (size_t n = 0; n < 3; ++n)
    for (size_t i = 0; i < V; ++i) {
      EXPECT_EQ(img[n * V + i], t[n * V + i]);
      for (size_t k = 0; k < 4; ++k) EXPECT_EQ(oh[(n * 4 + k) * V + i], t[n * V + i] == static_cast<double>(k) ? 1.0 : 0.0);
    }
  a.start_epoch(2);
  const Batch z = a.next(Device::CPU);
  EXPECT_NE(z.image.to_vector(), x.image.to_vector());
  EXPECT_THROW(PatchSampler(store, {}, 2, 2, pc, 1), Error);
  EXPECT_THROW(PatchSampler(store, {7}, 2, 2, pc, 1), Error);
}

TEST(VolumeEvaluator, AnOracleScoresOneOnEveryRegionAlsoThroughResampling) {
  for (double spacing : {0.0, 2.0}) {
    CaseStore store = oracle_store(spacing);
    VolumeEvalOptions o;
    o.window.patch = {8, 8, 8};
    o.extra_head = "edge";
    o.extra_channels = 1;
    VolumeEvaluator ev(store, {0, 2}, kRegions, o);
    const Scores s = ev.evaluate(oracle(), Device::CPU);
    EXPECT_EQ(s.cases, (std::vector<std::string>{"c0", "c2"}));
    for (const auto& r : kRegions)
      for (const auto& c : s.cases) {
        // Native grid: exact. 2 mm: the round trip (every other voxel, then nearest with halves rounded up) moves a
        // boundary by one voxel per axis: the 4-voxel cubes of NCR and ET keep 3/4 of each side, WT much more.
        if (spacing == 0) {
          EXPECT_DOUBLE_EQ(s.values.at("dice").at(r.name).at(c), 1.0) << r.name;
          EXPECT_DOUBLE_EQ(s.values.at("hd95_mm").at(r.name).at(c), 0.0) << r.name;
        } else {
          EXPECT_GT(s.values.at("dice").at(r.name).at(c), r.name == "WT" ? 0.8 : 0.5) << r.name;
          EXPECT_LE(s.values.at("hd95_mm").at(r.name).at(c), 2.0) << r.name;
        }
        EXPECT_GT(s.values.at("soft_dice").at(r.name).at(c), 0.99) << r.name;
      }
    EXPECT_EQ(ev.memory().size(), 2u);
    EXPECT_GT(ev.memory().at("c0").at("tiles"), 0);
    const VolumeEvaluator::Prediction p = ev.predict(oracle(), Device::CPU, 0, true);
    EXPECT_EQ(p.original.dims, (std::array<int64_t, 3>{20, 18, 16}));  // back on the original grid
    ASSERT_EQ(p.extra.channels, 1);
    for (float e : p.extra.data) ASSERT_NEAR(e, 0.5f, 1e-6);  // σ(0)
  }
}

TEST(VolumeEvaluator, WrongModelOutputsAreClearErrors) {
  CaseStore store = oracle_store(0);
  VolumeEvalOptions o;
  o.window.patch = {8, 8, 8};
  VolumeEvaluator ev(store, {0}, kRegions, o);
  const ForwardFn three = [](const Tensor& x) {
    return Outputs{Tensor::zeros({x.size(0), 3, x.size(2), x.size(3), x.size(4)}), {}};
  };
  try {
    ev.evaluate(three, Device::CPU);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(1, 4, D, H, W)"), std::string::npos) << e.what();
  }
  o.extra_head = "edge";
  o.extra_channels = 1;
  VolumeEvaluator needs_edge(store, {0}, kRegions, o);
  const ForwardFn no_head = [](const Tensor& x) {
    return Outputs{Tensor::zeros({x.size(0), 4, x.size(2), x.size(3), x.size(4)}), {}};
  };
  EXPECT_THROW(needs_edge.evaluate(no_head, Device::CPU), Error);
  EXPECT_THROW(VolumeEvaluator(store, {}, kRegions, {}), Error);
  EXPECT_THROW(VolumeEvaluator(store, {0}, {{"ET", {}}}, {}), Error);
}
