// SEG_HD marks small arithmetic helpers shared by the CPU and CUDA backends (compiled for both by nvcc),
// so the CPU tests exercise the same formulas the GPU runs.
#pragma once
#if defined(__CUDACC__)
#define SEG_HD __host__ __device__ __forceinline__
#else
#define SEG_HD inline
#endif
