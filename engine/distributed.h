// Distributed training's process group: rank, world size, and collectives on tensors of either device — NCCL for
// CUDA tensors, Gloo for CPU tensors — behind one rendezvous (engine/dist_store.h) configured like torchrun:
// MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK. `--nproc N` (engine/dist_launch.h) spawns N ranks on one
// machine with exactly these variables, so one machine and several machines take the same path.
// Key decisions:
//  * the libraries the field runs on, not a communication layer of our own: Gloo (Debian's libgloo, PyTorch's CPU
//    backend) and NCCL (loaded at run time from the CUDA installation, so a binary that never communicates on a GPU
//    does not need libnccl);
//  * every collective runs on one communication thread, in the order it was submitted: the same program order on
//    every rank gives the same collective order, and the caller may continue (all_reduce_async) while the thread
//    sends — how gradient buckets overlap the rest of backward;
//  * no hang, ever: a rank that dies is reported by the rendezvous' liveness registry within a second, a collective
//    that involves it fails with an error naming it, and a watchdog ends a process that stays blocked in a
//    collective after a peer is gone; a collective that waits longer than the timeout names the ranks that never
//    arrived (the registry knows how many collectives each has finished);
//  * ranks other than 0 print nothing on stdout (it goes to /dev/null unless SEG_DIST_LOG_ALL_RANKS=1); errors go
//    to stderr prefixed with the rank.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace seg::dist {

struct InitOptions {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;       // 0 (a world of one only): any free port
  double timeout_s = 1800;       // a collective or rendezvous step waiting longer is an error (PyTorch's default)
};

// The torchrun variables, if RANK and WORLD_SIZE are set (else nullopt: a single process). Malformed or missing
// companions (MASTER_ADDR, MASTER_PORT) are errors naming the variable. Under torchrun's static rendezvous
// (TORCHELASTIC_USE_AGENT_STORE=True) torchrun's own store holds MASTER_PORT, so ours listens on MASTER_PORT + 1.
std::optional<InitOptions> options_from_env(double timeout_s = 1800);

// Joins the job: rendezvous, liveness registration; the backends connect on first use. A world of one is valid
// (it exercises every path). Throws naming the problem (unreachable store, duplicate rank, WORLD_SIZE mismatch).
void init(const InitOptions& opt);
bool initialized();
int rank();         // 0 when not initialized
int world_size();   // 1 when not initialized
int local_rank();   // 0 when not initialized
bool is_main();     // rank() == 0: the rank that writes files and logs
bool active();      // initialized with more than one rank: data parallelism is on
double timeout_s();

enum class ReduceOp { Sum, Avg, Max, Min };

// A collective submitted to the communication thread.
class Work {
 public:
  virtual ~Work() = default;
  virtual void wait() = 0;   // rethrows the collective's error
  virtual bool done() const = 0;
};

// In place, on every rank; the tensor's device picks the backend (CPU: Gloo, CUDA: NCCL). Float32, float64, int64.
void all_reduce(Tensor& t, ReduceOp op = ReduceOp::Sum);
std::shared_ptr<Work> all_reduce_async(const Tensor& t, ReduceOp op = ReduceOp::Sum);  // t must outlive wait()
void broadcast(Tensor& t, int root = 0);
void barrier();

// Control-plane exchanges through the rendezvous store (small data: metadata, scores, decisions).
std::string broadcast_string(const std::string& s, int root = 0);
std::vector<std::string> all_gather_strings(const std::string& s);

// Leaves the job cleanly: goodbye to the registry, backends closed; rank 0 then waits (bounded by the timeout) for the
// others' goodbyes before its store goes. Idempotent; runs at exit when not called.
void shutdown();

const char* backend_name(Device d);  // "gloo" / "nccl", or why there is none ("none (built without Gloo)")

// Counters of this process's collectives (benchmarks): how many, bytes sent through them, and the seconds the
// communication thread spent in them.
struct Stats {
  int64_t collectives = 0;
  double bytes = 0, seconds = 0;
};
Stats stats();

// What the command line asked for (apps/toolkit/cli.h sets these; the trainer reads them).
struct LaunchSettings {
  int nproc = 1;
  bool sync_bn = false;
};
LaunchSettings& launch_settings();

}  // namespace seg::dist
