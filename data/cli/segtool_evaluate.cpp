// segtool evaluate PRED_DIR GT_DIR [--labels 1,2,1+2] [-o summary.json] (declared in data/cli/commands.h).
// Scores a folder of predicted label maps against a folder of ground truths, case by case (files matched by name,
// any image extension), and writes nnU-Net's summary.json layout so existing analysis scripts read it:
//   {"metric_per_case": [{"metrics": {"1": {...}}, "prediction_file", "reference_file"}],
//    "mean": {"1": {...}}, "foreground_mean": {...}}
// with nnU-Net's keys (Dice, IoU, TP, FP, FN, TN, n_pred, n_ref) and ours beside them: Jaccard (= IoU), HD_mm,
// HD95_mm, ASSD_mm (data/metrics/segmentation_metrics.h) and the volumes volume_pred_mm3 / volume_ref_mm3.
// Key decisions: nnU-Net's conventions where they differ from segtool metrics — a label absent from both masks has
// Dice/IoU undefined (nnU-Net's NaN, written as JSON null, left out of the means) instead of 1; an undefined distance
// (one or both masks empty) is null; means are over the cases with a value, foreground_mean over the labels'
// means. A token "1+2+4" of --labels is a region (the union), keyed "(1, 2, 4)" as nnU-Net keys regions. The grids
// must agree (dims, spacing, affine), else an error names both files; every ground truth needs a prediction.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/cli/commands.h"
#include "data/formats/image_io.h"
#include "data/metrics/segmentation_metrics.h"

namespace seg::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kUsage = "segtool evaluate PRED_DIR GT_DIR [--labels 1,2,1+2] [-o summary.json]";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool label_file(const fs::path& p) {
  static const std::vector<std::string> exts{"nii", "nii.gz", "mha", "mhd", "nrrd", "nhdr", "png"};
  return fs::is_regular_file(p) && std::find(exts.begin(), exts.end(), io::extension(p.string())) != exts.end();
}

std::string case_name(const fs::path& p) {
  const std::string n = p.filename().string(), e = io::extension(p.string());
  return n.substr(0, n.size() - e.size() - 1);
}

// case name → file; two files of one case (a.nii.gz and a.mha) is an error.
std::map<std::string, std::string> list_folder(const std::string& dir, const char* what) {
  if (!fs::is_directory(dir)) throw std::runtime_error(std::string(what) + " folder " + dir + ": not a folder");
  std::map<std::string, std::string> r;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!label_file(e.path())) continue;
    const std::string c = case_name(e.path());
    if (r.count(c)) throw std::runtime_error(std::string(what) + " folder " + dir + ": case '" + c + "' has two files (" + r[c] + ", " + e.path().string() + ")");
    r[c] = e.path().string();
  }
  return r;
}

// "1,2,1+2+4" → {{1}, {2}, {1, 2, 4}}
std::vector<std::vector<int>> parse_regions(const std::string& s) {
  std::vector<std::vector<int>> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = std::min(s.find(',', start), s.size());
    const std::string tok = s.substr(start, end - start);
    std::vector<int> region;
    size_t a = 0;
    while (a <= tok.size()) {
      const size_t b = std::min(tok.find('+', a), tok.size());
      const std::string n = tok.substr(a, b - a);
      size_t used = 0;
      int v = 0;
      try {
        v = std::stoi(n, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (n.empty() || used != n.size() || v <= 0)
        throw UsageError("--labels expects positive label ids separated by commas, '+' joining a region (e.g. 1,2,1+2), got '" + s + "'");
      region.push_back(v);
      a = b + 1;
    }
    std::sort(region.begin(), region.end());
    out.push_back(region);
    start = end + 1;
  }
  return out;
}

std::string region_key(const std::vector<int>& r) {
  if (r.size() == 1) return std::to_string(r[0]);
  std::string k = "(";
  for (size_t i = 0; i < r.size(); ++i) k += (i ? ", " : "") + std::to_string(r[i]);
  return k + ")";
}

std::string dims_text(const Volume& v) {
  return std::to_string(v.nx()) + "x" + std::to_string(v.ny()) + "x" + std::to_string(v.nz());
}

// The grids must be one: same dims, spacing and affine (1e-3 mm / relative), as a viewer overlays them.
void check_same_grid(const Volume& p, const std::string& pf, const Volume& g, const std::string& gf) {
  if (p.dims != g.dims) throw std::runtime_error(pf + " is " + dims_text(p) + " but " + gf + " is " + dims_text(g) + ": not the same grid");
  if (p.channels != 1 || g.channels != 1) throw std::runtime_error((p.channels != 1 ? pf : gf) + ": a label map has one channel");
  for (int i = 0; i < 3; ++i)
    if (std::fabs(p.spacing[i] - g.spacing[i]) > 1e-3 * std::max(1.0, std::fabs(g.spacing[i])))
      throw std::runtime_error(pf + " and " + gf + " differ in spacing along axis " + std::to_string(i) + " (" +
                               io::format_double(p.spacing[i]) + " vs " + io::format_double(g.spacing[i]) + " mm)");
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      if (std::fabs(p.affine[r][c] - g.affine[r][c]) > 1e-3 * std::max(1.0, std::fabs(g.affine[r][c])))
        throw std::runtime_error(pf + " and " + gf + " differ in position/orientation (affine[" + std::to_string(r) + "][" +
                                 std::to_string(c) + "] " + io::format_double(p.affine[r][c]) + " vs " +
                                 io::format_double(g.affine[r][c]) + "): they do not overlay; resample one onto the other first");
}

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json region_metrics(const Volume& pred, const Volume& gt, const std::vector<int>& region) {
  const size_t n = static_cast<size_t>(gt.voxels());
  std::vector<uint8_t> a(n), b(n);
  int64_t tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < n; ++i) {
    const int pv = static_cast<int>(std::lround(pred.data[i])), gv = static_cast<int>(std::lround(gt.data[i]));
    a[i] = std::binary_search(region.begin(), region.end(), pv);
    b[i] = std::binary_search(region.begin(), region.end(), gv);
    tp += a[i] && b[i];
    fp += a[i] && !b[i];
    fn += !a[i] && b[i];
  }
  const int64_t tn = static_cast<int64_t>(n) - tp - fp - fn;
  const double voxel_mm3 = gt.spacing[0] * gt.spacing[1] * gt.spacing[2];
  json m;
  const bool undefined = tp + fp + fn == 0;  // absent from both: nnU-Net's NaN
  const double dice = undefined ? NAN : 2.0 * tp / static_cast<double>(2 * tp + fp + fn);
  const double iou = undefined ? NAN : tp / static_cast<double>(tp + fp + fn);
  m["Dice"] = num(dice);
  m["IoU"] = num(iou);
  m["Jaccard"] = num(iou);
  m["TP"] = tp;
  m["FP"] = fp;
  m["FN"] = fn;
  m["TN"] = tn;
  m["n_pred"] = tp + fp;
  m["n_ref"] = tp + fn;
  if (tp + fp > 0 && tp + fn > 0) {
    const BinaryScores s = binary_scores(a.data(), b.data(), gt.dims, gt.spacing);
    m["HD_mm"] = num(s.hd);
    m["HD95_mm"] = num(s.hd95);
    m["ASSD_mm"] = num(s.assd);
  } else {
    m["HD_mm"] = m["HD95_mm"] = m["ASSD_mm"] = nullptr;  // one or both masks empty: no distance
  }
  m["volume_pred_mm3"] = static_cast<double>(tp + fp) * voxel_mm3;
  m["volume_ref_mm3"] = static_cast<double>(tp + fn) * voxel_mm3;
  return m;
}

const std::vector<std::string> kMetrics{"Dice", "IoU", "Jaccard", "HD_mm", "HD95_mm", "ASSD_mm", "TP", "FP", "FN", "TN",
                                        "n_pred", "n_ref", "volume_pred_mm3", "volume_ref_mm3"};

// Mean of the finite values (null when none).
json nanmean(const std::vector<json>& v) {
  double s = 0;
  int n = 0;
  for (const auto& x : v)
    if (x.is_number()) s += x.get<double>(), ++n;
  return n ? json(s / n) : json(nullptr);
}

}  // namespace

int evaluate(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string out, labels_opt;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw UsageError("option " + a + " needs a value");
        return argv[++i];
      };
      if (a == "-o" || a == "--out") out = value();
      else if (a == "--labels") labels_opt = value();
      else if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option '" + a + "'");
      else pos.push_back(a);
    }
    if (pos.size() != 2) throw UsageError("expected PRED_DIR and GT_DIR, got " + std::to_string(pos.size()) + " folder argument(s)");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "segtool evaluate: %s\nusage: %s\n", e.what(), kUsage);
    return 2;
  }
  std::vector<std::vector<int>> regions;
  try {
    if (!labels_opt.empty()) regions = parse_regions(labels_opt);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "segtool evaluate: %s\nusage: %s\n", e.what(), kUsage);
    return 2;
  }
  if (out.empty()) out = (fs::path(pos[0]) / "summary.json").string();
  const auto preds = list_folder(pos[0], "prediction"), gts = list_folder(pos[1], "ground-truth");
  if (gts.empty()) throw std::runtime_error("ground-truth folder " + pos[1] + ": no label maps (.nii, .nii.gz, .mha, .mhd, .nrrd, .png)");
  std::vector<std::string> missing;
  for (const auto& [c, f] : gts)
    if (!preds.count(c)) missing.push_back(c);
  if (!missing.empty()) {
    std::string m;
    for (size_t i = 0; i < missing.size() && i < 10; ++i) m += (i ? ", " : "") + missing[i];
    throw std::runtime_error(std::to_string(missing.size()) + " ground-truth case(s) have no prediction in " + pos[0] + ": " + m +
                             (missing.size() > 10 ? ", ..." : ""));
  }
  const size_t ignored = preds.size() - (gts.size() - missing.size());

  // labels: given, or every non-zero label of any prediction or ground truth (read once more per case below)
  std::vector<json> per_case;
  std::map<std::string, std::vector<int>> keyed;
  for (const auto& r : regions) keyed[region_key(r)] = r;
  std::set<int> seen;
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [c, g] : gts) files.emplace_back(preds.at(c), g);
  if (regions.empty()) {
    for (const auto& [pf, gf] : files)
      for (const auto* f : {&pf, &gf}) {
        const Volume v = read_image(*f);
        for (size_t i = 0; i < static_cast<size_t>(v.voxels()); ++i)
          if (v.data[i] != 0) seen.insert(static_cast<int>(std::lround(v.data[i])));
      }
    for (int l : seen) {
      regions.push_back({l});
      keyed[std::to_string(l)] = {l};
    }
  }
  size_t k = 0;
  for (const auto& [pf, gf] : files) {
    const Volume p = read_image(pf), g = read_image(gf);
    check_same_grid(p, pf, g, gf);
    json metrics = json::object();
    for (const auto& r : regions) metrics[region_key(r)] = region_metrics(p, g, r);
    per_case.push_back({{"metrics", metrics}, {"prediction_file", pf}, {"reference_file", gf}});
    std::printf("[%zu/%zu] %s\n", ++k, files.size(), case_name(gf).c_str());
  }
  json mean = json::object(), fg = json::object();
  for (const auto& r : regions) {
    const std::string key = region_key(r);
    for (const auto& m : kMetrics) {
      std::vector<json> v;
      for (const auto& c : per_case) v.push_back(c["metrics"][key][m]);
      mean[key][m] = nanmean(v);
    }
  }
  for (const auto& m : kMetrics) {
    std::vector<json> v;
    for (const auto& r : regions) v.push_back(mean[region_key(r)][m]);
    fg[m] = nanmean(v);
  }
  json summary = {{"metric_per_case", per_case}, {"mean", mean}, {"foreground_mean", fg},
                  {"labels", [&] { json a = json::array(); for (const auto& r : regions) a.push_back(region_key(r)); return a; }()},
                  {"notes", "segtool evaluate: nnU-Net's summary.json layout; Dice/IoU null where a label is absent from "
                            "both masks, distances (mm, reference spacing) null where a mask is empty; means over the "
                            "cases with a value"}};
  const std::string text = summary.dump(2) + "\n";
  io::write_file_atomic(out, std::vector<uint8_t>(text.begin(), text.end()), false);
  std::printf("%-12s %8s %8s %10s %10s %10s\n", "label", "Dice", "IoU", "HD_mm", "HD95_mm", "ASSD_mm");
  auto cell = [](const json& v) { char b[32]; if (v.is_number()) std::snprintf(b, sizeof b, "%.4f", v.get<double>()); else std::snprintf(b, sizeof b, "n/a"); return std::string(b); };
  for (const auto& r : regions) {
    const json& m = mean[region_key(r)];
    std::printf("%-12s %8s %8s %10s %10s %10s\n", region_key(r).c_str(), cell(m["Dice"]).c_str(), cell(m["IoU"]).c_str(),
                cell(m["HD_mm"]).c_str(), cell(m["HD95_mm"]).c_str(), cell(m["ASSD_mm"]).c_str());
  }
  std::printf("%-12s %8s %8s %10s %10s %10s\n", "foreground", cell(fg["Dice"]).c_str(), cell(fg["IoU"]).c_str(),
              cell(fg["HD_mm"]).c_str(), cell(fg["HD95_mm"]).c_str(), cell(fg["ASSD_mm"]).c_str());
  std::printf("%zu case(s)%s; summary in %s\n", files.size(),
              ignored ? (", " + std::to_string(ignored) + " file(s) of the prediction folder without a ground truth ignored").c_str() : "",
              out.c_str());
  return 0;
}

}  // namespace seg::cli
