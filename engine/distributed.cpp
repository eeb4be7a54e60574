// The process group's runtime (see distributed.h): rendezvous, the communication thread and its queue, the monitor
// thread (liveness events, progress reports, watchdog), error messages that name the rank, clean shutdown.
#include "engine/distributed.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/device.h"
#include "engine/dist_backend.h"
#include "engine/dist_store.h"

namespace seg::dist {

namespace {

using clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

constexpr double kGraceS = 5.0;  // a collective still blocked this long after a peer is gone: the watchdog ends it

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count(); }

std::string human_bytes(double b) {
  char s[32];
  if (b >= 1 << 20) std::snprintf(s, sizeof s, "%.1f MB", b / (1 << 20));
  else std::snprintf(s, sizeof s, "%.1f kB", b / 1024);
  return s;
}

class Task : public Work {
 public:
  std::function<void()> fn;
  std::string what;
  double bytes = 0;
  void wait() override {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return done_; });
    if (error_) std::rethrow_exception(error_);
  }
  bool done() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return done_;
  }
  void complete(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      done_ = true;
      error_ = e;
    }
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

struct Runtime {
  InitOptions opt;
  int store_port = 0;
  std::string local_address;
  std::unique_ptr<StoreServer> server;
  std::unique_ptr<StoreClient> ctl, mon;
  std::thread comm_thread, monitor_thread;

  // the communication thread's queue
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<std::shared_ptr<Task>> queue;
  bool qstop = false;
  std::unique_ptr<detail::Backend> gloo, nccl;
  std::string broken;                        // the first collective error: every later collective fails with it
  int64_t seq = 0;                           // collectives submitted (numbers them in messages)
  std::atomic<int64_t> finished{0};          // collectives completed
  std::atomic<int64_t> busy_since{0};        // steady ns while the communication thread is inside a collective
  std::mutex smu;
  Stats stats;

  // what the registry told us
  std::mutex fmu;
  std::atomic<bool> peer_gone{false};
  std::string gone_text;
  int64_t gone_ns = 0;

  int64_t string_seq = 0;
  std::atomic<bool> shutting{false};
  bool shut = false;
};

Runtime* g = nullptr;
LaunchSettings g_settings;

std::string rank_prefix() { return g ? "rank " + std::to_string(g->opt.rank) + " of " + std::to_string(g->opt.world) : ""; }

// The registry's news as a sentence, or "" while every peer is alive.
std::string gone() {
  if (!g || !g->peer_gone.load()) return "";
  std::lock_guard<std::mutex> lk(g->fmu);
  return g->gone_text;
}

void note_gone(const std::string& text) {
  std::lock_guard<std::mutex> lk(g->fmu);
  if (!g->peer_gone.load()) {
    g->gone_text = text;
    g->gone_ns = now_ns();
    g->peer_gone = true;
  }
}

// Throws when a peer is gone: a collective can no longer complete.
void check_peers(const std::string& what) {
  const std::string why = gone();
  if (!why.empty()) fail("distributed ", what, " on ", rank_prefix(), " cannot complete: ", why);
}

// Names the ranks that have finished fewer collectives than this one (a timeout's culprits), from the registry.
std::string laggards(int64_t mine) {
  try {
    const auto st = g->ctl->status();
    std::ostringstream o;
    bool any = false;
    for (size_t r = 0; r < st.size(); ++r) {
      if (static_cast<int>(r) == g->opt.rank) continue;
      const RankStatus& s = st[r];
      if (s.state != RankStatus::Alive || s.progress < mine) {
        o << (any ? "; " : "") << "rank " << r << " (" << s.host << ", pid " << s.pid << ") is "
          << rank_state_name(s.state) << ", has finished " << s.progress << " collectives (this rank: " << mine
          << "), last heard from " << static_cast<int>(s.silent_s) << " s ago";
        any = true;
      }
    }
    return any ? o.str() : "every rank reports as many finished collectives as this one (a slow network?)";
  } catch (const std::exception& e) {
    return std::string("the registry cannot be asked (") + e.what() + ")";
  }
}

// A collective's failure as a sentence naming the rank: the registry's news (waited for briefly: the library may
// notice a dead peer before the registry's event arrives), else a timeout's laggards, else the library's message.
std::string explain(const std::string& what, const std::string& lib) {
  for (int i = 0; i < 30 && gone().empty(); ++i) std::this_thread::sleep_for(ms(100));
  std::string why = gone();
  if (why.empty() && (lib.find("imed out") != std::string::npos || lib.find("imeout") != std::string::npos))
    why = "waited more than " + std::to_string(static_cast<int64_t>(g->opt.timeout_s)) + " s (--dist-timeout): " +
          laggards(g->finished.load());
  if (why.empty()) why = lib;
  else why += " [" + lib + "]";
  return "distributed " + what + " failed on " + rank_prefix() + ": " + why;
}

detail::BackendContext backend_context() {
  detail::BackendContext bc;
  bc.rank = g->opt.rank;
  bc.world = g->opt.world;
  bc.local_rank = g->opt.local_rank;
  bc.master_addr = g->opt.rank == 0 ? "127.0.0.1" : g->opt.master_addr;
  bc.store_port = g->store_port;
  bc.local_address = g->local_address;
  bc.timeout_s = g->opt.timeout_s;
  bc.interrupt = [] { check_peers("bootstrap"); };
  return bc;
}

// The backend for a tensor on `d` (created here, on the communication thread, at first use). CPU tensors without
// Gloo go through the GPU (NCCL), CUDA tensors without NCCL through the CPU (Gloo): `stage` says which.
detail::Backend& backend_for(Device d, Device& stage) {
  stage = d;
  const bool want_nccl = d == Device::CUDA ? detail::nccl_built() : !detail::gloo_built();
  if (want_nccl) {
    SEG_CHECK(detail::nccl_built() && cuda_available(), "distributed: CPU collectives need Gloo, and this build has none "
              "(configure with libgloo-dev installed); no GPU to route them through NCCL either");
    if (!g->nccl) {
      g->nccl = detail::make_nccl(backend_context());
      if (g->opt.rank == 0) std::fprintf(stderr, "distributed: CUDA collectives through %s\n", g->nccl->name().c_str());
    }
    if (d == Device::CPU) stage = Device::CUDA;
    return *g->nccl;
  }
  if (!g->gloo) g->gloo = detail::make_gloo(backend_context());
  if (d == Device::CUDA) stage = Device::CPU;
  return *g->gloo;
}

void comm_loop() {
  while (true) {
    std::shared_ptr<Task> t;
    {
      std::unique_lock<std::mutex> lk(g->qmu);
      g->qcv.wait(lk, [] { return g->qstop || !g->queue.empty(); });
      if (g->queue.empty()) return;
      t = g->queue.front();
    }
    std::exception_ptr err;
    if (!g->broken.empty()) {
      err = std::make_exception_ptr(Error(g->broken));
    } else {
      const auto t0 = clock::now();
      g->busy_since = now_ns();
      try {
        check_peers(t->what);
        t->fn();
      } catch (const Error& e) {
        const std::string m = e.what();
        g->broken = m.rfind("distributed ", 0) == 0 ? m : explain(t->what, m);
        err = std::make_exception_ptr(Error(g->broken));
      } catch (const std::exception& e) {
        g->broken = explain(t->what, e.what());
        err = std::make_exception_ptr(Error(g->broken));
      }
      g->busy_since = 0;
      std::lock_guard<std::mutex> lk(g->smu);
      g->stats.collectives += 1;
      g->stats.bytes += t->bytes;
      g->stats.seconds += std::chrono::duration<double>(clock::now() - t0).count();
    }
    ++g->finished;
    {
      std::lock_guard<std::mutex> lk(g->qmu);
      g->queue.pop_front();
    }
    g->qcv.notify_all();
    t->complete(err);
  }
}

std::shared_ptr<Task> submit(std::string what, double bytes, std::function<void()> fn) {
  SEG_CHECK(g && !g->shut, "distributed ", what, ": the process group is not initialised (dist::init) or was shut down");
  auto t = std::make_shared<Task>();
  t->fn = std::move(fn);
  t->bytes = bytes;
  {
    std::lock_guard<std::mutex> lk(g->qmu);
    t->what = what + " #" + std::to_string(++g->seq);
    g->queue.push_back(t);
  }
  g->qcv.notify_all();
  return t;
}

[[noreturn]] void watchdog_stop(const std::string& why) {
  std::fprintf(stderr, "[%s] distributed: %s; this process stops here (it was blocked in a collective)\n",
               rank_prefix().c_str(), why.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

void monitor_loop() {
  int64_t reported = -1;
  while (!g->shutting.load()) {
    StoreClient::Event ev;
    if (g->mon->poll_event(ms(250), ev)) {
      if (ev.lost) {
        if (g->shutting.load()) break;
        note_gone(g->opt.rank == 0 ? std::string("the rendezvous store in this process stopped")
                                   : "rank 0 is gone (it hosts the rendezvous store, and the connection to it at " +
                                         g->mon->peer() + " closed: it exited, died, or its machine is unreachable)");
        while (!g->shutting.load()) {  // nothing more will come; keep watching the communication thread
          const int64_t b = g->busy_since.load();
          if (b && (now_ns() - std::max(b, g->gone_ns)) * 1e-9 > kGraceS) watchdog_stop(gone());
          std::this_thread::sleep_for(ms(250));
        }
        break;
      }
      if (ev.state == RankStatus::Died)
        note_gone("rank " + std::to_string(ev.rank) + " died (its connection to the rendezvous closed without a goodbye: "
                  "killed, crashed, or its machine is unreachable)");
      else if (ev.state == RankStatus::Exited)
        note_gone("rank " + std::to_string(ev.rank) + " has exited (it finished or failed: its own output says why)");
    }
    const int64_t f = g->finished.load();
    if (f != reported) {
      g->mon->report_progress(f);
      reported = f;
    }
    const int64_t b = g->busy_since.load();
    if (b) {
      const double busy = (now_ns() - b) * 1e-9;
      if (g->peer_gone.load() && (now_ns() - std::max(b, g->gone_ns)) * 1e-9 > kGraceS) watchdog_stop(gone());
      if (busy > g->opt.timeout_s + 30)
        watchdog_stop("a collective has waited " + std::to_string(static_cast<int64_t>(busy)) + " s: " + laggards(f));
    }
  }
}

std::string hostname() {
  char b[256] = {0};
  ::gethostname(b, sizeof b - 1);
  return b;
}

int env_int(const char* name, bool& present) {
  const char* v = std::getenv(name);
  present = v && *v;
  if (!present) return 0;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  SEG_CHECK(*end == '\0', "distributed: environment variable ", name, "='", v, "' is not an integer");
  return static_cast<int>(x);
}

}  // namespace

std::optional<InitOptions> options_from_env(double timeout_s) {
  bool has_rank = false, has_world = false, has_local = false, has_port = false;
  const int rank = env_int("RANK", has_rank), world = env_int("WORLD_SIZE", has_world);
  if (!has_rank && !has_world) return std::nullopt;
  SEG_CHECK(has_rank && has_world, "distributed: RANK and WORLD_SIZE must be set together (torchrun sets both); got ",
            has_rank ? "RANK only" : "WORLD_SIZE only");
  InitOptions o;
  o.rank = rank;
  o.world = world;
  o.timeout_s = timeout_s;
  SEG_CHECK(world >= 1 && rank >= 0 && rank < world, "distributed: RANK=", rank, " must be in [0, WORLD_SIZE=", world, ")");
  o.local_rank = env_int("LOCAL_RANK", has_local);
  if (!has_local) o.local_rank = rank;  // one machine
  const char* addr = std::getenv("MASTER_ADDR");
  SEG_CHECK(addr && *addr, "distributed: RANK/WORLD_SIZE are set but MASTER_ADDR is not (the host of rank 0)");
  o.master_addr = addr;
  o.master_port = env_int("MASTER_PORT", has_port);
  SEG_CHECK(has_port && o.master_port > 0 && o.master_port < 65535,
            "distributed: MASTER_PORT must be a port number (1-65534), got '",
            std::getenv("MASTER_PORT") ? std::getenv("MASTER_PORT") : "", "'");
  if (const char* a = std::getenv("TORCHELASTIC_USE_AGENT_STORE"); a && std::string(a) == "True") o.master_port += 1;
  return o;
}

void init(const InitOptions& opt) {
  SEG_CHECK(!g || g->shut, "distributed: init called twice");
  SEG_CHECK(opt.world >= 1 && opt.rank >= 0 && opt.rank < opt.world, "distributed: rank ", opt.rank,
            " must be in [0, world size ", opt.world, ")");
  SEG_CHECK(opt.master_port > 0 || opt.world == 1, "distributed: a port (MASTER_PORT) is needed for ", opt.world, " ranks");
  SEG_CHECK(opt.timeout_s > 0, "distributed: the timeout must be positive, got ", opt.timeout_s);
  auto* r = new Runtime();  // never deleted: threads and atexit may still look at it while the process ends
  r->opt = opt;
  const ms timeout(static_cast<int64_t>(opt.timeout_s * 1000));
  try {
    if (opt.rank == 0) r->server = std::make_unique<StoreServer>(opt.master_port, opt.world);
    r->store_port = r->server ? r->server->port() : opt.master_port;
    // rank 0 reaches its own store on the loopback; the others at MASTER_ADDR
    const std::string host = opt.rank == 0 ? "127.0.0.1" : opt.master_addr;
    r->ctl = std::make_unique<StoreClient>(host, r->store_port, timeout);
    r->mon = std::make_unique<StoreClient>(host, r->store_port, timeout);
    r->mon->hello(opt.rank, opt.world, hostname(), static_cast<int64_t>(::getpid()));
    // the transports listen on the address this host reaches MASTER_ADDR from (rank 0: the address it reaches its
    // own MASTER_ADDR from, found by a probe connection when it is not the loopback)
    r->local_address = opt.rank == 0 ? std::string("127.0.0.1") : r->ctl->local_address();
    if (opt.rank == 0 && opt.world > 1 && opt.master_addr != "127.0.0.1" && opt.master_addr != "localhost") {
      StoreClient probe(opt.master_addr, r->store_port, timeout);
      r->local_address = probe.local_address();
    }
    // wait until every rank has joined (the last one to arrive opens the gate)
    if (r->ctl->add("init/joined", 1) == opt.world) r->ctl->set("init/complete", "1");
    try {
      r->ctl->get("init/complete", timeout);
    } catch (const Error&) {
      std::string who;
      try {
        StoreClient c(host, r->store_port, ms(10000));
        const auto st = c.status();
        for (size_t i = 0; i < st.size(); ++i)
          if (st[i].state == RankStatus::NotJoined) who += (who.empty() ? "" : ", ") + std::to_string(i);
      } catch (...) {
      }
      fail("rendezvous at ", host, ":", r->store_port, ": not every rank joined within ", opt.timeout_s, " s",
           who.empty() ? std::string() : " (missing: rank " + who + ")", "; check WORLD_SIZE and that every rank was started");
    }
  } catch (...) {
    r->ctl.reset();
    r->mon.reset();
    r->server.reset();
    delete r;
    throw;
  }
  g = r;
  g->comm_thread = std::thread(comm_loop);
  g->monitor_thread = std::thread(monitor_loop);
  std::atexit([] { shutdown(); });
  if (opt.rank != 0 && opt.world > 1) {
    const char* all = std::getenv("SEG_DIST_LOG_ALL_RANKS");
    if (!(all && std::string(all) == "1")) {
      std::fflush(stdout);
      const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::close(fd);
      }
    }
  }
  if (opt.rank == 0)
    std::printf("distributed: %d rank%s, rendezvous %s:%d, CPU collectives: %s, CUDA collectives: %s\n", opt.world,
                opt.world > 1 ? "s" : "", opt.master_addr.c_str(), g->store_port, backend_name(Device::CPU),
                backend_name(Device::CUDA));
}

bool initialized() { return g && !g->shut; }
// (after shutdown a process keeps its rank: a rank other than 0 must not start writing files as it ends)
int rank() { return g ? g->opt.rank : 0; }
int world_size() { return g ? g->opt.world : 1; }
int local_rank() { return g ? g->opt.local_rank : 0; }
bool is_main() { return rank() == 0; }
bool active() { return world_size() > 1; }
double timeout_s() { return initialized() ? g->opt.timeout_s : 1800; }

const char* backend_name(Device d) {
  if (d == Device::CUDA) {
    if (detail::nccl_built()) return "nccl";
    return detail::gloo_built() ? "gloo (through the CPU: built without NCCL)" : "none (built without NCCL or Gloo)";
  }
  if (detail::gloo_built()) return "gloo";
  return detail::nccl_built() ? "nccl (through the GPU: built without Gloo)" : "none (built without Gloo)";
}

std::shared_ptr<Work> all_reduce_async(const Tensor& t, ReduceOp op) {
  check_defined(t, "dist::all_reduce", "tensor");
  check_peers("all-reduce");
  const double bytes = static_cast<double>(t.numel()) * static_cast<double>(dtype_size(t.dtype()));
  std::shared_ptr<void> ready = t.is_cuda() ? detail::cuda_ready_event() : nullptr;
  const char* dev = t.is_cuda() ? "CUDA" : "CPU";
  return submit(std::string("all-reduce (") + dev + ", " + human_bytes(bytes) + ")", bytes, [t, op, ready] {
    Device stage;
    detail::Backend& b = backend_for(t.device(), stage);
    if (stage == t.device()) {
      b.all_reduce(t, op, ready);
    } else {
      Tensor s = t.to(stage);
      b.all_reduce(s, op, stage == Device::CUDA ? detail::cuda_ready_event() : nullptr);
      Tensor(t).copy_from_(s);
    }
  });
}

void all_reduce(Tensor& t, ReduceOp op) { all_reduce_async(t, op)->wait(); }

void broadcast(Tensor& t, int root) {
  check_defined(t, "dist::broadcast", "tensor");
  check_peers("broadcast");
  SEG_CHECK(root >= 0 && root < world_size(), "dist::broadcast: root ", root, " outside [0, ", world_size(), ")");
  const double bytes = static_cast<double>(t.numel()) * static_cast<double>(dtype_size(t.dtype()));
  std::shared_ptr<void> ready = t.is_cuda() ? detail::cuda_ready_event() : nullptr;
  Tensor tt = t;
  submit("broadcast (" + std::string(t.is_cuda() ? "CUDA" : "CPU") + ", " + human_bytes(bytes) + ", from rank " +
             std::to_string(root) + ")",
         bytes,
         [tt, root, ready] {
           Device stage;
           detail::Backend& b = backend_for(tt.device(), stage);
           if (stage == tt.device()) {
             b.broadcast(tt, root, ready);
           } else {
             Tensor s = tt.to(stage);
             b.broadcast(s, root, stage == Device::CUDA ? detail::cuda_ready_event() : nullptr);
             Tensor(tt).copy_from_(s);
           }
         })
      ->wait();
}

void barrier() {
  check_peers("barrier");
  submit("barrier", 0, [] {
    Device stage;
    backend_for(detail::gloo_built() ? Device::CPU : Device::CUDA, stage).barrier();
  })->wait();
}

std::string broadcast_string(const std::string& s, int root) {
  if (!active()) return s;
  SEG_CHECK(root >= 0 && root < world_size(), "dist::broadcast_string: root ", root, " outside [0, ", world_size(), ")");
  const std::string key = "str/" + std::to_string(++g->string_seq);
  if (rank() == root) {
    g->ctl->set(key, s);
    return s;
  }
  try {
    return g->ctl->get(key, ms(static_cast<int64_t>(g->opt.timeout_s * 1000)), [] { check_peers("broadcast of a string"); });
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind("distributed ", 0) == 0) throw;
    fail(explain("broadcast of a string from rank " + std::to_string(root), m));
  }
}

std::vector<std::string> all_gather_strings(const std::string& s) {
  if (!active()) return {s};
  const std::string key = "gather/" + std::to_string(++g->string_seq) + "/";
  g->ctl->set(key + std::to_string(rank()), s);
  std::vector<std::string> out(static_cast<size_t>(world_size()));
  for (int r = 0; r < world_size(); ++r) {
    if (r == rank()) {
      out[static_cast<size_t>(r)] = s;
      continue;
    }
    try {
      out[static_cast<size_t>(r)] =
          g->ctl->get(key + std::to_string(r), ms(static_cast<int64_t>(g->opt.timeout_s * 1000)), [] { check_peers("all-gather of strings"); });
    } catch (const Error& e) {
      const std::string m = e.what();
      if (m.rfind("distributed ", 0) == 0) throw;
      fail(explain("all-gather of strings (waiting for rank " + std::to_string(r) + ")", m));
    }
  }
  return out;
}

void shutdown() {
  if (!g || g->shutting.exchange(true)) return;
  bool idle;
  {
    std::lock_guard<std::mutex> lk(g->qmu);
    idle = g->queue.empty() && g->busy_since.load() == 0;
    g->qstop = true;
  }
  g->qcv.notify_all();
  if (idle) {
    // the backends go first: a peer still waiting in a collective with this rank then fails at once instead of
    // waiting for a timeout
    if (g->comm_thread.joinable()) g->comm_thread.join();
    g->gloo.reset();
    g->nccl.reset();
  } else if (g->comm_thread.joinable()) {
    g->comm_thread.detach();  // blocked in a collective on an error path: the process ends around it
  }
  g->mon->goodbye();
  if (g->monitor_thread.joinable()) g->monitor_thread.join();
  if (g->server) {
    // rank 0 hosts the store: the others may still need it to learn that this rank left, and to say goodbye
    const bool clean = idle && !g->peer_gone.load();
    const double wait_s = clean ? std::min(g->opt.timeout_s, 600.0) : 3.0;
    if (!g->server->wait_all_left(ms(static_cast<int64_t>(wait_s * 1000))) && clean)
      std::fprintf(stderr, "[%s] distributed: not every rank said goodbye within %.0f s; stopping the store anyway\n",
                   rank_prefix().c_str(), wait_s);
    g->server.reset();
  }
  g->shut = true;
}

Stats stats() {
  if (!g) return {};
  std::lock_guard<std::mutex> lk(g->smu);
  return g->stats;
}

LaunchSettings& launch_settings() { return g_settings; }

}  // namespace seg::dist
