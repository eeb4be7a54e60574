// Paper 3's data: BraTS 2019 (Table 1; four MRI modalities as channels, labels 1 NCR/NET, 2 ED, 4 ET, evaluated as the
// regions ET, TC, WT) and KiTS 2019 (Table 2; CT, labels 1 kidney, 2 tumour, evaluated as kidney = kidney ∪ tumour and
// tumour), from the official layouts (BraTS 2019's HGG/LGG folders or the Decathlon's Task01_BrainTumour, whose label
// numbering is read from its dataset.json; KiTS 2019's case_XXXXX folders) or from the generated phantoms, preprocessed
// by data/pipeline3d (z-score over non-zero voxels per modality / CT clipped to [−1000, 1000] and divided by 1000;
// optional isotropic resampling) and split 80/20 by patient with a seed.
// Key decisions: phantoms are made in memory; a --data folder's cases are loaded on first use and at most
// max_memory_mb of preprocessed volumes are kept (the least recently used are dropped and reloaded later), so the
// official data sets (hundreds of volumes) fit in a desktop's memory; `phantom_noise` adds Gaussian noise (in the
// normalised units) inside the body, to make the phantoms' clean tissue contrasts less trivial to segment.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "apps/toolkit/evaluate.h"
#include "data/pipeline3d/cases3d.h"

namespace seg {

struct Paper3DataOptions {
  int table = 1;                 // 1 BraTS 2019, 2 KiTS 2019
  std::string data_dir;          // "" = phantom
  int phantom_cases = 20;
  int64_t phantom_size = 0;      // in-plane voxels of the phantom (0: BraTS 48 → 5 mm, KiTS 64 → ~6 mm)
  double phantom_noise = 0;      // σ of Gaussian noise added inside the body after normalisation
  double spacing_mm = 0;         // isotropic working spacing (0 = native grid)
  double train_fraction = 0.8;   // the paper's 80/20 split
  uint64_t seed = 0;             // phantom, noise and split
  int64_t max_memory_mb = 4096;  // preprocessed volumes kept in memory (--data)
};

struct Paper3Data {
  std::unique_ptr<CaseStore> store;
  std::vector<size_t> train, val;  // indices into the store
  std::string source;              // "phantom (…)" or "<dir> (<layout>)"
  LabelScheme scheme;
  Preprocess3d pre;
  int64_t channels = 1;
  std::vector<Structure> structures;  // the evaluated regions as unions of training classes
};

Paper3Data load_paper3_data(const Paper3DataOptions& opt);
// The scheme's regions as toolkit structures (ET = {3}, TC = {1, 3}, WT = {1, 2, 3}; kidney = {1, 2}, tumour = {2}).
std::vector<Structure> paper3_structures(const LabelScheme& scheme);

}  // namespace seg
