// Internal to engine/distributed.cpp: the interface the two communication libraries are wrapped in (Gloo:
// engine/dist_gloo.cpp, NCCL: engine/dist_nccl.cpp). A backend is created on the communication thread at the first
// collective on its device (every rank reaches that point in the same program order) and is only ever used there.
// Each op blocks until it is complete on this rank and throws on failure with the library's message; `interrupt`
// (checked while waiting where the library allows it) throws when the job already failed elsewhere.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "engine/distributed.h"

namespace seg::dist::detail {

struct BackendContext {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr;
  int store_port = 0;
  std::string local_address;       // the address this host reaches rank 0 from (for the transports)
  double timeout_s = 1800;
  std::function<void()> interrupt;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // `ready` (CUDA only): an event recorded on the compute stream when the collective was submitted; the collective
  // waits for it instead of for everything queued since.
  virtual void all_reduce(const Tensor& t, ReduceOp op, const std::shared_ptr<void>& ready) = 0;
  virtual void broadcast(const Tensor& t, int root, const std::shared_ptr<void>& ready) = 0;
  virtual void barrier() = 0;
};

// Gloo over TCP for CPU tensors; throws when the build has no Gloo.
bool gloo_built();
std::unique_ptr<Backend> make_gloo(const BackendContext& bc);

// NCCL for CUDA tensors (libnccl.so.2 loaded at run time); throws when the build has no NCCL or the library cannot be
// loaded (the message says where it looked).
bool nccl_built();
std::unique_ptr<Backend> make_nccl(const BackendContext& bc);
// An event recorded now on the engine's CUDA stream (null in a build without NCCL).
std::shared_ptr<void> cuda_ready_event();

}  // namespace seg::dist::detail
