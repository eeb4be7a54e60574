// 3-D patch batches (see patch_sampler.h).
#include "apps/toolkit/patch_sampler.h"

#include <algorithm>
#include <sstream>

#include "data/phantoms/phantom_random.h"
#include "engine/error.h"

namespace seg {

PatchSampler::PatchSampler(CaseStore& store, std::vector<size_t> cases, int64_t batch, int64_t steps, PatchConfig patch,
                           uint64_t seed)
    : store_(store), cases_(std::move(cases)), batch_(batch), steps_(steps), cfg_(patch), seed_(seed) {
  SEG_CHECK(!cases_.empty(), "PatchSampler: no training case");
  SEG_CHECK(batch_ > 0 && steps_ > 0, "PatchSampler: batch (", batch_, ") and steps per epoch (", steps_, ") must be positive");
  for (size_t c : cases_) SEG_CHECK(c < store_.size(), "PatchSampler: case index ", c, " out of range");
  order_ = cases_;
}

void PatchSampler::start_epoch(int epoch) {
  epoch_ = epoch;
  drawn_ = 0;
  order_ = cases_;
  uint64_t s = splitmix64(seed_ * 0x9E37ull + static_cast<uint64_t>(epoch));
  for (size_t i = order_.size(); i > 1; --i) {
    s = splitmix64(s);
    std::swap(order_[i - 1], order_[static_cast<size_t>(s % i)]);
  }
}

Batch PatchSampler::next(Device device) {
  const LabelScheme& scheme = store_.scheme();
  const int K = scheme.classes();
  const int64_t total = steps_ * batch_;
  const auto& P = cfg_.size;
  const int64_t V = P[0] * P[1] * P[2];
  std::vector<Patch> patches;
  for (int64_t b = 0; b < batch_; ++b) {
    const int64_t j = drawn_ % total;
    const size_t which = order_[static_cast<size_t>(j * static_cast<int64_t>(order_.size()) / total)];
    const auto c = store_.get(which);
    SEG_CHECK(c->has_label, "PatchSampler: training case ", c->id, " has no label map");
    patches.push_back(sample_patch(*c, K, cfg_, seed_ ^ (static_cast<uint64_t>(epoch_) << 40), static_cast<uint64_t>(j)));
    ++drawn_;
  }
  const int64_t C = patches[0].channels, E = patches[0].edge_channels;
  Batch out;
  Tensor x = Tensor::empty({batch_, C, P[2], P[1], P[0]});
  Tensor onehot = Tensor::zeros({batch_, K, P[2], P[1], P[0]});
  Tensor edges = E > 0 ? Tensor::empty({batch_, E, P[2], P[1], P[0]}) : Tensor();
  std::vector<int64_t> lab(static_cast<size_t>(batch_ * V));
  for (int64_t b = 0; b < batch_; ++b) {
    const Patch& p = patches[static_cast<size_t>(b)];
    SEG_CHECK(p.channels == C, "PatchSampler: case channels differ within a batch (", p.channels, " vs ", C, ")");
    std::copy(p.image.begin(), p.image.end(), x.data<float>() + b * C * V);
    float* oh = onehot.data<float>() + b * K * V;
    for (int64_t i = 0; i < V; ++i) {
      const uint8_t k = p.label[static_cast<size_t>(i)];
      oh[k * V + i] = 1.f;
      lab[static_cast<size_t>(b * V + i)] = k;
    }
    if (E > 0) std::copy(p.edges.begin(), p.edges.end(), edges.data<float>() + b * E * V);
  }
  out.image = x.to(device);
  out.target = Tensor::from_labels(lab, {batch_, P[2], P[1], P[0]}).to(device);
  out.extra["onehot"] = onehot.to(device);
  if (E > 0) out.extra["edges"] = edges.to(device);
  return out;
}

std::string PatchSampler::describe() const {
  std::ostringstream s;
  s << batch_ << " × " << cfg_.describe() << ", " << steps_ << " steps per epoch over " << cases_.size() << " cases";
  return s.str();
}

}  // namespace seg
