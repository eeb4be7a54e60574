// 3-D patch batches for the trainer (paper 3; any volumetric experiment): B patches of the training cases of a
// CaseStore (data/pipeline3d), each sampled and augmented by data/pipeline3d/patches.h, as a Batch of
// image (B, C, D, H, W) float32, target (B, D, H, W) int64 class ids, extra["onehot"] (B, K, D, H, W) float32 and,
// when edge targets are on, extra["edges"] (B, E, D, H, W) float32 0/1.
// Key decisions: an epoch is a fixed number of steps (nnU-Net's rule: volumes are too large for "every voxel once");
// within an epoch the cases are visited in a shuffled order, each for a contiguous run of patches, so a store that
// keeps only a few preprocessed volumes in memory loads each case once per epoch; patch j of epoch e is drawn from
// (seed, e, j) alone, so a resumed run draws the same batches.
#pragma once
#include <cstdint>
#include <vector>

#include "apps/toolkit/batch.h"
#include "data/pipeline3d/cases3d.h"
#include "data/pipeline3d/patches.h"

namespace seg {

class PatchSampler : public Sampler {
 public:
  PatchSampler(CaseStore& store, std::vector<size_t> cases, int64_t batch, int64_t steps_per_epoch, PatchConfig patch,
               uint64_t seed);
  int64_t steps_per_epoch() const override { return steps_; }
  void start_epoch(int epoch) override;
  Batch next(Device device) override;
  std::string describe() const;

 private:
  CaseStore& store_;
  std::vector<size_t> cases_, order_;
  int64_t batch_, steps_;
  PatchConfig cfg_;
  uint64_t seed_;
  int epoch_ = 0;
  int64_t drawn_ = 0;  // patches drawn this epoch
};

}  // namespace seg
