// The one random generator of the engine: Philox-4x32-10, a counter-based generator (Salmon et al., SC'11).
// Key decision: a value is a pure function of (seed, counter), so element i of a draw is computed independently by
// any thread on the CPU or GPU and both backends draw identical numbers; a Generator only hands out counter ranges.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/hd.h"
#include "engine/tensor.h"

namespace seg {

struct Philox4 {
  uint32_t v[4];
};

SEG_HD Philox4 philox4x32_10(uint64_t key, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in (0, 1): never 0, so log(u) is finite.
SEG_HD double u32_to_unit(uint32_t x) { return (static_cast<double>(x) + 0.5) * (1.0 / 4294967296.0); }

// Element i of a uniform draw that starts at counter `offset`: four values per counter.
SEG_HD double uniform_at(uint64_t seed, uint64_t offset, uint64_t i) {
  const Philox4 r = philox4x32_10(seed, offset + i / 4);
  return u32_to_unit(r.v[i % 4]);
}

// Element i of a standard normal draw (Box–Muller on the first two words; even i takes cos, odd i sin).
SEG_HD double normal_at(uint64_t seed, uint64_t offset, uint64_t i) {
  const Philox4 r = philox4x32_10(seed, offset + i / 2);
  const double u1 = u32_to_unit(r.v[0]), u2 = u32_to_unit(r.v[1]);
  const double rad = ::sqrt(-2.0 * ::log(u1));  // qualified: seg::log(Tensor) must not be found
  const double ang = 6.283185307179586 * u2;
  return (i % 2 == 0) ? rad * ::cos(ang) : rad * ::sin(ang);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; }
  // Reserves the counters for n values and returns the first (each counter yields at least two values).
  uint64_t reserve(uint64_t n) {
    const uint64_t o = offset_;
    offset_ += n / 2 + 1;
    return o;
  }
  double uniform() { return uniform_at(seed_, reserve(1), 0); }              // (0, 1)
  double normal() { return normal_at(seed_, reserve(1), 0); }
  int64_t randint(int64_t n) { return static_cast<int64_t>(uniform() * static_cast<double>(n)) % n; }  // [0, n)

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// Fill a tensor (any device) with U(lo, hi) or N(mean, std) values drawn from `gen`.
void fill_uniform(Tensor& t, Generator& gen, double lo, double hi);
void fill_normal(Tensor& t, Generator& gen, double mean, double std);

}  // namespace seg
