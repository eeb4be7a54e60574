// The rendezvous of distributed training: a small TCP key-value store at MASTER_ADDR:MASTER_PORT (torchrun's
// variables), hosted by rank 0 in a thread, that every rank connects to. It carries (1) the bootstrap data of the
// communication libraries (Gloo's transport addresses, NCCL's unique id), (2) small control-plane exchanges (a
// broadcast string, an all-gather of strings: scores, checkpoint metadata), and (3) the job's liveness registry.
// Key decisions:
//  * Gloo ships a Store interface but only file, hash (in-process) and Redis stores; NCCL ships none. PyTorch's TCP
//    store is part of PyTorch. So this one is ours (about 400 lines, no dependency) and both libraries bootstrap
//    through it: one rendezvous whatever the device;
//  * liveness: every rank keeps one "monitor" connection registered with its rank. A monitor connection that closes
//    without a goodbye means the process died (kill -9, crash, machine gone: the kernel closes its sockets) and every
//    other rank is told at once, naming the rank; a goodbye means it exited on purpose. When rank 0 (the host) goes,
//    the other ranks see their connections close. Each rank also reports how many collectives it has finished, so a
//    rank that times out can name the ranks that never arrived;
//  * framed binary messages over blocking sockets with poll() for every wait, so no wait is ever unbounded.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace seg::dist {

// What the registry knows of one rank.
struct RankStatus {
  enum State : uint8_t { NotJoined = 0, Alive = 1, Exited = 2, Died = 3 };
  State state = NotJoined;
  int64_t progress = 0;        // collectives finished, as last reported
  double silent_s = 0;         // seconds since its monitor last sent anything
  std::string host;            // hostname and pid it registered with
  int64_t pid = 0;
};
const char* rank_state_name(RankStatus::State s);

// The server, hosted by rank 0 in its own thread.
class StoreServer {
 public:
  // Listens on all interfaces at `port` (0: any free port, for a world of one); `world` ranks may register.
  StoreServer(int port, int world);
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;
  int port() const { return port_; }
  // Waits until every rank has said goodbye or died (or `timeout`); returns true when they all have.
  bool wait_all_left(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// One connection to the server. Requests are serialised by a mutex; every wait polls, so `interrupt` (called between
// polls) can abandon it by throwing, and a deadline names what was awaited.
class StoreClient {
 public:
  // Connects to host:port, retrying until `timeout` (rank 0 may start later than the others).
  StoreClient(const std::string& host, int port, std::chrono::milliseconds timeout);
  ~StoreClient();
  StoreClient(const StoreClient&) = delete;
  StoreClient& operator=(const StoreClient&) = delete;

  void set(const std::string& key, const std::string& value);
  // Waits until key is set (by any rank), at most `timeout`.
  std::string get(const std::string& key, std::chrono::milliseconds timeout,
                  const std::function<void()>& interrupt = nullptr);
  int64_t add(const std::string& key, int64_t delta);  // atomic counter; returns the new value
  std::vector<RankStatus> status();

  // Monitor side: registers this connection as `rank` of `world` (an error naming the conflict when another process
  // holds the rank or the world sizes differ); then events arrive through poll_event().
  void hello(int rank, int world, const std::string& host, int64_t pid);
  void goodbye();
  void report_progress(int64_t finished);
  // Waits up to `wait` for an event (another rank exited or died); false when none came. `rank` < 0 with `lost`:
  // the connection to the server itself closed (rank 0 is gone).
  struct Event {
    int rank = -1;
    RankStatus::State state = RankStatus::NotJoined;
    bool lost = false;
  };
  bool poll_event(std::chrono::milliseconds wait, Event& ev);

  std::string local_address() const;  // the address this host uses to reach the server (for the transports)
  std::string peer() const { return peer_; }

 private:
  int fd_ = -1;
  std::string peer_;
  std::mutex mu_;
  std::string pending_;  // bytes of a partly received frame (monitor side)
  void send_frame(const std::string& frame);
  std::string recv_frame(std::chrono::milliseconds timeout, const std::function<void()>& interrupt, const std::string& what);
};

}  // namespace seg::dist
