// CUDA elementwise ops (kernels/elementwise_cuda.h): grid-stride loops over the output applying the formulas of
// elementwise_math.h, the same functions the CPU loops call.
// Key decision: broadcasting is a per-element index remap through (shape, strides) arrays passed by value (≤ 8 dims);
// the common no-broadcast and tensor∘scalar cases get their own branch-free kernels. sum_to_shape is the reduction
// kernel of reduce.cu applied to a keep-dims view of the output.
#include "kernels/cuda_util.cuh"
#include "kernels/elementwise_cuda.h"
#include "kernels/reduce_cuda.h"

namespace seg::cuda {
namespace {

constexpr int kMaxDims = 8;
struct Bcast {
  int nd = 0;
  int64_t out[kMaxDims] = {};
  int64_t sa[kMaxDims] = {}, sb[kMaxDims] = {};
};

Bcast make_bcast(const Shape& as, const Shape& bs, const Shape& ys) {
  SEG_CHECK(ys.size() <= static_cast<size_t>(kMaxDims), "broadcast: at most ", kMaxDims, " dims");
  Bcast b;
  b.nd = static_cast<int>(ys.size());
  const std::vector<int64_t> sa = broadcast_strides(as, ys), sb = broadcast_strides(bs, ys);
  for (int d = 0; d < b.nd; ++d) {
    b.out[d] = ys[static_cast<size_t>(d)];
    b.sa[d] = sa[static_cast<size_t>(d)];
    b.sb[d] = sb[static_cast<size_t>(d)];
  }
  return b;
}

__device__ __forceinline__ void offsets(const Bcast& b, int64_t idx, int64_t& oa, int64_t& ob) {
  oa = 0;
  ob = 0;
  for (int d = b.nd - 1; d >= 0; --d) {
    const int64_t c = idx % b.out[d];
    idx /= b.out[d];
    oa += c * b.sa[d];
    ob += c * b.sb[d];
  }
}

template <class T>
__global__ void binary_same_kernel(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  SEG_GRID_STRIDE(i, n) y[i] = binary_forward(op, a[i], b[i]);
}
template <class T>
__global__ void binary_scalar_kernel(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  const T bv = b[0];
  SEG_GRID_STRIDE(i, n) y[i] = binary_forward(op, a[i], bv);
}
template <class T>
__global__ void binary_bcast_kernel(BinaryOp op, const T* a, const T* b, T* y, int64_t n, Bcast bc) {
  SEG_GRID_STRIDE(i, n) {
    int64_t oa, ob;
    offsets(bc, i, oa, ob);
    y[i] = binary_forward(op, a[oa], b[ob]);
  }
}
template <class T>
__global__ void binary_grad_kernel(BinaryOp op, int which, const T* a, const T* b, const T* g, T* out, int64_t n,
                                   Bcast bc, bool plain) {
  SEG_GRID_STRIDE(i, n) {
    int64_t oa = i, ob = i;
    if (!plain) offsets(bc, i, oa, ob);
    out[i] = binary_backward(op, which, a[oa], b[ob], g[i]);
  }
}
template <class T>
__global__ void unary_forward_kernel(UnaryOp op, const T* x, T* y, int64_t n, T p, T q) {
  SEG_GRID_STRIDE(i, n) y[i] = ::seg::unary_forward(op, x[i], p, q);
}
template <class T>
__global__ void unary_backward_kernel(UnaryOp op, const T* x, const T* y, const T* g, T* dx, int64_t n, T p, T q) {
  SEG_GRID_STRIDE(i, n) dx[i] = ::seg::unary_backward(op, x ? x[i] : T(0), y ? y[i] : T(0), g[i], p, q);
}
template <class T>
__global__ void add_inplace_kernel(T* acc, const T* g, int64_t n) {
  SEG_GRID_STRIDE(i, n) acc[i] += g[i];
}

}  // namespace

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  NvtxRange r("binary");
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_float(y.dtype(), "binary (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (a.shape() == y.shape() && b.shape() == y.shape()) {
      binary_same_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(op, a.data<T>(), b.data<T>(), y.data<T>(), n);
    } else if (a.shape() == y.shape() && b.numel() == 1) {
      binary_scalar_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(op, a.data<T>(), b.data<T>(), y.data<T>(), n);
    } else {
      binary_bcast_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(op, a.data<T>(), b.data<T>(), y.data<T>(), n,
                                                                       make_bcast(a.shape(), b.shape(), y.shape()));
    }
    SEG_LAUNCH_CHECK("binary (cuda)");
  });
}

void binary_grad(BinaryOp op, int which, const Tensor& a, const Tensor& b, const Tensor& g, Tensor& out) {
  NvtxRange r("binary_grad");
  const int64_t n = g.numel();
  if (n == 0) return;
  const bool plain = a.shape() == g.shape() && b.shape() == g.shape();
  dispatch_float(g.dtype(), "binary backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    binary_grad_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(op, which, a.data<T>(), b.data<T>(), g.data<T>(),
                                                                    out.data<T>(), n,
                                                                    make_bcast(a.shape(), b.shape(), g.shape()), plain);
    SEG_LAUNCH_CHECK("binary backward (cuda)");
  });
}

void sum_to_shape(const Tensor& g, Tensor& out) {
  NvtxRange r("sum_to_shape");
  // A keep-dims view of `out` at g's rank (leading dims of size 1) is exactly what reduce_sum writes.
  SEG_CHECK(out.dim() <= g.dim(), "sum_to_shape (cuda): ", out.describe(), " has more dims than ", g.describe());
  Tensor view = out.detach();
  Shape ks(static_cast<size_t>(g.dim() - out.dim()), 1);
  ks.insert(ks.end(), out.shape().begin(), out.shape().end());
  view.impl()->shape = ks;
  reduce_sum(g, view, 1.0);
}

void unary_forward(UnaryOp op, const Tensor& x, Tensor& y, double p, double q) {
  NvtxRange r("unary");
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_float(x.dtype(), "unary (cuda)", [&](auto tag) {
    using T = decltype(tag);
    unary_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(op, x.data<T>(), y.data<T>(), n,
                                                                      static_cast<T>(p), static_cast<T>(q));
    SEG_LAUNCH_CHECK("unary (cuda)");
  });
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& g, Tensor& dx, double p, double q) {
  NvtxRange r("unary_backward");
  const int64_t n = g.numel();
  if (n == 0) return;
  dispatch_float(g.dtype(), "unary backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    unary_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(op, opt_data<T>(x), opt_data<T>(y),
                                                                       g.data<T>(), dx.data<T>(), n, static_cast<T>(p),
                                                                       static_cast<T>(q));
    SEG_LAUNCH_CHECK("unary backward (cuda)");
  });
}

void add_inplace(Tensor& acc, const Tensor& g) {
  NvtxRange r("add_inplace");
  const int64_t n = acc.numel();
  if (n == 0) return;
  dispatch_float(acc.dtype(), "add_inplace (cuda)", [&](auto tag) {
    using T = decltype(tag);
    add_inplace_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(acc.data<T>(), g.data<T>(), n);
    SEG_LAUNCH_CHECK("add_inplace (cuda)");
  });
}

}  // namespace seg::cuda
