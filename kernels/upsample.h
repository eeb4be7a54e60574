// Resize ops (differentiable w.r.t. the input) with torch.nn.functional.interpolate semantics (PyTorch 1.13):
// bilinear (N,C,H,W) and trilinear (N,C,D,H,W) with align_corners, and 'nearest' in 2-D and 3-D.
// Two ways to call each: by output size (F.interpolate(size=...)), or by scale factor (F.interpolate(scale_factor=s)
// with recompute_scale_factor unset): the output size is floor(in·s) and, as in PyTorch, the source coordinates then
// use 1/s rather than in/out (they differ when in·s is not an integer). See upsample_math.h.
#pragma once
#include <vector>

#include "engine/tensor.h"
#include "kernels/upsample_math.h"

namespace seg {

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners);
Tensor upsample_trilinear3d(const Tensor& x, int64_t out_d, int64_t out_h, int64_t out_w, bool align_corners);
Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor upsample_nearest3d(const Tensor& x, int64_t out_d, int64_t out_h, int64_t out_w);

// scale_factor: one value for every spatial dim or one per dim, each > 0.
Tensor upsample_bilinear2d_scale(const Tensor& x, const std::vector<double>& scale_factor, bool align_corners);
Tensor upsample_trilinear3d_scale(const Tensor& x, const std::vector<double>& scale_factor, bool align_corners);
Tensor upsample_nearest2d_scale(const Tensor& x, const std::vector<double>& scale_factor);
Tensor upsample_nearest3d_scale(const Tensor& x, const std::vector<double>& scale_factor);

}  // namespace seg
