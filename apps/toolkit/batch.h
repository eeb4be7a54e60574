// What the training loop exchanges with the data and the model, independent of the data's dimensionality:
// a Batch of tensors, the Sampler that draws batches, and the model's named Outputs.
// Key decision: these are interfaces, so 2-D slice sets (slice_data.h) and 3-D patch samplers (paper 3) plug into the
// same trainer, run folder and grid: a Batch's tensors are (B, C, H, W) or (B, C, D, H, W) alike.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace seg {

struct Batch {
  Tensor image;    // (B, C, spatial...) float32
  Tensor target;   // (B, spatial...) int64 class ids
  Tensor seeds;    // (B, K, spatial...) float32 0/1: pixels labelled as class k (weak supervision); undefined if none
  Tensor bounds;   // (B, K, 2) float32 size bounds [a, b] per class; undefined if none
  std::map<std::string, Tensor> extra;  // per-sample targets an app adds (contours, distance maps, edges, bounds ...)
};

// Draws the batches of each epoch; deterministic in (seed, epoch), so a resumed run draws the same batches.
// Data-parallel training (the trainer calls set_shard when there are several ranks): every rank draws the same order
// from the same seed, and rank r of W takes its `batch` samples out of each global batch of W·batch — so W ranks ×
// batch B see, step for step, the samples (and augmentations) one process × batch W·B would, and each rank's samples
// of an epoch are disjoint from the others'.
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual int64_t steps_per_epoch() const = 0;
  virtual void start_epoch(int epoch) = 0;
  virtual Batch next(Device device) = 0;
  // How the training inputs were made from the data set's volumes, for the checkpoints' model card (model_card.h:
  // "kind", "normalisation", sizes, orientation, label ids ...); null when the sampler cannot say.
  virtual nlohmann::json preprocessing() const { return nullptr; }
  // Makes this the sampler of rank `rank` of `world` (before the first epoch). A sampler that cannot shard refuses.
  virtual void set_shard(int rank, int world) {
    SEG_CHECK(world == 1 && rank == 0, "this sampler cannot split its batches over ", world,
              " ranks: data-parallel training needs Sampler::set_shard (apps/toolkit/batch.h)");
  }
};

// A model's outputs: `seg` is the designated segmentation output (logits, (B, K, spatial...)) that the toolkit
// evaluates; `heads` holds any other outputs by name (contour, distance, edge ...) for the app's loss.
struct Outputs {
  Tensor seg;
  std::map<std::string, Tensor> heads;
};
using ForwardFn = std::function<Outputs(const Tensor& images)>;

}  // namespace seg
