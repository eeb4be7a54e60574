// CUDA block copies for cat/narrow (kernels/shape_ops_cuda.h): `outer` rows, a column range of each copied.
// Key decision: a kernel moving 4- or 8-byte words (the dtype's size) rather than cudaMemcpy2D, whose pitch limit
// (cudaDevAttrMaxPitch) a large 3-D batch can exceed; consecutive threads copy consecutive words of a row.
#include "kernels/cuda_util.cuh"
#include "kernels/shape_ops_cuda.h"

namespace seg::cuda {
namespace {

template <class W>
__global__ void copy_blocks_kernel(const W* src, int64_t src_block, int64_t src_offset, W* dst, int64_t dst_block,
                                   int64_t dst_offset, int64_t len, int64_t n) {
  SEG_GRID_STRIDE(i, n) {
    const int64_t o = i / len, k = i - o * len;
    dst[o * dst_block + dst_offset + k] = src[o * src_block + src_offset + k];
  }
}

}  // namespace

void copy_blocks(const Tensor& src, int64_t src_block, int64_t src_offset, Tensor& dst, int64_t dst_block,
                 int64_t dst_offset, int64_t copy_len, int64_t outer) {
  NvtxRange r("copy_blocks");
  const int64_t n = copy_len * outer;
  if (n == 0) return;
  SEG_CHECK(src.dtype() == dst.dtype(), "copy_blocks (cuda): dtypes differ: ", src.describe(), " vs ", dst.describe());
  if (dtype_size(src.dtype()) == 4) {
    copy_blocks_kernel<uint32_t><<<grid_for(n), kThreads, 0, stream()>>>(
        static_cast<const uint32_t*>(src.raw()), src_block, src_offset, static_cast<uint32_t*>(dst.raw()), dst_block,
        dst_offset, copy_len, n);
  } else {
    copy_blocks_kernel<uint64_t><<<grid_for(n), kThreads, 0, stream()>>>(
        static_cast<const uint64_t*>(src.raw()), src_block, src_offset, static_cast<uint64_t*>(dst.raw()), dst_block,
        dst_offset, copy_len, n);
  }
  SEG_LAUNCH_CHECK("copy_blocks (cuda)");
}

}  // namespace seg::cuda
