// 2-D slice data sets (papers 1, 2, 4, 5): each case (a patient's volume, or one 2-D image) as slices of C channels
// and H×W pixels with a class-id label map, optional weak supervision (seeds, size bounds) and optional extra
// per-slice targets; a sampler that draws augmented batches from every slice of the training cases.
// Key decisions: augmentation goes through data/transforms (augment_2d), applied to image, labels, seeds and spatial
// extras together (nearest for labels, seeds and `nearest` extras, bilinear for the image and other extras); a data
// set whose labels say left/right (`lateral`) refuses a mirror, whatever the app asks.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "apps/toolkit/batch.h"
#include "data/transforms/augment.h"
#include "data/volume.h"

namespace seg {

// An extra per-slice target. spatial: `channels` planes of H×W per slice (moved with the image by augmentation);
// otherwise `channels` numbers per slice (copied as they are).
struct SliceExtra {
  int64_t channels = 1;
  bool spatial = true;
  bool nearest = false;           // spatial maps of ids/masks: nearest-neighbour under augmentation
  std::vector<float> data;        // slices · channels (· H · W)
};

struct SliceSet {
  std::string id;                 // the case: patient, volume or image (evaluation is per case)
  int64_t slices = 0, channels = 1, height = 0, width = 0;
  int64_t classes = 2;            // K, background included
  std::array<double, 3> spacing{1, 1, 1};  // mm of the slice grid: x, y, and z between slices
  std::vector<float> image;       // slices · channels · H · W
  std::vector<uint8_t> labels;    // slices · H · W class ids in [0, K)
  // weak supervision (optional): seed class ids (0 = unlabelled pixel; k ≥ 1 = labelled as class k) and per slice
  // and class size bounds [a, b] in pixels (slices · K)
  std::vector<uint8_t> seeds;
  std::vector<std::array<double, 2>> bounds;
  std::map<std::string, SliceExtra> extra;

  int64_t pixels() const { return height * width; }
  bool has_class(int64_t z, int k) const;      // slice z contains class k
  int64_t class_area(int64_t z, int k) const;  // pixels of class k on slice z
};

// How a case volume becomes slices.
enum class Normalisation {
  None,           // intensities as they are
  MinMaxVolume,   // (v − min) / (max − min) over the whole volume, per channel (paper 1)
  ZScoreVolume,   // (v − mean) / std over the volume, per channel
  ZScoreSlice,    // (v − mean) / std per slice and channel (paper 2's ACDC)
};
Normalisation parse_normalisation(const std::string& s);  // none | minmax-volume | zscore-volume | zscore-slice
const char* normalisation_name(Normalisation n);

// Source label id → class id (labels not listed become background 0), e.g. SegTHOR heart {{2, 1}}.
using LabelMap = std::map<int, int>;

// One case: channels (one Volume each, same grid) and a label map → axial slices at height × width: normalised,
// bilinear image, nearest labels (the engine's resize ops, PyTorch's align_corners=False), labels mapped to classes.
SliceSet make_slice_set(const std::string& id, const std::vector<Volume>& channels, const Volume& labels,
                        const LabelMap& classes, int64_t num_classes, int64_t height, int64_t width,
                        Normalisation norm);

// Weak supervision (paper 1): one uniformly drawn pixel of class k per slice containing it, a disc of `diameter`
// pixels around it clipped to the class (data/transforms/weak_labels.h on the slice grid, seeded).
void add_weak_seeds(SliceSet& s, int k, uint64_t seed, double diameter = 4.0);
// Smallest and largest area of class k (pixels) over the slices of the sets that contain it.
std::array<double, 2> class_area_bounds(const std::vector<SliceSet>& sets, int k);
// Per-slice bounds of class k: [a, b] where the slice contains k, [0, 0] elsewhere (the size-loss code's rule).
void set_size_bounds(SliceSet& s, int k, const std::array<double, 2>& bounds);

// Augmentation chosen by the app: none, or data/transforms' AugmentConfig (paper 1: quarter turns + mirror + flip;
// paper 5: blur, rotation, scale, shift).
struct Augmentation {
  bool enabled = false;
  AugmentConfig config = no_augmentation();
  std::string describe() const;  // "none" or the active transforms, for the run's config and the app's header
};
Augmentation paper1_rotation_mirror_flip();  // exact 90° turns, mirror p 0.5, flip p 0.5

class SliceSampler : public Sampler {
 public:
  // lateral: the labels say left/right, so a mirror would be wrong (an error if the augmentation has one).
  SliceSampler(const std::vector<SliceSet>& sets, int64_t batch, uint64_t seed, Augmentation aug, bool lateral = false);
  int64_t steps_per_epoch() const override;
  void start_epoch(int epoch) override;  // reshuffles with (seed, epoch)
  Batch next(Device device) override;

 private:
  const std::vector<SliceSet>& sets_;
  std::vector<std::pair<int, int64_t>> index_;  // (set, slice)
  std::vector<size_t> order_;
  int64_t batch_;
  uint64_t seed_;
  Augmentation aug_;
  size_t pos_ = 0;
  int epoch_ = 0;
};

// Slices [z0, z0+n) of one case as a (n, C, H, W) float32 batch for inference.
Tensor slice_batch(const SliceSet& s, int64_t z0, int64_t n, Device device);

}  // namespace seg
