// Sum/mean over dimensions on the CPU. Key decision: the input is viewed as (outer, reduced, inner) blocks after
// normalising the dims; non-adjacent reduced dims fall back to an index-mapping loop. Accumulation is in double.
#include "kernels/reduce.h"

#include <algorithm>

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/reduce_cuda.h"

namespace seg {

namespace {

std::vector<int64_t> normalise_dims(const Tensor& x, std::vector<int64_t> dims, const char* op) {
  const int64_t nd = x.dim();
  for (auto& d : dims) {
    if (d < 0) d += nd;
    SEG_CHECK(d >= 0 && d < nd, op, ": dimension out of range for ", x.describe());
  }
  std::sort(dims.begin(), dims.end());
  SEG_CHECK(std::adjacent_find(dims.begin(), dims.end()) == dims.end(), op, ": repeated dimension");
  return dims;
}

Shape keep_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape k = s;
  for (int64_t d : dims) k[static_cast<size_t>(d)] = 1;
  return k;
}

Shape drop_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape r;
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), static_cast<int64_t>(i))) r.push_back(s[i]);
  return r;
}

template <class T>
void reduce_cpu(const T* x, const Shape& xs, T* y, const Shape& ks, double factor) {
  const int64_t n = shape_numel(xs), m = shape_numel(ks);
  // (outer, r, inner) when the reduced dims form one contiguous block
  int64_t first = -1, last = -1;
  for (size_t i = 0; i < xs.size(); ++i)
    if (ks[i] != xs[i]) { if (first < 0) first = static_cast<int64_t>(i); last = static_cast<int64_t>(i); }
  bool block = true;
  for (int64_t i = first; i >= 0 && i <= last; ++i)
    if (ks[static_cast<size_t>(i)] != 1) block = false;
  if (first < 0) {  // nothing reduced (all sizes 1)
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(x[i] * factor);
    return;
  }
  if (block) {
    int64_t outer = 1, r = 1, inner = 1;
    for (int64_t i = 0; i < first; ++i) outer *= xs[static_cast<size_t>(i)];
    for (int64_t i = first; i <= last; ++i) r *= xs[static_cast<size_t>(i)];
    for (size_t i = static_cast<size_t>(last) + 1; i < xs.size(); ++i) inner *= xs[i];
#pragma omp parallel for collapse(2) if (n > kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        double acc = 0;
        const T* p = x + o * r * inner + in;
        for (int64_t k = 0; k < r; ++k) acc += p[k * inner];
        y[o * inner + in] = static_cast<T>(acc * factor);
      }
    return;
  }
  std::vector<double> acc(static_cast<size_t>(m), 0.0);
  const std::vector<int64_t> ost = broadcast_strides(ks, xs);  // offset in y of each x element
  for (int64_t i = 0; i < n; ++i) {
    int64_t idx = i, off = 0;
    for (int64_t d = static_cast<int64_t>(xs.size()) - 1; d >= 0; --d) {
      off += (idx % xs[static_cast<size_t>(d)]) * ost[static_cast<size_t>(d)];
      idx /= xs[static_cast<size_t>(d)];
    }
    acc[static_cast<size_t>(off)] += x[i];
  }
  for (int64_t i = 0; i < m; ++i) y[i] = static_cast<T>(acc[static_cast<size_t>(i)] * factor);
}

template <class T>
void expand_cpu(const T* g, const Shape& gs, T* out, const Shape& os, double factor) {
  const int64_t n = shape_numel(os);
  const std::vector<int64_t> st = broadcast_strides(gs, os);
  const T f = static_cast<T>(factor);
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    int64_t idx = i, off = 0;
    for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
      off += (idx % os[static_cast<size_t>(d)]) * st[static_cast<size_t>(d)];
      idx /= os[static_cast<size_t>(d)];
    }
    out[i] = g[off] * f;
  }
}

Tensor reduce(const Tensor& x, std::vector<int64_t> dims, bool keepdim, bool is_mean) {
  const char* op = is_mean ? "mean" : "sum";
  check_float(x, op, "input");
  dims = normalise_dims(x, dims, op);
  const Shape ks = keep_shape(x.shape(), dims);
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[static_cast<size_t>(d)];
  SEG_CHECK(!is_mean || count > 0, "mean: reducing over an empty dimension of ", x.describe());
  const double factor = is_mean ? 1.0 / static_cast<double>(count) : 1.0;
  Tensor y = Tensor::empty(ks, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::reduce_sum(x, y, factor); },
      [&](auto tag) {
        using T = decltype(tag);
        reduce_cpu(x.data<T>(), x.shape(), y.data<T>(), ks, factor);
      });
  if (!keepdim) y.impl()->shape = drop_shape(x.shape(), dims);  // same storage, same order
  return record(op, y, {x}, [&] {
    return [xs = x.shape(), ks, factor](const Tensor& g) -> std::vector<Tensor> {
      Tensor gk = g.detach();
      gk.impl()->shape = ks;
      return {expand_to(gk, xs, factor)};
    };
  });
}

}  // namespace

Tensor expand_to(const Tensor& g, const Shape& shape, double factor) {
  SEG_CHECK(g.dim() == static_cast<int64_t>(shape.size()), "expand_to: rank mismatch ", g.describe(), " to ",
            shape_str(shape));
  Tensor out = Tensor::empty(shape, g.dtype(), g.device());
  on_device(
      g, "expand_to", [&] { cuda::expand_to(g, out, factor); },
      [&](auto tag) {
        using T = decltype(tag);
        expand_cpu(g.data<T>(), g.shape(), out.data<T>(), shape, factor);
      });
  return out;
}

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) { return reduce(x, std::move(dims), keepdim, false); }
Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) { return reduce(x, std::move(dims), keepdim, true); }

static std::vector<int64_t> all_dims(const Tensor& x) {
  std::vector<int64_t> d(static_cast<size_t>(x.dim()));
  for (int64_t i = 0; i < x.dim(); ++i) d[static_cast<size_t>(i)] = i;
  return d;
}
Tensor sum_all(const Tensor& x) { return sum(x, all_dims(x), false); }
Tensor mean_all(const Tensor& x) { return mean(x, all_dims(x), false); }

}  // namespace seg
