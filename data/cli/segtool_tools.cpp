// segtool metrics | phantom | pseudo | edt | edges | contour | weak | degrade (declared in data/cli/commands.h).
// Key decision: every command reads and writes through read_image/write_image (format by extension, geometry kept),
// parses its options strictly (an unknown option or a missing value is exit 2 with the usage line), and reports
// infinite distances (one mask empty) as null in JSON and "inf" in text, never as 0.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "data/cli/commands.h"
#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/metrics/label_metrics.h"
#include "data/phantoms/phantoms.h"
#include "data/transforms/degrade.h"
#include "data/transforms/deform.h"
#include "data/transforms/distance_maps.h"
#include "data/transforms/edges.h"
#include "data/transforms/weak_labels.h"

namespace seg::cli {

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Positional arguments and --key value / --flag options; `flags` take no value.
struct Args {
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;

  Args(int argc, char** argv, const std::set<std::string>& with_value, const std::set<std::string>& flags) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
        if (flags.count(a)) opt[a] = "1";
        else if (with_value.count(a)) {
          if (i + 1 >= argc) throw UsageError("option " + a + " needs a value");
          opt[a] = argv[++i];
        } else throw UsageError("unknown option '" + a + "'");
      } else pos.push_back(a);
    }
  }
  bool has(const std::string& k) const { return opt.count(k) > 0; }
  double num(const std::string& k, double def) const {
    if (!has(k)) return def;
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(opt.at(k), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != opt.at(k).size() || !std::isfinite(v)) throw UsageError(k + " expects a number, got '" + opt.at(k) + "'");
    return v;
  }
  int64_t integer(const std::string& k, int64_t def) const {
    const double v = num(k, static_cast<double>(def));
    if (v != std::floor(v)) throw UsageError(k + " expects an integer, got '" + opt.at(k) + "'");
    return static_cast<int64_t>(v);
  }
};

// Runs body; usage errors → exit 2 with the usage line, other errors → exit 1.
template <class F>
int guarded(const char* name, const char* usage, F&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "segtool %s: %s\nusage: %s\n", name, e.what(), usage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "segtool %s: %s\n", name, e.what());
    return 1;
  }
}

void need_positional(const Args& a, size_t n) {
  if (a.pos.size() != n) throw UsageError("expected " + std::to_string(n) + " file arguments, got " + std::to_string(a.pos.size()));
}

// "a,b,c" → {"a", "b", "c"} (empty fields kept, so "1,,2" is reported as malformed by the caller)
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = s.find(',', start)) != std::string::npos; start = end + 1) out.push_back(s.substr(start, end - start));
  out.push_back(s.substr(start));
  return out;
}

// The whole of tok as an int or double: false for empty, partly numeric or out-of-range text.
template <class T>
bool parse_whole(const std::string& tok, T& out) {
  size_t used = 0;
  try {
    if constexpr (std::is_same_v<T, int>) out = std::stoi(tok, &used);
    else out = std::stod(tok, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used > 0 && used == tok.size();
}

std::vector<int> parse_labels(const std::string& s) {
  std::vector<int> out;
  for (const std::string& tok : split_commas(s)) {
    int v = 0;
    if (!parse_whole(tok, v)) throw UsageError("--labels expects integers separated by commas, got '" + s + "'");
    out.push_back(v);
  }
  return out;
}

std::string text_num(double v) {
  if (std::isinf(v)) return "inf";
  char b[64];
  std::snprintf(b, sizeof b, "%.6f", v);
  return b;
}

}  // namespace

int metrics(int argc, char** argv) {
  const char* usage = "segtool metrics PRED GT [--labels 1,2] [--dataset NAME] [--json]";
  return guarded("metrics", usage, [&] {
    Args a(argc, argv, {"--labels", "--dataset"}, {"--json"});
    need_positional(a, 2);
    // The label set both maps must use (--dataset: that data set's; otherwise integers >= 0), checked as the loaders
    // do, and the grid (dims, spacing, affine) they must share, each error naming the file(s).
    std::map<int, std::string> allowed;
    if (a.has("--dataset")) {
      try {
        allowed = dataset_labels(a.opt.at("--dataset"));
      } catch (const std::exception& e) {
        throw UsageError(std::string("--dataset: ") + e.what());
      }
    }
    const Volume pred = read_image(a.pos[0]), gt = read_image(a.pos[1]);
    const auto check_map = [&](const Volume& v, const std::string& file) {
      if (v.channels != 1)
        throw std::runtime_error(file + ": a label map must have one channel, it has " + std::to_string(v.channels));
      check_label_values(v, file, allowed);
    };
    check_map(pred, a.pos[0]);
    check_map(gt, a.pos[1]);
    check_same_grid(gt, a.pos[1] + " (ground truth)", pred, a.pos[0] + " (prediction)");
    const std::vector<int> labels = a.has("--labels") ? parse_labels(a.opt.at("--labels")) : std::vector<int>{};
    for (int l : labels)
      if (!allowed.empty() && !allowed.count(l))
        throw UsageError("--labels: " + std::to_string(l) + " is not a " + a.opt.at("--dataset") + " label (" +
                         label_set_text(allowed) + ")");
    std::map<int, std::string> wanted;  // the requested labels, or the data set's foreground labels
    for (int l : labels) wanted[l] = allowed.count(l) ? allowed.at(l) : "";
    if (labels.empty()) wanted = allowed;
    const std::vector<int> missing = absent_labels(gt, wanted);
    for (int l : missing)
      io::warn(a.pos[1] + ": the ground truth has no voxel of label " + std::to_string(l) +
               (wanted[l].empty() ? "" : " (" + wanted[l] + ")") + " (Dice is 1 if the prediction has none either, else 0)");
    const auto scores = label_scores(pred, gt, labels);
    if (a.has("--json")) {
      std::cout << scores_json(scores).dump(2) << "\n";
    } else {
      std::printf("spacing %.6g x %.6g x %.6g mm (ground truth's)\n", gt.spacing[0], gt.spacing[1], gt.spacing[2]);
      std::printf("%-6s %10s %10s %12s %12s %12s\n", "label", "dice", "jaccard", "hd_mm", "hd95_mm", "assd_mm");
      for (const auto& [l, s] : scores)
        std::printf("%-6d %10.6f %10.6f %12s %12s %12s\n", l, s.dice, s.jaccard, text_num(s.hd).c_str(), text_num(s.hd95).c_str(),
                    text_num(s.assd).c_str());
      std::printf("(both masks empty: dice 1, distances 0; one empty: dice 0, distances inf)\n");
    }
    return 0;
  });
}

int phantom(int argc, char** argv) {
  const char* usage = "segtool phantom NAME OUTDIR [--patients N] [--seed S] [--size S]";
  return guarded("phantom", usage, [&] {
    Args a(argc, argv, {"--patients", "--seed", "--size"}, {});
    need_positional(a, 2);
    const int64_t n = a.integer("--patients", 10), seed = a.integer("--seed", 0), size = a.integer("--size", 0);
    if (n < 1 || seed < 0 || size < 0) throw UsageError("--patients must be >= 1, --seed and --size >= 0");
    write_phantom(a.pos[0], a.pos[1], static_cast<int>(n), static_cast<uint64_t>(seed), size);
    std::printf("wrote %lld %s phantom case(s) to %s\n", static_cast<long long>(n), a.pos[0].c_str(), a.pos[1].c_str());
    return 0;
  });
}

namespace {
// "1:2,2:4,3:0" → {1→2, 2→4, 3→0}
std::map<int, int> parse_label_map(const std::string& s) {
  std::map<int, int> m;
  for (const std::string& tok : split_commas(s)) {
    const size_t colon = tok.find(':');
    int from = 0, to = 0;
    if (colon == std::string::npos || !parse_whole(tok.substr(0, colon), from) || !parse_whole(tok.substr(colon + 1), to))
      throw UsageError("--map expects FROM:TO pairs separated by commas (e.g. 1:2,2:4,3:0), got '" + s + "'");
    m[from] = to;
  }
  return m;
}
}  // namespace

int pseudo(int argc, char** argv) {
  const char* usage =
      "segtool pseudo IMAGE LABELS OUTDIR [--patients N] [--seed S] [--map 1:2,2:4] [--spacing X,Y,Z] "
      "[--elastic-mm E] [--rotate-deg R] [--scale F] [--noise-sd N]";
  return guarded("pseudo", usage, [&] {
    Args a(argc, argv, {"--patients", "--seed", "--map", "--spacing", "--elastic-mm", "--rotate-deg", "--scale", "--noise-sd"}, {});
    need_positional(a, 3);
    const int64_t n = a.integer("--patients", 10), seed = a.integer("--seed", 0);
    if (n < 1 || n > 99 || seed < 0) throw UsageError("--patients must be in [1, 99] and --seed >= 0");
    DeformConfig cfg;
    cfg.elastic_mm = a.num("--elastic-mm", cfg.elastic_mm);
    cfg.rotate_deg = a.num("--rotate-deg", cfg.rotate_deg);
    cfg.scale = cfg.scale_z = a.num("--scale", cfg.scale);
    cfg.noise_sd = a.num("--noise-sd", cfg.noise_sd);
    if (cfg.elastic_mm < 0 || cfg.rotate_deg < 0 || cfg.scale < 0 || cfg.scale >= 0.5 || cfg.noise_sd < 0)
      throw UsageError("--elastic-mm, --rotate-deg, --noise-sd must be >= 0 and --scale in [0, 0.5)");
    std::array<double, 3> spacing{0, 0, 2.5};  // SegTHOR-like slices; in-plane spacing kept
    if (a.has("--spacing")) {
      std::vector<double> v;
      const std::string s = a.opt.at("--spacing");
      for (const std::string& tok : split_commas(s)) {
        double x = 0;
        if (!parse_whole(tok, x) || !std::isfinite(x)) throw UsageError("--spacing expects X,Y,Z in mm, got '" + s + "'");
        v.push_back(x);
      }
      if (v.size() != 3) throw UsageError("--spacing expects three values X,Y,Z (0 keeps the source's), got '" + s + "'");
      spacing = {v[0], v[1], v[2]};
    }
    const Volume image = read_image(a.pos[0]);
    Volume labels = read_image(a.pos[1]);
    if (image.dims != labels.dims)
      throw std::runtime_error(a.pos[1] + ": label grid " + std::to_string(labels.nx()) + "x" + std::to_string(labels.ny()) + "x" +
                               std::to_string(labels.nz()) + " differs from the image grid of " + a.pos[0] + " (" +
                               std::to_string(image.nx()) + "x" + std::to_string(image.ny()) + "x" + std::to_string(image.nz()) + ")");
    if (a.has("--map")) {
      const auto m = parse_label_map(a.opt.at("--map"));
      for (float& v : labels.data) {
        const auto it = m.find(static_cast<int>(std::lround(v)));
        if (it != m.end()) v = static_cast<float>(it->second);
      }
    }
    labels.datatype = "uint8";
    for (float v : labels.data)
      if (v < 0 || v > 255) throw std::runtime_error(a.pos[1] + ": label " + std::to_string(v) + " does not fit uint8 after --map");
    for (int64_t i = 0; i < n; ++i) {
      const auto [img, lab] = deform_case(image, labels, cfg, draw_deform(cfg, static_cast<uint64_t>(seed), static_cast<uint64_t>(i)), spacing);
      char id[32];
      std::snprintf(id, sizeof id, "Patient_%02lld", static_cast<long long>(i + 1));
      const std::filesystem::path dir = std::filesystem::path(a.pos[2]) / "train" / id;
      std::filesystem::create_directories(dir);
      write_image((dir / (std::string(id) + ".nii.gz")).string(), img);
      write_image((dir / "GT.nii.gz").string(), lab);
      std::printf("%s: %lldx%lldx%lld at %.3gx%.3gx%.3g mm\n", id, static_cast<long long>(img.nx()), static_cast<long long>(img.ny()),
                  static_cast<long long>(img.nz()), img.spacing[0], img.spacing[1], img.spacing[2]);
    }
    std::printf("wrote %lld pseudo-patient(s) in SegTHOR's layout to %s/train\n", static_cast<long long>(n), a.pos[2].c_str());
    return 0;
  });
}

int edt(int argc, char** argv) {
  const char* usage = "segtool edt MASK OUT [--variant D1|D2|D3] [--label L] [--per-slice] [--normalise]";
  return guarded("edt", usage, [&] {
    Args a(argc, argv, {"--variant", "--label"}, {"--per-slice", "--normalise"});
    need_positional(a, 2);
    DistanceVariant var = DistanceVariant::D1;
    try {
      if (a.has("--variant")) var = parse_distance_variant(a.opt.at("--variant"));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    const Volume m = read_image(a.pos[0]);
    write_image(a.pos[1], distance_map(m, var, static_cast<int>(a.integer("--label", -1)), a.has("--per-slice"), a.has("--normalise")));
    return 0;
  });
}

int edges(int argc, char** argv) {
  const char* usage = "segtool edges LABELS OUT [--classes K]";
  return guarded("edges", usage, [&] {
    Args a(argc, argv, {"--classes"}, {});
    need_positional(a, 2);
    const Volume l = read_image(a.pos[0]);
    int64_t k = a.integer("--classes", 0);
    if (k == 0)
      for (float v : l.data) k = std::max<int64_t>(k, std::lround(v) + 1);
    write_image(a.pos[1], sobel_edges(l, static_cast<int>(std::max<int64_t>(k, 1))));
    return 0;
  });
}

int contour(int argc, char** argv) {
  const char* usage = "segtool contour MASK OUT [--radius R] [--label L]";
  return guarded("contour", usage, [&] {
    Args a(argc, argv, {"--radius", "--label"}, {});
    need_positional(a, 2);
    write_image(a.pos[1], contour_map(read_image(a.pos[0]), a.num("--radius", 5.0), static_cast<int>(a.integer("--label", -1))));
    return 0;
  });
}

int weak(int argc, char** argv) {
  const char* usage = "segtool weak LABELS OUT [--label L] [--diameter 4] [--seed S]";
  return guarded("weak", usage, [&] {
    Args a(argc, argv, {"--label", "--diameter", "--seed"}, {});
    need_positional(a, 2);
    const Volume l = read_image(a.pos[0]);
    const double d = a.num("--diameter", 4.0);
    const int64_t seed = a.integer("--seed", 0);
    if (seed < 0) throw UsageError("--seed must be >= 0");
    std::vector<int> labels;
    if (a.has("--label")) labels.push_back(static_cast<int>(a.integer("--label", 1)));
    else {
      std::set<int> s;
      for (float v : l.data)
        if (std::lround(v) != 0) s.insert(static_cast<int>(std::lround(v)));
      labels.assign(s.begin(), s.end());
    }
    // every label's seeds carry its id (labels' seeds cannot overlap: each lies inside its own label)
    Volume out = weak_seed_labels(l, labels.empty() ? 1 : labels[0], static_cast<uint64_t>(seed), d);
    for (auto& v : out.data) v *= static_cast<float>(labels.empty() ? 0 : labels[0]);
    for (size_t i = 1; i < labels.size(); ++i) {
      const Volume s = weak_seed_labels(l, labels[i], static_cast<uint64_t>(seed) + 7919 * i, d);
      for (size_t j = 0; j < s.data.size(); ++j)
        if (s.data[j] != 0) out.data[j] = static_cast<float>(labels[i]);
    }
    write_image(a.pos[1], out);
    return 0;
  });
}

int degrade(int argc, char** argv) {
  const char* usage = "segtool degrade IMAGE OUT --noise S | --blur S | --shot C [--seed S] [--no-clip]";
  return guarded("degrade", usage, [&] {
    Args a(argc, argv, {"--noise", "--blur", "--shot", "--seed"}, {"--no-clip"});
    need_positional(a, 2);
    if (a.has("--noise") + a.has("--blur") + a.has("--shot") != 1) throw UsageError("give exactly one of --noise, --blur, --shot");
    const int64_t seed = a.integer("--seed", 0);
    if (seed < 0) throw UsageError("--seed must be >= 0");
    Volume v = read_image(a.pos[0]);
    // 8/16-bit images (PNG, JPEG) are degraded on [0, 1] as paper 2 defines, and written back in their type
    const double full = v.datatype == "uint8" ? 255.0 : (v.datatype == "uint16" ? 65535.0 : 0.0);
    if (full > 0)
      for (auto& x : v.data) x = static_cast<float>(x / full);
    const bool clip = !a.has("--no-clip");
    Volume out;
    if (a.has("--noise")) out = degrade_gaussian_noise(v, a.num("--noise", 0), static_cast<uint64_t>(seed), clip);
    else if (a.has("--blur")) out = degrade_gaussian_blur(v, a.num("--blur", 0), clip);
    else out = degrade_shot_noise(v, a.num("--shot", 1), static_cast<uint64_t>(seed), clip);
    if (full > 0) {
      for (auto& x : out.data) x = static_cast<float>(std::clamp(std::round(x * full), 0.0, full));
      out.datatype = v.datatype;
    }
    write_image(a.pos[1], out);
    return 0;
  });
}

}  // namespace seg::cli
