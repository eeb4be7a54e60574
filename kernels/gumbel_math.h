// Gumbel noise shared by CPU and CUDA: element i of a draw is −log(−log u_i) with u_i = uniform_at(seed, offset, i)
// from the engine's Philox generator, so both backends draw identical noise for the same generator state.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/hd.h"
#include "engine/rng.h"

namespace seg {

SEG_HD double gumbel_at(uint64_t seed, uint64_t offset, uint64_t i) { return -::log(-::log(uniform_at(seed, offset, i))); }

}  // namespace seg
