// The 3-D pipeline's cases (the toolkit's volumetric extension point; used by paper 3's app and reusable by any 3-D
// experiment): label schemes (raw label values → training classes, the evaluated regions), per-case preprocessing
// (modalities as channels, intensity normalisation, optional isotropic resampling) and the way back to the original
// grid, and a store that keeps preprocessed cases in memory or reloads them on demand.
// Key decisions:
//  * training classes are mutually exclusive ids 0..K−1 (softmax); regions (BraTS WT/TC/ET, KiTS kidney/tumour) are
//    unions of classes, evaluated on the original grid against the original raw labels;
//  * the Medical Segmentation Decathlon's copy of BraTS (Task01_BrainTumour) numbers its labels 1 oedema, 2 non-
//    enhancing tumour, 3 enhancing tumour where BraTS 2019 has 1 NCR/NET, 2 ED, 4 ET: msd_brats_scheme() reads the
//    names in dataset.json and maps them onto BraTS's classes, so both give the same WT/TC/ET;
//  * normalisation happens on the native grid, before resampling (z-score over non-zero voxels keeps the background
//    0; CT is clipped then scaled), so resampling never mixes unnormalised values;
//  * predictions go back to the original grid by nearest-neighbour resampling of the label map (one byte a voxel,
//    no class-probability volume at the original resolution).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/datasets/datasets.h"
#include "data/volume.h"

namespace seg {

struct LabelScheme {
  std::string name;                      // "brats19", "msd_task01 (as BraTS)", "kits19"
  std::vector<int> raw_values;           // raw label value of training class k (k = 0: background)
  std::vector<std::string> class_names;  // per class
  struct Region {
    std::string name;
    std::vector<int> classes;            // training classes whose union is the region
  };
  std::vector<Region> regions;           // evaluated, in the paper's table order
  std::string summary;                   // the mean of the regions' Dice: "average" (BraTS) / "composite" (KiTS)
  int classes() const { return static_cast<int>(raw_values.size()); }
  std::string describe() const;          // "0 bg, 1 NCR/NET (raw 1), …; regions WT = {…} …"
};
LabelScheme brats_scheme();              // raw 0, 1 NCR/NET, 2 ED, 4 ET; regions ET {4}, TC {1, 4}, WT {1, 2, 4}
LabelScheme kits_scheme();               // raw 0, 1 kidney, 2 tumour; regions kidney {1, 2}, tumour {2}
// From a Decathlon dataset.json's "labels" (names matched: "edema"/"oedema" → ED, "non-enhancing"/"necrotic" →
// NCR/NET, "enhancing" → ET); a BraTS-numbered dataset.json (1 NCR, 2 ED, 4 ET) gives brats_scheme(). Throws, naming
// the file and the labels found, when neither matches.
LabelScheme msd_brats_scheme(const std::string& dataset_json);

enum class VolumeNorm { ZScoreNonzero, CtClip, None };
struct Preprocess3d {
  VolumeNorm norm = VolumeNorm::ZScoreNonzero;
  double ct_lo = -1000, ct_hi = 1000, ct_divisor = 1000;  // KiTS (paper 3)
  double spacing_mm = 0;                                  // isotropic working spacing; 0 = keep the native grid
  std::string describe() const;
};

struct Case3d {
  std::string id;
  Volume image;           // C channels on the working grid, normalised
  Volume label;           // training class ids on the working grid (empty data: no label)
  Volume original_label;  // raw label values on the original grid
  bool has_label = false;
  std::vector<std::vector<int32_t>> class_voxels;  // working-grid voxel indices of each class k ≥ 1 (patch sampling)
  float background = 0;   // the image value outside the body after normalisation (BraTS 0, CT −1), for padding
  int64_t bytes() const;
};

// A phantom case made in memory (no files): "brats19" (4 modalities, labels 1/2/4) or "kits19" (CT, labels 1/2), at
// in-plane size `size` (0 = the data set's native grid; data/phantoms), preprocessed like a loaded one.
Case3d phantom_case(const std::string& dataset, uint64_t seed, int index, int64_t size, const LabelScheme& scheme,
                    const Preprocess3d& p);

// Modalities as channels (one C-channel image, or several 1-channel images on one grid), labels mapped to classes
// (an unknown raw value is an error naming the file), normalised, resampled.
Case3d preprocess_case(const LoadedCase& c, const LabelScheme& scheme, const Preprocess3d& p);
// Raw label values → class ids (throws for a value outside the scheme) and back.
Volume labels_to_classes(const Volume& raw, const LabelScheme& scheme, const std::string& name);
Volume classes_to_labels(const Volume& classes, const LabelScheme& scheme);
// A label map on `grid`'s voxel grid (dims, spacing, affine) by nearest-neighbour sampling of `labels`, whose grid
// must cover the same field of view with the same first voxel (what resample_to_spacing produces).
Volume labels_to_grid(const Volume& labels, const Volume& grid);
// The voxel axis (0, 1, 2) that runs most along world z (the axial slicing axis; KiTS stores slices on axis 0).
int axial_axis(const Volume& v);

// Preprocessed cases by index, loaded (and preprocessed) on first use; at most `max_bytes` of them are kept (the
// least recently used go first; 0 = keep all). Thread-safe.
class CaseStore {
 public:
  CaseStore(std::vector<Case> cases, LabelScheme scheme, Preprocess3d pre, int64_t max_bytes = 0);
  // Cases already in memory (phantoms made in memory, tests).
  CaseStore(std::vector<Case3d> cases, LabelScheme scheme, Preprocess3d pre);
  size_t size() const { return ids_.size(); }
  const std::string& id(size_t i) const { return ids_[i]; }
  std::shared_ptr<const Case3d> get(size_t i);
  const LabelScheme& scheme() const { return scheme_; }
  const Preprocess3d& preprocess() const { return pre_; }
  int64_t in_channels();  // of case 0
  size_t held();          // cases in memory now

 private:
  std::vector<Case> cases_;
  std::vector<std::string> ids_;
  LabelScheme scheme_;
  Preprocess3d pre_;
  int64_t max_bytes_;
  std::mutex mu_;
  std::map<size_t, std::shared_ptr<const Case3d>> held_;
  std::vector<size_t> lru_;  // most recent last
};

}  // namespace seg
