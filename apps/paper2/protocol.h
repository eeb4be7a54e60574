// Paper 2's protocol on the toolkit (Murase et al.): the U-Net-BN and the four-layer CNN, each without or with the
// positional encoding (PE, λ ∈ {1, 10, 256}) and zero or reflection padding; cross entropy, Adam lr 1e-3 (β 0.9,
// 0.999), batch 20, a constant learning rate, the best epoch on validation (mean Dice over the three structures), Dice
// on the test split; the averaged-mask baseline; Dice of a trained model on the degraded and shifted test sets; the
// paper's numbers as data.
// Key decisions:
// - A model is built in one function (make_model) from its variant, so the app, --describe and the robustness
//   evaluation (which reloads best.safetensors) build the same network.
// - Every run's folder key names everything that defines it (data set, model, padding, λ, training images), and all
//   items of the app share one runs/ folder under --out, so Fig. 2 reuses Table 1's runs instead of retraining.
// - No augmentation (the paper states none; a mirror would swap the lungs' labels, a rotation the position prior).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/paper2/data.h"
#include "apps/toolkit/describe.h"
#include "apps/toolkit/run.h"
#include "apps/toolkit/slice_data.h"

namespace seg::paper2 {

enum class ModelKind { UNetBN, SmallCNN };

// One model configuration of the paper.
struct Variant {
  ModelKind model = ModelKind::UNetBN;
  double pe = 0;                  // λ of the positional encoding; 0 = none
  std::string padding = "zeros";  // "zeros" | "reflect"
  int64_t train_images = 0;       // Table 2: training images/subjects (0 = the whole training split)
  std::string key(Dataset d) const;  // run-folder key, e.g. "jsrt_unet_zeros_pe256" or "jsrt_unet_zeros_pe0_n10"
  std::string label() const;         // "U-Net w/ PE (λ = 256)", "4-layer CNN w/o PE, reflection padding", ...
};

// What every run of one invocation shares (the CPU defaults or, with --paper, the paper's).
struct Protocol {
  int64_t size = 64;          // S
  int64_t unet_width = 16;    // the paper: 64
  int64_t cnn_width = 64;     // the paper: 64
  int64_t batch = 20;
  int epochs = 20;            // the paper: 100
  double lr = 1e-3;
  double max_minutes = 0;     // per-run wall-clock budget (0: none)
  Device device = Device::CPU;
  int64_t eval_batch = 8;     // slices per forward pass in evaluation
};

struct Model {
  std::shared_ptr<Module> module;
  ForwardFn forward;
};
Model make_model(const Variant& v, const Protocol& p, uint64_t seed);
ModelDescription describe_model(const Variant& v, const Protocol& p);

// One data set ready for training: the unit-intensity cases (kept for the degradations) and the normalised slice sets.
struct PaperData {
  Dataset dataset = Dataset::Jsrt;
  std::string source;
  Normaliser norm;
  std::vector<Case2D> test_cases;      // unit intensities (degradations and shifts start from these)
  std::vector<SliceSet> train, val, test;
  AveragedMask average;                // over the training split
};
PaperData prepare_data(Dataset d, const Split& split);
// The paper's normalisation of cases into slice sets (one per image / ACDC frame), classes in the paper's order.
std::vector<SliceSet> slice_sets(const std::vector<Case2D>& cases, const Normaliser& norm);
std::vector<Structure> structures(Dataset d);  // right lung, left lung, heart | LV, RV, myocardium

// Trains (or resumes, or reads back) one run into dir; `extra` joins the run's config.
RunResult run_variant(const Variant& v, const Protocol& p, const PaperData& data, uint64_t seed, const std::string& dir,
                      const std::string& app, const nlohmann::json& extra = nlohmann::json::object());
// The averaged-mask baseline as a run (no training): Dice of the argmax (or, soft, of the class frequencies) on the
// validation and test cases, written to dir/results.json.
RunResult averaged_mask_run(const PaperData& data, bool soft, const std::string& dir);

// Mean Dice over the foreground structures of each case (dice_of per structure over the case's slices).
std::map<std::string, double> dice_per_case(const ForwardFn& forward, const std::vector<SliceSet>& sets, Dataset d,
                                            int64_t batch, Device device,
                                            std::map<std::string, std::map<std::string, double>>* per_structure = nullptr);

// Test Dice of one trained run (its best.safetensors) on every degradation level and shift, cached in
// dir/robustness.json (recomputed when the levels, shifts or size differ). Returns that file's content:
// {"size", "degradations": {key: {"levels": [...], "dice": [clean, l1..l5]}}, "shifts": {"dx": [...], "dice": [...]}}.
nlohmann::json robustness(const Variant& v, const Protocol& p, const PaperData& data, const std::string& dir,
                          uint64_t seed, const std::vector<DegradationSpec>& degradations,
                          const std::vector<int64_t>& shifts);

// The paper's numbers as data.
nlohmann::json paper_table1();                                   // both sub-tables with the caveats
nlohmann::json paper_table1_cell(Dataset d, const std::string& row);  // row: "average_hard" | "none" | "1" | "10" | "256"
nlohmann::json paper_table2();
nlohmann::json paper_table2_cell(int64_t train_images, bool pe);
std::string paper_figure_text(int figure);                       // what the paper's text says of its figure

}  // namespace seg::paper2
