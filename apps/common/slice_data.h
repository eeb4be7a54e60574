// 2-D slice data for training on 3-D volumes (papers 1, 2, 5): each patient's axial slices, normalised and resized
// to the training size, with the target mask, the weak seed mask and the size bounds of every slice; batches are drawn
// from all slices of all training patients and augmented on the fly.
// Key decision: augmentation is exact (90° rotations, mirroring, flipping: no interpolation of labels or seeds) and
// applied to image, mask and seeds together, as the paper's offline rotation/mirroring/flipping.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace seg {

struct SliceSet {
  std::string id;                  // patient id
  int64_t size = 0, slices = 0;    // S (slices are S×S) and their count
  std::array<double, 3> spacing{}; // mm of the slice grid: x and y at size S, z as the volume
  std::vector<float> image;        // slices·S·S in [0, 1]
  std::vector<uint8_t> mask;       // full ground truth of the target organ (0/1)
  std::vector<uint8_t> seeds;      // weak labels (0/1)
  std::vector<std::array<double, 2>> bounds;  // per slice [a, b] for the size constraint ([0, 0] without the organ)
  bool has_organ(int64_t z) const;
};

struct Batch {
  Tensor image;     // (B, 1, S, S) float32
  Tensor target;    // (B, S, S) int64 class ids (full supervision)
  Tensor seeds;     // (B, S, S) float32 0/1 (weak supervision)
  Tensor bounds;    // (B, 1, 2) float32 size bounds of the foreground class
};

class SliceSampler {
 public:
  SliceSampler(const std::vector<SliceSet>& sets, int64_t batch, uint64_t seed, bool augment);
  int64_t steps_per_epoch() const;
  void start_epoch(int epoch);        // reshuffles with (seed, epoch): a resumed run draws the same batches
  Batch next(Device device);          // the next batch of the epoch
 private:
  const std::vector<SliceSet>& sets_;
  std::vector<std::pair<int, int64_t>> index_;  // (set, slice)
  std::vector<size_t> order_;
  int64_t batch_;
  uint64_t seed_;
  bool augment_;
  size_t pos_ = 0;
  int epoch_ = 0;
};

// Stacks slices [z0, z0+n) of one patient into a (n, 1, S, S) batch for inference.
Tensor slice_batch(const SliceSet& s, int64_t z0, int64_t n, Device device);

}  // namespace seg
