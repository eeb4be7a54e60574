// The NCCL backend (CUDA tensors). libnccl.so.2 is loaded at run time (dlopen): the build needs only nccl.h from the
// CUDA installation, and a binary that never communicates on a GPU (every test, every single-GPU run) does not need
// the library present — on a node without it, a multi-GPU run fails with where it looked.
// The communicator is bootstrapped through our rendezvous store (rank 0's ncclUniqueId under a key). Collectives run
// on NCCL's own stream after an event recorded on the engine's compute stream when the caller submitted them, so a
// gradient bucket's all-reduce overlaps the rest of backward; the communication thread then waits for NCCL's stream,
// polling ncclCommGetAsyncError and the job's failure flag, and aborts the communicator instead of hanging when a
// peer is gone. Search order for the library: SEG_NCCL_LIBRARY, the loader's path (LD_LIBRARY_PATH, ldconfig), the
// CUDA installation found at configure time.
#include "engine/dist_backend.h"

#if defined(SEG_WITH_CUDA) && defined(SEG_WITH_NCCL)
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "engine/cuda_context.h"
#include "engine/device.h"
#include "engine/dist_store.h"
#endif

namespace seg::dist::detail {

#if !(defined(SEG_WITH_CUDA) && defined(SEG_WITH_NCCL))

bool nccl_built() { return false; }
std::unique_ptr<Backend> make_nccl(const BackendContext&) {
  fail("distributed: CUDA collectives need NCCL, and this build has none (configured without CUDA or without nccl.h)");
}
std::shared_ptr<void> cuda_ready_event() { return nullptr; }

#else

namespace {

#ifndef SEG_NCCL_LIBRARY_PATH
#define SEG_NCCL_LIBRARY_PATH ""
#endif

struct NcclApi {
  void* handle = nullptr;
  std::string from, error;
  int version = 0;
  ncclResult_t (*GetVersion)(int*) = nullptr;
  ncclResult_t (*GetUniqueId)(ncclUniqueId*) = nullptr;
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int) = nullptr;
  ncclResult_t (*CommDestroy)(ncclComm_t) = nullptr;
  ncclResult_t (*CommAbort)(ncclComm_t) = nullptr;
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*) = nullptr;
  const char* (*GetErrorString)(ncclResult_t) = nullptr;
  ncclResult_t (*AllReduce)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t) = nullptr;
  ncclResult_t (*Broadcast)(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t) = nullptr;

  template <class F>
  bool sym(F& f, const char* name) {
    f = reinterpret_cast<F>(::dlsym(handle, name));
    if (!f) error = std::string("symbol ") + name + " missing in " + from;
    return f != nullptr;
  }
};

const NcclApi& api() {
  static const NcclApi a = [] {
    NcclApi r;
    std::string tried;
    std::vector<std::string> names;
    if (const char* e = std::getenv("SEG_NCCL_LIBRARY"); e && *e) names.push_back(e);
    names.push_back("libnccl.so.2");
    if (std::strlen(SEG_NCCL_LIBRARY_PATH) > 0) names.push_back(SEG_NCCL_LIBRARY_PATH);
    for (const auto& n : names) {
      r.handle = ::dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (r.handle) {
        r.from = n;
        break;
      }
      const char* why = ::dlerror();
      tried += (tried.empty() ? "" : "; ") + n + ": " + (why ? why : "not found");
    }
    if (!r.handle) {
      r.error = "cannot load NCCL (" + tried + "); set SEG_NCCL_LIBRARY to libnccl.so.2's path or add its folder to "
                "LD_LIBRARY_PATH";
      return r;
    }
    const bool ok = r.sym(r.GetVersion, "ncclGetVersion") && r.sym(r.GetUniqueId, "ncclGetUniqueId") &&
                    r.sym(r.CommInitRank, "ncclCommInitRank") && r.sym(r.CommDestroy, "ncclCommDestroy") &&
                    r.sym(r.CommAbort, "ncclCommAbort") && r.sym(r.CommGetAsyncError, "ncclCommGetAsyncError") &&
                    r.sym(r.GetErrorString, "ncclGetErrorString") && r.sym(r.AllReduce, "ncclAllReduce") &&
                    r.sym(r.Broadcast, "ncclBroadcast");
    if (!ok) {
      ::dlclose(r.handle);
      r.handle = nullptr;
      return r;
    }
    r.GetVersion(&r.version);
    return r;
  }();
  return a;
}

#define SEG_NCCL_CHECK(call, what)                                                                        \
  do {                                                                                                    \
    const ncclResult_t seg_r_ = (call);                                                                   \
    if (seg_r_ != ncclSuccess) fail("NCCL ", what, " failed: ", api().GetErrorString(seg_r_));            \
  } while (0)

ncclDataType_t nccl_type(DType d) {
  switch (d) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return ncclSum;
    case ReduceOp::Avg: return ncclAvg;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Min: return ncclMin;
  }
  return ncclSum;
}

class NcclBackend : public Backend {
 public:
  explicit NcclBackend(const BackendContext& bc) : interrupt_(bc.interrupt), timeout_s_(bc.timeout_s) {
    const NcclApi& a = api();
    SEG_CHECK(a.handle, "distributed: ", a.error);
    SEG_CHECK(cuda_available(), "distributed: a CUDA tensor, but no usable GPU: ", cuda_unavailable_reason());
    SEG_CUDA_CHECK(cudaSetDevice(cuda_device_index()), "NCCL backend (selecting this rank's GPU)");
    StoreClient store(bc.master_addr, bc.store_port, std::chrono::milliseconds(static_cast<int64_t>(bc.timeout_s * 1000)));
    ncclUniqueId id;
    if (bc.rank == 0) {
      SEG_NCCL_CHECK(a.GetUniqueId(&id), "ncclGetUniqueId");
      store.set("nccl/unique_id", std::string(reinterpret_cast<const char*>(&id), sizeof id));
    } else {
      const std::string v = store.get("nccl/unique_id", std::chrono::milliseconds(static_cast<int64_t>(bc.timeout_s * 1000)),
                                      interrupt_);
      SEG_CHECK(v.size() == sizeof id, "distributed: NCCL's unique id from rank 0 has ", v.size(), " bytes, expected ",
                sizeof id, " (ranks built against different NCCL headers?)");
      std::memcpy(&id, v.data(), sizeof id);
    }
    SEG_NCCL_CHECK(a.CommInitRank(&comm_, bc.world, id, bc.rank), "ncclCommInitRank");
    SEG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "NCCL backend (stream)");
  }
  ~NcclBackend() override {
    if (comm_) (aborted_ ? api().CommAbort : api().CommDestroy)(comm_);
    if (stream_) cudaStreamDestroy(stream_);
  }
  std::string name() const override {
    return "nccl " + std::to_string(api().version) + " (" + api().from + ")";
  }

  void all_reduce(const Tensor& t, ReduceOp op, const std::shared_ptr<void>& ready) override {
    SEG_CHECK(t.is_cuda(), "NCCL all-reduce: the tensor is on the CPU");
    start(ready);
    SEG_NCCL_CHECK(api().AllReduce(t.raw(), t.raw(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), nccl_op(op),
                                   comm_, stream_), "ncclAllReduce");
    finish("all-reduce");
  }
  void broadcast(const Tensor& t, int root, const std::shared_ptr<void>& ready) override {
    SEG_CHECK(t.is_cuda(), "NCCL broadcast: the tensor is on the CPU");
    start(ready);
    SEG_NCCL_CHECK(api().Broadcast(t.raw(), t.raw(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), root, comm_,
                                   stream_), "ncclBroadcast");
    finish("broadcast");
  }
  void barrier() override {
    // an all-reduce of one value is NCCL's barrier
    Tensor one = Tensor::ones({1}, DType::Float32, Device::CUDA);
    all_reduce(one, ReduceOp::Sum, cuda_ready_event());
  }

 private:
  void start(const std::shared_ptr<void>& ready) {
    if (ready) SEG_CUDA_CHECK(cudaStreamWaitEvent(stream_, static_cast<cudaEvent_t>(ready.get()), 0), "NCCL (waiting for the inputs)");
    else SEG_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()), "NCCL (waiting for the inputs)");
  }
  // Waits for NCCL's stream; a peer's failure (the job's flag) or NCCL's own asynchronous error aborts the
  // communicator, so this thread never hangs on a rank that is gone.
  void finish(const char* what) {
    const auto t0 = std::chrono::steady_clock::now();
    while (true) {
      const cudaError_t e = cudaStreamQuery(stream_);
      if (e == cudaSuccess) return;
      if (e != cudaErrorNotReady) SEG_CUDA_CHECK(e, what);
      ncclResult_t async = ncclSuccess;
      api().CommGetAsyncError(comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        abort_comm();
        fail("NCCL ", what, ": ", api().GetErrorString(async));
      }
      try {
        if (interrupt_) interrupt_();
      } catch (...) {
        abort_comm();
        throw;
      }
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s_) {
        abort_comm();
        fail("NCCL ", what, ": Timed out after ", timeout_s_, " s");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  void abort_comm() {
    if (comm_ && !aborted_) api().CommAbort(comm_);
    aborted_ = true;
    comm_ = nullptr;
  }

  std::function<void()> interrupt_;
  double timeout_s_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  bool aborted_ = false;
};

}  // namespace

bool nccl_built() { return true; }
std::unique_ptr<Backend> make_nccl(const BackendContext& bc) { return std::make_unique<NcclBackend>(bc); }

std::shared_ptr<void> cuda_ready_event() {
  if (!cuda_available()) return nullptr;
  cudaEvent_t ev = nullptr;
  SEG_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "distributed (event)");
  SEG_CUDA_CHECK(cudaEventRecord(ev, cuda::stream()), "distributed (event)");
  return std::shared_ptr<void>(ev, [](void* p) { cudaEventDestroy(static_cast<cudaEvent_t>(p)); });
}

#endif

}  // namespace seg::dist::detail
