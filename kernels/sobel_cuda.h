// CUDA launchers of the Sobel family (kernels/sobel.cu); formulas in kernels/sobel_math.h. Outputs preallocated.
// sd = 2 (x: N, C, H, W) or 3 (x: N, C, D, H, W).
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/sobel_math.h"

namespace seg::cuda {
// y (N, sd·C, spatial): component a of channel c at sd·c + a.
SEG_CUDA_API(void sobel_forward(const Tensor& x, Tensor& y, int sd))
// dx (N, C, spatial) = −Σ_a sobel_a(dy[:, sd·c + a]) (the adjoint).
SEG_CUDA_API(void sobel_backward(const Tensor& dy, Tensor& dx, int sd))
// y (shape of x): 1 where any component is non-zero, else 0.
SEG_CUDA_API(void edge_map(const Tensor& x, Tensor& y, int sd))
}  // namespace seg::cuda
