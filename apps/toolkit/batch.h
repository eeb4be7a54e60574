// What the training loop exchanges with the data and the model, independent of the data's dimensionality:
// a Batch of tensors, the Sampler that draws batches, and the model's named Outputs.
// Key decision: these are interfaces, so 2-D slice sets (slice_data.h) and 3-D patch samplers (paper 3) plug into the
// same trainer, run folder and grid: a Batch's tensors are (B, C, H, W) or (B, C, D, H, W) alike.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

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
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual int64_t steps_per_epoch() const = 0;
  virtual void start_epoch(int epoch) = 0;
  virtual Batch next(Device device) = 0;
};

// A model's outputs: `seg` is the designated segmentation output (logits, (B, K, spatial...)) that the toolkit
// evaluates; `heads` holds any other outputs by name (contour, distance, edge ...) for the app's loss.
struct Outputs {
  Tensor seg;
  std::map<std::string, Tensor> heads;
};
using ForwardFn = std::function<Outputs(const Tensor& images)>;

}  // namespace seg
