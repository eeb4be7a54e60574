// Paper 5's data: ACDC (4 classes: background, RV 1, myocardium 2, LV cavity 3; both annotated frames of each patient,
// each frame a case) and PROMISE12 (2 classes: background, prostate 1), from the official layouts or from the generated
// phantoms, as toolkit slice sets at S×S, split by patient: ACDC 70 / 10 / 20, PROMISE12 35 / 5 / 10 (the paper's),
// scaled to the phantom's patient count.
// Key decisions: volumes are min–max normalised to [0, 1] and every axial slice resized straight to S×S (bilinear
// image, nearest labels), as the authors' slicing scripts do. A class that occurs in no case of the data set (an
// ACDC-layout folder without RV labels, as some derived sets have) is listed in `absent`: it still has its channel
// (the network keeps K outputs, its descriptor bounds are [0, 0] on every slice), but it is never evaluated or reported
// as Dice 0. PROMISE12 cases without a segmentation (the challenge's test cases) are left out and listed.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "apps/toolkit/slice_data.h"

namespace seg {

enum class Paper5Dataset { ACDC, PROMISE12 };
Paper5Dataset parse_paper5_dataset(const std::string& s);  // acdc | promise12
const char* paper5_dataset_name(Paper5Dataset d);
int64_t paper5_classes(Paper5Dataset d);                        // 4 | 2
std::vector<std::string> paper5_class_names(Paper5Dataset d);   // index = class id: {"background", "RV", "Myo", "LV"}
std::array<int64_t, 3> paper5_split(Paper5Dataset d);           // patients: {70, 10, 20} | {35, 5, 10}

struct Paper5DataOptions {
  Paper5Dataset dataset = Paper5Dataset::ACDC;
  std::string data_dir;          // "" = phantom
  int phantom_patients = 20;     // split in the paper's proportions
  int64_t size = 256;            // S (a multiple of 16: the residual U-Net pools four times)
  uint64_t seed = 0;             // phantom and split
  std::array<int64_t, 3> split{0, 0, 0};  // patients train / val / test; zeros = the paper's (scaled for a phantom)
};

struct Paper5Data {
  std::string source;                        // "ACDC-like phantom (...)" or the folder
  std::vector<SliceSet> train, val, test;
  std::array<int64_t, 3> patients{};         // per split
  std::vector<std::string> left_out;         // patients or cases in no split (and why)
  std::vector<int> absent;                   // foreground classes found in no case of the data set
  int64_t train_slices = 0;
};

Paper5Data load_paper5_data(const Paper5DataOptions& opt);

// The paper's online augmentation: blur p 0.5 (σ ~ U(0.5, 2), image only), rotation p 0.5 (±30°), scale p 0.5
// (0.8–1.2), shift p 0.5 (±20 px at 256², scaled with S); no mirroring or flipping.
Augmentation paper5_augmentation(int64_t size);

}  // namespace seg
