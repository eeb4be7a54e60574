// Test-time degradations of paper 2 (after Hendrycks & Dietterich's ImageNet-C), on images normalised to [0, 1]:
//   Gaussian noise: clip(x + N(0, σ²), 0, 1)       σ ∈ {0.04, 0.08, 0.12, 0.15, 0.18}
//   Gaussian blur:  clip(G_σ * x, 0, 1), in-plane   σ in pixels (scipy's gaussian_filter, see filters.h)
//   shot noise:     clip(Poisson(c·x) / c, 0, 1)    c ∈ {15, 30, 50, 100, 250} (smaller c, stronger noise)
// Key decision: noise is drawn from a counter-based stream indexed by voxel, so a degraded test set is the same
// on every machine and thread count; clipping can be turned off for images not in [0, 1].
#pragma once
#include <cstdint>

#include "data/volume.h"

namespace seg {

Volume degrade_gaussian_noise(const Volume& v, double sigma, uint64_t seed, bool clip = true);
Volume degrade_gaussian_blur(const Volume& v, double sigma_px, bool clip = true);
Volume degrade_shot_noise(const Volume& v, double c, uint64_t seed, bool clip = true);

// A Poisson(λ) draw from uniforms u (Knuth's product for λ < 30, Hörmann's PTRS transformed rejection above);
// exposed for its distribution test.
int64_t poisson_draw(double lambda, uint64_t stream, uint64_t index);

}  // namespace seg
