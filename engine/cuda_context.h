// The CUDA execution context of the engine: one stream for the device (every kernel, copy, cuBLAS and cuDNN call is
// ordered on it), one cuBLAS handle and one cuDNN handle, all created once on first use. Also a scoped scratch buffer
// from the caching allocator (engine/device.cu) for workspaces and partial sums.
// Key decision: one stream means a block freed to the cache can be handed out again at once — any later use is
// ordered after the work that still reads it — so the allocator needs no events. (One device per process:
// Device::CUDA carries no index; engine/device.h picks it, by LOCAL_RANK in a distributed job. NCCL's stream
// (engine/dist_nccl.cpp) only touches buffers whose collective the caller waits for before freeing them.)
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#ifdef SEG_WITH_CUDNN
#include <cudnn.h>
#endif

#include "engine/cuda_check.h"
#include "engine/device.h"

#define SEG_CUBLAS_CHECK(call, op)                                                                        \
  do {                                                                                                    \
    const cublasStatus_t seg_st_ = (call);                                                                \
    if (seg_st_ != CUBLAS_STATUS_SUCCESS)                                                                 \
      ::seg::cuda::check_failed((op), #call, cublasGetStatusString(seg_st_), __FILE__, __LINE__);         \
  } while (0)

#ifdef SEG_WITH_CUDNN
#define SEG_CUDNN_CHECK(call, op)                                                                         \
  do {                                                                                                    \
    const cudnnStatus_t seg_st_ = (call);                                                                 \
    if (seg_st_ != CUDNN_STATUS_SUCCESS)                                                                  \
      ::seg::cuda::check_failed((op), #call, cudnnGetErrorString(seg_st_), __FILE__, __LINE__);          \
  } while (0)
#endif

namespace seg::cuda {

cudaStream_t stream();
cublasHandle_t cublas();  // bound to stream()
#ifdef SEG_WITH_CUDNN
cudnnHandle_t cudnn();    // bound to stream()
#endif
int sm_count();           // multiprocessors of the device (sizes grids of grid-stride loops)

// Scratch device memory for the scope; freeing it right after enqueueing work is safe (one stream, see above).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes), ptr_(bytes ? cuda_alloc(bytes) : nullptr) {}
  ~DeviceBuffer() { if (ptr_) cuda_free(ptr_, bytes_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : bytes_(o.bytes_), ptr_(o.ptr_) { o.ptr_ = nullptr; o.bytes_ = 0; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
  void* ptr_ = nullptr;
};

}  // namespace seg::cuda
