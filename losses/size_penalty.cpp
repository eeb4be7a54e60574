// Size penalty as a composition of engine ops (see size_penalty.h).
#include "losses/size_penalty.h"

#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"

namespace seg {

Tensor size_penalty(const Tensor& p, const Tensor& bounds) {
  const char* op = "size_penalty";
  check_float(p, op, "p");
  check_float(bounds, op, "bounds");
  check_same_dtype_device(p, bounds, op);
  check_dim(p, 4, op, "p");
  const int64_t N = p.size(0), K = p.size(1), H = p.size(2), W = p.size(3);
  SEG_CHECK(bounds.shape() == (Shape{N, K, 2}), op, ": bounds must be ", shape_str({N, K, 2}), " for p ", p.describe(),
            ", got ", bounds.describe());
  SEG_CHECK(H * W > 0 && N * K > 0, op, ": empty input ", p.describe());
  const Tensor bd = bounds.detach();
  if (!bd.is_cuda()) {
    const std::vector<double> v = bd.to_vector();
    for (int64_t i = 0; i < N * K; ++i)
      SEG_CHECK(v[static_cast<size_t>(2 * i)] <= v[static_cast<size_t>(2 * i + 1)], op, ": bounds [a, b] need a <= b, got [",
                v[static_cast<size_t>(2 * i)], ", ", v[static_cast<size_t>(2 * i + 1)], "] at (sample, class) ", i / K, ", ",
                i % K);
  }
  const Tensor V = sum(p, {2, 3});  // (N, K)
  const Tensor a = reshape(narrow(bd, 2, 0, 1), {N, K}), b = reshape(narrow(bd, 2, 1, 1), {N, K});
  const Tensor c = add(square(relu(sub(a, V))), square(relu(sub(V, b))));
  return scale(mean_all(c), 1.0 / static_cast<double>(H * W));
}

}  // namespace seg
