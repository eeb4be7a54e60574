// The local launcher (see dist_launch.h): fork + exec of /proc/self/exe per rank, a poll of waitpid for their ends.
#include "engine/dist_launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace seg::dist {

namespace {

std::vector<pid_t> g_children;

void forward_signal(int sig) {
  for (pid_t p : g_children)
    if (p > 0) ::kill(p, sig);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  SEG_CHECK(fd >= 0, "--nproc: cannot create a socket to find a free port (", std::strerror(errno), ")");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  SEG_CHECK(ok, "--nproc: cannot find a free port (", std::strerror(errno), "); set MASTER_PORT");
  return ntohs(a.sin_port);
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  ::strsignal(WTERMSIG(status)) + ")";
  return "ended (status " + std::to_string(status) + ")";
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int launch_local(int nproc, int argc, char** argv, double timeout_s) {
  SEG_CHECK(nproc >= 1, "--nproc must be at least 1, got ", nproc);
  const char* port_env = std::getenv("MASTER_PORT");
  const int port = port_env && *port_env ? std::atoi(port_env) : free_port();
  SEG_CHECK(port > 0 && port < 65535, "MASTER_PORT='", port_env ? port_env : "", "' is not a port number");
  const char* omp_env = std::getenv("OMP_NUM_THREADS");
  const int threads = std::max(1, usable_cores() / nproc);
  std::printf("launcher: %d ranks on this machine, rendezvous 127.0.0.1:%d, %s\n", nproc, port,
              omp_env && *omp_env ? ("OMP_NUM_THREADS=" + std::string(omp_env) + " each (as set)").c_str()
                                  : ("OMP_NUM_THREADS=" + std::to_string(threads) + " each (" + std::to_string(usable_cores()) +
                                     " cores / " + std::to_string(nproc) + ")").c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  g_children.assign(static_cast<size_t>(nproc), 0);
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);  // the ranks get a terminal's Ctrl-C themselves; forwarding covers `kill -INT`
  const pid_t launcher = ::getpid();
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = ::fork();
    SEG_CHECK(pid >= 0, "--nproc: fork failed for rank ", r, " (", std::strerror(errno), ")");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != launcher) std::_Exit(1);  // the launcher died before prctl took effect
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::unsetenv("TORCHELASTIC_USE_AGENT_STORE");
      if (!(omp_env && *omp_env)) ::setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
      ::execv("/proc/self/exe", args.data());
      std::fprintf(stderr, "launcher: cannot start rank %d (%s)\n", r, std::strerror(errno));
      std::_Exit(127);
    }
    g_children[static_cast<size_t>(r)] = pid;
  }

  using clock = std::chrono::steady_clock;
  int first_code = 0, running = nproc;
  bool failed = false;
  clock::time_point failed_at{};
  bool termed = false, killed = false;
  // after a failure the others normally stop within seconds (their collectives fail, naming the rank); this bounds it
  const double stop_s = std::min(timeout_s, 60.0) + 10.0;
  while (running > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int r = 0; r < nproc; ++r) {
        if (g_children[static_cast<size_t>(r)] != pid) continue;
        g_children[static_cast<size_t>(r)] = 0;
        --running;
        const bool bad = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (bad) {
          std::fprintf(stderr, "launcher: rank %d %s%s\n", r, describe_status(status).c_str(),
                       failed ? "" : (running > 0 ? "; waiting for the other ranks to stop" : ""));
          if (!failed) {
            failed = true;
            failed_at = clock::now();
            first_code = exit_code(status);
          }
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (failed && running > 0) {
      const double since = std::chrono::duration<double>(clock::now() - failed_at).count();
      if (!termed && since > stop_s) {
        std::fprintf(stderr, "launcher: %d rank(s) still running %.0f s after the failure: terminating them\n", running, since);
        forward_signal(SIGTERM);
        termed = true;
      } else if (termed && !killed && since > stop_s + 10) {
        forward_signal(SIGKILL);
        killed = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  g_children.clear();
  return first_code;
}

int launch_or_join(const LaunchSettings& settings, double timeout_s, int argc, char** argv) {
  launch_settings() = settings;
  if (auto env = options_from_env(timeout_s)) {
    SEG_CHECK(settings.nproc <= 1 || settings.nproc == env->world, "--nproc ", settings.nproc, " was given, but WORLD_SIZE=",
              env->world, " comes from the environment (torchrun or a cluster script already started the ranks): drop --nproc");
    init(*env);
    return -1;
  }
  if (settings.nproc > 1) return launch_local(settings.nproc, argc, argv, timeout_s);
  return -1;
}

}  // namespace seg::dist
