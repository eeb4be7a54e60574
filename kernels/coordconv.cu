// CUDA fused CoordConv, coordinate part (kernels/coordconv_cuda.h; arithmetic in coordconv_math.h). The image part
// is the ordinary convolution (conv.cu); here:
//  * add: one thread per (c_out, output position) computes M + bias with coord_map_at (the CPU's definition, by
//    direct summation over the taps) once, and adds it to all N samples — the coordinate channels never exist.
//  * grad: S[c_out, position] = Σ_n dy (one pass over dy); db = Σ_position S (a block per channel); dWc(co, c, tap)
//    = Σ_position S·coord_c·valid, a block per weight whose threads stride over positions (coord_axis_tap per axis,
//    the same per-axis rule coord_weight_grad_at uses).
#include "kernels/coordconv_cuda.h"
#include "kernels/cuda_util.cuh"

namespace seg::cuda {
namespace {

template <class T>
__global__ void coord_add_kernel(T* y, int64_t N, const T* wc, const T* bias, CoordGeom g, int64_t L) {
  const int64_t C = g.cout;
  SEG_GRID_STRIDE(i, C * L) {
    const int64_t co = i / L, l = i - co * L;
    const int64_t ox = l % g.ax[2].n_out, oy = (l / g.ax[2].n_out) % g.ax[1].n_out, oz = l / (g.ax[2].n_out * g.ax[1].n_out);
    const T m = ::seg::coord_map_at(g, wc, bias, co, oz, oy, ox);
    for (int64_t n = 0; n < N; ++n) y[(n * C + co) * L + l] += m;
  }
}

template <class T>
__global__ void batch_sum_kernel(const T* dy, int64_t N, int64_t CL, double* s) {
  SEG_GRID_STRIDE(i, CL) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n) acc += static_cast<double>(dy[n * CL + i]);
    s[i] = acc;
  }
}

template <class T>
__global__ void coord_bias_grad_kernel(const double* s, int64_t C, int64_t L, T* db) {
  __shared__ typename BlockSum::TempStorage tmp;
  for (int64_t co = blockIdx.x; co < C; co += gridDim.x) {
    double acc = 0;
    for (int64_t l = threadIdx.x; l < L; l += blockDim.x) acc += s[co * L + l];
    const double t = block_sum(acc, tmp);
    if (threadIdx.x == 0) db[co] = static_cast<T>(t);
  }
}

// One block per coordinate weight w = (co·ncoord + ch)·taps + tap.
template <class T>
__global__ void coord_weight_grad_kernel(const double* s, CoordGeom g, int64_t K, int64_t L, T* dwc) {
  __shared__ typename BlockSum::TempStorage tmp;
  const int64_t total = g.cout * g.ncoord * K;
  for (int64_t w = blockIdx.x; w < total; w += gridDim.x) {
    const int64_t tap = w % K, ch = (w / K) % g.ncoord, co = w / (K * g.ncoord);
    const int64_t kx = tap % g.ax[2].k, ky = (tap / g.ax[2].k) % g.ax[1].k, kz = tap / (g.ax[2].k * g.ax[1].k);
    const int64_t t[3] = {kz, ky, kx};
    const int axis = 3 - g.ncoord + static_cast<int>(ch);
    double acc = 0;
    for (int64_t l = threadIdx.x; l < L; l += blockDim.x) {
      const int64_t o[3] = {l / (g.ax[2].n_out * g.ax[1].n_out), (l / g.ax[2].n_out) % g.ax[1].n_out, l % g.ax[2].n_out};
      double c[3] = {0, 0, 0};
      bool valid = true;
      for (int a = 0; a < 3; ++a) valid = valid && ::seg::coord_axis_tap(g.ax[a], o[a], t[a], &c[a]);
      if (valid) acc += s[co * L + l] * c[axis];
    }
    const double r = block_sum(acc, tmp);
    if (threadIdx.x == 0) dwc[co * g.w_so + ch * g.w_sc + tap] = static_cast<T>(r);
  }
}

}  // namespace

void coordconv_add(Tensor& y, const Tensor& wc, const Tensor& bias, const CoordGeom& g) {
  NvtxRange r("coordconv_add");
  const int64_t CL = g.cout * g.out_size();
  if (CL == 0 || y.numel() == 0) return;
  dispatch_float(y.dtype(), "coordconv (cuda)", [&](auto tag) {
    using T = decltype(tag);
    coord_add_kernel<T><<<grid_for(CL), kThreads, 0, stream()>>>(y.data<T>(), y.size(0), wc.data<T>(),
                                                                 opt_data<T>(bias), g, g.out_size());
    SEG_LAUNCH_CHECK("coordconv (cuda)");
  });
}

void coordconv_grad(const Tensor& dy, Tensor& dwc, Tensor& db, const CoordGeom& g) {
  NvtxRange r("coordconv_grad");
  const char* op = "coordconv backward (cuda)";
  if (!dwc.defined() && !db.defined()) return;
  const int64_t L = g.out_size(), C = g.cout, N = dy.size(0);
  dispatch_float(dy.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    DeviceBuffer s(static_cast<size_t>(std::max<int64_t>(1, C * L)) * sizeof(double));
    if (C * L > 0) {
      batch_sum_kernel<T><<<grid_for(C * L), kThreads, 0, stream()>>>(dy.data<T>(), N, C * L, s.as<double>());
      SEG_LAUNCH_CHECK(op);
    } else {
      SEG_CUDA_CHECK(cudaMemsetAsync(s.get(), 0, s.bytes(), stream()), op);
    }
    if (db.defined() && C > 0) {
      coord_bias_grad_kernel<T><<<grid_items(C), kThreads, 0, stream()>>>(s.as<double>(), C, L, db.data<T>());
      SEG_LAUNCH_CHECK(op);
    }
    const int64_t nw = C * g.ncoord * g.taps();
    if (dwc.defined() && nw > 0) {
      coord_weight_grad_kernel<T><<<grid_items(nw), kThreads, 0, stream()>>>(s.as<double>(), g, g.taps(), L,
                                                                                 dwc.data<T>());
      SEG_LAUNCH_CHECK(op);
    }
  });
}

}  // namespace seg::cuda
