// Dropout on the CPU and its autograd wiring (the keep rule is in dropout_math.h).
// Key decisions: elementwise dropout saves nothing — the backward re-draws the mask from the same (seed, offset),
// which is exact because Philox is a pure function of the counter, and costs a fraction of a full-size mask tensor's
// memory traffic; channel dropout saves its N·C plane factors (tiny) and applies them to dy.
#include "kernels/dropout.h"

#include <algorithm>

#include "engine/autograd.h"
#include "kernels/dropout_cuda.h"
#include "kernels/op_util.h"

namespace seg {

namespace {

// y[i] = x[i] · factor(i); one Philox call per block of four draws (uniform_at's four words per counter).
template <class T>
void dropout_apply_cpu(const T* x, T* y, int64_t n, uint64_t seed, uint64_t offset, double p) {
  const T scale = static_cast<T>(dropout_scale(p));
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t b = 0; b < blocks; ++b) {
    const Philox4 r = philox4x32_10(seed, offset + static_cast<uint64_t>(b));
    const int64_t end = std::min<int64_t>(4, n - 4 * b);
    for (int64_t j = 0; j < end; ++j) {
      const int64_t i = 4 * b + j;
      y[i] = dropout_keep(u32_to_unit(r.v[j]), p) ? x[i] * scale : T(0);
    }
  }
}

template <class T>
void scale_planes_cpu(const T* x, const T* f, T* y, int64_t planes, int64_t S) {
#pragma omp parallel for if (planes * S > kParallelGrain)
  for (int64_t q = 0; q < planes; ++q) {
    const T a = f[q];
    for (int64_t i = 0; i < S; ++i) y[q * S + i] = x[q * S + i] * a;
  }
}

void check_p(double p, const char* op) { SEG_CHECK(p >= 0.0 && p <= 1.0, op, ": p must be in [0, 1], got ", p); }

Tensor scale_planes(const Tensor& x, const Tensor& f, const char* op) {
  Tensor y = empty_like(x);
  on_device(
      x, op, [&] { cuda::scale_planes(x, f, y); },
      [&](auto tag) {
        using T = decltype(tag);
        const int64_t planes = f.numel();
        scale_planes_cpu(x.data<T>(), f.data<T>(), y.data<T>(), planes, planes ? x.numel() / planes : 0);
      });
  return y;
}

Tensor channel_dropout_impl(const Tensor& x, double p, bool training, Generator& gen, const char* op) {
  check_float(x, op, "input");
  check_p(p, op);
  if (!training || p == 0.0) return x;
  const int64_t planes = x.size(0) * x.size(1);
  const uint64_t seed = gen.seed(), offset = gen.reserve(static_cast<uint64_t>(planes));
  Tensor f = Tensor::empty({planes}, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::dropout_channel_factors(f, seed, offset, p); },
      [&](auto tag) {
        using T = decltype(tag);
        T* fp = f.data<T>();
        for (int64_t q = 0; q < planes; ++q) fp[q] = static_cast<T>(dropout_factor(seed, offset, q, p));
      });
  Tensor y = scale_planes(x, f, op);
  return record(op, y, {x}, [&] {
    return [f, op](const Tensor& g) -> std::vector<Tensor> { return {scale_planes(g, f, op)}; };
  });
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check_float(x, op, "input");
  check_p(p, op);
  if (!training || p == 0.0) return x;
  const uint64_t seed = gen.seed(), offset = gen.reserve(static_cast<uint64_t>(x.numel()));
  auto apply = [seed, offset, p, op](const Tensor& in) {
    Tensor out = empty_like(in);
    on_device(
        in, op, [&] { cuda::dropout_apply(in, out, seed, offset, p); },
        [&](auto tag) {
          using T = decltype(tag);
          dropout_apply_cpu(in.data<T>(), out.data<T>(), in.numel(), seed, offset, p);
        });
    return out;
  };
  Tensor y = apply(x);
  return record(op, y, {x}, [&] { return [apply](const Tensor& g) -> std::vector<Tensor> { return {apply(g)}; }; });
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen) {
  check_dim(x, 4, "dropout2d", "input");
  return channel_dropout_impl(x, p, training, gen, "dropout2d");
}
Tensor dropout3d(const Tensor& x, double p, bool training, Generator& gen) {
  check_dim(x, 5, "dropout3d", "input");
  return channel_dropout_impl(x, p, training, gen, "dropout3d");
}
Tensor channel_dropout(const Tensor& x, double p, bool training, Generator& gen) {
  SEG_CHECK(x.defined() && x.dim() >= 2, "channel_dropout: expected an input (N, C, ...), got ",
            x.defined() ? x.describe() : std::string("an undefined tensor"));
  return channel_dropout_impl(x, p, training, gen, "channel_dropout");
}

}  // namespace seg
