// CUDA sum/mean over dimensions (kernels/reduce_cuda.h), accumulated in double like the CPU.
// y has x's rank with the reduced dims set to 1. Output element j owns the R = Π(reduced sizes) inputs that map to
// it: with few of them one thread sums them (neighbouring threads read neighbouring inputs when the kept dims are
// innermost), with many a whole block does (the threads stride over the reduced index, which is contiguous when the
// reduced dims are innermost) and CUB combines the partial sums. expand_to is the matching broadcast gather.
#include "kernels/cuda_util.cuh"
#include "kernels/reduce_cuda.h"

namespace seg::cuda {
namespace {

constexpr int kMaxDims = 8;

// Kept dims (of y) and reduced dims (of x), each with its size and its stride in x.
struct ReduceGeom {
  int nk = 0, nr = 0;
  int64_t ksize[kMaxDims] = {}, kstride[kMaxDims] = {};
  int64_t rsize[kMaxDims] = {}, rstride[kMaxDims] = {};
};

ReduceGeom make_geom(const Shape& xs, const Shape& ys) {
  SEG_CHECK(xs.size() == ys.size() && xs.size() <= static_cast<size_t>(kMaxDims), "reduce (cuda): shapes ",
            shape_str(xs), " and ", shape_str(ys), " do not match in rank (at most ", kMaxDims, " dims)");
  ReduceGeom g;
  int64_t stride = 1;
  std::vector<int64_t> st(xs.size());
  for (int64_t d = static_cast<int64_t>(xs.size()) - 1; d >= 0; --d) {
    st[static_cast<size_t>(d)] = stride;
    stride *= xs[static_cast<size_t>(d)];
  }
  for (size_t d = 0; d < xs.size(); ++d) {
    if (ys[d] == xs[d]) {
      g.ksize[g.nk] = xs[d];
      g.kstride[g.nk++] = st[d];
    } else {
      SEG_CHECK(ys[d] == 1, "reduce (cuda): output ", shape_str(ys), " is not a keep-dims reduction of ", shape_str(xs));
      g.rsize[g.nr] = xs[d];
      g.rstride[g.nr++] = st[d];
    }
  }
  return g;
}

__device__ __forceinline__ int64_t base_offset(const ReduceGeom& g, int64_t j) {
  int64_t off = 0;
  for (int d = g.nk - 1; d >= 0; --d) {
    off += (j % g.ksize[d]) * g.kstride[d];
    j /= g.ksize[d];
  }
  return off;
}
__device__ __forceinline__ int64_t reduced_offset(const ReduceGeom& g, int64_t r) {
  int64_t off = 0;
  for (int d = g.nr - 1; d >= 0; --d) {
    off += (r % g.rsize[d]) * g.rstride[d];
    r /= g.rsize[d];
  }
  return off;
}

template <class T>
__global__ void reduce_thread_kernel(const T* x, T* y, int64_t m, int64_t R, ReduceGeom g, double factor) {
  SEG_GRID_STRIDE(j, m) {
    const T* p = x + base_offset(g, j);
    double acc = 0;
    for (int64_t r = 0; r < R; ++r) acc += static_cast<double>(p[reduced_offset(g, r)]);
    y[j] = static_cast<T>(acc * factor);
  }
}

template <class T>
__global__ void reduce_block_kernel(const T* x, T* y, int64_t m, int64_t R, ReduceGeom g, double factor) {
  __shared__ typename BlockSum::TempStorage tmp;
  for (int64_t j = blockIdx.x; j < m; j += gridDim.x) {
    const T* p = x + base_offset(g, j);
    double acc = 0;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) acc += static_cast<double>(p[reduced_offset(g, r)]);
    const double s = block_sum(acc, tmp);
    if (threadIdx.x == 0) y[j] = static_cast<T>(s * factor);
  }
}

template <class T>
__global__ void expand_kernel(const T* g, T* out, int64_t n, ReduceGeom geom_out, T factor) {
  // Here the geometry is built with (out, g) swapped: its "kept" dims are all of out's dims, with strides into g
  // (0 where g has size 1), so base_offset maps an output index to its source.
  SEG_GRID_STRIDE(i, n) out[i] = g[base_offset(geom_out, i)] * factor;
}

}  // namespace

void reduce_sum(const Tensor& x, Tensor& y, double factor) {
  NvtxRange r("reduce_sum");
  const int64_t m = y.numel();
  if (m == 0) return;
  const ReduceGeom g = make_geom(x.shape(), y.shape());
  const int64_t R = x.numel() / m;
  dispatch_float(x.dtype(), "sum (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (R >= 1024 || (R >= 64 && m < static_cast<int64_t>(sm_count()) * kThreads)) {
      reduce_block_kernel<T><<<grid_items(m), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), m, R, g, factor);
    } else {
      reduce_thread_kernel<T><<<grid_for(m), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), m, R, g, factor);
    }
    SEG_LAUNCH_CHECK("sum (cuda)");
  });
}

void expand_to(const Tensor& g, Tensor& out, double factor) {
  NvtxRange r("expand_to");
  const int64_t n = out.numel();
  if (n == 0) return;
  SEG_CHECK(g.dim() == out.dim() && out.dim() <= kMaxDims, "expand_to (cuda): rank mismatch ", g.describe(), " to ",
            out.describe());
  ReduceGeom geom;
  int64_t stride = 1;
  geom.nk = static_cast<int>(out.dim());
  for (int64_t d = out.dim() - 1; d >= 0; --d) {
    const int64_t gs = g.shape()[static_cast<size_t>(d)];
    geom.ksize[d] = out.shape()[static_cast<size_t>(d)];
    geom.kstride[d] = gs == 1 ? 0 : stride;
    stride *= gs;
  }
  dispatch_float(g.dtype(), "expand_to (cuda)", [&](auto tag) {
    using T = decltype(tag);
    expand_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(g.data<T>(), out.data<T>(), n, geom, static_cast<T>(factor));
    SEG_LAUNCH_CHECK("expand_to (cuda)");
  });
}

}  // namespace seg::cuda
