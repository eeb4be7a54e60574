// Slice sampling and exact augmentation (see slice_data.h).
#include "apps/common/slice_data.h"

#include <algorithm>
#include <numeric>

namespace seg {

bool SliceSet::has_organ(int64_t z) const {
  const auto* m = mask.data() + z * size * size;
  return std::any_of(m, m + size * size, [](uint8_t v) { return v != 0; });
}

SliceSampler::SliceSampler(const std::vector<SliceSet>& sets, int64_t batch, uint64_t seed, bool augment)
    : sets_(sets), batch_(batch), seed_(seed), augment_(augment) {
  SEG_CHECK(batch > 0, "SliceSampler: batch size must be positive");
  for (size_t i = 0; i < sets.size(); ++i)
    for (int64_t z = 0; z < sets[i].slices; ++z) index_.emplace_back(static_cast<int>(i), z);
  SEG_CHECK(!index_.empty(), "SliceSampler: no training slices");
  const int64_t S = sets[0].size;
  for (const auto& s : sets) SEG_CHECK(s.size == S, "SliceSampler: patient ", s.id, " has slice size ", s.size, ", expected ", S);
}

int64_t SliceSampler::steps_per_epoch() const { return static_cast<int64_t>(index_.size()) / batch_; }

void SliceSampler::start_epoch(int epoch) {
  epoch_ = epoch;
  order_.resize(index_.size());
  std::iota(order_.begin(), order_.end(), size_t(0));
  Generator g(seed_ ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1)));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[static_cast<size_t>(g.randint(static_cast<int64_t>(i)))]);
  pos_ = 0;
}

namespace {
// Source pixel of output (y, x) under k quarter turns, then optional mirror (x) and flip (y).
inline void transform_index(int64_t S, int k, bool mirror, bool flip, int64_t y, int64_t x, int64_t& sy, int64_t& sx) {
  if (flip) y = S - 1 - y;
  if (mirror) x = S - 1 - x;
  switch (k) {
    case 0: sy = y; sx = x; break;
    case 1: sy = x; sx = S - 1 - y; break;
    case 2: sy = S - 1 - y; sx = S - 1 - x; break;
    default: sy = S - 1 - x; sx = y; break;
  }
}
}  // namespace

Batch SliceSampler::next(Device device) {
  if (pos_ + static_cast<size_t>(batch_) > order_.size()) start_epoch(epoch_ + 1);
  const int64_t S = sets_[0].size, B = batch_, P = S * S;
  Tensor img = Tensor::empty({B, 1, S, S}), tgt = Tensor::empty({B, S, S}, DType::Int64), sd = Tensor::empty({B, S, S}),
         bd = Tensor::empty({B, 1, 2});
  Generator g(seed_ + 7919ull * static_cast<uint64_t>(epoch_) + static_cast<uint64_t>(pos_));
  for (int64_t b = 0; b < B; ++b) {
    const auto [si, z] = index_[order_[pos_++]];
    const SliceSet& s = sets_[static_cast<size_t>(si)];
    const int k = augment_ ? static_cast<int>(g.randint(4)) : 0;
    const bool mirror = augment_ && g.uniform() < 0.5, flip = augment_ && g.uniform() < 0.5;
    const float* im = s.image.data() + z * P;
    const uint8_t* m = s.mask.data() + z * P;
    const uint8_t* w = s.seeds.empty() ? nullptr : s.seeds.data() + z * P;
    float* io = img.data<float>() + b * P;
    int64_t* to = tgt.data<int64_t>() + b * P;
    float* so = sd.data<float>() + b * P;
    for (int64_t y = 0; y < S; ++y)
      for (int64_t x = 0; x < S; ++x) {
        int64_t sy, sx;
        transform_index(S, k, mirror, flip, y, x, sy, sx);
        io[y * S + x] = im[sy * S + sx];
        to[y * S + x] = m[sy * S + sx];
        so[y * S + x] = w ? static_cast<float>(w[sy * S + sx]) : 0.f;
      }
    bd.data<float>()[2 * b] = static_cast<float>(s.bounds[static_cast<size_t>(z)][0]);
    bd.data<float>()[2 * b + 1] = static_cast<float>(s.bounds[static_cast<size_t>(z)][1]);
  }
  return {img.to(device), tgt.to(device), sd.to(device), bd.to(device)};
}

Tensor slice_batch(const SliceSet& s, int64_t z0, int64_t n, Device device) {
  const int64_t P = s.size * s.size;
  SEG_CHECK(z0 >= 0 && n > 0 && z0 + n <= s.slices, "slice_batch: slices [", z0, ", ", z0 + n, ") outside patient ", s.id,
            " with ", s.slices, " slices");
  Tensor t = Tensor::empty({n, 1, s.size, s.size});
  std::copy(s.image.begin() + z0 * P, s.image.begin() + (z0 + n) * P, t.data<float>());
  return t.to(device);
}

}  // namespace seg
