// Data-parallel training across processes on loopback (the CI's two CPU ranks), through the worker program
// (worker/dist_worker.cpp) and therefore through the launcher, rendezvous, trainer and run folder every app uses:
//  * 2 ranks × batch 2 end a few steps of training with the parameters of 1 rank × batch 4 on the same samples
//    (a model without BatchNorm; with --sync-bn a BatchNorm model, whose running statistics match too; without
//    --sync-bn the BatchNorm model does not match — the comparison can tell);
//  * the rendezvous by torchrun's variables set by hand on two processes (every collective checked);
//  * a killed rank (and a killed rank 0, which hosts the store) is named by the survivor, which exits with an error
//    within seconds; a rank that hangs is named when the timeout expires; a rank that fails makes the launcher say
//    which; a WORLD_SIZE mismatch and a duplicate RANK are refused naming them.
#include <gtest/gtest.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/distributed.h"
#include "engine/serialize.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string tmpdir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("seg_dp_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A free port on the loopback (bound and released: a small race, as torchrun's own choice).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Proc {
  pid_t pid = -1;
  std::string out, err;
  int status = 0;
  bool done = false;
};

// Starts the worker with `args` and the environment changed by `env` ("" value: unset); stdout/stderr to files.
Proc start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, const std::string& log) {
  Proc p;
  p.out = log + ".out";
  p.err = log + ".err";
  p.pid = ::fork();
  if (p.pid == 0) {
    for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE"})
      ::unsetenv(v);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::setenv("OMP_NUM_THREADS", "1", 1);
    std::freopen(p.out.c_str(), "w", stdout);
    std::freopen(p.err.c_str(), "w", stderr);
    std::vector<std::string> all{SEG_DIST_WORKER};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : all) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(SEG_DIST_WORKER, argv.data());
    std::_Exit(127);
  }
  return p;
}

// Waits up to `timeout`; false if it is still running.
bool wait_for(Proc& p, std::chrono::duration<double> timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!p.done) {
    const pid_t r = ::waitpid(p.pid, &p.status, WNOHANG);
    if (r == p.pid) {
      p.done = true;
      break;
    }
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

void kill_hard(Proc& p) {
  if (!p.done) {
    ::kill(p.pid, SIGKILL);
    wait_for(p, 10s);
  }
}

int code(const Proc& p) { return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : 128 + WTERMSIG(p.status); }

std::string logs(const Proc& p) { return "stdout:\n" + slurp(p.out) + "\nstderr:\n" + slurp(p.err); }

std::map<std::string, std::string> rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)}, {"LOCAL_RANK", std::to_string(rank)},
          {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", std::to_string(port)}};
}

// Runs one training (single process or --nproc / environment) to completion; returns its run folder.
std::string run_train(const std::string& name, const std::vector<std::string>& extra) {
  const std::string dir = tmpdir(name);
  std::vector<std::string> args{"--mode", "train", "--out", dir + "/run"};
  args.insert(args.end(), extra.begin(), extra.end());
  Proc p = start(args, {}, dir + "/log");
  const bool ended = wait_for(p, 600s);
  if (!ended) kill_hard(p);
  EXPECT_TRUE(ended && code(p) == 0) << name << " failed:\n" << logs(p);
  return dir + "/run";
}

// Largest relative difference over the model's tensors of two checkpoints (parameters and buffers).
double checkpoint_difference(const std::string& a, const std::string& b, std::string* worst = nullptr) {
  const seg::SafeTensors x = seg::load_safetensors(a), y = seg::load_safetensors(b);
  auto models = [](const seg::SafeTensors& s) {
    size_t n = 0;
    for (const auto& [name, t] : s.tensors) n += name.rfind("model.", 0) == 0;
    return n;
  };
  EXPECT_EQ(models(x), models(y));
  EXPECT_GT(models(x), 0u);
  double d = 0;
  for (const auto& [name, t] : x.tensors) {
    if (name.rfind("model.", 0) != 0) continue;
    const auto it = y.tensors.find(name);
    if (it == y.tensors.end()) {
      ADD_FAILURE() << name << " missing in " << b;
      continue;
    }
    const auto u = t.to_vector(), v = it->second.to_vector();
    double num = 0, den = 1e-12;
    for (size_t i = 0; i < u.size(); ++i) {
      num = std::max(num, std::abs(u[i] - v[i]));
      den = std::max(den, std::abs(u[i]));
    }
    if (num / den > d) {
      d = num / den;
      if (worst) *worst = name;
    }
  }
  return d;
}

nlohmann::json curve(const std::string& run) { return nlohmann::json::parse(slurp(run + "/curve.json")); }

}  // namespace

// Every test here runs CPU ranks, which need Gloo (SEG_GLOO, libgloo-dev); without it they skip saying so.
class DataParallel : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cpu = seg::dist::backend_name(seg::Device::CPU);
    if (cpu != "gloo") GTEST_SKIP() << "CPU collectives: " << cpu << " (install libgloo-dev and reconfigure)";
  }
};

TEST_F(DataParallel, TwoRanksOfBatchTwoEqualOneRankOfBatchFour) {
  const std::string one = run_train("plain1", {"--model", "plain", "--batch", "4"});
  const std::string two = run_train("plain2", {"--model", "plain", "--batch", "2", "--nproc", "2"});
  std::string worst;
  const double d = checkpoint_difference(one + "/last.safetensors", two + "/last.safetensors", &worst);
  EXPECT_LT(d, 1e-4) << "largest difference in " << worst;
  std::printf("2 ranks x batch 2 vs 1 rank x batch 4: largest relative parameter difference %.3g (%s)\n", d, worst.c_str());
  // the training before it differed from the start: a real comparison, not two untrained models
  EXPECT_GT(checkpoint_difference(one + "/last.safetensors", one + "/best.safetensors") +
                std::abs(curve(one)["rows"][0]["train_loss"].get<double>() - curve(one)["rows"][1]["train_loss"].get<double>()),
            0.0);
  // the loss shown (mean over the ranks) and the validation scores (split over the ranks, gathered) agree too
  const auto c1 = curve(one), c2 = curve(two);
  ASSERT_EQ(c1["rows"].size(), c2["rows"].size());
  for (size_t e = 0; e < c1["rows"].size(); ++e) {
    EXPECT_NEAR(c1["rows"][e]["train_loss"].get<double>(), c2["rows"][e]["train_loss"].get<double>(), 1e-5) << e;
    EXPECT_NEAR(c1["rows"][e]["val_soft_dice"].get<double>(), c2["rows"][e]["val_soft_dice"].get<double>(), 1e-5) << e;
    EXPECT_EQ(c1["rows"][e]["train_steps"], c2["rows"][e]["train_steps"]);
  }
  const auto res = nlohmann::json::parse(slurp(two + "/results.json"));
  EXPECT_EQ(res["config"]["data_parallel"]["ranks"], 2);
  EXPECT_EQ(res["validation"]["cases"].size(), 3u);  // every case, though each rank evaluated its share
}

TEST_F(DataParallel, SyncBatchNormTwoRanksEqualOneRank) {
  const std::string one = run_train("bn1", {"--model", "bn", "--batch", "4", "--optim", "adam", "--lr", "0.01"});
  const std::string sync =
      run_train("bn2s", {"--model", "bn", "--batch", "2", "--nproc", "2", "--sync-bn", "--optim", "adam", "--lr", "0.01"});
  const std::string local = run_train("bn2", {"--model", "bn", "--batch", "2", "--nproc", "2", "--optim", "adam", "--lr", "0.01"});
  std::string worst;
  const double d = checkpoint_difference(one + "/last.safetensors", sync + "/last.safetensors", &worst);
  EXPECT_LT(d, 1e-3) << "largest difference in " << worst << " (running statistics included)";
  const double dl = checkpoint_difference(one + "/last.safetensors", local + "/last.safetensors");
  std::printf("BatchNorm model, 2 ranks x batch 2 vs 1 rank x batch 4: --sync-bn %.3g (%s), per-rank statistics %.3g\n", d,
              worst.c_str(), dl);
  // per-rank statistics (the default) train a different model: the comparison above can fail
  EXPECT_GT(dl, 10 * std::max(d, 1e-5));
  EXPECT_EQ(nlohmann::json::parse(slurp(sync + "/results.json"))["config"]["data_parallel"]["sync_bn"], true);
}

// A resumed data-parallel run (rank 0 reads the checkpoint; parameters and Adam's state are broadcast) ends where an
// uninterrupted one does.
TEST_F(DataParallel, ResumeRestoresEveryRank) {
  const std::vector<std::string> common{"--model", "plain", "--batch", "2", "--nproc", "2", "--optim", "adam", "--lr", "0.01"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), common.begin(), common.end());
    return extra;
  };
  const std::string straight = run_train("straight", with({"--epochs", "2"}));
  const std::string dir = tmpdir("resumed");
  for (const char* epochs : {"1", "2"}) {
    std::vector<std::string> args{"--mode", "train", "--out", dir + "/run", "--epochs", epochs};
    for (const auto& x : common) args.push_back(x);
    Proc p = start(args, {}, dir + "/log" + epochs);
    const bool ended = wait_for(p, 600s);
    if (!ended) kill_hard(p);
    ASSERT_TRUE(ended && code(p) == 0) << logs(p);
    if (std::string(epochs) == "2") EXPECT_NE(slurp(p.out).find("resumed from"), std::string::npos) << logs(p);
  }
  std::string worst;
  const double d = checkpoint_difference(straight + "/last.safetensors", dir + "/run/last.safetensors", &worst);
  EXPECT_LT(d, 1e-4) << "largest difference in " << worst;
  std::printf("2 ranks, resumed after epoch 1 vs uninterrupted: largest relative parameter difference %.3g\n", d);
}

TEST_F(DataParallel, RendezvousByTorchrunVariablesSetByHand) {
  const std::string dir = tmpdir("env");
  const int port = free_port();
  Proc r1 = start({"--mode", "collectives", "--out", dir}, rank_env(1, 2, port), dir + "/r1");  // rank 1 first: it waits
  std::this_thread::sleep_for(300ms);
  Proc r0 = start({"--mode", "collectives", "--out", dir}, rank_env(0, 2, port), dir + "/r0");
  ASSERT_TRUE(wait_for(r0, 120s)) << logs(r0);
  ASSERT_TRUE(wait_for(r1, 120s)) << logs(r1);
  EXPECT_EQ(code(r0), 0) << logs(r0);
  EXPECT_EQ(code(r1), 0) << logs(r1);
  EXPECT_EQ(slurp(dir + "/rank0.txt"), "ok gloo\n");
  EXPECT_EQ(slurp(dir + "/rank1.txt"), "ok gloo\n");
  EXPECT_NE(slurp(r0.out).find("distributed: 2 ranks, rendezvous 127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_EQ(slurp(r1.out), "");  // ranks other than 0 print nothing on stdout

  // and a training by hand-set variables ends where the launcher's does
  const std::string one = run_train("envref", {"--model", "plain", "--batch", "4"});
  const int port2 = free_port();
  Proc t0 = start({"--mode", "train", "--model", "plain", "--batch", "2", "--out", dir + "/run"}, rank_env(0, 2, port2), dir + "/t0");
  Proc t1 = start({"--mode", "train", "--model", "plain", "--batch", "2", "--out", dir + "/run"}, rank_env(1, 2, port2), dir + "/t1");
  ASSERT_TRUE(wait_for(t0, 600s)) << logs(t0);
  ASSERT_TRUE(wait_for(t1, 60s)) << logs(t1);
  ASSERT_EQ(code(t0), 0) << logs(t0);
  ASSERT_EQ(code(t1), 0) << logs(t1);
  EXPECT_LT(checkpoint_difference(one + "/last.safetensors", dir + "/run/last.safetensors"), 1e-4);
}

namespace {

// Two ranks all-reducing in a loop; `victim` gets `sig` once both are running. Returns the survivor.
Proc survivor_of(int victim, int sig, const std::string& name, double timeout_s, Proc* victim_out = nullptr) {
  const std::string dir = tmpdir(name);
  const int port = free_port();
  std::vector<Proc> p;
  for (int r = 0; r < 2; ++r)
    p.push_back(start({"--mode", "loop", "--seconds", "300", "--dist-timeout", std::to_string(timeout_s), "--out", dir},
                      rank_env(r, 2, port), dir + "/r" + std::to_string(r)));
  const auto end = std::chrono::steady_clock::now() + 120s;
  while (!(fs::exists(dir + "/ready0") && fs::exists(dir + "/ready1")) && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(fs::exists(dir + "/ready0") && fs::exists(dir + "/ready1")) << logs(p[0]) << logs(p[1]);
  std::this_thread::sleep_for(300ms);
  ::kill(p[static_cast<size_t>(victim)].pid, sig);
  if (victim_out) *victim_out = p[static_cast<size_t>(victim)];
  else if (sig == SIGKILL) wait_for(p[static_cast<size_t>(victim)], 10s);
  return p[static_cast<size_t>(1 - victim)];
}

}  // namespace

TEST_F(DataParallel, AKilledRankIsNamedByTheOtherWhichExits) {
  for (int victim : {1, 0}) {  // rank 0 also hosts the rendezvous store
    const auto t0 = std::chrono::steady_clock::now();
    Proc s = survivor_of(victim, SIGKILL, "kill" + std::to_string(victim), 600);
    const bool ended = wait_for(s, 30s);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!ended) kill_hard(s);
    ASSERT_TRUE(ended) << "rank " << 1 - victim << " still running 30 s after rank " << victim << " was killed\n" << logs(s);
    EXPECT_NE(code(s), 0);
    const std::string err = slurp(s.err);
    EXPECT_NE(err.find("rank " + std::to_string(victim) + " "), std::string::npos) << err;
    EXPECT_TRUE(err.find("died") != std::string::npos || err.find("is gone") != std::string::npos) << err;
    std::printf("killed rank %d: rank %d ended in %.1f s with: %s", victim, 1 - victim, took, err.c_str());
  }
}

TEST_F(DataParallel, AHungRankIsNamedWhenTheTimeoutExpires) {
  Proc stopped;
  const auto t0 = std::chrono::steady_clock::now();
  Proc s = survivor_of(1, SIGSTOP, "hang", 3, &stopped);
  const bool ended = wait_for(s, 40s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::kill(stopped.pid, SIGKILL);
  wait_for(stopped, 10s);
  if (!ended) kill_hard(s);
  ASSERT_TRUE(ended) << "rank 0 still waiting 40 s after rank 1 stopped (timeout 3 s)\n" << logs(s);
  EXPECT_NE(code(s), 0);
  const std::string err = slurp(s.err);
  EXPECT_NE(err.find("waited more than 3 s"), std::string::npos) << err;
  EXPECT_NE(err.find("rank 1 ("), std::string::npos) << err;
  std::printf("hung rank 1: rank 0 ended in %.1f s with: %s", took, err.c_str());
}

TEST_F(DataParallel, TheLauncherSaysWhichRankFailed) {
  const std::string dir = tmpdir("fail");
  Proc p = start({"--mode", "fail", "--fail-rank", "1", "--fail-at", "3", "--nproc", "2", "--out", dir}, {}, dir + "/l");
  ASSERT_TRUE(wait_for(p, 120s)) << logs(p);
  EXPECT_EQ(code(p), 1) << logs(p);
  const std::string err = slurp(p.err);
  EXPECT_NE(err.find("rank 1 fails on purpose"), std::string::npos) << err;         // rank 1's own error
  EXPECT_NE(err.find("launcher: rank 1 exited with status 1"), std::string::npos) << err;
  EXPECT_NE(err.find("rank 1 has exited"), std::string::npos) << err;              // rank 0's error names it
}

TEST_F(DataParallel, RendezvousRefusesMismatchedWorldSizesAndDuplicateRanks) {
  {
    const std::string dir = tmpdir("mismatch");
    const int port = free_port();
    auto e1 = rank_env(1, 2, port);
    e1["WORLD_SIZE"] = "3";
    Proc r0 = start({"--mode", "collectives", "--dist-timeout", "5", "--out", dir}, rank_env(0, 2, port), dir + "/r0");
    Proc r1 = start({"--mode", "collectives", "--dist-timeout", "5", "--out", dir}, e1, dir + "/r1");
    ASSERT_TRUE(wait_for(r1, 60s));
    ASSERT_TRUE(wait_for(r0, 60s));
    EXPECT_NE(code(r1), 0);
    EXPECT_NE(slurp(r1.err).find("rank 1 was started with WORLD_SIZE=3, rank 0 with 2"), std::string::npos) << logs(r1);
    EXPECT_NE(code(r0), 0);
    EXPECT_NE(slurp(r0.err).find("missing: rank 1"), std::string::npos) << logs(r0);
  }
  {
    const std::string dir = tmpdir("dup");
    const int port = free_port();
    // rank 0 and a first rank 1 stay in the job (loop mode) while a second rank 1 tries to join it
    const std::vector<std::string> args{"--mode", "loop", "--seconds", "120", "--dist-timeout", "5", "--out", dir};
    Proc r0 = start(args, rank_env(0, 2, port), dir + "/r0");
    Proc a = start(args, rank_env(1, 2, port), dir + "/a");
    const auto end = std::chrono::steady_clock::now() + 60s;
    while (!(fs::exists(dir + "/ready0") && fs::exists(dir + "/ready1")) && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(fs::exists(dir + "/ready0") && fs::exists(dir + "/ready1")) << logs(r0) << logs(a);
    Proc b = start({"--mode", "collectives", "--dist-timeout", "5", "--out", dir + "/b"}, rank_env(1, 2, port), dir + "/b");
    const bool b_ended = wait_for(b, 60s);
    if (!b_ended) kill_hard(b);
    EXPECT_TRUE(b_ended) << logs(b);
    EXPECT_NE(code(b), 0);
    EXPECT_NE(slurp(b.err).find("rank 1 joined twice"), std::string::npos) << logs(b);
    EXPECT_FALSE(r0.done || a.done) << "the job was disturbed by the refused rank\n" << logs(r0) << logs(a);
    kill_hard(r0);
    kill_hard(a);
  }
}

// Bad launcher options and incomplete torchrun variables are refused before anything starts, naming the option or
// variable (no Gloo needed: nothing communicates).
TEST(DataParallelLauncher, BadOptionsAndVariablesAreRefusedNamingThem) {
  const std::string dir = tmpdir("badopts");
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const int port = free_port();
  const std::vector<Case> cases{
      {{"--nproc", "0"}, {}, "--nproc must be in [1, 1024], got 0"},
      {{"--nproc", "two"}, {}, "--nproc expects an integer, got 'two'"},
      {{"--nproc", "2", "--dist-timeout", "0"}, {}, "--dist-timeout must be positive"},
      {{"--nproc", "2"}, rank_env(0, 3, port), "--nproc 2 was given, but WORLD_SIZE=3"},
      {{}, {{"RANK", "0"}}, "RANK and WORLD_SIZE must be set together"},
      {{}, {{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}},
       "RANK=2 must be in [0, WORLD_SIZE=2)"},
      {{}, {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}}, "MASTER_ADDR is not"},
      {{}, {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "x"}},
       "environment variable MASTER_PORT='x' is not an integer"},
      {{}, {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "70000"}},
       "MASTER_PORT must be a port number"},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::vector<std::string> args{"--mode", "collectives", "--out", dir};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Proc p = start(args, c.env, dir + "/c" + std::to_string(i++));
    const bool ended = wait_for(p, 30s);
    if (!ended) kill_hard(p);
    ASSERT_TRUE(ended) << c.expected << ": still running\n" << logs(p);
    EXPECT_EQ(code(p), 1) << c.expected << "\n" << logs(p);
    EXPECT_NE(slurp(p.err).find(c.expected), std::string::npos) << logs(p);
    EXPECT_FALSE(fs::exists(dir + "/rank0.txt")) << c.expected;  // nothing ran
  }
}
