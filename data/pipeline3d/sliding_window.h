// Sliding-window inference over a 3-D volume with overlapping tiles and Gaussian weighting (nnU-Net's scheme), with
// memory bounded by the tile size rather than the volume's.
// Key decisions:
//  * engine-free: the network is a callback that maps one input patch (C × patch) to out_channels per-voxel values to
//    be averaged (class probabilities, edge probabilities), so data/ needs no tensors and any backend can plug in;
//  * tiles are visited in z-major order and the weighted sums live in a ring of patch_z slices: once every tile that
//    covers slice z has been added, the slice is final — it is divided by its weight sum, handed to the consumer
//    (argmax into the label map, or kept) and its ring slot is cleared. So at any moment the buffers hold
//    (out_channels + 1) · min(patch_z, nz) · ny · nx floats, plus one patch's input and one patch's outputs, whatever
//    nz is (never more than a whole-volume accumulation's out_channels · nz · ny · nx + the weights);
//  * tile starts per axis: n = ceil((size − patch) / (patch·(1 − overlap))) + 1 tiles spread evenly from 0 to
//    size − patch (nnU-Net's rule); an axis shorter than the patch gets one tile centred on it, padded with pad_value;
//  * the importance map is a Gaussian with σ = sigma_scale · patch per axis, scaled to a maximum of 1, its zeros
//    raised to its smallest positive value (nnU-Net); `gaussian = false` weights every voxel 1.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

struct SlidingWindowConfig {
  std::array<int64_t, 3> patch{64, 64, 64};  // x, y, z voxels
  double overlap = 0.5;                      // in [0, 1): the fraction of a tile its neighbour shares
  bool gaussian = true;
  double sigma_scale = 0.125;
  std::string describe() const;
};

// in: C planes of patch voxels (x fastest); out: resize to out_channels planes of patch voxels.
using PatchPredictor =
    std::function<void(const std::vector<float>& in, const std::array<int64_t, 3>& patch, std::vector<float>& out)>;
// A finished slice z: out_channels planes of nx·ny weighted means (x fastest), valid during the call only.
using SliceConsumer = std::function<void(int64_t z, const float* planes)>;

struct SlidingWindowStats {
  int64_t tiles = 0;
  int64_t buffer_floats = 0;  // ring sums + ring weights + importance map + one patch in + one patch out
  double buffer_mib() const { return static_cast<double>(buffer_floats) * 4.0 / 1048576.0; }
};

std::vector<int64_t> tile_starts(int64_t size, int64_t patch, double overlap);
std::vector<float> importance_map(const std::array<int64_t, 3>& patch, bool gaussian, double sigma_scale);

SlidingWindowStats sliding_window(const Volume& image, int64_t out_channels, const SlidingWindowConfig& cfg,
                                  const PatchPredictor& predict, const SliceConsumer& consume, float pad_value = 0.f);

// The usual use: the argmax of the first `classes` channels as a label map on the image's grid (class ids), and every
// finished slice's planes (all out_channels, e.g. edge probabilities after the classes) passed to `also` if given.
struct SlidingWindowLabels {
  Volume labels;
  SlidingWindowStats stats;
};
SlidingWindowLabels sliding_window_argmax(const Volume& image, int64_t classes, int64_t out_channels,
                                          const SlidingWindowConfig& cfg, const PatchPredictor& predict,
                                          float pad_value = 0.f, const SliceConsumer& also = {});

}  // namespace seg
