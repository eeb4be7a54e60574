// Normalisation layers (differentiable w.r.t. input, weight and bias), PyTorch semantics, for inputs (N, C, ...):
// batch_norm (per channel over N and space) and group_norm (per sample over groups of C/G channels and space).
// weight and bias are (C) or undefined (affine off). The arithmetic is in norm_math.h.
#pragma once
#include <memory>
#include <vector>

#include "engine/tensor.h"
#include "kernels/norm_math.h"

namespace seg {

// Synchronised batch norm for data-parallel training (--sync-bn; engine/data_parallel.h implements this over the
// process group). While a BatchNormSync is installed on the calling thread, batch_norm in training mode normalises
// with the statistics of the global batch — every replica's — and its backward sums the gradient statistics over the
// replicas (PyTorch's SyncBatchNorm), so N replicas × batch B train as one replica × batch N·B. Models do not change:
// the BatchNorm layer calls batch_norm as always. The backward uses the sync installed when its forward ran.
// Without one (the default, as PyTorch's DDP), each replica normalises with its own batch.
class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  // every replica's `local` (the same length on all), concatenated in replica order
  virtual std::vector<double> all_gather(const std::vector<double>& local) = 0;
  virtual void all_reduce_sum(std::vector<double>& values) = 0;  // in place
};
// Installs `sync` on this thread for the scope (null: none).
class BatchNormSyncScope {
 public:
  explicit BatchNormSyncScope(std::shared_ptr<BatchNormSync> sync);
  ~BatchNormSyncScope();
  BatchNormSyncScope(const BatchNormSyncScope&) = delete;
  BatchNormSyncScope& operator=(const BatchNormSyncScope&) = delete;

 private:
  std::shared_ptr<BatchNormSync> prev_;
};
std::shared_ptr<BatchNormSync> batch_norm_sync();  // the one installed on this thread, or null

// training: normalises with the batch statistics (the global batch's under a BatchNormSync) and, when
// running_mean/running_var are defined, updates them in place (running_var gets the unbiased variance, as PyTorch).
// Otherwise normalises with the running statistics, which must then be defined. running_mean/running_var: (C), same
// dtype and device as x, never differentiated.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// C must be divisible by num_groups.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  double eps = 1e-5);

}  // namespace seg
