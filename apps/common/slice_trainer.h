// Training and validation of a 2-D segmentation network on slices of 3-D volumes (paper 1's protocol):
// Adam, learning rate halved after `patience` epochs without validation improvement (or, under a time budget, decayed
// linearly to the end of the budget), per-epoch validation on whole
// patients (3-D Dice, Hausdorff and HD95 in mm, Dice on organ slices), the best checkpoint kept, and resumable runs.
// Key decision: the loss is a callback of the app (full CE, or partial CE + λ·size penalty), so the loop is shared and
// the app states its method; every epoch ends with an atomic "last" checkpoint so a killed run resumes where it was.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "apps/common/progress.h"
#include "apps/common/results.h"
#include "apps/common/slice_data.h"
#include "engine/module.h"

namespace seg {

struct LossTerms {
  Tensor total;                                   // what is back-propagated
  std::vector<std::pair<std::string, double>> parts;  // named values for the progress line
};
using LossFn = std::function<LossTerms(const Tensor& logits, const Batch& batch)>;
using ForwardFn = std::function<Tensor(const Tensor& images)>;

// How the learning rate moves: the paper's halving after `patience` epochs without improvement, or — for a run with a
// time budget — linear decay over the budget's wall-clock time, lr·max(0.05, 1 − t/T) (linear-to-zero is the best
// simple schedule under a fixed budget: Li, Yumer & Ramanan, "Budgeted training", ICLR 2020).
enum class LrSchedule { Plateau, Budget };

struct TrainerConfig {
  int epochs = 10;
  int64_t batch = 4;
  double lr = 5e-4;
  int patience = 20;               // epochs without improvement before the lr is halved
  double max_minutes = 0;          // stop before an epoch that would end past this budget (0: none)
  LrSchedule schedule = LrSchedule::Plateau;  // Budget needs max_minutes > 0
  uint64_t seed = 0;
  Device device = Device::CPU;
  std::string out_dir;
  std::string resume;              // checkpoint to resume from ("" = fresh run)
  int64_t val_batch = 8;
  std::map<std::string, std::string> metadata;  // stored in checkpoints
};

struct PatientScores {
  std::map<std::string, double> dice_volume, dice_organ_slices, hd_mm, hd95_mm;
  // the same after keeping only the largest 3-D connected component of the prediction (common post-processing, not
  // the paper's protocol): separates "finds the organ" from "scatters a few false positives far away"
  std::map<std::string, double> lcc_dice_volume, lcc_hd_mm, lcc_hd95_mm;
};

struct TrainResult {
  std::vector<EpochRow> curve;
  PatientScores best;             // validation scores of the best epoch
  int best_epoch = 0;
  double seconds = 0;
  bool stopped_by_budget = false;
};

// Predicted organ masks (slices·S·S, 0/1) of one patient, by argmax over classes (class 1 = organ).
std::vector<uint8_t> predict_patient(const ForwardFn& forward, const SliceSet& s, int64_t batch, Device device);
PatientScores evaluate(const ForwardFn& forward, const std::vector<SliceSet>& val, int64_t batch, Device device);

TrainResult train_slices(Module& model, const ForwardFn& forward, const LossFn& loss, const std::vector<SliceSet>& train,
                         const std::vector<SliceSet>& val, const TrainerConfig& cfg);

}  // namespace seg
