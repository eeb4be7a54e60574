// Per-case, per-structure evaluation (see evaluate.h).
#include "apps/toolkit/evaluate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "apps/toolkit/results.h"
#include "data/formats/png_io.h"
#include "data/metrics/segmentation_metrics.h"
#include "data/report/overlay.h"
#include "data/transforms/components.h"
#include "engine/autograd.h"
#include "kernels/softmax.h"

namespace seg {

std::map<std::string, double> Scores::per_case(const std::string& metric) const {
  std::map<std::string, double> r;
  const auto it = values.find(metric);
  if (it == values.end()) return r;
  for (const auto& c : cases) {
    double s = 0;
    int n = 0;
    for (const auto& st : structures) {
      const auto a = it->second.find(st);
      if (a == it->second.end()) continue;
      const auto b = a->second.find(c);
      if (b == a->second.end()) continue;
      s += b->second;
      ++n;
    }
    r[c] = n > 0 ? s / n : NAN;
  }
  return r;
}

double Scores::mean(const std::string& metric) const { return summarise(per_case(metric)).mean; }

nlohmann::json Scores::to_json() const {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [metric, by_struct] : values)
    for (const auto& [st, per] : by_struct) m[metric][st] = seg::to_json(summarise(per));
  return {{"structures", structures}, {"cases", cases}, {"metrics", m}};
}

Scores Scores::from_json(const nlohmann::json& j) {
  Scores s;
  s.structures = j.at("structures").get<std::vector<std::string>>();
  s.cases = j.at("cases").get<std::vector<std::string>>();
  for (const auto& [metric, by_struct] : j.at("metrics").items())
    for (const auto& [st, summ] : by_struct.items())
      for (const auto& [c, v] : summ.at("per_patient").items()) s.values[metric][st][c] = number_or_nan(v);
  return s;
}

std::vector<Structure> foreground_structures(int64_t classes, const std::vector<std::string>& names) {
  std::vector<Structure> r;
  for (int k = 1; k < classes; ++k)
    r.push_back({static_cast<size_t>(k) < names.size() ? names[static_cast<size_t>(k)] : "class " + std::to_string(k), {k}});
  return r;
}

namespace {
bool in_structure(const Structure& st, int k) {
  return std::find(st.classes.begin(), st.classes.end(), k) != st.classes.end();
}
}  // namespace

std::vector<uint8_t> predict_labels(const ForwardFn& forward, const SliceSet& s, int64_t batch, Device device,
                                    const std::vector<Structure>& structures,
                                    std::vector<std::array<double, 3>>* soft) {
  NoGradGuard ng;
  const int64_t P = s.pixels();
  std::vector<uint8_t> pred(static_cast<size_t>(s.slices * P));
  if (soft) soft->assign(structures.size(), {0.0, 0.0, 0.0});
  for (int64_t z0 = 0; z0 < s.slices; z0 += batch) {
    const int64_t n = std::min(batch, s.slices - z0);
    Tensor logits = forward(slice_batch(s, z0, n, device)).seg;
    SEG_CHECK(logits.dim() == 4 && logits.size(0) == n && logits.size(2) == s.height && logits.size(3) == s.width,
              "evaluation: the segmentation output must be (", n, ", K, ", s.height, ", ", s.width, ") logits");
    Tensor prob = soft ? softmax(logits, 1).to(Device::CPU).to(DType::Float32) : Tensor();
    logits = logits.to(Device::CPU).to(DType::Float32);
    const int64_t K = logits.size(1);
    const float* l = logits.data<float>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < P; ++p) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; ++k)
          if (l[(b * K + k) * P + p] > l[(b * K + best) * P + p]) best = k;
        pred[static_cast<size_t>((z0 + b) * P + p)] = static_cast<uint8_t>(best);
      }
    if (soft) {
      const float* pr = prob.data<float>();
      for (size_t si = 0; si < structures.size(); ++si)
        for (int64_t b = 0; b < n; ++b)
          for (int64_t p = 0; p < P; ++p) {
            double ps = 0;
            for (int c : structures[si].classes)
              if (c < K) ps += pr[(b * K + c) * P + p];
            const double g = in_structure(structures[si], s.labels[static_cast<size_t>((z0 + b) * P + p)]) ? 1.0 : 0.0;
            (*soft)[si][0] += ps * g;
            (*soft)[si][1] += ps;
            (*soft)[si][2] += g;
          }
    }
  }
  return pred;
}

SliceEvaluator::SliceEvaluator(const std::vector<SliceSet>& sets, std::vector<Structure> structures, SliceEvalOptions opt)
    : sets_(sets), structures_(std::move(structures)), opt_(opt) {
  SEG_CHECK(!structures_.empty(), "evaluation: no structure to evaluate");
  for (const auto& st : structures_) SEG_CHECK(!st.classes.empty(), "evaluation: structure '", st.name, "' has no class");
}

Scores SliceEvaluator::evaluate(const ForwardFn& forward, Device device) const {
  Scores sc;
  for (const auto& st : structures_) sc.structures.push_back(st.name);
  for (const SliceSet& s : sets_) {
    sc.cases.push_back(s.id);
    std::vector<std::array<double, 3>> soft;
    const std::vector<uint8_t> pred = predict_labels(forward, s, opt_.batch, device, structures_, &soft);
    const std::array<int64_t, 3> dims{s.width, s.height, s.slices};
    const int64_t P = s.pixels();
    for (size_t si = 0; si < structures_.size(); ++si) {
      const Structure& st = structures_[si];
      std::vector<uint8_t> pm(pred.size()), gm(pred.size());
      for (size_t i = 0; i < pred.size(); ++i) {
        pm[i] = in_structure(st, pred[i]);
        gm[i] = in_structure(st, s.labels[i]);
      }
      const BinaryScores v = binary_scores(pm.data(), gm.data(), dims, s.spacing);
      auto& V = sc.values;
      V["dice"][st.name][s.id] = v.dice;
      V["jaccard"][st.name][s.id] = v.jaccard;
      V["hd_mm"][st.name][s.id] = v.hd;
      V["hd95_mm"][st.name][s.id] = v.hd95;
      V["assd_mm"][st.name][s.id] = v.assd;
      const double den = soft[si][1] + soft[si][2];
      V["soft_dice"][st.name][s.id] = den > 0 ? 2.0 * soft[si][0] / den : 1.0;
      if (opt_.largest_component) {
        const std::vector<uint8_t> lcc = keep_largest_component(pm.data(), dims);
        const BinaryScores c = binary_scores(lcc.data(), gm.data(), dims, s.spacing);
        V["lcc_dice"][st.name][s.id] = c.dice;
        V["lcc_hd_mm"][st.name][s.id] = c.hd;
        V["lcc_hd95_mm"][st.name][s.id] = c.hd95;
      }
      if (opt_.slices_with_structure) {
        std::vector<uint8_t> p2, g2;
        for (int64_t z = 0; z < s.slices; ++z)
          if (std::any_of(gm.begin() + z * P, gm.begin() + (z + 1) * P, [](uint8_t x) { return x != 0; })) {
            p2.insert(p2.end(), pm.begin() + z * P, pm.begin() + (z + 1) * P);
            g2.insert(g2.end(), gm.begin() + z * P, gm.begin() + (z + 1) * P);
          }
        V["dice_slices_with_structure"][st.name][s.id] = dice_of(p2.data(), g2.data(), static_cast<int64_t>(p2.size()));
      }
    }
  }
  return sc;
}

void write_case_overlays(const std::string& dir, const SliceSet& s, const std::vector<uint8_t>& pred,
                         const Structure& st) {
  std::filesystem::create_directories(dir);
  const int64_t P = s.pixels();
  std::vector<uint8_t> pm(pred.size()), gm(pred.size());
  for (size_t i = 0; i < pred.size(); ++i) {
    pm[i] = in_structure(st, pred[i]);
    gm[i] = in_structure(st, s.labels[i]);
  }
  std::vector<int64_t> zs;
  for (int64_t z = 0; z < s.slices; ++z)
    if (std::any_of(gm.begin() + z * P, gm.begin() + (z + 1) * P, [](uint8_t x) { return x != 0; })) zs.push_back(z);
  if (zs.empty()) return;
  int64_t worst = zs[zs.size() / 2], worst_fp = -1;
  for (int64_t z = 0; z < s.slices; ++z) {
    int64_t fp = 0;
    for (int64_t p = 0; p < P; ++p) fp += pm[static_cast<size_t>(z * P + p)] && !gm[static_cast<size_t>(z * P + p)];
    if (fp > worst_fp) worst_fp = fp, worst = z;
  }
  std::vector<int64_t> pick{zs[zs.size() / 6], zs[zs.size() / 2], zs[zs.size() * 5 / 6]};
  if (std::find(pick.begin(), pick.end(), worst) == pick.end()) pick.push_back(worst);
  const int up = std::max<int64_t>(s.height, s.width) < 128 ? 4 : 2;
  for (int64_t z : pick) {
    // channel 0, rescaled to [0, 1] for display (z-scored inputs are not in [0, 1])
    std::vector<float> im(s.image.begin() + z * s.channels * P, s.image.begin() + (z * s.channels + 1) * P);
    const auto [lo, hi] = std::minmax_element(im.begin(), im.end());
    const float mn = *lo, r = std::max(*hi - *lo, 1e-6f);
    for (float& v : im) v = (v - mn) / r;
    RgbImage o = make_overlay(im.data(), gm.data() + z * P, pm.data() + z * P, static_cast<int>(s.height),
                              static_cast<int>(s.width), up);
    const std::string tag = z == worst ? "_most_false_positives" : "";
    write_png_rgb(dir + "/" + s.id + "_slice" + std::to_string(z) + tag + ".png", o.width, o.height, o.rgb);
  }
}

}  // namespace seg
