// Sliding-window whole-volume evaluation (see volume_evaluator.h).
#include "apps/toolkit/volume_evaluator.h"

#include <algorithm>
#include <cmath>

#include "data/metrics/segmentation_metrics.h"
#include "engine/allocator.h"
#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/softmax.h"

namespace seg {

namespace {
bool in_structure(const Structure& st, int k) {
  return std::find(st.classes.begin(), st.classes.end(), k) != st.classes.end();
}
}  // namespace

VolumeEvaluator::VolumeEvaluator(CaseStore& store, std::vector<size_t> cases, std::vector<Structure> structures,
                                 VolumeEvalOptions opt)
    : store_(store), cases_(std::move(cases)), structures_(std::move(structures)), opt_(std::move(opt)) {
  SEG_CHECK(!cases_.empty(), "VolumeEvaluator: no case to evaluate");
  SEG_CHECK(!structures_.empty(), "VolumeEvaluator: no structure to evaluate");
  for (const auto& st : structures_) SEG_CHECK(!st.classes.empty(), "VolumeEvaluator: structure '", st.name, "' has no class");
  for (size_t c : cases_) SEG_CHECK(c < store_.size(), "VolumeEvaluator: case index ", c, " out of range");
  SEG_CHECK(opt_.extra_head.empty() == (opt_.extra_channels == 0),
            "VolumeEvaluator: extra_head and extra_channels go together");
}

VolumeEvaluator::Prediction VolumeEvaluator::predict(const ForwardFn& forward, Device device, size_t i,
                                                     bool keep_extra) const {
  const auto c = store_.get(cases_.at(i));
  const int K = store_.scheme().classes();
  const int64_t C = c->image.channels, E = opt_.extra_channels, plane = c->image.nx() * c->image.ny();
  Prediction r;
  r.id = c->id;
  r.soft.assign(structures_.size(), {0.0, 0.0, 0.0});
  if (keep_extra && E > 0) {
    r.extra = Volume::make(c->image.dims, c->image.spacing);
    r.extra.affine = c->image.affine;
    r.extra.channels = E;
    r.extra.data.assign(static_cast<size_t>(E * c->image.voxels()), 0.f);
  }
  const std::string head = opt_.extra_head;
  auto predictor = [&](const std::vector<float>& in, const std::array<int64_t, 3>& p, std::vector<float>& out) {
    NoGradGuard ng;
    Tensor x = Tensor::empty({1, C, p[2], p[1], p[0]});
    std::copy(in.begin(), in.end(), x.data<float>());
    const Outputs o = forward(x.to(device));
    SEG_CHECK(o.seg.dim() == 5 && o.seg.size(1) == K, "evaluation: the segmentation output must be (1, ", K,
              ", D, H, W) logits, got ", o.seg.describe());
    Tensor prob = softmax(o.seg, 1).to(Device::CPU).to(DType::Float32);
    out.assign(prob.data<float>(), prob.data<float>() + prob.numel());
    if (E > 0) {
      const auto it = o.heads.find(head);
      SEG_CHECK(it != o.heads.end() && it->second.size(1) == E, "evaluation: the model has no '", head, "' output with ",
                E, " channels");
      Tensor e = sigmoid(it->second).to(Device::CPU).to(DType::Float32);
      out.insert(out.end(), e.data<float>(), e.data<float>() + e.numel());
    }
  };
  auto consume = [&](int64_t z, const float* planes) {
    if (c->has_label)
      for (size_t si = 0; si < structures_.size(); ++si)
        for (int64_t q = 0; q < plane; ++q) {
          double ps = 0;
          for (int k : structures_[si].classes) ps += planes[k * plane + q];
          const double g = in_structure(structures_[si], static_cast<int>(c->label.data[static_cast<size_t>(z * plane + q)])) ? 1 : 0;
          r.soft[si][0] += ps * g;
          r.soft[si][1] += ps;
          r.soft[si][2] += g;
        }
    if (!r.extra.data.empty())
      for (int64_t e = 0; e < E; ++e)
        std::copy(planes + (K + e) * plane, planes + (K + e + 1) * plane,
                  r.extra.data.begin() + (e * c->image.nz() + z) * plane);
  };
  host_allocator_reset_peak();
  const int64_t before = host_allocator_stats().current_bytes;
  SlidingWindowLabels sw = sliding_window_argmax(c->image, K, K + E, opt_.window, predictor, c->background, consume);
  r.host_peak_bytes = host_allocator_stats().peak_bytes - before + sw.stats.buffer_floats * 4;
  r.stats = sw.stats;
  r.classes = std::move(sw.labels);
  r.original = c->has_label || !c->original_label.data.empty() ? labels_to_grid(r.classes, c->original_label) : r.classes;
  if (c->has_label) r.truth = labels_to_classes(c->original_label, store_.scheme(), c->id);
  return r;
}

Scores VolumeEvaluator::evaluate(const ForwardFn& forward, Device device) const {
  Scores sc;
  for (const auto& st : structures_) sc.structures.push_back(st.name);
  memory_.clear();
  for (size_t i = 0; i < cases_.size(); ++i) {
    const Prediction p = predict(forward, device, i);
    SEG_CHECK(!p.truth.data.empty(), "evaluation: case ", p.id, " has no label map");
    sc.cases.push_back(p.id);
    memory_[p.id] = {{"tiles", static_cast<double>(p.stats.tiles)}, {"buffer_mib", p.stats.buffer_mib()},
                     {"host_peak_mib", static_cast<double>(p.host_peak_bytes) / 1048576.0}};
    const size_t n = p.truth.data.size();
    std::vector<uint8_t> pm(n), gm(n);
    for (size_t si = 0; si < structures_.size(); ++si) {
      const Structure& st = structures_[si];
      for (size_t v = 0; v < n; ++v) {
        pm[v] = in_structure(st, static_cast<int>(p.original.data[v]));
        gm[v] = in_structure(st, static_cast<int>(p.truth.data[v]));
      }
      auto& V = sc.values;
      if (opt_.distances) {
        const BinaryScores b = binary_scores(pm.data(), gm.data(), p.truth.dims, p.truth.spacing);
        V["dice"][st.name][p.id] = b.dice;
        V["jaccard"][st.name][p.id] = b.jaccard;
        V["hd_mm"][st.name][p.id] = b.hd;
        V["hd95_mm"][st.name][p.id] = b.hd95;
        V["assd_mm"][st.name][p.id] = b.assd;
      } else {
        const double d = dice_of(pm.data(), gm.data(), static_cast<int64_t>(n));
        V["dice"][st.name][p.id] = d;
        V["jaccard"][st.name][p.id] = d / (2 - d);
      }
      const double den = p.soft[si][1] + p.soft[si][2];
      V["soft_dice"][st.name][p.id] = den > 0 ? 2.0 * p.soft[si][0] / den : 1.0;
    }
  }
  return sc;
}

}  // namespace seg
