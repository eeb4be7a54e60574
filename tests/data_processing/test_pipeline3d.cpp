// The 3-D pipeline of data/pipeline3d: tile placement and the importance map, sliding-window inference (exact on a
// voxel-wise predictor, identical to a naive whole-volume accumulation, memory bounded by the patch depth), patch
// sampling (determinism, foreground centring, flips, edge targets without patch-border edges), preprocessing
// (normalisations, isotropic resampling and back), label schemes (BraTS, KiTS, the Decathlon's Task01 numbering read
// from dataset.json), region Dice, the Decathlon layout and the case store's memory limit.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/datasets/datasets.h"
#include "data/formats/nifti.h"
#include "data/phantoms/kits_phantom.h"
#include "data/pipeline3d/cases3d.h"
#include "data/pipeline3d/patches.h"
#include "data/pipeline3d/regions.h"
#include "data/pipeline3d/sliding_window.h"
#include "data/transforms/edges.h"

using namespace seg;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "segp3d_XXXXXX").string();
    if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
};

Volume ramp(std::array<int64_t, 3> d, int64_t channels = 1) {
  Volume v = Volume::make(d);
  v.channels = channels;
  v.data.resize(static_cast<size_t>(v.voxels() * channels));
  for (size_t i = 0; i < v.data.size(); ++i) v.data[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) + 0.1 * static_cast<double>(i % 7));
  return v;
}

// A case with a box of class 1 and a smaller box of class 2 inside it.
Case3d box_case(std::array<int64_t, 3> d) {
  Case3d c;
  c.id = "box";
  c.image = ramp(d, 2);
  c.label = Volume::make(d);
  c.has_label = true;
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x) {
        int k = 0;
        if (x >= 2 && x < 16 && y >= 2 && y < 13 && z >= 2 && z < 12) k = 1;
        if (x >= 7 && x < 10 && y >= 6 && y < 9 && z >= 5 && z < 8) k = 2;
        c.label.at(x, y, z) = static_cast<float>(k);
      }
  c.original_label = c.label;
  c.class_voxels.assign(2, {});
  for (size_t i = 0; i < c.label.data.size(); ++i)
    if (c.label.data[i] > 0) c.class_voxels[static_cast<size_t>(c.label.data[i]) - 1].push_back(static_cast<int32_t>(i));
  return c;
}

// A predictor whose output depends on the voxel's input and on its position in the patch (so tiles disagree).
void positional(const std::vector<float>& in, const std::array<int64_t, 3>& p, std::vector<float>& out, int64_t K) {
  const int64_t V = p[0] * p[1] * p[2];
  out.resize(static_cast<size_t>(K * V));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < V; ++i)
      out[static_cast<size_t>(k * V + i)] = std::tanh(in[static_cast<size_t>(i)] * static_cast<float>(k + 1)) + 0.01f * static_cast<float>((i * (k + 3)) % 11);
}
}  // namespace

TEST(Pipeline3d, TileStartsCoverTheAxisEvenly) {
  EXPECT_EQ(tile_starts(100, 32, 0.5), (std::vector<int64_t>{0, 14, 27, 41, 54, 68}));  // ceil(68/16) + 1 = 6 tiles
  EXPECT_EQ(tile_starts(64, 32, 0.0), (std::vector<int64_t>{0, 32}));
  EXPECT_EQ(tile_starts(32, 32, 0.5), (std::vector<int64_t>{0}));
  EXPECT_EQ(tile_starts(20, 32, 0.5), (std::vector<int64_t>{-6}));  // centred, padded
  EXPECT_THROW(tile_starts(20, 8, 1.0), std::invalid_argument);
}

TEST(Pipeline3d, ImportanceMapIsAGaussianPeakingAtOne) {
  const std::vector<float> w = importance_map({8, 6, 5}, true, 0.125);
  float mx = 0, mn = 2;
  for (float v : w) mx = std::max(mx, v), mn = std::min(mn, v);
  EXPECT_NEAR(mx, 1.0f, 0.15f);  // the centre falls between voxels on the even axes
  EXPECT_GT(mn, 0.f);
  EXPECT_FLOAT_EQ(w[0], w[7 + 8 * (5 + 6 * 4)]);  // symmetric: corner (0,0,0) = corner (7,5,4)
  // σ = 1 voxel along x (8·0.125): neighbours on the x axis through the centre differ by exp(−((i−3.5)² − (j−3.5)²)/2).
  const size_t c = static_cast<size_t>(8 * (2 + 6 * 2));
  EXPECT_NEAR(w[c + 2] / w[c + 3], std::exp(-0.5 * (1.5 * 1.5 - 0.5 * 0.5)), 1e-5);
  for (float v : importance_map({3, 3, 3}, false, 0.125)) EXPECT_EQ(v, 1.f);
}

TEST(Pipeline3d, SlidingWindowIsExactForAVoxelWisePredictor) {
  const Volume img = ramp({23, 17, 29});
  const int64_t K = 3;
  auto voxelwise = [&](const std::vector<float>& in, const std::array<int64_t, 3>& p, std::vector<float>& out) {
    const int64_t V = p[0] * p[1] * p[2];
    out.resize(static_cast<size_t>(K * V));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < V; ++i) out[static_cast<size_t>(k * V + i)] = std::sin(in[static_cast<size_t>(i)] * static_cast<float>(k + 1));
  };
  std::vector<float> got(static_cast<size_t>(K * img.voxels()));
  const int64_t plane = 23 * 17;
  const SlidingWindowStats st = sliding_window(img, K, {.patch = {8, 8, 8}, .overlap = 0.5}, voxelwise,
                                               [&](int64_t z, const float* planes) {
                                                 for (int64_t k = 0; k < K; ++k)
                                                   for (int64_t i = 0; i < plane; ++i)
                                                     got[static_cast<size_t>(k * img.voxels() + z * plane + i)] = planes[k * plane + i];
                                               });
  EXPECT_EQ(st.tiles, 5 * 4 * 7);  // tile_starts(23, 8) 5, (17, 8) 4, (29, 8) 7
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < img.voxels(); ++i)
      ASSERT_NEAR(got[static_cast<size_t>(k * img.voxels() + i)], std::sin(img.data[static_cast<size_t>(i)] * static_cast<float>(k + 1)), 2e-6);
}

TEST(Pipeline3d, SlidingWindowRingEqualsAWholeVolumeAccumulationAndStaysBounded) {
  const Volume img = ramp({13, 11, 40});
  const int64_t K = 2;
  const SlidingWindowConfig cfg{.patch = {8, 6, 6}, .overlap = 0.5};
  auto pred = [&](const std::vector<float>& in, const std::array<int64_t, 3>& p, std::vector<float>& out) { positional(in, p, out, K); };
  // Naive: every tile's weighted outputs summed over the whole volume, divided at the end.
  const int64_t V = img.voxels();
  std::vector<float> sums(static_cast<size_t>(K * V), 0.f), ws(static_cast<size_t>(V), 0.f);
  const std::vector<float> w = importance_map(cfg.patch, true, 0.125);
  for (int64_t z0 : tile_starts(40, 6, 0.5))
    for (int64_t y0 : tile_starts(11, 6, 0.5))
      for (int64_t x0 : tile_starts(13, 8, 0.5)) {
        std::vector<float> in(8 * 6 * 6), out;
        for (int64_t z = 0; z < 6; ++z)
          for (int64_t y = 0; y < 6; ++y)
            for (int64_t x = 0; x < 8; ++x) in[static_cast<size_t>(x + 8 * (y + 6 * z))] = img.at(x0 + x, y0 + y, z0 + z);
        pred(in, cfg.patch, out);
        for (int64_t z = 0; z < 6; ++z)
          for (int64_t y = 0; y < 6; ++y)
            for (int64_t x = 0; x < 8; ++x) {
              const int64_t pi = x + 8 * (y + 6 * z), gi = img.index(x0 + x, y0 + y, z0 + z);
              ws[static_cast<size_t>(gi)] += w[static_cast<size_t>(pi)];
              for (int64_t k = 0; k < K; ++k)
                sums[static_cast<size_t>(k * V + gi)] += w[static_cast<size_t>(pi)] * out[static_cast<size_t>(k * 288 + pi)];
            }
      }
  const int64_t plane = 13 * 11;
  int64_t checked = 0, last_z = -1;
  const SlidingWindowStats st = sliding_window(img, K, cfg, pred, [&](int64_t z, const float* planes) {
    EXPECT_EQ(z, last_z + 1);  // slices arrive once each, in order
    last_z = z;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < plane; ++i) {
        const size_t g = static_cast<size_t>(k * V + z * plane + i);
        ASSERT_EQ(planes[k * plane + i], sums[g] / ws[static_cast<size_t>(z * plane + i)]) << z << " " << i;
        ++checked;
      }
  });
  EXPECT_EQ(last_z, 39);
  EXPECT_EQ(checked, K * V);
  // Ring of 6 slices × (K + 1) planes + the importance map + one output slice + one patch in and out.
  EXPECT_EQ(st.buffer_floats, 6 * (K + 1) * plane + 288 + K * plane + (1 + K) * 288);
  EXPECT_LT(st.buffer_floats, K * V / 2);  // well under the whole volume's K·V sums
}

TEST(Pipeline3d, SlidingWindowArgmaxAndPadding) {
  const Volume img = ramp({5, 4, 3});  // smaller than the patch on every axis: one padded tile
  auto pred = [](const std::vector<float>& in, const std::array<int64_t, 3>& p, std::vector<float>& out) {
    const int64_t V = p[0] * p[1] * p[2];
    out.assign(static_cast<size_t>(3 * V), 0.f);
    for (int64_t i = 0; i < V; ++i) out[static_cast<size_t>((in[static_cast<size_t>(i)] > 0.3f ? 2 : in[static_cast<size_t>(i)] > -0.3f ? 1 : 0) * V + i)] = 1;
  };
  const SlidingWindowLabels r = sliding_window_argmax(img, 3, 3, {.patch = {8, 8, 8}}, pred, -9.f);
  EXPECT_EQ(r.stats.tiles, 1);
  // The ring is capped at the volume's 3 slices: 3 × (3 + 1) planes of 20, the 8³ map, one output slice, one patch.
  EXPECT_EQ(r.stats.buffer_floats, 3 * 4 * 20 + 512 + 3 * 20 + 4 * 512);
  for (size_t i = 0; i < img.data.size(); ++i)
    EXPECT_EQ(r.labels.data[i], img.data[i] > 0.3f ? 2.f : img.data[i] > -0.3f ? 1.f : 0.f);
  EXPECT_THROW(sliding_window_argmax(img, 4, 3, {}, pred), std::invalid_argument);
  auto wrong = [](const std::vector<float>&, const std::array<int64_t, 3>&, std::vector<float>& out) { out.assign(5, 0.f); };
  EXPECT_THROW(sliding_window_argmax(img, 3, 3, {.patch = {8, 8, 8}}, wrong), std::runtime_error);
}

TEST(Pipeline3d, PatchesAreDeterministicCentredAndFlippedConsistently) {
  const Case3d c = box_case({18, 15, 14});
  PatchConfig cfg{.size = {6, 6, 6}, .foreground_ratio = 1.0, .p_flip = 0.0, .intensity_scale = 0, .intensity_shift = 0};
  const Patch a = sample_patch(c, 3, cfg, 7, 3), b = sample_patch(c, 3, cfg, 7, 3), d = sample_patch(c, 3, cfg, 7, 4);
  EXPECT_EQ(a.image, b.image);
  EXPECT_EQ(a.label, b.label);
  EXPECT_TRUE(a.foreground);
  EXPECT_GT(a.label[static_cast<size_t>(3 + 6 * (3 + 6 * 3))], 0);  // the centre voxel is foreground
  EXPECT_NE(a.start, d.start);
  // Each class is the centre's class about half of the time (a random class, then a random voxel of it).
  int class2 = 0;
  PatchConfig quick = cfg;
  quick.edges = false;
  for (uint64_t i = 0; i < 200; ++i) class2 += sample_patch(c, 3, quick, 1, i).label[static_cast<size_t>(3 + 6 * (3 + 6 * 3))] == 2;
  EXPECT_GT(class2, 70);
  EXPECT_LT(class2, 130);
  // Flips: sampling with p_flip 1 equals the plain crop reversed on all three axes (image, labels and edges).
  cfg.p_flip = 1.0;
  const Patch f = sample_patch(c, 3, cfg, 7, 3);
  const Patch plain = crop_patch(c, 3, f.start, cfg.size, true, false);
  EXPECT_EQ(f.flipped, (std::array<bool, 3>{true, true, true}));
  for (int64_t z = 0; z < 6; ++z)
    for (int64_t y = 0; y < 6; ++y)
      for (int64_t x = 0; x < 6; ++x) {
        const size_t i = static_cast<size_t>(x + 6 * (y + 6 * z)), j = static_cast<size_t>((5 - x) + 6 * ((5 - y) + 6 * (5 - z)));
        EXPECT_EQ(f.label[i], plain.label[j]);
        EXPECT_EQ(f.edges[i], plain.edges[j]);
        EXPECT_EQ(f.image[216 + i], plain.image[216 + j]);  // channel 1
      }
  // Intensity: each channel scaled and shifted by one draw.
  cfg.p_flip = 0;
  cfg.intensity_scale = 0.1;
  cfg.intensity_shift = 0.1;
  const Patch g = sample_patch(c, 3, cfg, 7, 3), h = crop_patch(c, 3, g.start, cfg.size, false, false);
  for (int ch = 0; ch < 2; ++ch) {
    const size_t o = static_cast<size_t>(ch * 216);
    const double s = (g.image[o + 1] - g.image[o]) / (h.image[o + 1] - h.image[o]), b = g.image[o] - s * h.image[o];
    EXPECT_GE(s, 0.9 - 1e-4);
    EXPECT_LE(s, 1.1 + 1e-4);
    EXPECT_LE(std::abs(b), 0.1 + 1e-4);
    for (size_t i = 0; i < 216; ++i) EXPECT_NEAR(g.image[o + i], s * h.image[o + i] + b, 1e-4);
  }
}

TEST(Pipeline3d, EdgeTargetsHaveNoFalseEdgesWhereThePatchCutsAStructure) {
  const Case3d c = box_case({18, 15, 14});
  // A patch whose one-voxel margin lies inside class 1's box (x 2..15, y 2..12, z 2..11) away from class 2: no edge.
  const Patch in = crop_patch(c, 3, {12, 8, 8}, {3, 3, 3}, true, true);
  for (uint8_t l : in.label) EXPECT_EQ(l, 1);
  EXPECT_EQ(in.edge_channels, 2);
  for (float e : in.edges) EXPECT_EQ(e, 0.f);
  // A patch over the whole case: the edges equal sobel_edges of the label map (union of the foreground classes).
  const Patch all = crop_patch(c, 3, {0, 0, 0}, {18, 15, 14}, true, false);
  const Volume ref = sobel_edges(c.label, 3);
  ASSERT_EQ(all.edges.size(), ref.data.size());
  for (size_t i = 0; i < ref.data.size(); ++i) EXPECT_EQ(all.edges[i], ref.data[i]) << i;
  int n = 0;
  for (float e : all.edges) n += e > 0;
  EXPECT_GT(n, 100);
}

TEST(Pipeline3d, PreprocessingNormalisesResamplesAndMapsBack) {
  LoadedCase lc;
  lc.info.id = "c1";
  Volume a = Volume::make({8, 6, 4}, {1, 1, 2}), b = a, lab = a;
  for (size_t i = 0; i < a.data.size(); ++i) {
    a.data[i] = i % 3 ? static_cast<float>(100 + i) : 0.f;  // zeros stay zero under z-score over non-zero voxels
    b.data[i] = static_cast<float>(2 * i);
    lab.data[i] = (i % 8) < 4 ? 0.f : (i / 48 ? 4.f : 2.f);
  }
  lc.images = {a, b};
  lc.label = lab;
  lc.has_label = true;
  const Case3d c = preprocess_case(lc, brats_scheme(), {});
  EXPECT_EQ(c.image.channels, 2);
  double s = 0, s2 = 0;
  int n = 0;
  for (int64_t i = 0; i < 192; ++i)
    if (a.data[static_cast<size_t>(i)] != 0) s += c.image.data[static_cast<size_t>(i)], s2 += c.image.data[static_cast<size_t>(i)] * c.image.data[static_cast<size_t>(i)], ++n;
    else EXPECT_EQ(c.image.data[static_cast<size_t>(i)], 0.f);
  EXPECT_NEAR(s / n, 0, 1e-5);
  EXPECT_NEAR(s2 / n, 1, 1e-4);
  EXPECT_EQ(c.label.data[4], 2.f);  // raw 2 (ED) → class 2; raw 4 (ET) → class 3
  EXPECT_EQ(c.label.data[100], 3.f);
  EXPECT_EQ(c.class_voxels[0].size(), 0u);
  EXPECT_EQ(c.class_voxels[1].size() + c.class_voxels[2].size(), 96u);
  // Isotropic 2 mm: x and y halve, z keeps 4 slices; nearest labels back on the original grid are the original
  // wherever the 2-voxel blocks agree (x blocks of 4 do: 0..3 background, 4..7 foreground).
  lc.images = {a};
  Preprocess3d iso;
  iso.spacing_mm = 2;
  const Case3d r = preprocess_case(lc, brats_scheme(), iso);
  EXPECT_EQ(r.image.dims, (std::array<int64_t, 3>{4, 3, 4}));
  EXPECT_EQ(r.label.spacing, (std::array<double, 3>{2, 2, 2}));
  const Volume back = classes_to_labels(labels_to_grid(r.label, lab), brats_scheme());
  EXPECT_EQ(back.dims, lab.dims);
  // Original x = 3 sits at working x = 1.5, which rounds up to working x = 2 (original x = 4): that column takes
  // x = 4's label; every other voxel comes back exactly.
  for (int64_t z = 0; z < 4; ++z)
    for (int64_t y = 0; y < 6; ++y)
      for (int64_t x = 0; x < 8; ++x)
        EXPECT_EQ(back.at(x, y, z), lab.at(x == 3 ? 4 : x, y, z)) << x << "," << y << "," << z;
  // CT: clip to [−1000, 1000] and / 1000; the padding value is −1.
  LoadedCase ct = lc;
  ct.images = {a};
  ct.images[0].data[0] = -3000;
  ct.images[0].data[1] = 2500;
  ct.label.data.assign(ct.label.data.size(), 1.f);
  const Case3d k = preprocess_case(ct, kits_scheme(), {.norm = VolumeNorm::CtClip});
  EXPECT_FLOAT_EQ(k.image.data[0], -1.f);
  EXPECT_FLOAT_EQ(k.image.data[1], 1.f);
  EXPECT_FLOAT_EQ(k.image.data[2], 0.102f);
  EXPECT_EQ(k.background, -1.f);
  // A raw label outside the scheme is refused, naming it.
  LoadedCase bad = lc;
  bad.label.data[5] = 3;
  bad.info.label_path = "seg.nii.gz";
  try {
    preprocess_case(bad, brats_scheme(), {});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("seg.nii.gz: label value 3"), std::string::npos) << e.what();
  }
}

TEST(Pipeline3d, DecathlonTask01NumberingIsReadFromDatasetJson) {
  TempDir t;
  const fs::path j = t.path / "dataset.json";
  std::ofstream(j) << R"({"labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"}})";
  const LabelScheme s = msd_brats_scheme(j.string());
  EXPECT_EQ(s.raw_values, (std::vector<int>{0, 2, 1, 3}));  // NCR/NET ← 2, ED ← 1, ET ← 3
  EXPECT_NE(s.name.find("msd_task01"), std::string::npos);
  // The regions then hold the same tissue as BraTS's: WT = {1, 2, 3}, TC = {2, 3}, ET = {3} in Decathlon values.
  Volume gt = Volume::make({4, 1, 1}), pred = gt;
  gt.data = {1, 2, 3, 0};    // ED, NCR, ET, bg
  pred.data = {1, 1, 3, 0};  // NCR predicted as ED
  const RegionDice d = region_dice(pred, gt, s);
  EXPECT_DOUBLE_EQ(d.dice[0], 1.0);        // ET
  EXPECT_DOUBLE_EQ(d.dice[1], 2.0 / 3.0);  // TC: gt {NCR, ET}, pred {ET}
  EXPECT_DOUBLE_EQ(d.dice[2], 1.0);        // WT
  std::ofstream(j) << R"({"labels": {"0": "background", "1": "NCR/NET", "2": "edema", "4": "enhancing tumor"}})";
  EXPECT_EQ(msd_brats_scheme(j.string()).raw_values, (std::vector<int>{0, 1, 2, 4}));
  std::ofstream(j) << R"({"labels": {"0": "background", "1": "liver", "2": "tumour"}})";
  try {
    msd_brats_scheme(j.string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("1 liver"), std::string::npos) << e.what();
  }
}

TEST(Pipeline3d, RegionDiceOfBratsAndKits) {
  Volume gt = Volume::make({6, 1, 1}), pred = gt;
  gt.data = {0, 1, 2, 4, 4, 2};
  pred.data = {0, 2, 2, 4, 1, 0};
  const RegionDice b = region_dice(pred, gt, brats_scheme());
  EXPECT_DOUBLE_EQ(b.dice[0], 2.0 * 1 / 3);  // ET: gt {3, 4}, pred {3}
  EXPECT_DOUBLE_EQ(b.dice[1], 2.0 * 2 / 5);  // TC: gt {1, 3, 4}, pred {3, 4}
  EXPECT_DOUBLE_EQ(b.dice[2], 2.0 * 4 / 9);  // WT: gt {1..5}, pred {1..4}
  EXPECT_DOUBLE_EQ(b.summary, (b.dice[0] + b.dice[1] + b.dice[2]) / 3);
  gt.data = {0, 1, 1, 2, 0, 0};
  pred.data = {0, 1, 2, 2, 1, 0};
  const RegionDice k = region_dice(pred, gt, kits_scheme());
  EXPECT_DOUBLE_EQ(k.dice[0], 2.0 * 3 / 7);  // kidney = kidney ∪ tumour
  EXPECT_DOUBLE_EQ(k.dice[1], 2.0 * 1 / 3);
  const RegionTable t = summarize_regions({b, b}, brats_scheme());
  EXPECT_EQ(t.names, (std::vector<std::string>{"ET", "TC", "WT", "average"}));
  EXPECT_DOUBLE_EQ(t.summaries[3].mean, b.summary);
  EXPECT_EQ(t.summaries[3].n, 2);
  // Empty in both: 1.
  gt.data.assign(6, 0);
  pred.data.assign(6, 0);
  EXPECT_DOUBLE_EQ(region_dice(pred, gt, kits_scheme()).summary, 1.0);
}

TEST(Pipeline3d, DecathlonLayoutAndOnDemandCaseStore) {
  TempDir t;
  fs::create_directories(t.path / "imagesTr");
  fs::create_directories(t.path / "labelsTr");
  std::string train;
  for (int i = 1; i <= 3; ++i) {
    const auto [ct, gt] = make_kits_case(3, i, 24);
    const std::string id = "case_" + std::to_string(i);
    write_nifti((t.path / "imagesTr" / (id + ".nii.gz")).string(), ct);
    write_nifti((t.path / "labelsTr" / (id + ".nii.gz")).string(), gt);
    train += std::string(i > 1 ? "," : "") + R"({"image": "./imagesTr/)" + id + R"(.nii.gz", "label": "./labelsTr/)" + id + R"(.nii.gz"})";
  }
  std::ofstream(t.path / "dataset.json") << R"({"labels": {"0": "background", "1": "kidney", "2": "tumour"}, "training": [)" << train << "]}";
  const std::vector<Case> cases = list_cases("msd", t.path.string());
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(cases[0].id, "case_1");
  const Preprocess3d pre{.norm = VolumeNorm::CtClip};
  CaseStore all(cases, kits_scheme(), pre);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(all.get(i)->id, cases[i].id);
  EXPECT_EQ(all.held(), 3u);
  const int64_t one = all.get(0)->bytes();
  CaseStore lean(cases, kits_scheme(), pre, one + one / 2);  // room for one case
  const auto c0 = lean.get(0);
  lean.get(1);
  lean.get(2);
  EXPECT_EQ(lean.held(), 1u);
  EXPECT_EQ(lean.get(0)->image.data, c0->image.data);  // reloaded identically
  EXPECT_GT(c0->class_voxels[0].size(), 0u);
  std::ofstream(t.path / "dataset.json") << R"({"training": [{"image": "./imagesTr/none.nii.gz", "label": "./labelsTr/case_1.nii.gz"}]})";
  try {
    list_cases("msd", t.path.string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("none.nii.gz"), std::string::npos) << e.what();
  }
}

TEST(Pipeline3d, PhantomCasesInMemory) {
  const Case3d b = phantom_case("brats19", 1, 0, 32, brats_scheme(), {});
  EXPECT_EQ(b.image.channels, 4);
  EXPECT_EQ(b.image.dims, (std::array<int64_t, 3>{32, 32, 21}));
  EXPECT_EQ(b.id, "BraTS19_PH_000_1");
  for (size_t k = 0; k < 3; ++k) EXPECT_GT(b.class_voxels[k].size(), 0u) << "class " << k + 1;
  EXPECT_EQ(b.image.data[0], 0.f);  // outside the brain: z-score over non-zero voxels keeps 0
  Preprocess3d ct{.norm = VolumeNorm::CtClip, .spacing_mm = 8};
  const Case3d k = phantom_case("kits19", 1, 2, 48, kits_scheme(), ct);
  EXPECT_EQ(k.image.channels, 1);
  EXPECT_EQ(k.image.spacing, (std::array<double, 3>{8, 8, 8}));
  EXPECT_EQ(k.original_label.spacing[2], 3.0);  // KiTS phantom slices: 3 mm
  EXPECT_GT(k.class_voxels[0].size(), 0u);
  EXPECT_EQ(k.background, -1.f);
  EXPECT_THROW(phantom_case("acdc", 1, 0, 32, kits_scheme(), ct), std::runtime_error);
}
