// The Gloo backend (CPU tensors): Debian's libgloo with its TCP transport, bootstrapped through our rendezvous store
// (a gloo::rendezvous::Store adapter: Gloo's full mesh exchanges each rank's transport address as store keys).
// The transport binds the address this host reaches rank 0 from (so the right interface is used on a machine with
// several), or the interface named by GLOO_SOCKET_IFNAME (PyTorch's variable). Averages are sums divided by the
// world size here (Gloo has no average). Built only when SEG_WITH_GLOO (the gpu-check profile has no Gloo).
#include "engine/dist_backend.h"

#ifdef SEG_WITH_GLOO
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

#include <cstdlib>

#include "engine/dist_store.h"
#endif

namespace seg::dist::detail {

#ifndef SEG_WITH_GLOO

bool gloo_built() { return false; }
std::unique_ptr<Backend> make_gloo(const BackendContext&) {
  fail("distributed: CPU collectives need Gloo, and this build has none (configure with libgloo-dev installed; "
       "the gpu-check profile builds without it)");
}

#else

namespace {

// Gloo's Store interface on our TCP store (its own connection: a backend's bootstrap never queues behind the main
// thread's control-plane requests).
class StoreAdapter : public gloo::rendezvous::Store {
 public:
  StoreAdapter(const BackendContext& bc)
      : client_(bc.master_addr, bc.store_port, std::chrono::milliseconds(static_cast<int64_t>(bc.timeout_s * 1000))),
        timeout_(static_cast<int64_t>(bc.timeout_s * 1000)), interrupt_(bc.interrupt) {}
  void set(const std::string& key, const std::vector<char>& data) override {
    client_.set("gloo/" + key, std::string(data.begin(), data.end()));
  }
  std::vector<char> get(const std::string& key) override {
    const std::string v = client_.get("gloo/" + key, timeout_, interrupt_);
    return std::vector<char>(v.begin(), v.end());
  }
  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    for (const auto& k : keys) (void)client_.get("gloo/" + k, timeout, interrupt_);
  }

 private:
  StoreClient client_;
  std::chrono::milliseconds timeout_;
  std::function<void()> interrupt_;
};

using ReduceFn = void (*)(void*, const void*, const void*, size_t);

template <class T>
ReduceFn reduce_fn(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Avg: return static_cast<ReduceFn>(&gloo::sum<T>);
    case ReduceOp::Max: return static_cast<ReduceFn>(&gloo::max<T>);
    case ReduceOp::Min: return static_cast<ReduceFn>(&gloo::min<T>);
  }
  return nullptr;
}

class GlooBackend : public Backend {
 public:
  explicit GlooBackend(const BackendContext& bc) : world_(bc.world) {
    gloo::transport::tcp::attr attr;
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) attr.iface = ifname;
    else attr.hostname = bc.local_address;
    device_ = gloo::transport::tcp::CreateDevice(attr);
    StoreAdapter store(bc);
    context_ = std::make_shared<gloo::rendezvous::Context>(bc.rank, bc.world);
    context_->setTimeout(std::chrono::milliseconds(static_cast<int64_t>(bc.timeout_s * 1000)));
    context_->connectFullMesh(store, device_);
  }
  std::string name() const override { return "gloo"; }

  void all_reduce(const Tensor& t, ReduceOp op, const std::shared_ptr<void>&) override {
    const size_t n = static_cast<size_t>(t.numel());
    if (n == 0) return;
    auto run = [&](auto tag) {
      using T = decltype(tag);
      gloo::AllreduceOptions o(context_);
      o.setOutput(static_cast<T*>(t.raw()), n);
      o.setReduceFunction(reduce_fn<T>(op));
      o.setTag(next_tag());
      gloo::allreduce(o);
      if (op == ReduceOp::Avg) {
        T* p = static_cast<T*>(t.raw());
        const T inv = static_cast<T>(1.0 / world_);
        for (size_t i = 0; i < n; ++i) p[i] *= inv;
      }
    };
    switch (t.dtype()) {
      case DType::Float32: run(float{}); break;
      case DType::Float64: run(double{}); break;
      case DType::Int64:
        SEG_CHECK(op != ReduceOp::Avg, "distributed all-reduce: no average of an int64 tensor (sum it and divide)");
        run(int64_t{});
        break;
    }
  }

  void broadcast(const Tensor& t, int root, const std::shared_ptr<void>&) override {
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
    if (bytes == 0) return;
    gloo::BroadcastOptions o(context_);
    o.setOutput(static_cast<uint8_t*>(t.raw()), bytes);
    o.setRoot(root);
    o.setTag(next_tag());
    gloo::broadcast(o);
  }

  void barrier() override {
    gloo::BarrierOptions o(context_);
    o.setTag(next_tag());
    gloo::barrier(o);
  }

 private:
  uint32_t next_tag() { return ++tag_; }  // ops run one at a time; distinct tags keep a late message from matching
  int world_;
  uint32_t tag_ = 0;
  std::shared_ptr<gloo::transport::Device> device_;
  std::shared_ptr<gloo::rendezvous::Context> context_;
};

}  // namespace

bool gloo_built() { return true; }
std::unique_ptr<Backend> make_gloo(const BackendContext& bc) { return std::make_unique<GlooBackend>(bc); }

#endif

}  // namespace seg::dist::detail
