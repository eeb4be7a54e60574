// The rendezvous store (see dist_store.h). Wire format: frames of [u32 length][u8 op][fields], integers little-endian,
// strings as [u32 length][bytes]; the ranks of one job run the same build, so both ends agree by construction.
#include "engine/dist_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>

#include "engine/error.h"

namespace seg::dist {

namespace {

using clock = std::chrono::steady_clock;

enum Op : uint8_t {
  kSet = 1, kGet = 2, kAdd = 3, kHello = 4, kBye = 5, kProgress = 6, kStatus = 7,
  kOk = 100, kValue = 101, kInt = 102, kErr = 103, kStatusReply = 104, kEvent = 110,
};

struct Writer {
  std::string b;
  Writer& u8(uint8_t v) { b.push_back(static_cast<char>(v)); return *this; }
  Writer& u32(uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); return *this; }
  Writer& i64(int64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); return *this; }
  Writer& str(const std::string& s) { u32(static_cast<uint32_t>(s.size())); b += s; return *this; }
  std::string frame(uint8_t op) const {
    std::string f(4, '\0');
    const uint32_t n = static_cast<uint32_t>(b.size() + 1);
    std::memcpy(f.data(), &n, 4);
    f.push_back(static_cast<char>(op));
    return f + b;
  }
};

struct Reader {
  const std::string& b;
  size_t p = 0;
  void need(size_t n) const { SEG_CHECK(p + n <= b.size(), "rendezvous store: malformed message (", b.size(), " bytes)"); }
  uint8_t u8() { need(1); return static_cast<uint8_t>(b[p++]); }
  uint32_t u32() { need(4); uint32_t v; std::memcpy(&v, b.data() + p, 4); p += 4; return v; }
  int64_t i64() { need(8); int64_t v; std::memcpy(&v, b.data() + p, 8); p += 8; return v; }
  std::string str() { const uint32_t n = u32(); need(n); std::string s = b.substr(p, n); p += n; return s; }
};

// Takes one complete frame (op + fields) off the front of buf, if there is one.
bool take_frame(std::string& buf, std::string& frame) {
  if (buf.size() < 4) return false;
  uint32_t n;
  std::memcpy(&n, buf.data(), 4);
  SEG_CHECK(n >= 1 && n < (1u << 30), "rendezvous store: malformed frame length ", n);
  if (buf.size() < 4 + static_cast<size_t>(n)) return false;
  frame = buf.substr(4, n);
  buf.erase(0, 4 + static_cast<size_t>(n));
  return true;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t k = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(k);
  }
  return true;
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

double seconds_since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }

}  // namespace

const char* rank_state_name(RankStatus::State s) {
  switch (s) {
    case RankStatus::NotJoined: return "not joined";
    case RankStatus::Alive: return "alive";
    case RankStatus::Exited: return "exited";
    case RankStatus::Died: return "died";
  }
  return "?";
}

// ---------------------------------------------------------------- server
struct StoreServer::Impl {
  struct Conn {
    std::string in;
    int rank = -1;                      // a monitor connection's rank
    std::vector<std::string> waiting;   // keys of pending GETs
  };
  int listen_fd = -1, wake[2] = {-1, -1}, world = 1;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::mutex mu;                         // ranks (read by wait_all_left)
  std::condition_variable cv;
  std::vector<RankStatus> ranks;
  std::vector<clock::time_point> last_seen;
  std::map<std::string, std::string> kv;
  std::map<int, Conn> conns;

  void reply(int fd, const Writer& w, uint8_t op) {
    if (!send_all(fd, w.frame(op))) drop(fd);
  }

  void event(int rank, RankStatus::State st) {
    Writer w;
    w.u32(static_cast<uint32_t>(rank)).u8(st);
    const std::string f = w.frame(kEvent);
    std::vector<int> bad;
    for (auto& [fd, c] : conns)
      if (c.rank >= 0 && c.rank != rank && ranks[static_cast<size_t>(c.rank)].state == RankStatus::Alive && !send_all(fd, f))
        bad.push_back(fd);
    for (int fd : bad) drop(fd);
  }

  void drop(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    const int r = it->second.rank;
    conns.erase(it);
    ::close(fd);
    if (r >= 0) {
      bool died = false;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (ranks[static_cast<size_t>(r)].state == RankStatus::Alive) {
          ranks[static_cast<size_t>(r)].state = RankStatus::Died;
          died = true;
        }
      }
      cv.notify_all();
      if (died) event(r, RankStatus::Died);
    }
  }

  void handle(int fd, const std::string& frame) {
    Reader rd{frame};
    const uint8_t op = rd.u8();
    Conn& c = conns[fd];
    if (c.rank >= 0) last_seen[static_cast<size_t>(c.rank)] = clock::now();
    switch (op) {
      case kSet: {
        std::string k = rd.str(), v = rd.str();
        kv[k] = v;
        reply(fd, Writer{}, kOk);
        std::vector<int> ready;
        for (auto& [ofd, oc] : conns) {
          auto& w = oc.waiting;
          for (size_t i = 0; i < w.size();)
            if (w[i] == k) {
              w.erase(w.begin() + static_cast<std::ptrdiff_t>(i));
              ready.push_back(ofd);
            } else {
              ++i;
            }
        }
        for (int ofd : ready) {
          Writer w;
          w.str(v);
          reply(ofd, w, kValue);
        }
        break;
      }
      case kGet: {
        std::string k = rd.str();
        auto it = kv.find(k);
        if (it != kv.end()) {
          Writer w;
          w.str(it->second);
          reply(fd, w, kValue);
        } else {
          c.waiting.push_back(k);
        }
        break;
      }
      case kAdd: {
        std::string k = rd.str();
        const int64_t d = rd.i64();
        int64_t v = kv.count(k) ? std::stoll(kv[k]) : 0;
        v += d;
        kv[k] = std::to_string(v);
        Writer w;
        w.i64(v);
        reply(fd, w, kInt);
        break;
      }
      case kHello: {
        const int r = static_cast<int>(rd.u32());
        const int w = static_cast<int>(rd.u32());
        const std::string host = rd.str();
        const int64_t pid = rd.i64();
        std::string err;
        if (w != world) {
          err = "rank " + std::to_string(r) + " was started with WORLD_SIZE=" + std::to_string(w) + ", rank 0 with " +
                std::to_string(world) + ": every rank must be given the same WORLD_SIZE";
        } else if (r < 0 || r >= world) {
          err = "RANK=" + std::to_string(r) + " is outside [0, WORLD_SIZE=" + std::to_string(world) + ")";
        } else {
          std::lock_guard<std::mutex> lk(mu);
          RankStatus& s = ranks[static_cast<size_t>(r)];
          if (s.state == RankStatus::Alive)
            err = "rank " + std::to_string(r) + " joined twice: " + s.host + " (pid " + std::to_string(s.pid) +
                  ") already holds it and " + host + " (pid " + std::to_string(pid) + ") asked again; check RANK";
          else if (s.state != RankStatus::NotJoined)
            err = "rank " + std::to_string(r) + " already " + rank_state_name(s.state) + " from this job; a rank cannot rejoin";
          else {
            s.state = RankStatus::Alive;
            s.host = host;
            s.pid = pid;
            c.rank = r;
            last_seen[static_cast<size_t>(r)] = clock::now();
          }
        }
        Writer wr;
        if (err.empty()) reply(fd, wr, kOk);
        else reply(fd, wr.str(err), kErr);
        break;
      }
      case kBye: {
        if (c.rank >= 0) {
          const int r = c.rank;
          {
            std::lock_guard<std::mutex> lk(mu);
            ranks[static_cast<size_t>(r)].state = RankStatus::Exited;
          }
          cv.notify_all();
          event(r, RankStatus::Exited);
        }
        break;
      }
      case kProgress: {
        const int64_t n = rd.i64();
        if (c.rank >= 0) ranks[static_cast<size_t>(c.rank)].progress = n;
        break;
      }
      case kStatus: {
        Writer w;
        w.u32(static_cast<uint32_t>(world));
        std::lock_guard<std::mutex> lk(mu);
        for (int r = 0; r < world; ++r) {
          const RankStatus& s = ranks[static_cast<size_t>(r)];
          w.u8(s.state).i64(s.progress).i64(static_cast<int64_t>(seconds_since(last_seen[static_cast<size_t>(r)]) * 1000))
              .str(s.host).i64(s.pid);
        }
        reply(fd, w, kStatusReply);
        break;
      }
      default:
        drop(fd);
    }
  }

  void loop() {
    std::vector<pollfd> fds;
    char buf[65536];
    while (!stop.load()) {
      fds.clear();
      fds.push_back({listen_fd, POLLIN, 0});
      fds.push_back({wake[0], POLLIN, 0});
      for (auto& [fd, c] : conns) fds.push_back({fd, POLLIN, 0});
      const int n = ::poll(fds.data(), fds.size(), 500);
      if (n <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int fd = ::accept(listen_fd, nullptr, nullptr);
        if (fd >= 0) {
          set_nodelay(fd);
          timeval tv{10, 0};  // a client that stops reading cannot stall the server for long
          ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
          conns[fd];
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        const int fd = fds[i].fd;
        if (!conns.count(fd)) continue;
        const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
        if (k <= 0) {
          if (k < 0 && errno == EINTR) continue;
          drop(fd);
          continue;
        }
        conns[fd].in.append(buf, static_cast<size_t>(k));
        std::string frame;
        try {
          while (conns.count(fd) && take_frame(conns[fd].in, frame)) handle(fd, frame);
        } catch (const std::exception&) {
          drop(fd);  // a malformed message: this client is not one of ours
        }
      }
    }
  }
};

StoreServer::StoreServer(int port, int world) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.world = world;
  m.ranks.assign(static_cast<size_t>(world), RankStatus{});
  m.last_seen.assign(static_cast<size_t>(world), clock::now());
  m.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SEG_CHECK(m.listen_fd >= 0, "rendezvous: cannot create a socket (", std::strerror(errno), ")");
  int one = 1;
  ::setsockopt(m.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(m.listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m.listen_fd, 256) != 0) {
    const std::string why = std::strerror(errno);
    ::close(m.listen_fd);
    fail("rendezvous: rank 0 cannot listen on port ", port, " (", why,
         "): another job or an earlier run may hold it; choose another MASTER_PORT");
  }
  socklen_t len = sizeof a;
  ::getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  SEG_CHECK(::pipe2(m.wake, O_CLOEXEC) == 0, "rendezvous: pipe failed");
  m.thread = std::thread([&m] { m.loop(); });
}

StoreServer::~StoreServer() {
  Impl& m = *impl_;
  m.stop = true;
  (void)!::write(m.wake[1], "x", 1);
  if (m.thread.joinable()) m.thread.join();
  for (auto& [fd, c] : m.conns) ::close(fd);
  ::close(m.listen_fd);
  ::close(m.wake[0]);
  ::close(m.wake[1]);
}

bool StoreServer::wait_all_left(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lk(m.mu);
  return m.cv.wait_for(lk, timeout, [&] {
    for (const auto& s : m.ranks)
      if (s.state == RankStatus::Alive || s.state == RankStatus::NotJoined) return false;
    return true;
  });
}

// ---------------------------------------------------------------- client
StoreClient::StoreClient(const std::string& host, int port, std::chrono::milliseconds timeout) {
  peer_ = host + ":" + std::to_string(port);
  const auto deadline = clock::now() + timeout;
  std::string last = "no attempt";
  while (true) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    const int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (gai != 0) {
      last = std::string("cannot resolve '") + host + "': " + ::gai_strerror(gai);
    } else {
      for (addrinfo* ai = res; ai && fd_ < 0; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) continue;
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
          pollfd p{fd, POLLOUT, 0};
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
          rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(left, 5000)))) == 1 ? 0 : -1;
          int err = 0;
          socklen_t l = sizeof err;
          if (rc == 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err != 0) {
            errno = err;
            rc = -1;
          } else if (rc != 0) {
            errno = ETIMEDOUT;
          }
        }
        if (rc == 0) {
          ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
          set_nodelay(fd);
          fd_ = fd;
        } else {
          last = std::strerror(errno);
          ::close(fd);
        }
      }
      ::freeaddrinfo(res);
    }
    if (fd_ >= 0) break;
    if (clock::now() >= deadline)
      fail("rendezvous: could not reach the store at MASTER_ADDR:MASTER_PORT = ", peer_, " within ",
           std::chrono::duration<double>(timeout).count(), " s (", last,
           "): is rank 0 running, with the same MASTER_ADDR/MASTER_PORT, and is the port open between the machines?");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

StoreClient::~StoreClient() {
  if (fd_ >= 0) ::close(fd_);
}

void StoreClient::send_frame(const std::string& frame) {
  SEG_CHECK(fd_ >= 0, "rendezvous store at ", peer_, ": the connection was closed after an earlier error");
  if (!send_all(fd_, frame))
    fail("rendezvous store at ", peer_, ": connection lost (", std::strerror(errno), "): rank 0, which hosts it, has exited or died");
}

std::string StoreClient::recv_frame(std::chrono::milliseconds timeout, const std::function<void()>& interrupt,
                                    const std::string& what) {
  SEG_CHECK(fd_ >= 0, "rendezvous store at ", peer_, ": the connection was closed after an earlier error");
  const auto deadline = clock::now() + timeout;
  std::string frame;
  char buf[65536];
  while (!take_frame(pending_, frame)) {
    if (interrupt) {
      try {
        interrupt();
      } catch (...) {
        ::close(fd_);  // a reply may still come: this connection is out of step from now on
        fd_ = -1;
        throw;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      ::close(fd_);
      fd_ = -1;
      fail("rendezvous store at ", peer_, ": timed out after ", std::chrono::duration<double>(timeout).count(),
           " s waiting for ", what);
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100))) <= 0) continue;
    const ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      ::close(fd_);
      fd_ = -1;
      fail("rendezvous store at ", peer_, ": connection closed while waiting for ", what,
           ": rank 0, which hosts it, has exited or died");
    }
    pending_.append(buf, static_cast<size_t>(k));
  }
  return frame;
}

void StoreClient::set(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lk(mu_);
  Writer w;
  w.str(key).str(value);
  send_frame(w.frame(kSet));
  const std::string f = recv_frame(std::chrono::minutes(5), nullptr, "the store to accept key '" + key + "'");
  SEG_CHECK(!f.empty() && static_cast<uint8_t>(f[0]) == kOk, "rendezvous store: unexpected reply to set");
}

std::string StoreClient::get(const std::string& key, std::chrono::milliseconds timeout, const std::function<void()>& interrupt) {
  std::lock_guard<std::mutex> lk(mu_);
  Writer w;
  w.str(key);
  send_frame(w.frame(kGet));
  const std::string f = recv_frame(timeout, interrupt, "key '" + key + "' (set by another rank)");
  Reader rd{f};
  SEG_CHECK(rd.u8() == kValue, "rendezvous store: unexpected reply to get");
  return rd.str();
}

int64_t StoreClient::add(const std::string& key, int64_t delta) {
  std::lock_guard<std::mutex> lk(mu_);
  Writer w;
  w.str(key).i64(delta);
  send_frame(w.frame(kAdd));
  const std::string f = recv_frame(std::chrono::minutes(5), nullptr, "the store to add to '" + key + "'");
  Reader rd{f};
  SEG_CHECK(rd.u8() == kInt, "rendezvous store: unexpected reply to add");
  return rd.i64();
}

std::vector<RankStatus> StoreClient::status() {
  std::lock_guard<std::mutex> lk(mu_);
  send_frame(Writer{}.frame(kStatus));
  const std::string f = recv_frame(std::chrono::seconds(30), nullptr, "the status of the ranks");
  Reader rd{f};
  SEG_CHECK(rd.u8() == kStatusReply, "rendezvous store: unexpected reply to status");
  const uint32_t n = rd.u32();
  std::vector<RankStatus> r(n);
  for (auto& s : r) {
    s.state = static_cast<RankStatus::State>(rd.u8());
    s.progress = rd.i64();
    s.silent_s = static_cast<double>(rd.i64()) / 1000.0;
    s.host = rd.str();
    s.pid = rd.i64();
  }
  return r;
}

void StoreClient::hello(int rank, int world, const std::string& host, int64_t pid) {
  std::lock_guard<std::mutex> lk(mu_);
  Writer w;
  w.u32(static_cast<uint32_t>(rank)).u32(static_cast<uint32_t>(world)).str(host).i64(pid);
  send_frame(w.frame(kHello));
  const std::string f = recv_frame(std::chrono::seconds(60), nullptr, "the store to register rank " + std::to_string(rank));
  Reader rd{f};
  const uint8_t op = rd.u8();
  if (op == kErr) fail("rendezvous: ", rd.str());
  SEG_CHECK(op == kOk, "rendezvous store: unexpected reply to hello");
}

void StoreClient::goodbye() {
  std::lock_guard<std::mutex> lk(mu_);  // no reply: the server reads it before the close that follows
  if (fd_ >= 0) send_all(fd_, Writer{}.frame(kBye));
}

void StoreClient::report_progress(int64_t finished) {
  std::lock_guard<std::mutex> lk(mu_);
  Writer w;
  w.i64(finished);
  if (fd_ >= 0) send_all(fd_, w.frame(kProgress));
}

bool StoreClient::poll_event(std::chrono::milliseconds wait, Event& ev) {
  // only the monitor thread reads this connection; writes (progress, goodbye) take the mutex briefly
  if (fd_ < 0) {
    ev = Event{};
    ev.lost = true;
    return true;
  }
  std::string frame;
  if (!take_frame(pending_, frame)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char buf[4096];
    const ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
    if (k < 0 && errno == EINTR) return false;
    if (k <= 0) {
      ev = Event{};
      ev.lost = true;
      return true;
    }
    pending_.append(buf, static_cast<size_t>(k));
    if (!take_frame(pending_, frame)) return false;
  }
  Reader rd{frame};
  if (rd.u8() != kEvent) return false;
  ev.rank = static_cast<int>(rd.u32());
  ev.state = static_cast<RankStatus::State>(rd.u8());
  ev.lost = false;
  return true;
}

std::string StoreClient::local_address() const {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return "127.0.0.1";
  char b[INET_ADDRSTRLEN];
  return ::inet_ntop(AF_INET, &a.sin_addr, b, sizeof b) ? std::string(b) : std::string("127.0.0.1");
}

}  // namespace seg::dist
