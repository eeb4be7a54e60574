// Evaluation of a segmentation model per case (a patient's whole volume, or one image) and per structure: Dice,
// Jaccard, HD, HD95 and ASSD in mm (data/metrics), the soft Dice of the probabilities (the "Dice loss" curves plot
// 1 − it), and optionally the same after keeping the largest 3-D connected component and the Dice over the slices
// that contain the structure.
// Key decisions: a structure is a set of class ids evaluated as one binary mask (one class by default; BraTS' regions
// WT/TC/ET and KiTS' kidney = kidney ∪ tumour are unions), so every paper's report is the same table; the Evaluator is
// an interface: SliceEvaluator predicts 2-D slices and stacks them into a volume, paper 3's sliding-window evaluator
// will implement the same interface on 3-D patches.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/toolkit/batch.h"
#include "apps/toolkit/slice_data.h"

namespace seg {

struct Structure {
  std::string name;         // "heart", "LV", "WT" ...
  std::vector<int> classes; // class ids whose union is the structure
};

// values[metric][structure][case]; metrics: dice, jaccard, hd_mm, hd95_mm, assd_mm, soft_dice, and with the options
// lcc_dice, lcc_hd_mm, lcc_hd95_mm, dice_slices_with_structure.
struct Scores {
  std::vector<std::string> structures, cases;
  std::map<std::string, std::map<std::string, std::map<std::string, double>>> values;

  // per case: the mean over structures (NaN if any is not finite); then the mean over cases with a finite value
  std::map<std::string, double> per_case(const std::string& metric) const;
  double mean(const std::string& metric) const;
  bool has(const std::string& metric) const { return values.count(metric) > 0; }
  nlohmann::json to_json() const;  // {structures, metrics: {metric: {structure: {mean, std, per_patient}}}}
  static Scores from_json(const nlohmann::json& j);
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual Scores evaluate(const ForwardFn& forward, Device device) const = 0;
  virtual size_t cases() const = 0;
};

struct SliceEvalOptions {
  int64_t batch = 8;                       // slices per forward pass
  bool largest_component = false;          // also lcc_* metrics
  bool slices_with_structure = false;      // also dice_slices_with_structure
};

class SliceEvaluator : public Evaluator {
 public:
  SliceEvaluator(const std::vector<SliceSet>& sets, std::vector<Structure> structures, SliceEvalOptions opt = {});
  Scores evaluate(const ForwardFn& forward, Device device) const override;
  size_t cases() const override { return sets_.size(); }

 private:
  const std::vector<SliceSet>& sets_;
  std::vector<Structure> structures_;
  SliceEvalOptions opt_;
};

// Argmax class ids of every slice of a case (slices · H · W); probs_sum (optional) receives, per structure, Σp·g,
// Σp and Σg of the softmax probabilities for the soft Dice.
std::vector<uint8_t> predict_labels(const ForwardFn& forward, const SliceSet& s, int64_t batch, Device device,
                                    const std::vector<Structure>& structures = {},
                                    std::vector<std::array<double, 3>>* soft_sums = nullptr);

// Every foreground class as its own structure, named by `names` (index = class id; "class k" when absent).
std::vector<Structure> foreground_structures(int64_t classes, const std::vector<std::string>& names = {});

// Overlays of one case (data/report/overlay.h) for one structure: three slices through its extent and the slice with
// the most false-positive pixels, as PNG in dir ("<case>_slice<z>[_most_false_positives].png"). Channel 0 is drawn.
void write_case_overlays(const std::string& dir, const SliceSet& s, const std::vector<uint8_t>& pred,
                         const Structure& structure);

}  // namespace seg
