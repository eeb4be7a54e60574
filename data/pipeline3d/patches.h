// Training patches of the 3-D pipeline: a crop of a preprocessed case, centred on a voxel of a random foreground class
// with probability `foreground_ratio` (else anywhere), random flips on each axis, per-channel intensity scale and shift
// (Myronenko's BraTS augmentation), with the label patch and the Sobel edge targets of its one-hot classes.
// Key decisions:
//  * every draw is a pure function of (seed, index): the same patches on every machine, thread count and resume;
//  * the foreground class is drawn uniformly among the classes the case holds, then a voxel of it (nnU-Net's
//    oversampling; small classes such as ET and KiTS tumours are seen as often as large ones);
//  * edge targets are computed on the label crop grown by one voxel on every side, then cut back, so a structure cut by
//    the patch border gets no false edge there (the zero-padded Sobel would mark one); flips come after (Sobel edges
//    commute with flips);
//  * outside the volume the image is padded with the case's background value and the labels with 0.
// Layout of every buffer: channel-major planes, x fastest (the Volume's order = a (C, D=z, H=y, W=x) tensor).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/pipeline3d/cases3d.h"

namespace seg {

struct PatchConfig {
  std::array<int64_t, 3> size{32, 32, 32};  // x, y, z voxels
  double foreground_ratio = 0.33;
  double p_flip = 0.5;                      // per axis
  double intensity_scale = 0.1;             // channel · U(1 − s, 1 + s)
  double intensity_shift = 0.1;             // + U(−b, b)
  bool edges = true;                        // compute edge targets
  bool edges_per_class = false;             // one map per foreground class (else their union)
  std::string describe() const;
};

struct Patch {
  std::array<int64_t, 3> dims{0, 0, 0};  // x, y, z
  int64_t channels = 0, edge_channels = 0;
  std::vector<float> image;     // channels × z × y × x
  std::vector<uint8_t> label;   // z × y × x class ids
  std::vector<float> edges;     // edge_channels × z × y × x, 0/1
  std::array<int64_t, 3> start{0, 0, 0};  // the crop's first voxel in the case (before flips)
  std::array<bool, 3> flipped{false, false, false};
  bool foreground = false;      // centred on a foreground voxel
};

Patch sample_patch(const Case3d& c, int classes, const PatchConfig& cfg, uint64_t seed, uint64_t index);
// The crop itself (no augmentation): image, labels and edges of the box at `start` (may lie partly outside).
Patch crop_patch(const Case3d& c, int classes, const std::array<int64_t, 3>& start, const std::array<int64_t, 3>& size,
                 bool edges, bool edges_per_class);

}  // namespace seg
