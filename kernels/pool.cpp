// Max pooling / unpooling on the CPU and their autograd wiring. The window arithmetic lives in pool_math.h (shared
// with CUDA). Forward saves only the int64 indices; pooling's backward is a scatter-add of dy at them, unpooling's a
// gather, so neither re-reads the input.
#include "kernels/pool.h"

#include <algorithm>
#include <cstring>

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/pool_cuda.h"

namespace seg {

namespace {

// One positive value for every spatial dim, or one per dim.
std::vector<int64_t> positive_per_dim(const std::vector<int64_t>& v, size_t nsp, const char* op, const char* what) {
  std::vector<int64_t> r = per_spatial_dim(v, static_cast<int64_t>(nsp), op, what);
  for (int64_t k : r) SEG_CHECK(k > 0, op, ": ", what, " must be positive, got ", k);
  return r;
}

template <class T>
void pool_forward_cpu(const T* x, T* y, int64_t* idx, const PoolGeom& g) {
  const int64_t rows = g.OD * g.OH, ip = g.in_plane(), op = g.out_plane();
#pragma omp parallel for collapse(2) if (g.planes * op * g.kd * g.kh * g.kw > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t od = r / g.OH, oh = r % g.OH;
      const T* plane = x + p * ip;
      T* yr = y + p * op + r * g.OW;
      int64_t* ir = idx + p * op + r * g.OW;
      for (int64_t ow = 0; ow < g.OW; ++ow) max_pool_window(plane, g, od, oh, ow, yr[ow], ir[ow]);
    }
}

// dx = 0; dx[plane][idx] += dy. Parallel over planes only: overlapping windows (kernel > stride) share targets.
template <class T>
void pool_backward_cpu(const T* dy, const int64_t* idx, T* dx, const PoolGeom& g) {
  const int64_t ip = g.in_plane(), op = g.out_plane();
#pragma omp parallel for if (g.planes * (ip + op) > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p) {
    T* dp = dx + p * ip;
    std::fill(dp, dp + ip, T(0));
    const T* gp = dy + p * op;
    const int64_t* ix = idx + p * op;
    for (int64_t i = 0; i < op; ++i) dp[ix[i]] += gp[i];
  }
}

PoolResult max_pool_impl(const Tensor& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                         size_t nsp, const char* op) {
  check_float(x, op, "input");
  check_dim(x, static_cast<int64_t>(nsp) + 2, op, "input");
  const auto k = positive_per_dim(kernel, nsp, op, "kernel_size");
  const auto s = stride.empty() ? k : positive_per_dim(stride, nsp, op, "stride");
  const Shape& xs = x.shape();
  PoolGeom g;
  g.planes = xs[0] * xs[1];
  int64_t* in[3] = {&g.D, &g.H, &g.W};
  int64_t* kk[3] = {&g.kd, &g.kh, &g.kw};
  int64_t* ss[3] = {&g.sd, &g.sh, &g.sw};
  int64_t* out[3] = {&g.OD, &g.OH, &g.OW};
  Shape ys = {xs[0], xs[1]};
  for (size_t i = 0; i < nsp; ++i) {
    const size_t a = 3 - nsp + i;  // 2-D uses the H, W slots
    *in[a] = xs[2 + i];
    *kk[a] = k[i];
    *ss[a] = s[i];
    SEG_CHECK(xs[2 + i] >= k[i], op, ": kernel ", k[i], " larger than the input size ", xs[2 + i], " of ",
              x.describe());
    *out[a] = pool_out_size(xs[2 + i], k[i], s[i]);
    ys.push_back(*out[a]);
  }
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  Tensor idx = Tensor::empty(ys, DType::Int64, x.device());
  on_device(
      x, op, [&] { cuda::max_pool_forward(x, y, idx, g); },
      [&](auto tag) {
        using T = decltype(tag);
        pool_forward_cpu(x.data<T>(), y.data<T>(), idx.data<int64_t>(), g);
      });
  y = record(op, y, {x}, [&] {
    return [g, idx, xs, op](const Tensor& dy) -> std::vector<Tensor> {
      Tensor dx = Tensor::empty(xs, dy.dtype(), dy.device());
      on_device(
          dy, op, [&] { cuda::max_pool_backward(dy, idx, dx, g); },
          [&](auto tag) {
            using T = decltype(tag);
            pool_backward_cpu(dy.data<T>(), idx.data<int64_t>(), dx.data<T>(), g);
          });
      return {dx};
    };
  });
  return {y, idx};
}

// y = 0; y[plane][idx] = x. Returns false when an index is out of the plane (checked after the parallel loop).
template <class T>
bool unpool_forward_cpu(const T* x, const int64_t* idx, T* y, int64_t planes, int64_t ip, int64_t op) {
  bool ok = true;
#pragma omp parallel for reduction(&& : ok) if (planes * (ip + op) > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    T* yp = y + p * op;
    std::fill(yp, yp + op, T(0));
    const T* xp = x + p * ip;
    const int64_t* ix = idx + p * ip;
    for (int64_t i = 0; i < ip; ++i) {
      const int64_t j = ix[i];
      if (j < 0 || j >= op) {
        ok = false;
        continue;
      }
      yp[j] = xp[i];
    }
  }
  return ok;
}

template <class T>
void unpool_backward_cpu(const T* dy, const int64_t* idx, T* dx, int64_t planes, int64_t ip, int64_t op) {
#pragma omp parallel for if (planes * ip > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* gp = dy + p * op;
    const int64_t* ix = idx + p * ip;
    T* dp = dx + p * ip;
    for (int64_t i = 0; i < ip; ++i) dp[i] = gp[ix[i]];
  }
}

Tensor max_unpool_impl(const Tensor& x, const Tensor& indices, const std::vector<int64_t>& output_size, size_t nsp,
                       const char* op) {
  check_float(x, op, "input");
  check_dim(x, static_cast<int64_t>(nsp) + 2, op, "input");
  check_defined(indices, op, "indices");
  SEG_CHECK(indices.dtype() == DType::Int64, op, ": indices must be int64, got ", indices.describe());
  SEG_CHECK(indices.shape() == x.shape(), op, ": indices ", indices.describe(), " do not match the input ",
            x.describe());
  SEG_CHECK(indices.device() == x.device(), op, ": indices on ", device_name(indices.device()), ", input on ",
            device_name(x.device()));
  SEG_CHECK(output_size.size() == nsp, op, ": output_size needs ", nsp, " values, got ", output_size.size());
  Shape ys = {x.size(0), x.size(1)};
  for (int64_t v : output_size) {
    SEG_CHECK(v > 0, op, ": output_size must be positive");
    ys.push_back(v);
  }
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t ip = planes ? x.numel() / planes : 0, opl = shape_numel(output_size);
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::max_unpool_forward(x, indices, y); },
      [&](auto tag) {
        using T = decltype(tag);
        SEG_CHECK(unpool_forward_cpu(x.data<T>(), indices.data<int64_t>(), y.data<T>(), planes, ip, opl), op,
                  ": an index is outside the output plane of ", opl, " elements (output_size ",
                  shape_str(output_size), ")");
      });
  return record(op, y, {x}, [&] {
    return [indices, xs = x.shape(), planes, ip, opl, op](const Tensor& dy) -> std::vector<Tensor> {
      Tensor dx = Tensor::empty(xs, dy.dtype(), dy.device());
      on_device(
          dy, op, [&] { cuda::max_unpool_backward(dy, indices, dx); },
          [&](auto tag) {
            using T = decltype(tag);
            unpool_backward_cpu(dy.data<T>(), indices.data<int64_t>(), dx.data<T>(), planes, ip, opl);
          });
      return {dx};
    };
  });
}

}  // namespace

PoolResult max_pool2d(const Tensor& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride) {
  return max_pool_impl(x, kernel, stride, 2, "max_pool2d");
}
PoolResult max_pool3d(const Tensor& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride) {
  return max_pool_impl(x, kernel, stride, 3, "max_pool3d");
}
Tensor max_unpool2d(const Tensor& x, const Tensor& indices, const std::vector<int64_t>& output_size) {
  return max_unpool_impl(x, indices, output_size, 2, "max_unpool2d");
}
Tensor max_unpool3d(const Tensor& x, const Tensor& indices, const std::vector<int64_t>& output_size) {
  return max_unpool_impl(x, indices, output_size, 3, "max_unpool3d");
}

}  // namespace seg
