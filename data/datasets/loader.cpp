// load_case (images + label with grid checks), label decoding per layout, and the seeded patient split.
// Key decision: the split shuffles sorted patient ids with a splitmix64-driven Fisher-Yates, so a (cases, seed) pair
// gives the same split with every compiler and standard library.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>
#include <stdexcept>

#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/formats/jsrt.h"

namespace seg {

namespace {

std::string triple(const std::array<double, 3>& a) {
  return io::format_double(a[0]) + " x " + io::format_double(a[1]) + " x " + io::format_double(a[2]);
}

std::string lower_ext(const std::string& path) { return io::extension(path); }

// Grey from any channel count (mean of the channels).
Volume to_grey(const Volume& v) {
  if (v.channels == 1) return v;
  Volume g = v;
  g.channels = 1;
  const size_t plane = static_cast<size_t>(v.voxels());
  g.data.assign(plane, 0.f);
  for (int64_t c = 0; c < v.channels; ++c)
    for (size_t p = 0; p < plane; ++p) g.data[p] += v.data[c * plane + p] / static_cast<float>(v.channels);
  return g;
}

// images_masks rule: lossless grey masks with small values are ids; 0/255 and lossy masks are thresholded at 127.
Volume decode_2d_mask(const Volume& raw, const std::string& path) {
  Volume m = to_grey(raw);
  const std::string ext = lower_ext(path);
  float hi = 0.f;
  for (float f : m.data) hi = std::max(hi, f);
  const bool ids = ext == "png" && raw.channels == 1 && hi <= 20.f;
  if (!ids)
    for (float& f : m.data) f = f > 127.f ? 1.f : 0.f;
  m.datatype = "uint8";
  return m;
}

// A binary mask from any grey or colour image (SCR's 0/255 GIFs or PNGs): foreground where the grey value > 127.
Volume binary_mask(const std::string& path) {
  Volume m = to_grey(read_image(path));
  for (float& f : m.data) f = f > 127.f ? 1.f : 0.f;
  m.datatype = "uint8";
  return m;
}

// SCR: one mask per structure under masks_dir/<structure>/<id>.gif|png, composed in kScrStructures order into
// `classes` (later structures win).
Volume compose_scr(const std::string& masks_dir, const std::string& id, JsrtClasses classes) {
  Volume label;
  std::string first;
  for (int s = 0; s < kScrStructureCount; ++s) {
    const float value = static_cast<float>(scr_label(classes, s));
    if (value == 0.f) continue;
    const std::filesystem::path base = std::filesystem::path(masks_dir) / kScrStructures[s];
    const std::string gif = (base / (id + ".gif")).string();
    const std::string path = std::filesystem::exists(gif) ? gif : (base / (id + ".png")).string();
    const Volume m = binary_mask(path);
    if (label.data.empty()) {
      label = m;
      std::fill(label.data.begin(), label.data.end(), 0.f);
      first = path;
    } else if (m.dims != label.dims) {
      throw std::runtime_error(first + " and " + path + " disagree in dims");
    }
    for (size_t i = 0; i < m.data.size(); ++i)
      if (m.data[i] > 0.f) label.data[i] = value;
  }
  return label;
}

// 2x2 mean, for JSRT's 2048² images against SCR's 1024² masks.
Volume halve(const Volume& v) {
  Volume h = Volume::make({v.nx() / 2, v.ny() / 2, 1}, {v.spacing[0] * 2, v.spacing[1] * 2, v.spacing[2]});
  h.datatype = "float32";
  for (int64_t y = 0; y < h.ny(); ++y)
    for (int64_t x = 0; x < h.nx(); ++x)
      h.at(x, y, 0) = 0.25f * (v.at(2 * x, 2 * y, 0) + v.at(2 * x + 1, 2 * y, 0) + v.at(2 * x, 2 * y + 1, 0) +
                               v.at(2 * x + 1, 2 * y + 1, 0));
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) h.affine[r][c] = v.affine[r][c] * 2;
  for (int r = 0; r < 3; ++r) h.affine[r][2] = v.affine[r][2], h.affine[r][3] = v.affine[r][3];
  return h;
}

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<std::string> shuffled_patients(const std::vector<Case>& cases, uint64_t seed) {
  std::set<std::string> uniq;
  for (const auto& c : cases) uniq.insert(c.patient.empty() ? c.id : c.patient);
  std::vector<std::string> p(uniq.begin(), uniq.end());
  uint64_t s = seed;
  for (size_t i = p.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(splitmix64(s) % i);  // modulo bias is negligible for data-set sizes
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

std::vector<std::vector<Case>> assign(const std::vector<Case>& cases, const std::vector<std::string>& order,
                                      const std::vector<int64_t>& counts) {
  std::map<std::string, size_t> part;
  size_t k = 0;
  for (size_t i = 0; i < counts.size(); ++i)
    for (int64_t n = 0; n < counts[i]; ++n) part[order[k++]] = i;
  std::vector<std::vector<Case>> out(counts.size());
  for (const auto& c : cases) {
    const auto it = part.find(c.patient.empty() ? c.id : c.patient);
    if (it != part.end()) out[it->second].push_back(c);
  }
  return out;
}

}  // namespace

void check_same_grid(const Volume& a, const std::string& a_name, const Volume& b, const std::string& b_name,
                     const GeometryTolerance& tol) {
  if (a.dims != b.dims)
    throw std::runtime_error(a_name + " and " + b_name + " disagree in dims: " + std::to_string(a.dims[0]) + " x " +
                             std::to_string(a.dims[1]) + " x " + std::to_string(a.dims[2]) + " vs " +
                             std::to_string(b.dims[0]) + " x " + std::to_string(b.dims[1]) + " x " +
                             std::to_string(b.dims[2]));
  for (int i = 0; i < 3; ++i)
    if (std::abs(a.spacing[i] - b.spacing[i]) > tol.spacing_rel * std::max(a.spacing[i], b.spacing[i]))
      throw std::runtime_error(a_name + " and " + b_name + " disagree in spacing: " + triple(a.spacing) + " vs " +
                               triple(b.spacing) + " mm");
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      if (!(std::abs(a.affine[r][c] - b.affine[r][c]) <= tol.affine_mm))
        throw std::runtime_error(a_name + " and " + b_name + " disagree in affine (orientation/origin): entry [" +
                                 std::to_string(r) + "][" + std::to_string(c) + "] is " +
                                 io::format_double(a.affine[r][c]) + " vs " + io::format_double(b.affine[r][c]) +
                                 " (tolerance " + io::format_double(tol.affine_mm) + " mm)");
}

std::string label_set_text(const std::map<int, std::string>& labels) {
  std::string t;
  for (const auto& [v, n] : labels) t += (t.empty() ? "" : ", ") + std::to_string(v) + (n.empty() ? "" : " " + n);
  return t;
}

void check_label_values(const Volume& label, const std::string& name, const std::map<int, std::string>& allowed) {
  const auto voxel = [&](size_t i) {
    const int64_t nx = std::max<int64_t>(label.nx(), 1), ny = std::max<int64_t>(label.ny(), 1);
    const int64_t k = static_cast<int64_t>(i);
    return "voxel (" + std::to_string(k % nx) + ", " + std::to_string(k / nx % ny) + ", " + std::to_string(k / (nx * ny)) + ")";
  };
  const std::string set = allowed.empty() ? "labels must be integers >= 0" : "allowed: " + label_set_text(allowed);
  // Allowed values as a lookup table over the small range label maps use (ids beyond it go through the map).
  std::vector<uint8_t> ok(256, allowed.empty() ? 1 : 0);
  for (const auto& [v, n] : allowed)
    if (v >= 0 && v < 256) ok[static_cast<size_t>(v)] = 1;
  for (size_t i = 0; i < label.data.size(); ++i) {
    const float f = label.data[i];
    if (f >= 0.f && f < 256.f) {
      const auto k = static_cast<size_t>(f);
      if (static_cast<float>(k) == f && ok[k]) continue;
    }
    if (std::isnan(f))
      throw std::runtime_error(name + ": label map holds NaN at " + voxel(i) + " (" + set + ")");
    if (!std::isfinite(f))
      throw std::runtime_error(name + ": label map holds " + io::format_double(f) + " (NaN/inf) at " + voxel(i) + " (" + set + ")");
    if (f != std::floor(f))
      throw std::runtime_error(name + ": label map holds the non-integer value " + io::format_double(f) + " at " + voxel(i) +
                               " (" + set + ")");
    if (f < 0.f)
      throw std::runtime_error(name + ": label map holds the negative value " + io::format_double(f) + " at " + voxel(i) +
                               " (" + set + ")");
    if (!allowed.empty() && (f > 2147483647.f || !allowed.count(static_cast<int>(f))))
      throw std::runtime_error(name + ": label map holds the value " + io::format_double(f) + " at " + voxel(i) +
                               ", which is not in its label set (" + set + ")");
  }
}

std::vector<int> absent_labels(const Volume& label, const std::map<int, std::string>& labels) {
  std::vector<uint8_t> small(256, 0);  // ids below 256 by table, the rest through a set
  std::set<int> large;
  for (float f : label.data) {
    if (f >= 0.f && f < 256.f) small[static_cast<size_t>(f)] = 1;
    else if (f >= 256.f && f < 2147483647.f) large.insert(static_cast<int>(f));
  }
  std::vector<int> out;
  for (const auto& [v, n] : labels)
    if (v != 0 && !(v > 0 && v < 256 ? small[static_cast<size_t>(v)] : large.count(v))) out.push_back(v);
  return out;
}

LoadedCase load_case(const Case& c, const GeometryTolerance& tol) { return load_case(c, LoadOptions{.tol = tol}); }

LoadedCase load_case(const Case& c, const LoadOptions& opt) {
  const GeometryTolerance& tol = opt.tol;
  LoadedCase out;
  out.info = c;
  if (c.image_paths.empty()) throw std::runtime_error("case " + c.id + ": no image path");
  for (const auto& p : c.image_paths) out.images.push_back(read_image(p));
  for (size_t k = 1; k < out.images.size(); ++k)
    check_same_grid(out.images[0], c.image_paths[0], out.images[k], c.image_paths[k], tol);
  if (c.label_path.empty()) return out;

  const std::string& lp = c.label_path;
  if (c.dataset == "jsrt") {
    const bool scr = std::filesystem::is_directory(lp);
    if (!scr && opt.jsrt != JsrtClasses::LungHeartClavicle)
      throw std::runtime_error(lp + ": a JSRT label map merges both lungs (label 1); right and left lung as separate "
                               "classes need SCR's per-structure masks (scratch/fold1|fold2/masks/<structure>/" +
                               c.id + ".gif)");
    out.label = scr ? compose_scr(lp, c.id, opt.jsrt) : to_grey(read_image(lp));
    Volume& img = out.images[0];
    if (out.label.nx() * 2 == img.nx() && out.label.ny() * 2 == img.ny()) img = halve(img);
    // PNG masks carry no geometry: they take the image's grid once their size matches.
    if (out.label.dims == img.dims) out.label.spacing = img.spacing, out.label.affine = img.affine;
  } else if (c.dataset == "images_masks") {
    out.label = decode_2d_mask(read_image(lp), lp);
  } else {
    out.label = read_image(lp);
  }
  if (out.label.channels != 1)
    throw std::runtime_error(lp + ": a label map must have one channel, it has " + std::to_string(out.label.channels));
  check_label_values(out.label, lp, c.labels);
  check_same_grid(out.images[0], c.image_paths[0], out.label, lp, tol);
  out.has_label = true;
  out.absent_labels = absent_labels(out.label, c.labels);
  if (!out.absent_labels.empty()) {
    std::string list;
    for (int l : out.absent_labels) {
      const auto it = c.labels.find(l);
      list += (list.empty() ? "" : ", ") + std::to_string(l) + (it->second.empty() ? "" : " (" + it->second + ")");
    }
    io::warn(lp + ": case " + c.id + " has no voxel of label" + (out.absent_labels.size() > 1 ? "s " : " ") + list);
  }
  return out;
}

std::vector<std::vector<Case>> split_by_patient_counts(const std::vector<Case>& cases,
                                                       const std::vector<int64_t>& counts, uint64_t seed) {
  const auto order = shuffled_patients(cases, seed);
  int64_t total = 0;
  for (int64_t n : counts) {
    if (n < 0) throw std::runtime_error("split_by_patient: negative count " + std::to_string(n));
    total += n;
  }
  if (total > static_cast<int64_t>(order.size()))
    throw std::runtime_error("split_by_patient: counts ask for " + std::to_string(total) + " patients, there are " +
                             std::to_string(order.size()));
  return assign(cases, order, counts);
}

std::vector<std::vector<Case>> split_by_patient(const std::vector<Case>& cases, const std::vector<double>& fractions,
                                                uint64_t seed) {
  double sum = 0;
  for (double f : fractions) {
    if (!(f >= 0)) throw std::runtime_error("split_by_patient: fractions must be >= 0");
    sum += f;
  }
  if (fractions.empty() || std::abs(sum - 1.0) > 1e-6)
    throw std::runtime_error("split_by_patient: fractions must sum to 1 (they sum to " + io::format_double(sum) + ")");
  const auto order = shuffled_patients(cases, seed);
  const int64_t n = static_cast<int64_t>(order.size());
  // Largest remainder: floors first, then the parts with the largest fractional parts get the leftovers.
  std::vector<int64_t> counts(fractions.size());
  std::vector<std::pair<double, size_t>> rem;
  int64_t used = 0;
  for (size_t i = 0; i < fractions.size(); ++i) {
    const double exact = fractions[i] * static_cast<double>(n);
    counts[i] = static_cast<int64_t>(std::floor(exact + 1e-9));
    used += counts[i];
    rem.push_back({exact - static_cast<double>(counts[i]), i});
  }
  std::stable_sort(rem.begin(), rem.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; used < n; ++k, ++used) ++counts[rem[k % rem.size()].second];
  // A requested (non-zero) part never ends up empty while another part could spare a patient.
  for (size_t i = 0; i < counts.size(); ++i)
    if (fractions[i] > 0 && counts[i] == 0) {
      const size_t big = static_cast<size_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
      if (counts[big] > 1) --counts[big], ++counts[i];
    }
  return assign(cases, order, counts);
}

}  // namespace seg
