// Paper 4's protocol on the toolkit: one run = one variant of the multi-task U-Net trained on one structure (polyp,
// disc or cup — binary tasks of their own, as the paper's Table 1 columns) with the composed loss (mask NLL
// [+ contour NLL | + distance MSE], weights 1), Adam with PyTorch's default betas, no augmentation, then Dice and
// Jaccard per test image (disc and cup: thresholded at 0.5 — the argmax of the two classes — and replaced by the
// filled least-squares ellipse of the largest component, as the paper and Fu et al. do), the paper's numbers beside.
// Key decisions:
//  * the split is the paper's 70 % train / 30 % test, seeded; the epoch whose weights are reported is chosen on a
//    validation part held out of the training 70 % (10 %, at least one image) — the paper does not say how it chose
//    (the authors' script validates on the test folder every epoch, which would select on the test set);
//  * the data (images, structure masks, contour and distance targets) is prepared once per structure and distance
//    map and shared by the runs; the model is built in one function (make_paper4_model).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/paper4/data.h"
#include "apps/toolkit/describe.h"
#include "apps/toolkit/run.h"
#include "models/multitask_unet.h"

namespace seg::paper4 {

// The images of one data set and their split (indices into images).
struct DataSplit {
  Dataset dataset = Dataset::Polyp;
  std::string source;                      // "phantom (seed 0, 80 images)" or the folder
  std::vector<Image> images;
  std::vector<size_t> train, val, test;
};
// 70/30 with `seed`; then val_fraction of the training part held out for choosing the epoch.
DataSplit make_split(Dataset d, std::vector<Image> images, const std::string& source, double train_fraction,
                     double val_fraction, uint64_t seed);

// One structure's slice sets: labels = the structure's 0/1 mask, extras "contour" (0/1, nearest) and "distance"
// (the chosen map in [0, 1]).
struct StructureSets {
  Target target = Target::Polyp;
  DistanceVariant distance = DistanceVariant::D3;
  std::vector<SliceSet> train, val, test;
};
StructureSets make_structure_sets(const DataSplit& split, Target t, DistanceVariant d);

struct Paper4Setting {
  MultitaskVariant variant = MultitaskVariant::ConvMD;
  int64_t size = 64, batch = 4, base_width = 32;
  int epochs = 150;
  double lr = 1e-4;
  double max_minutes = 0;     // time budget of the run (0: none)
  ScheduleSpec schedule;      // the paper: constant
  bool ellipse_fit = false;   // disc and cup: the paper's post-processing
  uint64_t seed = 0;          // initial weights and batch order
  Device device = Device::CPU;
  int figures = 3;            // test images drawn as image | GT | mask | contour or distance
};

std::unique_ptr<MultitaskUNet> make_paper4_model(MultitaskVariant v, int64_t base_width, uint64_t seed);
ModelDescription describe_paper4_model(MultitaskVariant v, int64_t base_width = 32);

// Dice and Jaccard per image of a structure's sets, optionally after the ellipse post-processing; also soft_dice
// (curves). Metrics: dice, jaccard, soft_dice.
class Paper4Evaluator : public Evaluator {
 public:
  Paper4Evaluator(const std::vector<SliceSet>& sets, std::string structure, bool ellipse_fit)
      : sets_(sets), structure_(std::move(structure)), ellipse_(ellipse_fit) {}
  Scores evaluate(const ForwardFn& forward, Device device) const override;
  size_t cases() const override { return sets_.size(); }

 private:
  const std::vector<SliceSet>& sets_;
  std::string structure_;
  bool ellipse_;
};

// image | ground truth | predicted mask | predicted contour (probability) or distance map, one PNG per test image
// (at most n), in dir as <id>.png.
void write_paper4_figures(const std::string& dir, const std::vector<SliceSet>& sets, const std::vector<Image>& images,
                          const std::vector<size_t>& image_index, MultitaskUNet& model, bool ellipse_fit, int n,
                          Device device);

// Trains (or resumes, or reads back) one run into dir.
RunResult run_paper4(const Paper4Setting& s, const DataSplit& split, const StructureSets& sets, const std::string& dir,
                     const nlohmann::json& paper_row, const nlohmann::json& extra_config = nlohmann::json::object());

}  // namespace seg::paper4
