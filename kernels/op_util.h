// The scaffold every op in kernels/ is written with (the CPU file and the host side of its CUDA twin): the device
// switch, optional data pointers, gradient buffers made only when asked for, "one value or one per spatial dim", the
// CPU parallel grain, NumPy broadcast strides and the (N, C, S) view of a tensor.
// Key decision: helpers, not a framework (no registry, no op classes). An op still checks its arguments, writes its
// CPU loop and calls its CUDA launcher by name, as in llm.c and Caffe; these only replace the lines that used to be
// copied from file to file and had begun to drift apart. The autograd side is engine/autograd.h's record().
// A typical op (docs/adding.md walks through one):
//   Tensor y = empty_like(x);
//   on_device(x, op, [&] { cuda::foo_forward(x, y); },
//             [&](auto tag) { foo_forward_cpu<decltype(tag)>(x, y); });
//   return record(op, y, {x}, [&] {
//     return [xs = x.detach()](const Tensor& g) -> std::vector<Tensor> { ... };
//   });
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace seg {

// A CPU loop runs on OpenMP threads only when it touches more than this many elements
// (`#pragma omp parallel for if (work > kParallelGrain)`): below it the thread start costs more than it saves, and the
// gradient checks' tiny tensors stay serial.
constexpr int64_t kParallelGrain = int64_t(1) << 14;

// Runs `cuda()` when `x` lives on a CUDA device, else `cpu(T{})` with T = float or double by x's dtype (any other
// dtype is an error naming `op`). Both branches stay written out at the call site.
template <class CudaFn, class CpuFn>
void on_device(const Tensor& x, const char* op, CudaFn&& cuda, CpuFn&& cpu) {
  if (x.is_cuda()) {
    cuda();
  } else {
    dispatch_float(x.dtype(), op, std::forward<CpuFn>(cpu));
  }
}

// t's data as T*, or null when t is undefined (an optional weight or bias, a gradient nobody asked for).
template <class T>
T* opt_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// t without its history (same storage), or undefined when t is: what a backward closure saves of an optional input.
inline Tensor saved(const Tensor& t) { return t.defined() ? t.detach() : Tensor(); }

// A fresh tensor with x's shape, dtype and device (contents uninitialised).
inline Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

// A gradient buffer of `shape` in g's dtype and device when `needed`, else undefined (the backward skips that input).
inline Tensor grad_buffer(bool needed, const Shape& shape, const Tensor& g) {
  return needed ? Tensor::empty(shape, g.dtype(), g.device()) : Tensor();
}

// `v` holds one value for every spatial dim or one per dim (PyTorch's int-or-tuple arguments): returns `sd` values,
// or an error naming the op and the argument.
template <class V>
std::vector<V> per_spatial_dim(const std::vector<V>& v, int64_t sd, const char* op, const char* name) {
  SEG_CHECK(v.size() == 1 || static_cast<int64_t>(v.size()) == sd, op, ": ", name, " needs 1 or ", sd,
            " values (one for every spatial dim, or one per dim), got ", v.size());
  return v.size() == 1 ? std::vector<V>(static_cast<size_t>(sd), v[0]) : v;
}

// A tensor (N, C, ...) seen as N·C planes of S values each.
struct NCS {
  int64_t N, C, S;
};
inline NCS ncs_of(const Tensor& x) {
  const int64_t planes = x.size(0) * x.size(1);
  return {x.size(0), x.size(1), planes ? x.numel() / planes : 0};
}

// Element strides of an operand of shape `s` broadcast to `out` (NumPy rules, trailing dims aligned): 0 where `s` has
// size 1 or lacks the dimension, so offset = Σ_d index_d · stride_d reads the right element.
inline std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t stride = 1;
  for (int64_t i = static_cast<int64_t>(s.size()) - 1, j = static_cast<int64_t>(out.size()) - 1; i >= 0 && j >= 0;
       --i, --j) {
    st[static_cast<size_t>(j)] = s[static_cast<size_t>(i)] == 1 ? 0 : stride;
    stride *= s[static_cast<size_t>(i)];
  }
  return st;
}

}  // namespace seg
