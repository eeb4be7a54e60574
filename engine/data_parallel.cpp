// Data-parallel gradient averaging, state broadcasts and the synchronised-BatchNorm hook (see data_parallel.h).
#include "engine/data_parallel.h"

#include <chrono>
#include <cstring>
#include <map>

#include "engine/autograd.h"
#include "engine/device.h"

namespace seg {

namespace {

void copy_bytes(void* dst, const void* src, size_t bytes, Device d) {
  if (d == Device::CPU) std::memcpy(dst, src, bytes);
  else cuda_memcpy(dst, Device::CUDA, src, Device::CUDA, bytes);
}

void zero_bytes(void* dst, size_t bytes, Device d) {
  if (d == Device::CPU) std::memset(dst, 0, bytes);
  else cuda_memset_zero(dst, bytes);
}

char* at(const Tensor& t, int64_t element) {
  return static_cast<char*>(t.raw()) + static_cast<size_t>(element) * dtype_size(t.dtype());
}

class DistBatchNormSync : public BatchNormSync {
 public:
  std::vector<double> all_gather(const std::vector<double>& local) override {
    const int64_t n = static_cast<int64_t>(local.size()), W = dist::world_size(), r = dist::rank();
    Tensor t = Tensor::zeros({W * n}, DType::Float64);
    std::memcpy(t.data<double>() + r * n, local.data(), local.size() * sizeof(double));
    dist::all_reduce(t, dist::ReduceOp::Sum);  // every slot but one is zero on each rank: the sum is the gather
    return t.to_vector();
  }
  void all_reduce_sum(std::vector<double>& values) override {
    Tensor t = Tensor::from_vector(values, {static_cast<int64_t>(values.size())}, DType::Float64);
    dist::all_reduce(t, dist::ReduceOp::Sum);
    values = t.to_vector();
  }
};

}  // namespace

std::shared_ptr<BatchNormSync> make_batch_norm_sync() { return std::make_shared<DistBatchNormSync>(); }

void broadcast_tensors(const std::vector<Tensor>& tensors, int root) {
  std::map<std::pair<int, int>, std::vector<const Tensor*>> groups;
  for (const Tensor& t : tensors)
    if (t.defined() && t.numel() > 0) groups[{static_cast<int>(t.device()), static_cast<int>(t.dtype())}].push_back(&t);
  for (auto& [key, ts] : groups) {
    const Device d = static_cast<Device>(key.first);
    const DType dt = static_cast<DType>(key.second);
    int64_t total = 0;
    for (const Tensor* t : ts) total += t->numel();
    Tensor flat = Tensor::empty({total}, dt, d);
    int64_t off = 0;
    for (const Tensor* t : ts) {
      copy_bytes(at(flat, off), t->raw(), static_cast<size_t>(t->numel()) * dtype_size(dt), d);
      off += t->numel();
    }
    dist::broadcast(flat, root);
    off = 0;
    for (const Tensor* t : ts) {
      copy_bytes(t->raw(), at(flat, off), static_cast<size_t>(t->numel()) * dtype_size(dt), d);
      off += t->numel();
    }
  }
}

DataParallel::DataParallel(Module& model, Options opt) : model_(model), params_(model.named_parameters()) {
  SEG_CHECK(dist::initialized(), "DataParallel: the process group is not initialised (dist::init or --nproc)");
  SEG_CHECK(opt.bucket_mb > 0 && opt.first_bucket_mb > 0, "DataParallel: bucket sizes must be positive");
  const size_t P = params_.size();
  bucket_of_.assign(P, 0);
  slot_of_.assign(P, 0);
  for (size_t i = 0; i < P; ++i) index_[params_[i].second.impl()] = i;
  // reverse registration order: the last layers' gradients are ready first
  for (size_t k = P; k-- > 0;) {
    const Tensor& p = params_[k].second;
    bool fresh = buckets_.empty();
    if (!fresh) {
      const Bucket& b = buckets_.back();
      const Tensor& q = params_[b.params.front()].second;
      const double bytes = static_cast<double>(b.numel + p.numel()) * static_cast<double>(dtype_size(p.dtype()));
      const double cap = (buckets_.size() == 1 ? opt.first_bucket_mb : opt.bucket_mb) * 1048576.0;  // the first is small
      fresh = q.dtype() != p.dtype() || q.device() != p.device() || bytes > cap;
    }
    if (fresh) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = b.params.size();
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
  }
  double bytes = 0;
  for (Bucket& b : buckets_) {
    const Tensor& p = params_[b.params.front()].second;
    b.flat = Tensor::zeros({b.numel + static_cast<int64_t>(b.params.size())}, p.dtype(), p.device());
    b.flags.assign(b.params.size(), 0.0);
    bytes += static_cast<double>(b.flat.numel()) * static_cast<double>(dtype_size(p.dtype()));
  }
  stats_.buckets = static_cast<int>(buckets_.size());
  stats_.bytes_per_step = bytes;
  broadcast_parameters();
}

void DataParallel::broadcast_parameters() {
  std::vector<Tensor> ts;
  for (auto& [n, t] : model_.named_parameters()) ts.push_back(t);
  for (auto& [n, t] : model_.named_buffers()) ts.push_back(t);
  broadcast_tensors(ts, 0);
}

void DataParallel::broadcast_buffers() {
  std::vector<Tensor> ts;
  for (auto& [n, t] : model_.named_buffers()) ts.push_back(t);
  broadcast_tensors(ts, 0);
}

void DataParallel::broadcast_optimizer(Optimizer& opt) {
  std::map<std::string, Tensor> st = opt.state();
  std::vector<Tensor> ts;
  for (auto& [k, t] : st) {
    t = t.clone();  // (the state map may hand out the optimiser's own tensors; load_state copies back)
    ts.push_back(t);
  }
  broadcast_tensors(ts, 0);
  opt.load_state(st);
}

void DataParallel::ready(size_t i) {
  if (seen_[i]) return;
  seen_[i] = 1;
  Bucket& b = buckets_[bucket_of_[i]];
  const size_t j = slot_of_[i];
  const Tensor& p = params_[i].second;
  const Tensor g = p.grad();
  char* dst = at(b.flat, b.offsets[j]);
  const size_t bytes = static_cast<size_t>(p.numel()) * dtype_size(p.dtype());
  SEG_CHECK(p.device() == b.flat.device(), "DataParallel: parameter '", params_[i].first, "' moved to ",
            device_name(p.device()), " after the data-parallel wrapper was made on ", device_name(b.flat.device()));
  if (g.defined()) {
    SEG_CHECK(g.dtype() == p.dtype() && g.device() == p.device() && g.numel() == p.numel(), "DataParallel: the gradient of '",
              params_[i].first, "' is ", g.describe(), ", the parameter ", p.describe());
    copy_bytes(dst, g.raw(), bytes, p.device());
    b.flags[j] = 1.0;
  } else {
    zero_bytes(dst, bytes, p.device());
    b.flags[j] = 0.0;
  }
  if (--b.pending == 0) launch_ready();
}

void DataParallel::launch_ready() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_++];
    const Tensor flags = Tensor::from_vector(b.flags, {static_cast<int64_t>(b.flags.size())}, b.flat.dtype());
    if (b.flat.is_cuda()) cuda_memcpy(at(b.flat, b.numel), Device::CUDA, flags.raw(), Device::CPU, b.flags.size() * dtype_size(b.flat.dtype()));
    else std::memcpy(at(b.flat, b.numel), flags.raw(), b.flags.size() * dtype_size(b.flat.dtype()));
    b.work = dist::all_reduce_async(b.flat, dist::ReduceOp::Avg);
  }
}

void DataParallel::backward(const Tensor& loss) {
  for (Bucket& b : buckets_) {
    b.pending = static_cast<int>(b.params.size());
    b.work.reset();
  }
  seen_.assign(params_.size(), 0);
  next_launch_ = 0;
  {
    GradReadyScope scope([this](TensorImpl* leaf) {
      const auto it = index_.find(leaf);
      if (it != index_.end()) ready(it->second);
    });
    loss.backward();
  }
  for (size_t i = 0; i < params_.size(); ++i)
    if (!seen_[i]) ready(i);  // parameters this backward did not reach
  const auto t0 = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_) b.work->wait();
  stats_.wait_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (Bucket& b : buckets_) {
    const Tensor flags = b.flat.is_cuda() ? Tensor::empty({static_cast<int64_t>(b.params.size())}, b.flat.dtype()) : Tensor();
    if (flags.defined()) cuda_memcpy(flags.raw(), Device::CPU, at(b.flat, b.numel), Device::CUDA, b.params.size() * dtype_size(b.flat.dtype()));
    const std::vector<double> used = flags.defined() ? flags.to_vector() : std::vector<double>();
    for (size_t j = 0; j < b.params.size(); ++j) {
      Tensor& p = params_[b.params[j]].second;
      double u = 0;
      if (flags.defined()) u = used[j];
      else if (b.flat.dtype() == DType::Float32) u = b.flat.data<float>()[b.numel + static_cast<int64_t>(j)];
      else u = b.flat.data<double>()[b.numel + static_cast<int64_t>(j)];
      if (u == 0) {  // no rank produced a gradient: it stays undefined, as in a single process
        p.zero_grad();
        continue;
      }
      Tensor g = p.grad();
      if (!g.defined()) {
        g = Tensor::empty(p.shape(), p.dtype(), p.device());
        p.set_grad(g);
      }
      copy_bytes(g.raw(), at(b.flat, b.offsets[j]), static_cast<size_t>(p.numel()) * dtype_size(p.dtype()), p.device());
    }
  }
  ++stats_.steps;
}

}  // namespace seg
