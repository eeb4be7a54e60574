// Data-parallel training on the process group (engine/distributed.h), PyTorch DDP's design: every rank holds the
// whole model and trains on its own shard of each global batch; parameters start equal (broadcast from rank 0) and
// stay equal because every rank applies the same averaged gradients.
// Key decisions:
//  * gradients are averaged in buckets of about 25 MB (the first about 1 MB, so communication starts early), filled in
//    reverse registration order — roughly the order backward produces them. A bucket's all-reduce is submitted the
//    moment its last gradient is final (engine/autograd.h's GradReadyScope), in bucket order on every rank, and runs
//    on the communication thread while backward continues: on a GPU NCCL's stream runs beside the compute stream; on
//    the CPU Gloo's transport and the averaging run on that thread while the kernels keep the cores (on a machine
//    with fewer cores than ranks × threads the two compete, which the benchmark shows);
//  * each bucket carries one extra value per parameter, 1 when this rank produced its gradient: a parameter no rank
//    used keeps an undefined gradient (the optimisers skip it, as in a single process), one used by some ranks gets
//    the average with zeros for the others (DDP with find_unused_parameters);
//  * BatchNorm statistics stay per rank by default (DDP's default); the trainer broadcasts rank 0's running
//    statistics before validation and checkpoints. sync_batch_norm() returns the kernels/norm.h hook that makes
//    batch_norm use the global batch's statistics (--sync-bn).
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/distributed.h"
#include "engine/module.h"
#include "engine/optim.h"
#include "kernels/norm.h"

namespace seg {

struct DataParallelOptions {
  double bucket_mb = 25, first_bucket_mb = 1;
};

class DataParallel {
 public:
  using Options = DataParallelOptions;
  // Broadcasts the model's parameters and buffers from rank 0. The process group must be initialised.
  explicit DataParallel(Module& model, Options opt = {});

  void broadcast_parameters();  // parameters and buffers from rank 0 (after rank 0 loaded a checkpoint)
  void broadcast_buffers();     // buffers only (BatchNorm's running statistics: rank 0's)
  void broadcast_optimizer(Optimizer& opt);  // the optimiser's state from rank 0 (resume)

  // Backward of `loss`; on return every parameter's gradient is the average over the ranks.
  void backward(const Tensor& loss);

  struct Stats {
    int64_t steps = 0;
    double wait_s = 0;      // time backward() waited for communication after the graph was done (not overlapped)
    double bytes_per_step = 0;
    int buckets = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Bucket {
    std::vector<size_t> params;     // indices into params_
    std::vector<int64_t> offsets;   // element offset of each in flat
    int64_t numel = 0;              // gradient elements (the used flags follow)
    Tensor flat;
    std::vector<double> flags;      // host copy of the used flags
    int pending = 0;
    std::shared_ptr<dist::Work> work;
  };
  void ready(size_t param);
  void launch_ready();

  Module& model_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::unordered_map<TensorImpl*, size_t> index_;
  std::vector<size_t> bucket_of_, slot_of_;
  std::vector<Bucket> buckets_;
  std::vector<char> seen_;
  size_t next_launch_ = 0;
  Stats stats_;
};

// The kernels/norm.h hook over the process group (all-gather and sum of per-channel statistics, on the CPU through
// Gloo, or through NCCL where there is no Gloo).
std::shared_ptr<BatchNormSync> make_batch_norm_sync();

// Broadcasts tensors from `root`, grouped by device and dtype into one flat buffer each (few collectives).
void broadcast_tensors(const std::vector<Tensor>& tensors, int root = 0);

}  // namespace seg
