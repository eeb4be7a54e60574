// Paper 2's data (Murase et al., "How can CNNs use image position for segmentation?"), engine-free:
//   JSRT  247 chest X-rays, classes 0 background, 1 right lung, 2 left lung, 3 heart (SCR's masks, lungs kept apart),
//         split 156 / 23 / 68 images, z-score with the training set's mean and std;
//   ACDC  100 subjects (ED and ES frames, every short-axis slice), classes 0 background, 1 LV, 2 RV, 3 myocardium
//         (the paper's order; ACDC's ids 3, 1, 2), split 70 / 10 / 20 subjects, z-score per slice;
// both resized to S×S (bilinear images, nearest labels), read from the official layouts (data/datasets) or made by the
// phantoms in memory; the test-time degradations (Gaussian noise, Gaussian blur, shot noise; data/transforms/degrade)
// and horizontal shifts (crop_pad); the averaged-mask baseline.
// Key decisions:
// - A case keeps its image in [0, 1] ("unit" intensities: JSRT 1 − v/4095, the display polarity, lungs dark; ACDC
//   min–max per slice), because the degradations are defined on [0, 1]; the paper's normalisation is applied after
//   any degradation (Normaliser), so a degraded test image is normalised exactly as a clean one.
// - Nothing here mirrors or rotates: the labels say right/left, and the absolute position is what the paper studies.
// - Splits go through data/datasets' split_by_patient_counts (seeded, identical on every platform); an ACDC subject's
//   two frames stay in one split.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg::paper2 {

enum class Dataset { Jsrt, Acdc };
Dataset parse_dataset(const std::string& s);  // "jsrt" | "acdc"
const char* dataset_name(Dataset d);
// Class names by id (background first) in the paper's order.
std::vector<std::string> class_names(Dataset d);

// One JSRT image (nz = 1) or one ACDC frame (its slices).
struct Case2D {
  std::string id{}, patient{};
  Volume image;   // S×S×slices, unit intensities in [0, 1]
  Volume labels;  // S×S×slices class ids in the paper's order
};

struct Split {
  std::vector<Case2D> train, val, test;
  std::string source;  // "phantom (…)" or the folder read
};

struct DataOptions {
  int64_t size = 256;          // S
  std::string dir{};           // official layout; "" = the phantom
  uint64_t split_seed = 0;
  int64_t train_subset = 0;    // Table 2: keep this many training images/subjects (0 = all), drawn with split_seed
  uint64_t phantom_seed = 2;
  int phantom_cases = 0;       // phantom images (JSRT) or subjects (ACDC); 0 = the paper's 247 / 100
  std::vector<int64_t> counts{};  // split sizes; empty = the paper's (156/23/68, 70/10/20), scaled to phantom_cases
  // a split already loaded with the same data options (Table 2's subsets): cases found there by id are copied, not
  // read or generated again
  const Split* loaded = nullptr;
};

Split load_split(Dataset d, const DataOptions& opt);

// The paper's split sizes for n images (JSRT) or subjects (ACDC): its counts when n is the paper's, else scaled.
std::vector<int64_t> paper_counts(Dataset d, int64_t n);

// The paper's normalisation of unit images: JSRT (x − μ)/σ with the training set's μ and σ; ACDC per slice.
struct Normaliser {
  Dataset dataset = Dataset::Jsrt;
  double mean = 0, std = 1;  // JSRT only
  Volume apply(const Volume& unit) const;
};
Normaliser fit_normaliser(Dataset d, const std::vector<Case2D>& train);

// Test-time degradations on unit intensities (clipped to [0, 1]), seeded per case.
enum class Degradation { GaussianNoise, GaussianBlur, ShotNoise };
struct DegradationSpec {
  Degradation kind;
  std::string key, title, unit;   // "gaussian_noise", "Gaussian noise", "σ"
  std::vector<double> levels;     // at the model's size
};
// Noise σ {0.04, 0.08, 0.12, 0.15, 0.18}; shot noise c {250, 100, 50, 30, 15} (weakest first); blur: the paper's
// values were lost in its text, so σ {1, 2, 4, 8, 16} px on a 256² grid (scaled to S), which takes the clean Dice
// of every model here to poor.
std::vector<DegradationSpec> paper_degradations(int64_t size);
Case2D degrade(const Case2D& c, Degradation kind, double level, uint64_t seed);
// Content moved right by dx pixels (left if negative); vacated pixels are 0 and background.
Case2D shift_horizontal(const Case2D& c, int64_t dx);
// Shifts of the Fig. 5 curve: −64 … 64 px in steps of 16 on a 256² grid, scaled to S.
std::vector<int64_t> paper_shifts(int64_t size);

// The averaged-mask baseline: per pixel, the frequency of each class over every training slice.
struct AveragedMask {
  int64_t classes = 4;
  Volume freq;  // S×S×classes: freq(x, y, k)
  Volume argmax() const;  // S×S×1 class ids (ties: the lower id)
};
AveragedMask averaged_mask(const std::vector<Case2D>& train, int64_t classes);
// Dice of the baseline on each case: per foreground class over the case's slices, then the mean over classes.
// soft: 2Σpg / (Σp + Σg) with p the class frequency; otherwise the argmax prediction.
std::vector<double> averaged_mask_dice(const AveragedMask& m, const std::vector<Case2D>& cases, bool soft);

}  // namespace seg::paper2
