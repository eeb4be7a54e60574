// Max pooling with indices and max unpooling (differentiable w.r.t. the input), PyTorch semantics:
// no padding, no dilation, floor mode; stride defaults to the kernel. Indices are int64 flat offsets into each (n, c)
// input plane, which is what max_unpool takes back (ENet's encoder/decoder pairing).
#pragma once
#include <vector>

#include "engine/tensor.h"
#include "kernels/pool_math.h"

namespace seg {

struct PoolResult {
  Tensor output;   // (N, C, OH, OW) or (N, C, OD, OH, OW)
  Tensor indices;  // int64, same shape as output, not differentiable
};

// kernel, stride: one value for every spatial dim or one per dim; an empty stride means stride = kernel.
PoolResult max_pool2d(const Tensor& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride = {});
PoolResult max_pool3d(const Tensor& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride = {});

// Scatters x (N, C, spatial) into zeros of spatial size output_size ((H, W) or (D, H, W)) at `indices`
// (as returned by max_pool with the same N, C and spatial shape as x).
Tensor max_unpool2d(const Tensor& x, const Tensor& indices, const std::vector<int64_t>& output_size);
Tensor max_unpool3d(const Tensor& x, const Tensor& indices, const std::vector<int64_t>& output_size);

}  // namespace seg
