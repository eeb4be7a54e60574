// Shape descriptors from moments and the Laplacian (see shape_descriptors.h): only (N, K, ·)-sized ops after the
// two one-pass kernels.
#include "losses/shape_descriptors.h"

#include "kernels/elementwise.h"
#include "kernels/laplacian.h"
#include "kernels/moments.h"
#include "kernels/shape_ops.h"

namespace seg {

ShapeDescriptors shape_descriptors(const Tensor& p, double eps) {
  check_float(p, "shape_descriptors", "p");
  SEG_CHECK(p.dim() == 4 || p.dim() == 5, "shape_descriptors: p must be (N,K,H,W) or (N,K,D,H,W), got ", p.describe());
  SEG_CHECK(eps >= 0, "shape_descriptors: eps must be non-negative, got ", eps);
  const int64_t sd = p.dim() - 2, N = p.size(0), K = p.size(1);
  const Tensor m = sd == 2 ? moments2d(p) : moments3d(p);
  const Tensor mass = narrow(m, 2, 0, 1);                // (N, K, 1)
  const Tensor first = narrow(m, 2, 1, sd);              // Σp·x, Σp·y[, Σp·z]
  const Tensor second = sd == 2 ? cat({narrow(m, 2, 3, 1), narrow(m, 2, 5, 1)}, 2)  // Σp·x², Σp·y²
                                : narrow(m, 2, 4, 3);    // Σp·x², Σp·y², Σp·z²
  const Tensor denom = add_scalar(mass, eps);
  ShapeDescriptors d;
  d.size = reshape(mass, {N, K});
  d.centroid = div(first, denom);
  const Tensor var = sub(div(second, denom), square(d.centroid));
  d.spread = sqrt(add_scalar(relu(var), eps));
  return d;
}

Tensor length_descriptor(const Tensor& p, int connectivity) {
  if (connectivity == 0) connectivity = p.dim() == 5 ? 26 : 8;
  return laplacian_quadratic(p, connectivity);
}

}  // namespace seg
