// Shape ops. cat/narrow are block copies: for a dimension d, a contiguous tensor is `outer` rows of
// size(d)·inner elements, and each input occupies a column range of those rows.
#include "kernels/shape_ops.h"

#include <cstring>

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/shape_ops_cuda.h"

namespace seg {

namespace {

void copy_blocks(const Tensor& src, int64_t src_block, int64_t src_offset, Tensor& dst, int64_t dst_block,
                 int64_t dst_offset, int64_t len, int64_t outer) {
  if (len == 0 || outer == 0) return;
  if (src.is_cuda()) {
    cuda::copy_blocks(src, src_block, src_offset, dst, dst_block, dst_offset, len, outer);
    return;
  }
  const size_t es = dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw());
  char* d = static_cast<char*>(dst.raw());
#pragma omp parallel for if (outer * len > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(d + (o * dst_block + dst_offset) * es, s + (o * src_block + src_offset) * es, static_cast<size_t>(len) * es);
}

int64_t norm_dim(int64_t dim, int64_t nd, const char* op) {
  if (dim < 0) dim += nd;
  SEG_CHECK(dim >= 0 && dim < nd, op, ": dimension out of range (", dim, " for a ", nd, "-D tensor)");
  return dim;
}

int64_t outer_of(const Shape& s, int64_t dim) {
  int64_t o = 1;
  for (int64_t i = 0; i < dim; ++i) o *= s[static_cast<size_t>(i)];
  return o;
}
int64_t inner_of(const Shape& s, int64_t dim) {
  int64_t o = 1;
  for (size_t i = static_cast<size_t>(dim) + 1; i < s.size(); ++i) o *= s[i];
  return o;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_defined(x, "reshape", "input");
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      SEG_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    SEG_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot infer -1 in ", shape_str(shape), " for ", x.describe());
    s[static_cast<size_t>(infer)] = x.numel() / known;
  }
  SEG_CHECK(shape_numel(s) == x.numel(), "reshape: ", x.describe(), " cannot become ", shape_str(shape));
  Tensor y = x.detach();
  y.impl()->shape = s;
  return record("reshape", y, {x}, [&] {
    return [xs = x.shape()](const Tensor& g) -> std::vector<Tensor> {
      Tensor r = g.detach();
      r.impl()->shape = xs;
      return {r};
    };
  });
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  SEG_CHECK(!xs.empty(), "cat: no tensors given");
  const Tensor& a = xs[0];
  check_defined(a, "cat", "input0");
  dim = norm_dim(dim, a.dim(), "cat");
  Shape out = a.shape();
  out[static_cast<size_t>(dim)] = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    check_defined(xs[k], "cat", "input");
    check_same_dtype_device(a, xs[k], "cat");
    SEG_CHECK(xs[k].dim() == a.dim(), "cat: input ", k, " is ", xs[k].describe(), ", input 0 is ", a.describe());
    for (int64_t d = 0; d < a.dim(); ++d)
      SEG_CHECK(d == dim || xs[k].shape()[static_cast<size_t>(d)] == a.shape()[static_cast<size_t>(d)], "cat: input ", k,
                " is ", xs[k].describe(), ", expected the shape of input 0 (", a.describe(), ") except along dim ", dim);
    out[static_cast<size_t>(dim)] += xs[k].shape()[static_cast<size_t>(dim)];
  }
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  const int64_t outer = outer_of(out, dim), inner = inner_of(out, dim);
  const int64_t yblock = out[static_cast<size_t>(dim)] * inner;
  std::vector<int64_t> sizes;
  int64_t off = 0;
  for (const Tensor& t : xs) {
    const int64_t len = t.shape()[static_cast<size_t>(dim)] * inner;
    copy_blocks(t, len, 0, y, yblock, off, len, outer);
    sizes.push_back(t.shape()[static_cast<size_t>(dim)]);
    off += len;
  }
  return record("cat", y, xs, [&] {
    std::vector<bool> need;
    for (const Tensor& t : xs) need.push_back(input_needs_grad(t));
    return [dim, sizes, need](const Tensor& g) -> std::vector<Tensor> {
      std::vector<Tensor> grads;
      int64_t start = 0;
      for (size_t k = 0; k < sizes.size(); ++k) {
        grads.push_back(need[k] ? narrow(g, dim, start, sizes[k]) : Tensor());
        start += sizes[k];
      }
      return grads;
    };
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined(x, "narrow", "input");
  dim = norm_dim(dim, x.dim(), "narrow");
  const int64_t size = x.shape()[static_cast<size_t>(dim)];
  SEG_CHECK(start >= 0 && length >= 0 && start + length <= size, "narrow: range [", start, ", ", start + length,
            ") outside dimension ", dim, " of ", x.describe());
  Shape out = x.shape();
  out[static_cast<size_t>(dim)] = length;
  Tensor y = Tensor::empty(out, x.dtype(), x.device());
  const int64_t outer = outer_of(out, dim), inner = inner_of(out, dim);
  copy_blocks(x, size * inner, start * inner, y, length * inner, 0, length * inner, outer);
  return record("narrow", y, {x}, [&] {
    return [xs = x.shape(), dim, start, length, outer, inner](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = Tensor::zeros(xs, g.dtype(), g.device());
      const int64_t size = xs[static_cast<size_t>(dim)];
      copy_blocks(g, length * inner, 0, dx, size * inner, start * inner, length * inner, outer);
      return {dx};
    };
  });
}

}  // namespace seg
