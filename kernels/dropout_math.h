// The keep/drop decision of dropout, shared by the CPU (dropout.cpp) and CUDA (dropout.cu) kernels.
// Draw i of a dropout call is uniform_at(seed, offset, i) from the engine's Philox generator (engine/rng.h), with
// i = the element index (elementwise dropout) or n·C + c (channel dropout); a value is kept when u ≥ p, so it is
// dropped with probability p and both backends, any thread layout, draw the same mask.
#pragma once
#include <cstdint>

#include "engine/hd.h"
#include "engine/rng.h"

namespace seg {

SEG_HD bool dropout_keep(double u, double p) { return u >= p; }

// Factor applied to kept values: 1/(1 − p); p = 1 drops everything.
SEG_HD double dropout_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

// Multiplier of draw i: 0 or 1/(1 − p).
SEG_HD double dropout_factor(uint64_t seed, uint64_t offset, uint64_t i, double p) {
  return dropout_keep(uniform_at(seed, offset, i), p) ? dropout_scale(p) : 0.0;
}

}  // namespace seg
