// Paper 5's protocol on the toolkit, used by shape_descriptors: ENet (ACDC, 4 classes) or the residual U-Net
// (PROMISE12, 2 classes), trained with cross entropy on full masks (the baseline) or with the shape-descriptor
// log-barrier loss alone (no pixel label: only per-slice bounds derived from the augmented ground truth), Adam
// (β 0.9, 0.99) at a constant learning rate, the paper's online augmentation, the barrier's t × 1.1 after every epoch
// (a hook; saved in checkpoints), validation per case (3-D Dice per class, best epoch on the mean), and the test split
// evaluated once on the restored best weights.
// Key decisions: the model is built in one function (make_paper5_model); every protocol choice is a field of
// Paper5Setting the app fills visibly; training Dice per class (the 2-D Dice of each training batch's argmax, pooled
// over the batch) is logged as loss parts `dice_<class>` so curve.csv has train_dice_<class> beside val_dice_<class>
// (the authors log the same kind of training Dice; it never reaches the loss).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/paper5/data.h"
#include "apps/toolkit/describe.h"
#include "apps/toolkit/run.h"
#include "losses/descriptor_loss.h"

namespace seg {

enum class Paper5Supervision { CrossEntropy, Descriptors };
Paper5Supervision parse_paper5_supervision(const std::string& s);  // ce | descriptors
const char* paper5_supervision_name(Paper5Supervision s);           // "ce" | "descriptors"
const char* paper5_supervision_title(Paper5Supervision s);          // "Cross-entropy (pixel-wise)" | "Shape descriptors"

struct Paper5Setting {
  Paper5Dataset dataset = Paper5Dataset::ACDC;
  Paper5Supervision supervision = Paper5Supervision::Descriptors;
  int64_t size = 256, batch = 8;
  int epochs = 200;
  double lr = 5e-4;
  double max_minutes = 0;     // wall-clock budget of the run (0: none)
  double t0 = 1.0, t_factor = 1.1;
  double weight = 1e-2;       // of each descriptor term
  bool augment = true;
  uint64_t seed = 0;          // initial weights, batch order, augmentation, dropout
  Device device = Device::CPU;
};

// ENet (ACDC) or the residual U-Net (PROMISE12) for the data set's classes.
struct Paper5Model {
  std::unique_ptr<Module> module;
  ForwardFn forward;
  std::string name;
};
Paper5Model make_paper5_model(Paper5Dataset d, uint64_t seed);
// ENet for 2 and 4 classes and the residual U-Net for 2 classes, with exact parameter counts.
std::vector<ModelDescription> describe_paper5_models();

// The paper's Table 1 as data (mean and std of the test Dice per class, both methods), and one row of it.
nlohmann::json paper5_paper_table();
nlohmann::json paper5_paper_row(Paper5Dataset d, Paper5Supervision s);

// The foreground structures evaluated (absent classes left out), named by class.
std::vector<Structure> paper5_structures(const Paper5Data& data, Paper5Dataset d);

// Trains (or resumes, or reads back) one run into dir.
RunResult run_paper5(const Paper5Setting& s, const Paper5Data& data, const std::string& dir, const std::string& app,
                     const nlohmann::json& extra_config = nlohmann::json::object());

}  // namespace seg
