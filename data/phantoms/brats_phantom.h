// A BraTS-2019-like multi-modal brain MRI phantom: skull-stripped FLAIR, T1, T1ce, T2 on BraTS's 240×240×155 1-mm
// grid, with a glioma's sub-regions labelled as BraTS does (1 necrotic/non-enhancing core, 2 oedema, 4 enhancing
// tumour; WT = {1,2,4}, TC = {1,4}, ET = {4}).
// Anatomy: an ellipsoidal brain with white/grey matter from smooth noise, ventricles and sulcal CSF; a deformed
// tumour (oedema halo, enhancing rim, necrotic centre) in one hemisphere; per-modality contrasts of each tissue;
// bias field and Rician noise. Key decision: physical coordinates, so a smaller `nx` keeps the 240-mm field of view.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

struct BratsCase {
  std::array<Volume, 4> images;  // flair, t1, t1ce, t2 (BraTS file order)
  Volume labels;                 // 0, 1, 2, 4
};

BratsCase make_brats_case(uint64_t seed, int index, int64_t nx = 0);
// DIR/HGG/BraTS19_PH_XXX_1/BraTS19_PH_XXX_1_{flair,t1,t1ce,t2,seg}.nii.gz
void write_brats_phantom(const std::string& dir, int n, uint64_t seed, int64_t nx = 0);

}  // namespace seg
