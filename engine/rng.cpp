// Tensor fills from the counter-based generator. Filled on the host and copied for CUDA tensors: fills happen at
// initialisation, not in the training loop (dropout and Gumbel noise draw inside their own kernels).
#include "engine/rng.h"

namespace seg {

namespace {
template <class F>
void fill_with(Tensor& t, F draw) {
  const int64_t n = t.numel();
  Tensor host = t.is_cuda() ? Tensor::empty(t.shape(), t.dtype(), Device::CPU) : t;
  dispatch_float(t.dtype(), "fill_random", [&](auto tag) {
    using T = decltype(tag);
    T* p = host.data<T>();
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(draw(static_cast<uint64_t>(i)));
  });
  if (t.is_cuda()) t.copy_from_(host);
}
}  // namespace

void fill_uniform(Tensor& t, Generator& gen, double lo, double hi) {
  const uint64_t seed = gen.seed(), off = gen.reserve(static_cast<uint64_t>(t.numel()));
  fill_with(t, [=](uint64_t i) { return lo + (hi - lo) * uniform_at(seed, off, i); });
}

void fill_normal(Tensor& t, Generator& gen, double mean, double std) {
  const uint64_t seed = gen.seed(), off = gen.reserve(static_cast<uint64_t>(t.numel()));
  fill_with(t, [=](uint64_t i) { return mean + std * normal_at(seed, off, i); });
}

}  // namespace seg
