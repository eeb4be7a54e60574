// The training loop of every app: optimiser and learning-rate schedule as the app states them, named loss terms,
// per-epoch validation through an Evaluator, the best epoch chosen on validation, best and last checkpoints, per-epoch
// hooks with persistent variables, a wall-clock budget, and resumption after kill -9.
// Key decisions:
//  * nothing of a paper's protocol is fixed here: optimiser (Adam and its betas, SGD), schedule (constant, plateau with
//    patience, poly (1 − e/E)^p, linear decay over a CPU time budget), the loss, the augmentation (in the Sampler) and
//    the hooks are all in TrainConfig / the arguments, where the app sets them visibly;
//  * every epoch ends with an atomic last.safetensors (model, optimiser, schedule state, hook variables) and
//    curve.json, so a run killed at any moment resumes at the last finished epoch and draws the same batches;
//  * a time budget is a hard bound on training time (plus one validation), whatever the machine's load;
//  * **the model returned holds the best epoch's weights** (best.safetensors is loaded back), and the validation scores
//    returned are those measured on exactly these weights (re-measured after loading them when the best epoch came
//    before a resume), so whatever is reported, drawn or tested afterwards comes from the model the best epoch selected.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "apps/toolkit/batch.h"
#include "apps/toolkit/evaluate.h"
#include "apps/toolkit/progress.h"
#include "apps/toolkit/results.h"
#include "engine/module.h"
#include "engine/optim.h"

namespace seg {

struct LossTerms {
  Tensor total;                                       // what is back-propagated
  std::vector<std::pair<std::string, double>> parts;  // named terms for progress lines and the curve ("ce", "size")
};
using LossFn = std::function<LossTerms(const Outputs& out, const Batch& batch)>;

// Variables an app keeps across epochs (paper 5's log-barrier t): saved in checkpoints, restored on resume, written
// to the curve ("var_<name>").
using TrainVars = std::map<std::string, double>;
// Called after each finished epoch (1-based), before the checkpoint is written.
using EpochHook = std::function<void(int epoch, TrainVars& vars, Optimizer& opt)>;

struct OptimizerSpec {
  std::string name = "adam";   // adam | sgd
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam (PyTorch's defaults; paper 1 and 5: 0.9, 0.99)
  double momentum = 0.9;       // SGD
  bool nesterov = false;       // SGD
  double weight_decay = 0;
  std::string describe() const;
};

struct ScheduleSpec {
  enum Kind { Constant, Plateau, Poly, Budget };
  Kind kind = Constant;
  int patience = 20;           // Plateau: epochs without validation improvement before lr × factor
  double factor = 0.5;
  double power = 0.9;          // Poly: lr · (1 − (e−1)/E)^power at epoch e
  double min_fraction = 0.05;  // Budget: lr · max(min_fraction, 1 − t/T) over the wall-clock budget T
  std::string describe() const;
};
ScheduleSpec::Kind parse_schedule(const std::string& s);  // constant | plateau | poly | budget

struct TrainConfig {
  int epochs = 10;
  OptimizerSpec optim;
  ScheduleSpec schedule;
  double max_minutes = 0;          // wall-clock budget (0: none): no epoch starts that would end past it, and an epoch
                                   // still running when it is reached stops there and is validated as it is
  std::string select_metric = "dice";  // validation metric (mean over cases and structures) that picks the best epoch
  Device device = Device::CPU;
  std::string out_dir;             // checkpoints and curve; a last.safetensors found here is resumed
  std::string resume;              // an explicit checkpoint to resume from ("" = out_dir/last.safetensors if present)
  std::vector<EpochHook> hooks;
  TrainVars* vars = nullptr;       // the app's variables (hooks and loss share them)
  std::map<std::string, std::string> metadata;  // stored in checkpoints
  int64_t progress_every = 0;      // steps between progress lines (0: about 20 a epoch)
};

struct TrainResult {
  Curve curve;
  Scores best;                     // validation scores of the best weights (which the model holds on return)
  int best_epoch = 0, epochs_run = 0;
  double seconds = 0;              // wall-clock time of training, including time before a resume
  bool stopped_by_budget = false, resumed = false;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec, const Module& model);

TrainResult train(Module& model, const ForwardFn& forward, const LossFn& loss, Sampler& train_data,
                  const Evaluator& validation, const TrainConfig& cfg);

}  // namespace seg
