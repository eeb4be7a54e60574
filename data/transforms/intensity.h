// Intensity normalisation of images before training: volume min–max to [0, 1] (paper 1), z-score, z-score over the
// non-zero voxels (BraTS: the skull-stripped brain only, background stays 0) and CT clip-and-scale (KiTS: [−1000,
// 1000] / 1000, paper 3).
// Key decision: statistics in double over the whole volume (all channels together for min–max and CT; per channel for
// z-scores, each MRI modality on its own scale); a constant image maps to 0 instead of dividing by zero.
#pragma once
#include "data/volume.h"

namespace seg {

Volume minmax_normalise(const Volume& v);                   // (x − min) / (max − min)
Volume zscore(const Volume& v);                             // per channel (x − mean) / std (population std)
Volume zscore_nonzero(const Volume& v);                     // per channel, stats over x ≠ 0; zeros stay 0
Volume ct_clip_scale(const Volume& v, double lo, double hi, double divisor);  // clamp(x, lo, hi) / divisor

}  // namespace seg
