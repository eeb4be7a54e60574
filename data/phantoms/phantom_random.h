// Seeded randomness for the phantoms: a splitmix64 stream per (data-set seed, patient), and a stateless normal draw
// per voxel index, so a phantom is the same on every machine and thread count.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>

namespace seg {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class PhantomRandom {
 public:
  PhantomRandom(uint64_t seed, uint64_t stream) : state_(splitmix64(seed ^ splitmix64(stream + 0x51ED270B27ull))) {}
  double uniform() { return (static_cast<double>(splitmix64(state_++) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  uint64_t state_;
};

// Standard normal for element i of stream s (Box–Muller on two hashed uniforms).
inline double phantom_normal(uint64_t s, uint64_t i) {
  const double u1 = (static_cast<double>(splitmix64(s ^ (2 * i)) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  const double u2 = (static_cast<double>(splitmix64(s ^ (2 * i + 1)) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Both normals of one Box–Muller draw for pair i of stream s (for bulk noise: half the hashes and logs).
// One hash gives both uniforms (32 bits each: tails reach 6.6 sigma, plenty for image noise).
inline std::pair<double, double> phantom_normal_pair(uint64_t s, uint64_t i) {
  const uint64_t h = splitmix64(s ^ splitmix64(i));
  const double u1 = (static_cast<double>(h >> 32) + 0.5) * (1.0 / 4294967296.0);
  const double u2 = (static_cast<double>(h & 0xFFFFFFFFull) + 0.5) * (1.0 / 4294967296.0);
  const double r = std::sqrt(-2 * std::log(u1));
  return {r * std::cos(6.283185307179586 * u2), r * std::sin(6.283185307179586 * u2)};
}

}  // namespace seg
