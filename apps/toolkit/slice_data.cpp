// 2-D slice data sets and their sampler (see slice_data.h).
#include "apps/toolkit/slice_data.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "data/transforms/weak_labels.h"
#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/upsample.h"

namespace seg {

bool SliceSet::has_class(int64_t z, int k) const { return class_area(z, k) > 0; }

int64_t SliceSet::class_area(int64_t z, int k) const {
  const uint8_t* m = labels.data() + z * pixels();
  return std::count(m, m + pixels(), static_cast<uint8_t>(k));
}

Normalisation parse_normalisation(const std::string& s) {
  if (s == "none") return Normalisation::None;
  if (s == "minmax-volume") return Normalisation::MinMaxVolume;
  if (s == "zscore-volume") return Normalisation::ZScoreVolume;
  if (s == "zscore-slice") return Normalisation::ZScoreSlice;
  throw std::runtime_error("normalisation: expected none, minmax-volume, zscore-volume or zscore-slice, got '" + s + "'");
}

const char* normalisation_name(Normalisation n) {
  switch (n) {
    case Normalisation::None: return "none";
    case Normalisation::MinMaxVolume: return "minmax-volume";
    case Normalisation::ZScoreVolume: return "zscore-volume";
    default: return "zscore-slice";
  }
}

namespace {
// Normalises n values in place: min–max to [0, 1] or z-score (a constant input gives 0).
void normalise(float* v, size_t n, bool minmax) {
  if (n == 0) return;
  if (minmax) {
    const auto [lo, hi] = std::minmax_element(v, v + n);
    const float mn = *lo, range = std::max(*hi - *lo, 1e-6f);
    for (size_t i = 0; i < n; ++i) v[i] = (v[i] - mn) / range;
    return;
  }
  double s = 0, q = 0;
  for (size_t i = 0; i < n; ++i) s += v[i], q += static_cast<double>(v[i]) * v[i];
  const double mean = s / static_cast<double>(n), var = std::max(0.0, q / static_cast<double>(n) - mean * mean);
  const double inv = var > 1e-12 ? 1.0 / std::sqrt(var) : 0.0;
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((v[i] - mean) * inv);
}
}  // namespace

SliceSet make_slice_set(const std::string& id, const std::vector<Volume>& channels, const Volume& labels,
                        const LabelMap& classes, int64_t K, int64_t H, int64_t W, Normalisation norm) {
  SEG_CHECK(!channels.empty(), "case ", id, ": no image channel");
  SEG_CHECK(H > 0 && W > 0, "case ", id, ": slice size must be positive");
  SEG_CHECK(K >= 2 && K <= 255, "case ", id, ": classes must be in [2, 255], got ", K);
  for (const auto& [src, k] : classes)
    SEG_CHECK(k >= 0 && k < K, "case ", id, ": label ", src, " maps to class ", k, " outside [0, ", K, ")");
  const Volume& ref = channels[0];
  const int64_t nx = ref.nx(), ny = ref.ny(), nz = ref.nz();
  int64_t C = 0;
  for (const auto& v : channels) {
    SEG_CHECK(v.dims == ref.dims, "case ", id, ": channel dims ", v.nx(), "x", v.ny(), "x", v.nz(), " differ from ", nx,
              "x", ny, "x", nz);
    C += v.channels;
  }
  SEG_CHECK(labels.dims == ref.dims, "case ", id, ": image dims ", nx, "x", ny, "x", nz, " differ from label dims ",
            labels.nx(), "x", labels.ny(), "x", labels.nz());
  const int64_t P = nx * ny;
  Tensor img = Tensor::empty({nz, C, ny, nx}), lab = Tensor::empty({nz, 1, ny, nx});
  float* ip = img.data<float>();
  int64_t c0 = 0;
  for (const auto& v : channels)
    for (int64_t c = 0; c < v.channels; ++c, ++c0) {
      std::vector<float> plane(v.data.begin() + c * nz * P, v.data.begin() + (c + 1) * nz * P);
      if (norm == Normalisation::MinMaxVolume || norm == Normalisation::ZScoreVolume)
        normalise(plane.data(), plane.size(), norm == Normalisation::MinMaxVolume);
      for (int64_t z = 0; z < nz; ++z) {
        float* o = ip + (z * C + c0) * P;
        std::copy(plane.begin() + z * P, plane.begin() + (z + 1) * P, o);
        if (norm == Normalisation::ZScoreSlice) normalise(o, static_cast<size_t>(P), false);
      }
    }
  float* lp = lab.data<float>();
  for (int64_t i = 0; i < nz * P; ++i) {
    const auto it = classes.find(static_cast<int>(std::lround(labels.data[static_cast<size_t>(i)])));
    lp[i] = it == classes.end() ? 0.f : static_cast<float>(it->second);
  }
  NoGradGuard ng;
  Tensor ri = (H == ny && W == nx) ? img : upsample_bilinear2d(img, H, W, false);
  Tensor rl = (H == ny && W == nx) ? lab : upsample_nearest2d(lab, H, W);
  SliceSet s;
  s.id = id;
  s.slices = nz;
  s.channels = C;
  s.height = H;
  s.width = W;
  s.classes = K;
  s.spacing = {ref.spacing[0] * static_cast<double>(nx) / static_cast<double>(W),
               ref.spacing[1] * static_cast<double>(ny) / static_cast<double>(H), ref.spacing[2]};
  s.image.assign(ri.data<float>(), ri.data<float>() + ri.numel());
  s.labels.resize(static_cast<size_t>(rl.numel()));
  for (int64_t i = 0; i < rl.numel(); ++i) s.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(std::lround(rl.data<float>()[i]));
  return s;
}

namespace {
// Class k of a slice set as a 0/1 label volume (x-fastest: x + W·(y + H·z), the slice layout too).
Volume class_volume(const SliceSet& s, int k) {
  Volume v = Volume::make({s.width, s.height, s.slices}, s.spacing);
  for (size_t i = 0; i < s.labels.size(); ++i) v.data[i] = s.labels[i] == k ? 1.f : 0.f;
  return v;
}
}  // namespace

void add_weak_seeds(SliceSet& s, int k, uint64_t seed, double diameter) {
  const Volume seeds = weak_seed_labels(class_volume(s, k), 1, seed, diameter);
  if (s.seeds.empty()) s.seeds.assign(s.labels.size(), 0);
  for (size_t i = 0; i < seeds.data.size(); ++i)
    if (seeds.data[i] != 0.f) s.seeds[i] = static_cast<uint8_t>(k);
}

std::array<double, 2> class_area_bounds(const std::vector<SliceSet>& sets, int k) {
  std::vector<Volume> vols;
  for (const auto& s : sets) vols.push_back(class_volume(s, k));
  std::vector<const Volume*> ptrs;
  for (const auto& v : vols) ptrs.push_back(&v);
  const auto b = size_bounds(ptrs, 1, 0);
  SEG_CHECK(b[1] > 0, "size bounds: no training slice contains class ", k);
  return b;
}

void set_size_bounds(SliceSet& s, int k, const std::array<double, 2>& b) {
  SEG_CHECK(k >= 0 && k < s.classes, "set_size_bounds: class ", k, " outside [0, ", s.classes, ")");
  SEG_CHECK(b[0] >= 0 && b[0] <= b[1], "size bounds must satisfy 0 <= a <= b, got [", b[0], ", ", b[1], "]");
  if (s.bounds.empty()) s.bounds.assign(static_cast<size_t>(s.slices * s.classes), {0.0, 0.0});
  for (int64_t z = 0; z < s.slices; ++z)
    s.bounds[static_cast<size_t>(z * s.classes + k)] = s.has_class(z, k) ? b : std::array<double, 2>{0, 0};
}

// ---- augmentation

std::string Augmentation::describe() const {
  if (!enabled) return "none";
  const AugmentConfig& c = config;
  std::ostringstream o;
  const char* sep = "";
  auto item = [&](const std::string& s) { o << sep << s; sep = ", "; };
  if (c.quarter_turns) item("exact 90° turns (uniform 0–3)");
  if (c.p_rotate > 0) item("rotation p " + std::to_string(c.p_rotate).substr(0, 4) + " ±" + std::to_string(static_cast<int>(c.max_angle_deg)) + "°");
  if (c.p_scale > 0) item("scale p " + std::to_string(c.p_scale).substr(0, 4) + " " + std::to_string(c.min_scale).substr(0, 4) + "–" + std::to_string(c.max_scale).substr(0, 4));
  if (c.p_shift > 0) item("shift p " + std::to_string(c.p_shift).substr(0, 4) + " ±" + std::to_string(c.max_shift_px).substr(0, 4) + " px");
  if (c.p_mirror > 0) item("mirror p " + std::to_string(c.p_mirror).substr(0, 4));
  if (c.p_flip > 0) item("flip p " + std::to_string(c.p_flip).substr(0, 4));
  if (c.p_blur > 0) item("blur p " + std::to_string(c.p_blur).substr(0, 4) + " σ " + std::to_string(c.min_sigma).substr(0, 4) + "–" + std::to_string(c.max_sigma).substr(0, 4));
  const std::string r = o.str();
  return r.empty() ? "none" : r;
}

Augmentation paper1_rotation_mirror_flip() {
  Augmentation a;
  a.enabled = true;
  a.config = no_augmentation();
  a.config.quarter_turns = true;
  a.config.p_mirror = 0.5;
  a.config.p_flip = 0.5;
  return a;
}

// ---- sampler

SliceSampler::SliceSampler(const std::vector<SliceSet>& sets, int64_t batch, uint64_t seed, Augmentation aug, bool lateral)
    : sets_(sets), batch_(batch), seed_(seed), aug_(std::move(aug)) {
  SEG_CHECK(batch > 0, "SliceSampler: batch size must be positive");
  SEG_CHECK(!(lateral && aug_.enabled && aug_.config.p_mirror > 0),
            "augmentation: a mirror swaps left and right, and this data set's labels name left/right structures: "
            "set the mirror probability to 0");
  for (size_t i = 0; i < sets.size(); ++i)
    for (int64_t z = 0; z < sets[i].slices; ++z) index_.emplace_back(static_cast<int>(i), z);
  SEG_CHECK(!index_.empty(), "SliceSampler: no training slices");
  const SliceSet& a = sets[0];
  for (const auto& s : sets) {
    SEG_CHECK(s.height == a.height && s.width == a.width && s.channels == a.channels && s.classes == a.classes,
              "SliceSampler: case ", s.id, " has ", s.channels, "×", s.height, "×", s.width, " slices and ", s.classes,
              " classes, case ", a.id, " has ", a.channels, "×", a.height, "×", a.width, " and ", a.classes);
    SEG_CHECK(s.seeds.empty() == a.seeds.empty() && s.bounds.empty() == a.bounds.empty() && s.extra.size() == a.extra.size(),
              "SliceSampler: case ", s.id, " and case ", a.id, " differ in which weak-supervision fields or extras they carry");
  }
  SEG_CHECK(!(aug_.enabled && aug_.config.quarter_turns && a.height != a.width),
            "augmentation: quarter turns need square slices, got ", a.height, "×", a.width);
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

Batch SliceSampler::next(Device device) {
  if (pos_ + static_cast<size_t>(batch_) > order_.size()) start_epoch(epoch_ + 1);
  const SliceSet& a = sets_[0];
  const int64_t B = batch_, C = a.channels, H = a.height, W = a.width, K = a.classes, P = H * W;
  const bool weak_seeds = !a.seeds.empty(), weak_bounds = !a.bounds.empty();
  Batch out;
  Tensor img = Tensor::empty({B, C, H, W}), tgt = Tensor::empty({B, H, W}, DType::Int64);
  Tensor sd = weak_seeds ? Tensor::zeros({B, K, H, W}) : Tensor();
  Tensor bd = weak_bounds ? Tensor::empty({B, K, 2}) : Tensor();
  std::map<std::string, Tensor> ex;
  for (const auto& [name, e] : a.extra)
    ex[name] = e.spatial ? Tensor::empty({B, e.channels, H, W}) : Tensor::empty({B, e.channels});
  for (int64_t b = 0; b < B; ++b) {
    const auto [si, z] = index_[order_[pos_]];
    const SliceSet& s = sets_[static_cast<size_t>(si)];
    // image, then the nearest-interpolated planes (labels, seeds, nearest extras), then the bilinear extras
    Volume im = Volume::make({W, H, 1});
    im.channels = C;
    im.data.assign(s.image.begin() + z * C * P, s.image.begin() + (z + 1) * C * P);
    std::vector<float> near(s.labels.begin() + z * P, s.labels.begin() + (z + 1) * P);
    if (weak_seeds) near.insert(near.end(), s.seeds.begin() + z * P, s.seeds.begin() + (z + 1) * P);
    std::vector<float> lin;
    for (const auto& [name, e] : s.extra)
      if (e.spatial) {
        const auto first = e.data.begin() + z * e.channels * P, last = first + e.channels * P;
        (e.nearest ? near : lin).insert((e.nearest ? near : lin).end(), first, last);
      }
    if (aug_.enabled) {
      const AugmentParams p = draw_augment(aug_.config, seed_ + 7919ull * static_cast<uint64_t>(epoch_), pos_);
      Volume nv = Volume::make({W, H, 1});
      nv.channels = static_cast<int64_t>(near.size()) / P;
      nv.data = std::move(near);
      auto [ai, an] = augment_2d(im, nv, p, 0.f);
      im = std::move(ai);
      near = std::move(an.data);
      if (!lin.empty()) {
        Volume lv = Volume::make({W, H, 1});
        lv.channels = static_cast<int64_t>(lin.size()) / P;
        lv.data = std::move(lin);
        AugmentParams q = p;
        q.blur_sigma = 0;  // blur is an image degradation, not a geometric change
        lin = augment_2d(lv, Volume{}, q, 0.f).first.data;
      }
    }
    ++pos_;
    std::copy(im.data.begin(), im.data.end(), img.data<float>() + b * C * P);
    int64_t* to = tgt.data<int64_t>() + b * P;
    for (int64_t p = 0; p < P; ++p) to[p] = static_cast<int64_t>(std::lround(near[static_cast<size_t>(p)]));
    size_t off = static_cast<size_t>(P);
    if (weak_seeds) {
      float* so = sd.data<float>() + b * K * P;
      for (int64_t p = 0; p < P; ++p) {
        const int64_t k = std::lround(near[off + static_cast<size_t>(p)]);
        if (k > 0 && k < K) so[k * P + p] = 1.f;
      }
      off += static_cast<size_t>(P);
    }
    if (weak_bounds)
      for (int64_t k = 0; k < K; ++k) {
        bd.data<float>()[(b * K + k) * 2] = static_cast<float>(s.bounds[static_cast<size_t>(z * K + k)][0]);
        bd.data<float>()[(b * K + k) * 2 + 1] = static_cast<float>(s.bounds[static_cast<size_t>(z * K + k)][1]);
      }
    size_t loff = 0;
    for (const auto& [name, e] : s.extra) {
      float* eo = ex[name].data<float>();
      if (!e.spatial) {
        std::copy(e.data.begin() + z * e.channels, e.data.begin() + (z + 1) * e.channels, eo + b * e.channels);
      } else if (e.nearest) {
        std::copy(near.begin() + static_cast<std::ptrdiff_t>(off), near.begin() + static_cast<std::ptrdiff_t>(off + e.channels * P), eo + b * e.channels * P);
        off += static_cast<size_t>(e.channels * P);
      } else {
        std::copy(lin.begin() + static_cast<std::ptrdiff_t>(loff), lin.begin() + static_cast<std::ptrdiff_t>(loff + e.channels * P), eo + b * e.channels * P);
        loff += static_cast<size_t>(e.channels * P);
      }
    }
  }
  out.image = img.to(device);
  out.target = tgt.to(device);
  if (weak_seeds) out.seeds = sd.to(device);
  if (weak_bounds) out.bounds = bd.to(device);
  for (auto& [name, t] : ex) out.extra[name] = t.to(device);
  return out;
}

Tensor slice_batch(const SliceSet& s, int64_t z0, int64_t n, Device device) {
  const int64_t CP = s.channels * s.pixels();
  SEG_CHECK(z0 >= 0 && n > 0 && z0 + n <= s.slices, "slice_batch: slices [", z0, ", ", z0 + n, ") outside case ", s.id,
            " with ", s.slices, " slices");
  Tensor t = Tensor::empty({n, s.channels, s.height, s.width});
  std::copy(s.image.begin() + z0 * CP, s.image.begin() + (z0 + n) * CP, t.data<float>());
  return t.to(device);
}

}  // namespace seg
