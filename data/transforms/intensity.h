// Intensity normalisation of images before training: volume min–max to [0, 1] (paper 1), z-score, z-score over the
// non-zero voxels (BraTS: the skull-stripped brain only, background stays 0), CT clip-and-scale (KiTS: [−1000,
// 1000] / 1000, paper 3) and fixed per-channel mean/std (RGB with ImageNet's statistics, paper 4).
// Key decision: statistics in double over the whole volume (all channels together for min–max and CT; per channel for
// z-scores, each MRI modality on its own scale); a constant image maps to 0 instead of dividing by zero.
#pragma once
#include <vector>

#include "data/volume.h"

namespace seg {

Volume minmax_normalise(const Volume& v);                   // (x − min) / (max − min)
Volume zscore(const Volume& v);                             // per channel (x − mean) / std (population std)
Volume zscore_nonzero(const Volume& v);                     // per channel, stats over x ≠ 0; zeros stay 0
Volume ct_clip_scale(const Volume& v, double lo, double hi, double divisor);  // clamp(x, lo, hi) / divisor
// Per channel c: (x / divisor − mean[c]) / std[c] — torchvision's ToTensor (8-bit: divisor 255) then Normalize.
// mean and std hold one value per channel; std > 0.
Volume normalise_mean_std(const Volume& v, const std::vector<double>& mean, const std::vector<double>& std,
                          double divisor = 255.0);
// ImageNet's RGB statistics (torchvision), paper 4's input normalisation.
inline const std::vector<double> kImageNetMean{0.485, 0.456, 0.406};
inline const std::vector<double> kImageNetStd{0.229, 0.224, 0.225};

}  // namespace seg
