// SEG_CUDA_API(declaration): declares a CUDA launcher implemented in a kernels/*.cu file. In a build without the
// CUDA backend it becomes an inline function that throws, so the CPU-only build links; it can never be reached
// there, because no tensor can live on a CUDA device without the backend (allocation fails first).
#pragma once
#include "engine/error.h"

namespace seg {
[[noreturn]] inline void no_cuda_backend() { fail("a CUDA op was called in a build without the CUDA backend"); }
}  // namespace seg

#ifdef SEG_WITH_CUDA
#define SEG_CUDA_API(...) __VA_ARGS__;
#else
#define SEG_CUDA_API(...)                                             \
  _Pragma("GCC diagnostic push")                                      \
  _Pragma("GCC diagnostic ignored \"-Wunused-parameter\"")            \
  [[noreturn]] inline __VA_ARGS__ { ::seg::no_cuda_backend(); }       \
  _Pragma("GCC diagnostic pop")
#endif
