// CUDA launchers of the shape family (kernels/shape_ops.cu): strided block copies.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"

namespace seg::cuda {
// Copies `outer` blocks of `src_block` elements from src into dst at column offset `dst_offset` of blocks of
// `dst_block` elements (the memory pattern of cat/narrow in both directions).
SEG_CUDA_API(void copy_blocks(const Tensor& src, int64_t src_block, int64_t src_offset, Tensor& dst, int64_t dst_block,
                              int64_t dst_offset, int64_t copy_len, int64_t outer))
}  // namespace seg::cuda
