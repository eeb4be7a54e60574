// Whole-volume evaluation of a 3-D model (paper 3; any volumetric experiment): each validation case of a CaseStore is
// predicted by sliding-window inference (data/pipeline3d/sliding_window.h: overlapping tiles, Gaussian weights, a
// z-ring of sums bounded by the tile depth), its label map taken back to the original grid (nearest neighbour), and
// scored there per structure (a union of classes: BraTS' ET/TC/WT, KiTS' kidney = kidney ∪ tumour) with the same
// metrics as the 2-D SliceEvaluator: Dice, Jaccard, HD, HD95, ASSD in mm and the soft Dice of the probabilities
// (on the working grid; the curves' "Dice loss" is 1 − it).
// Key decisions: the model is a ForwardFn like everywhere in the toolkit: Outputs::seg gives the class probabilities
// (softmax); a head named in the options (the EG-CNN's "edge") is averaged too (sigmoid), so overlays can show the
// predicted edges; every case records the memory it took (the pipeline's buffers and the host allocator's peak).
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "apps/toolkit/evaluate.h"
#include "data/pipeline3d/cases3d.h"
#include "data/pipeline3d/sliding_window.h"

namespace seg {

struct VolumeEvalOptions {
  SlidingWindowConfig window;
  bool distances = true;          // HD, HD95, ASSD (mm) on the original grid
  std::string extra_head = "";    // an Outputs::heads key averaged as sigmoid probabilities ("edge"), "" = none
  int64_t extra_channels = 0;     // its channels
};

class VolumeEvaluator : public Evaluator {
 public:
  VolumeEvaluator(CaseStore& store, std::vector<size_t> cases, std::vector<Structure> structures, VolumeEvalOptions opt);
  Scores evaluate(const ForwardFn& forward, Device device) const override;
  size_t cases() const override { return cases_.size(); }

  struct Prediction {
    std::string id;
    Volume classes;             // predicted class ids on the working grid
    Volume original;            // predicted class ids on the original grid
    Volume truth;               // ground-truth class ids on the original grid (empty without a label)
    Volume extra;               // the extra head's averaged probabilities on the working grid (keep_extra only)
    SlidingWindowStats stats;
    int64_t host_peak_bytes = 0;  // the host allocator's peak during inference above what was held before, plus the
                                  // pipeline's buffers (std::vectors)
    std::vector<std::array<double, 3>> soft;  // per structure on the working grid: Σp·g, Σp, Σg
  };
  // Case `i` of this evaluator's cases (not of the store).
  Prediction predict(const ForwardFn& forward, Device device, size_t i, bool keep_extra = false) const;
  const std::vector<size_t>& case_indices() const { return cases_; }
  CaseStore& store() const { return store_; }
  const std::vector<Structure>& structures() const { return structures_; }
  // Per case of the last evaluate(): {"tiles", "buffer_mib", "host_peak_mib"}.
  const std::map<std::string, std::map<std::string, double>>& memory() const { return memory_; }

 private:
  CaseStore& store_;
  std::vector<size_t> cases_;
  std::vector<Structure> structures_;
  VolumeEvalOptions opt_;
  mutable std::map<std::string, std::map<std::string, double>> memory_;
};

}  // namespace seg
