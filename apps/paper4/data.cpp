// Paper 4's data (see data.h).
#include "apps/paper4/data.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "data/datasets/datasets.h"
#include "data/phantoms/xray_phantoms.h"
#include "data/transforms/crop_pad.h"
#include "data/transforms/filters.h"
#include "data/transforms/intensity.h"
#include "data/transforms/resample.h"

namespace seg::paper4 {

namespace {

Volume mask_volume(const std::vector<uint8_t>& mask, int64_t size) {
  if (static_cast<int64_t>(mask.size()) != size * size)
    throw std::invalid_argument("paper4: a mask of " + std::to_string(mask.size()) + " pixels is not " +
                                std::to_string(size) + "x" + std::to_string(size));
  Volume v = Volume::make({size, size, 1});
  for (size_t i = 0; i < mask.size(); ++i) v.data[i] = mask[i] ? 1.f : 0.f;
  return v;
}

}  // namespace

const char* target_name(Target t) {
  switch (t) {
    case Target::Polyp: return "polyp";
    case Target::Disc: return "disc";
    case Target::Cup: return "cup";
  }
  return "?";
}

Image preprocess(const std::string& id, const Volume& image, const Volume& labels, int64_t size) {
  if (size <= 0) throw std::invalid_argument("paper4: image size must be positive");
  if (image.nz() != 1 || (image.channels != 1 && image.channels != 3))
    throw std::invalid_argument(id + ": expected a 2-D grey or RGB image, got " + std::to_string(image.channels) +
                                " channel(s) and " + std::to_string(image.nz()) + " slice(s)");
  if (labels.dims != image.dims || labels.channels != 1)
    throw std::invalid_argument(id + ": the label map's grid differs from the image's");
  Volume rgb = image;
  if (rgb.channels == 1) {
    rgb.channels = 3;
    rgb.data.resize(3 * image.data.size());
    std::copy(image.data.begin(), image.data.end(), rgb.data.begin() + static_cast<std::ptrdiff_t>(image.data.size()));
    std::copy(image.data.begin(), image.data.end(), rgb.data.begin() + 2 * static_cast<std::ptrdiff_t>(image.data.size()));
  }
  const int64_t side = std::min(image.nx(), image.ny());
  rgb = center_crop_or_pad(rgb, {side, side, 1});
  Volume lab = center_crop_or_pad(labels, {side, side, 1});
  const double factor = static_cast<double>(side) / static_cast<double>(size);
  if (factor > 1) rgb = gaussian_blur_2d(rgb, (factor - 1) / 2);
  rgb = resize_2d(rgb, size, size, Interp::Linear);
  lab = resize_2d(lab, size, size, Interp::Nearest);
  Image out;
  out.id = id;
  out.size = size;
  out.display.resize(rgb.data.size());
  for (size_t i = 0; i < rgb.data.size(); ++i)
    out.display[i] = static_cast<uint8_t>(std::clamp(std::lround(rgb.data[i]), 0L, 255L));
  out.rgb = normalise_mean_std(rgb, kImageNetMean, kImageNetStd).data;
  out.labels.resize(lab.data.size());
  for (size_t i = 0; i < lab.data.size(); ++i) out.labels[i] = static_cast<uint8_t>(std::lround(lab.data[i]));
  return out;
}

std::vector<Image> load_folder(Dataset d, const std::string& dir, int64_t size) {
  const auto cases = list_cases(d == Dataset::Polyp ? "polyp" : "fundus", dir);
  std::vector<Image> out;
  for (const Case& c : cases) {
    if (c.label_path.empty()) throw std::runtime_error(dir + ": image " + c.id + " has no mask");
    const LoadedCase lc = load_case(c);
    out.push_back(preprocess(c.id, lc.images[0], lc.label, size));
  }
  return out;
}

std::vector<Image> phantom_images(Dataset d, int n, uint64_t seed, int64_t size) {
  std::vector<Image> out;
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "%s_%03d", d == Dataset::Polyp ? "polyp" : "fundus", i + 1);
    // Generated at twice the training size (at least), so the resize and its pre-blur run as on real frames.
    const auto [img, lab] = d == Dataset::Polyp ? make_polyp_case(seed, i, std::max<int64_t>(2 * size * 4 / 3, 96))
                                                : make_fundus_case(seed, i, std::max<int64_t>(2 * size, 96));
    out.push_back(preprocess(id, img, lab, size));
  }
  return out;
}

std::vector<uint8_t> structure_mask(const std::vector<uint8_t>& labels, Target t) {
  std::vector<uint8_t> m(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) m[i] = t == Target::Cup ? labels[i] == 2 : labels[i] >= 1;
  return m;
}

bool has_structure(const std::vector<Image>& images, Target t) {
  for (const auto& im : images)
    for (uint8_t l : im.labels)
      if (t == Target::Cup ? l == 2 : l >= 1) return true;
  return false;
}

double contour_radius(int64_t size) { return 5.0 * static_cast<double>(size) / 256.0; }

std::vector<uint8_t> contour_target(const std::vector<uint8_t>& mask, int64_t size) {
  const Volume c = contour_map(mask_volume(mask, size), contour_radius(size));
  std::vector<uint8_t> out(c.data.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = c.data[i] != 0;
  return out;
}

std::vector<float> distance_target(const std::vector<uint8_t>& mask, int64_t size, DistanceVariant v) {
  Volume d = distance_map(mask_volume(mask, size), v, -1, true, true);
  if (v == DistanceVariant::D3)
    for (float& x : d.data) x = 0.5f * (x + 1.f);
  return d.data;
}

std::pair<std::vector<size_t>, std::vector<size_t>> split_train_test(const std::vector<Image>& images,
                                                                     double train_fraction, uint64_t seed) {
  if (images.size() < 2) throw std::runtime_error("paper4: a train/test split needs at least 2 images, got " +
                                                  std::to_string(images.size()));
  std::vector<Case> cases;
  for (const auto& im : images) cases.push_back(Case{im.id, {}, "", im.id, "images_masks"});
  const auto parts = split_by_patient(cases, {train_fraction, 1 - train_fraction}, seed);
  std::pair<std::vector<size_t>, std::vector<size_t>> out;
  for (int p = 0; p < 2; ++p)
    for (const Case& c : parts[static_cast<size_t>(p)])
      for (size_t i = 0; i < images.size(); ++i)
        if (images[i].id == c.id) (p == 0 ? out.first : out.second).push_back(i);
  std::sort(out.first.begin(), out.first.end());
  std::sort(out.second.begin(), out.second.end());
  return out;
}

}  // namespace seg::paper4
