// Paper 4's data: polyp frames (GIANA / Kvasir-SEG / CVC as users have them: images/ + masks/) and ORIGA-style fundus
// photographs (images/ + masks/ with ids 0 background, 1 disc rim, 2 cup; 0/255 masks = disc only, e.g. DRIONS), or
// the phantoms of both, as preprocessed 256² RGB images with the structure masks and the auxiliary targets.
// Preprocessing (paper 4, §3.1 and the authors' loader): centre crop to a square, resize to S² (bilinear, with a
// Gaussian pre-blur σ = (f − 1)/2 when shrinking by a factor f > 1, as skimage's anti-aliasing, because the
// engine's resize has no antialias and ORIGA / Kvasir frames shrink 4–12×; nearest for label maps), then
// torchvision's ToTensor + Normalize with ImageNet's mean/std. Grey images are repeated to three channels.
// Structures as the paper evaluates them, each a binary task of its own: polyp (id ≥ 1), disc (id ≥ 1: rim ∪ cup),
// cup (id 2) — the cup lies inside the disc.
// Auxiliary targets (data/transforms/distance_maps.h): the contour map (4-connected boundary of the mask — the union
// of every component's boundary — dilated by a Euclidean disk of radius r = 5 px at 256², scaled with S) and the
// distance maps D1 (outside only), D2 (unsigned), D3 (signed, negative inside) divided by their largest |value| per
// image, D3 then mapped by (D3 + 1)/2, so every target lies in the sigmoid's range [0, 1] (the paper only says
// "normalised"; an empty mask gives an all-zero map, D3 0.5).
// Engine-free: this file knows Volumes and vectors only; the app turns the images into the toolkit's slice sets.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/transforms/distance_maps.h"
#include "data/volume.h"

namespace seg::paper4 {

enum class Dataset { Polyp, Fundus };
enum class Target { Polyp, Disc, Cup };
const char* target_name(Target t);  // "polyp", "disc", "cup"

struct Image {
  std::string id;
  int64_t size = 0;                // S: the image is 3 × S × S
  std::vector<float> rgb;          // 3·S·S, channel-major, ImageNet-normalised
  std::vector<uint8_t> labels;     // S·S source ids (polyp 0/1; fundus 0/1/2)
  std::vector<uint8_t> display;    // 3·S·S, the resized RGB before normalisation (for figures)
};

// Centre crop to a square, anti-aliased resize to size², normalisation (see above). image: 1 or 3 channels, 8-bit
// range; labels: one channel of ids, same grid.
Image preprocess(const std::string& id, const Volume& image, const Volume& labels, int64_t size);

// Every case of a folder ("polyp" or "fundus" layout, data/datasets), preprocessed; errors name the folder or file.
std::vector<Image> load_folder(Dataset d, const std::string& dir, int64_t size);

// n phantom cases (data/phantoms/xray_phantoms.h) made in memory and preprocessed exactly like files.
std::vector<Image> phantom_images(Dataset d, int n, uint64_t seed, int64_t size);

// Binary mask of a structure from the source ids.
std::vector<uint8_t> structure_mask(const std::vector<uint8_t>& labels, Target t);
// true when some image holds the structure (a disc-only folder has no cup)
bool has_structure(const std::vector<Image>& images, Target t);

// Contour target (0/1) of an S×S mask, radius 5·S/256 px.
std::vector<uint8_t> contour_target(const std::vector<uint8_t>& mask, int64_t size);
double contour_radius(int64_t size);
// Distance target in [0, 1] of an S×S mask.
std::vector<float> distance_target(const std::vector<uint8_t>& mask, int64_t size, DistanceVariant v);

// The 70/30 train/test split of the paper, seeded (data/datasets' split: the same on every platform); returns
// indices into `images` (train, test), each part sorted.
std::pair<std::vector<size_t>, std::vector<size_t>> split_train_test(const std::vector<Image>& images, double train_fraction,
                                                                     uint64_t seed);

}  // namespace seg::paper4
