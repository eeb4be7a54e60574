// The device layer of a CUDA build (engine/device.h): GPU probing, the caching device allocator, copies, and the
// stream / cuBLAS / cuDNN context (engine/cuda_context.h).
// Key decisions: (1) probing treats any error (no driver, "driver version is insufficient", no device, a context
// that cannot be created) as "no GPU" and keeps CUDA's message as the reason; (2) freed blocks go to size buckets
// (powers of two up to 1 MiB, then 2 MiB steps; the free lists are engine/allocator.h's BlockCache, shared with the
// host cache) and are reused, so a training loop stops calling cudaMalloc after its
// first step; on an out-of-memory the cache is released and the allocation retried once.
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cuda_context.h"
#include "engine/device.h"

namespace seg {
namespace {

// ---------------------------------------------------------------- probing
struct Probe {
  bool ok = false;
  std::string reason;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      r.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(e);
      (void)cudaGetLastError();  // clear it, so it is not reported by a later check
      return r;
    }
    if (count == 0) {
      r.reason = "no CUDA device found";
      return r;
    }
    e = cudaSetDevice(0);
    if (e == cudaSuccess) e = cudaFree(nullptr);  // creates the context: fails on a broken or exclusive device
    if (e != cudaSuccess) {
      r.reason = std::string("cannot create a CUDA context on device 0: ") + cudaGetErrorString(e);
      (void)cudaGetLastError();
      return r;
    }
    r.ok = true;
    return r;
  }();
  return p;
}

// ---------------------------------------------------------------- caching allocator
struct DeviceCache {
  std::mutex mu;
  BlockCache blocks{512, size_t(2) << 20};  // cudaMalloc aligns to 256 B anyway; 2 MiB steps above 1 MiB
  std::unordered_map<void*, size_t> live;   // handed-out block -> bucket size
};

DeviceCache& cache() {
  static DeviceCache* c = new DeviceCache();  // leaked on purpose: tensors may be freed during static destruction
  return *c;
}

// Gives every cached block back to the driver (cudaFree waits for the device, so no block is still in use).
void release_cache_locked(DeviceCache& c) {
  c.blocks.release([](void* p) { SEG_CUDA_CHECK(cudaFree(p), "cuda allocator (releasing the cache)"); });
}

}  // namespace

bool cuda_available() {
  try {
    return probe().ok;
  } catch (...) {
    return false;
  }
}

std::string cuda_unavailable_reason() {
  try {
    return probe().ok ? std::string() : probe().reason;
  } catch (...) {
    return "probing the GPU threw an exception";
  }
}

void* cuda_alloc(size_t bytes) {
  SEG_CHECK(cuda_available(), "cuda_alloc: no usable GPU: ", cuda_unavailable_reason());
  DeviceCache& c = cache();
  const size_t b = c.blocks.bucket(bytes);
  std::lock_guard<std::mutex> lock(c.mu);
  if (void* p = c.blocks.take(b)) {
    c.live[p] = b;
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, b);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky; clear it before retrying
    release_cache_locked(c);
    e = cudaMalloc(&p, b);
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      fail("cuda_alloc: out of GPU memory allocating ", b, " bytes (requested ", bytes, "); in use ",
           c.blocks.stats().current_bytes, " bytes, peak ", c.blocks.stats().peak_bytes, " bytes (the cache was "
           "released and the allocation retried)");
    }
  }
  SEG_CUDA_CHECK(e, "cuda_alloc");
  c.blocks.note_os_alloc(b);
  c.live[p] = b;
  return p;
}

void cuda_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  DeviceCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.live.find(ptr);
  if (it == c.live.end()) {
    // A pointer we did not hand out would corrupt the cache. This runs in destructors, so report instead of throwing.
    std::fprintf(stderr, "cuda_free: pointer %p (%zu bytes) was not allocated by cuda_alloc; ignored\n", ptr, bytes);
    return;
  }
  const size_t b = it->second;
  c.live.erase(it);
  c.blocks.give_back(ptr, b);
}

void cuda_memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cudaMemcpyKind kind = dst_device == Device::CUDA ? (src_device == Device::CUDA ? cudaMemcpyDeviceToDevice
                                                                                 : cudaMemcpyHostToDevice)
                                                   : cudaMemcpyDeviceToHost;
  SEG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, cuda::stream()), "cuda_memcpy");
  // The host reads what came back (and may free or reuse a host source right after an H2D copy from pageable
  // memory, which cudaMemcpyAsync has staged by the time it returns); device-to-device stays asynchronous.
  if (kind == cudaMemcpyDeviceToHost) SEG_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()), "cuda_memcpy (device to host)");
}

void cuda_memset_zero(void* ptr, size_t bytes) {
  if (bytes == 0) return;
  SEG_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, cuda::stream()), "cuda_memset_zero");
}

void cuda_synchronize() {
  if (!cuda_available()) return;
  SEG_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()), "cuda_synchronize");
}

AllocatorStats cuda_allocator_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().blocks.stats();
}

void cuda_allocator_reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().blocks.reset_peak();
}

// ---------------------------------------------------------------- context
namespace cuda {
namespace {
struct Context {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
#ifdef SEG_WITH_CUDNN
  cudnnHandle_t cudnn = nullptr;
#endif
  int sms = 1;
};

Context& context() {
  static Context* ctx = [] {
    SEG_CHECK(cuda_available(), "CUDA context: no usable GPU: ", cuda_unavailable_reason());
    auto* c = new Context();  // leaked on purpose (destroying handles during static destruction races the driver)
    SEG_CUDA_CHECK(cudaStreamCreate(&c->stream), "CUDA context (stream)");
    SEG_CUDA_CHECK(cudaDeviceGetAttribute(&c->sms, cudaDevAttrMultiProcessorCount, 0), "CUDA context (SM count)");
    return c;
  }();
  return *ctx;
}
}  // namespace

cudaStream_t stream() { return context().stream; }

int sm_count() { return context().sms; }

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t x = nullptr;
    SEG_CUBLAS_CHECK(cublasCreate(&x), "cuBLAS handle");
    SEG_CUBLAS_CHECK(cublasSetStream(x, stream()), "cuBLAS handle");
    // FP32 GEMMs stay FP32 (no TF32): the CUDA-vs-CPU tests compare at float32 tolerances.
    SEG_CUBLAS_CHECK(cublasSetMathMode(x, CUBLAS_DEFAULT_MATH), "cuBLAS handle");
    return x;
  }();
  return h;
}

#ifdef SEG_WITH_CUDNN
cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t x = nullptr;
    SEG_CUDNN_CHECK(cudnnCreate(&x), "cuDNN handle");
    SEG_CUDNN_CHECK(cudnnSetStream(x, stream()), "cuDNN handle");
    return x;
  }();
  return h;
}
#endif

}  // namespace cuda
}  // namespace seg
