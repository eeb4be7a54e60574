// Distributed training, in one process: the rendezvous store and its liveness registry, the torchrun variables,
// autograd's gradient-readiness hook, synchronised batch norm (one replica against batch_norm; two replicas on two
// threads against the global batch; a float64 gradient check), and a process group of one rank (every collective,
// string exchanges, the data-parallel backward against a plain one). DistCuda.* is the NCCL wiring check of the GPU
// check (profiling/gpu_check.sh, step nccl): the same on CUDA tensors with one rank; it skips without a GPU or NCCL.
// The multi-process tests (two ranks on loopback, kills, torchrun variables by hand) are in tests/distributed_train.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "engine/autograd.h"
#include "engine/data_parallel.h"
#include "engine/device.h"
#include "engine/dist_store.h"
#include "engine/distributed.h"
#include "engine/module.h"
#include "kernels/elementwise.h"
#include "kernels/norm.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;
using namespace std::chrono_literals;

namespace {

double rel_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  EXPECT_EQ(x.size(), y.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    num = std::max(num, std::abs(x[i] - y[i]));
    den = std::max(den, std::abs(y[i]));
  }
  return num / std::max(den, 1e-300);
}

// Environment variables set for a scope, restored after.
struct EnvScope {
  std::vector<std::pair<std::string, std::string>> saved;
  std::vector<std::string> unset_after;
  void set(const std::string& k, const std::string& v) {
    const char* old = std::getenv(k.c_str());
    if (old) saved.emplace_back(k, old);
    else unset_after.push_back(k);
    ::setenv(k.c_str(), v.c_str(), 1);
  }
  void unset(const std::string& k) {
    const char* old = std::getenv(k.c_str());
    if (old) saved.emplace_back(k, old);
    ::unsetenv(k.c_str());
  }
  ~EnvScope() {
    for (auto& [k, v] : saved) ::setenv(k.c_str(), v.c_str(), 1);
    for (auto& k : unset_after) ::unsetenv(k.c_str());
  }
};

dist::InitOptions world_of_one() {
  dist::InitOptions o;
  o.master_port = 0;  // any free port
  o.timeout_s = 60;
  return o;
}

}  // namespace

// ---------------------------------------------------------------- the rendezvous store
TEST(DistStore, SetGetWaitsAndCounts) {
  dist::StoreServer server(0, 2);
  dist::StoreClient a("127.0.0.1", server.port(), 5s), b("127.0.0.1", server.port(), 5s);
  a.set("k", std::string("v\0w", 3));
  EXPECT_EQ(b.get("k", 1s), std::string("v\0w", 3));
  std::thread late([&] {
    std::this_thread::sleep_for(200ms);
    a.set("later", "x");
  });
  EXPECT_EQ(b.get("later", 5s), "x");  // waits for the other client's set
  late.join();
  EXPECT_EQ(a.add("n", 2), 2);
  EXPECT_EQ(b.add("n", 3), 5);
}

TEST(DistStore, GetTimesOutNamingTheKey) {
  dist::StoreServer server(0, 1);
  dist::StoreClient a("127.0.0.1", server.port(), 5s);
  EXPECT_SEG_ERROR(a.get("never/set", 300ms), "never/set");
}

TEST(DistStore, UnreachableStoreIsAnErrorNamingIt) {
  int port;
  {
    dist::StoreServer s(0, 1);
    port = s.port();
  }  // closed again: nothing listens there now
  EXPECT_SEG_ERROR(dist::StoreClient("127.0.0.1", port, 400ms), "MASTER_ADDR:MASTER_PORT = 127.0.0.1:" + std::to_string(port));
}

TEST(DistStore, RegistryRefusesDuplicateRanksAndOtherWorldSizes) {
  dist::StoreServer server(0, 2);
  dist::StoreClient a("127.0.0.1", server.port(), 5s), b("127.0.0.1", server.port(), 5s),
      c("127.0.0.1", server.port(), 5s);
  a.hello(1, 2, "hostA", 11);
  EXPECT_SEG_ERROR(b.hello(1, 2, "hostB", 22), "rank 1 joined twice");
  EXPECT_SEG_ERROR(c.hello(0, 3, "hostC", 33), "WORLD_SIZE=3");
}

TEST(DistStore, RegistryTellsTheOthersWhoLeftAndWhoDied) {
  dist::StoreServer server(0, 3);
  dist::StoreClient m0("127.0.0.1", server.port(), 5s);
  m0.hello(0, 3, "h", 1);
  auto next_event = [&](dist::StoreClient::Event& ev) {
    for (int i = 0; i < 40; ++i)
      if (m0.poll_event(100ms, ev)) return true;
    return false;
  };
  {
    dist::StoreClient m1("127.0.0.1", server.port(), 5s);
    m1.hello(1, 3, "h", 2);
    m1.goodbye();
  }
  dist::StoreClient::Event ev;
  ASSERT_TRUE(next_event(ev));
  EXPECT_EQ(ev.rank, 1);
  EXPECT_EQ(ev.state, dist::RankStatus::Exited);
  {
    dist::StoreClient m2("127.0.0.1", server.port(), 5s);
    m2.hello(2, 3, "h", 3);
    m2.report_progress(7);
    std::this_thread::sleep_for(100ms);
    const auto st = m0.status();
    ASSERT_EQ(st.size(), 3u);
    EXPECT_EQ(st[2].state, dist::RankStatus::Alive);
    EXPECT_EQ(st[2].progress, 7);
  }  // closed without a goodbye: what a killed process looks like
  ASSERT_TRUE(next_event(ev));
  EXPECT_EQ(ev.rank, 2);
  EXPECT_EQ(ev.state, dist::RankStatus::Died);
  m0.goodbye();
  EXPECT_TRUE(server.wait_all_left(2s));
}

// ---------------------------------------------------------------- torchrun's variables
TEST(DistEnv, ReadsTorchrunVariables) {
  EnvScope env;
  env.unset("RANK");
  env.unset("WORLD_SIZE");
  env.unset("TORCHELASTIC_USE_AGENT_STORE");
  EXPECT_FALSE(dist::options_from_env().has_value());  // a single process
  env.set("RANK", "1");
  EXPECT_SEG_ERROR(dist::options_from_env(), "RANK and WORLD_SIZE must be set together");
  env.set("WORLD_SIZE", "4");
  env.unset("MASTER_ADDR");
  EXPECT_SEG_ERROR(dist::options_from_env(), "MASTER_ADDR");
  env.set("MASTER_ADDR", "node7");
  env.set("MASTER_PORT", "29511");
  env.set("LOCAL_RANK", "1");
  auto o = dist::options_from_env(42);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->rank, 1);
  EXPECT_EQ(o->world, 4);
  EXPECT_EQ(o->local_rank, 1);
  EXPECT_EQ(o->master_addr, "node7");
  EXPECT_EQ(o->master_port, 29511);
  EXPECT_EQ(o->timeout_s, 42);
  env.set("TORCHELASTIC_USE_AGENT_STORE", "True");  // torchrun's own store holds MASTER_PORT
  EXPECT_EQ(dist::options_from_env()->master_port, 29512);
  env.set("RANK", "4");
  EXPECT_SEG_ERROR(dist::options_from_env(), "RANK=4");
  env.set("RANK", "x");
  EXPECT_SEG_ERROR(dist::options_from_env(), "RANK='x'");
}

// ---------------------------------------------------------------- gradient readiness
TEST(GradReady, EachLeafOnceWhenItsGradientIsFinal) {
  Tensor a = Tensor::from_vector({1, 2, 3}, {3}, DType::Float64).set_requires_grad(true);
  Tensor b = Tensor::from_vector({4, 5, 6}, {3}, DType::Float64).set_requires_grad(true);
  Tensor c = Tensor::from_vector({7}, {1}, DType::Float64).set_requires_grad(true);  // not in the graph
  std::vector<std::pair<TensorImpl*, std::vector<double>>> seen;
  {
    GradReadyScope scope([&](TensorImpl* leaf) { seen.emplace_back(leaf, Tensor(leaf->grad).to_vector()); });
    // a is used on two paths: its gradient 2a·b + b is final only after both
    Tensor y = sum_all(add(mul(mul(a, a), b), mul(a, b)));
    y.backward();
  }
  ASSERT_EQ(seen.size(), 2u);
  int na = 0;
  for (auto& [leaf, g] : seen) {
    if (leaf == a.impl()) {
      ++na;
      expect_values(Tensor::from_vector(g, {3}, DType::Float64), {2 * 1 * 4 + 4, 2 * 2 * 5 + 5, 2 * 3 * 6 + 6});
    } else {
      EXPECT_EQ(leaf, b.impl());
    }
    EXPECT_NE(leaf, c.impl());
  }
  EXPECT_EQ(na, 1);
  // outside the scope nothing is reported
  seen.clear();
  a.zero_grad();
  sum_all(mul(a, a)).backward();
  EXPECT_TRUE(seen.empty());
}

// ---------------------------------------------------------------- synchronised batch norm
namespace {

// One replica: the gathered statistics are this replica's own.
class SelfSync : public BatchNormSync {
 public:
  std::vector<double> all_gather(const std::vector<double>& local) override {
    ++calls;
    return local;
  }
  void all_reduce_sum(std::vector<double>&) override { ++calls; }
  int calls = 0;
};

// Two replicas on two threads, exchanging through shared memory.
struct Exchange {
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0, generation = 0;
  std::vector<double> slot[2], result;
};
class PairSync : public BatchNormSync {
 public:
  PairSync(Exchange& ex, int me) : ex_(ex), me_(me) {}
  std::vector<double> all_gather(const std::vector<double>& local) override { return exchange(local, true); }
  void all_reduce_sum(std::vector<double>& v) override { v = exchange(v, false); }

 private:
  std::vector<double> exchange(const std::vector<double>& v, bool gather) {
    std::unique_lock<std::mutex> lk(ex_.mu);
    const int gen = ex_.generation;
    ex_.slot[me_] = v;
    if (++ex_.arrived == 2) {
      if (gather) {
        ex_.result = ex_.slot[0];
        ex_.result.insert(ex_.result.end(), ex_.slot[1].begin(), ex_.slot[1].end());
      } else {
        ex_.result = ex_.slot[0];
        for (size_t i = 0; i < v.size(); ++i) ex_.result[i] += ex_.slot[1][i];
      }
      ex_.arrived = 0;
      ++ex_.generation;
      ex_.cv.notify_all();
    } else {
      ex_.cv.wait(lk, [&] { return ex_.generation != gen; });
    }
    return ex_.result;
  }
  Exchange& ex_;
  int me_;
};

}  // namespace

TEST(SyncBatchNorm, OneReplicaEqualsBatchNorm) {
  const Tensor x0 = random_tensor({3, 4, 5, 7}, 1, -2, 3);
  const Tensor w0 = random_tensor({4}, 2), b0 = random_tensor({4}, 3), up = random_tensor({3, 4, 5, 7}, 4, -1, 1, 0, false);
  auto run = [&](bool sync, Tensor& y, Tensor& rm, Tensor& rv, Tensor& gx, Tensor& gw, Tensor& gb) {
    Tensor x = x0.detach().clone().set_requires_grad(true), w = w0.detach().clone().set_requires_grad(true),
           b = b0.detach().clone().set_requires_grad(true);
    rm = Tensor::full({4}, 0.5, DType::Float64);
    rv = Tensor::full({4}, 2.0, DType::Float64);
    auto s = std::make_shared<SelfSync>();
    {
      BatchNormSyncScope scope(sync ? s : nullptr);
      y = batch_norm(x, w, b, rm, rv, true, 0.3, 1e-5);
    }
    sum_all(mul(y, up)).backward();  // outside the scope: the backward keeps the forward's sync
    gx = x.grad();
    gw = w.grad();
    gb = b.grad();
    if (sync) {
      EXPECT_EQ(s->calls, 2);  // one gather forward, one sum backward
    }
  };
  Tensor y1, rm1, rv1, gx1, gw1, gb1, y2, rm2, rv2, gx2, gw2, gb2;
  run(false, y1, rm1, rv1, gx1, gw1, gb1);
  run(true, y2, rm2, rv2, gx2, gw2, gb2);
  for (auto [a, b] : {std::pair{y1, y2}, {rm1, rm2}, {rv1, rv2}, {gx1, gx2}, {gw1, gw2}, {gb1, gb2}})
    EXPECT_LT(rel_diff(b, a), 1e-12);
}

TEST(SyncBatchNorm, TwoReplicasOnThreadsEqualTheGlobalBatch) {
  // unequal shares (3 and 2 samples) far from zero: Chan's combination must be exact where Σx² − (Σx)²/n would not
  const int64_t C = 3;
  const Tensor xa = add_scalar(random_tensor({3, C, 4, 5}, 11, -1, 1, 0, false), 1000.0);
  const Tensor xb = add_scalar(random_tensor({2, C, 4, 5}, 12, -2, 2, 0, false), 1000.5);
  const Tensor ua = random_tensor({3, C, 4, 5}, 13, -1, 1, 0, false), ub = random_tensor({2, C, 4, 5}, 14, -1, 1, 0, false);
  const Tensor w0 = random_tensor({C}, 15), b0 = random_tensor({C}, 16);

  // the global batch in one process
  Tensor x = cat({xa, xb}, 0).set_requires_grad(true);
  Tensor w = w0.detach().clone().set_requires_grad(true), b = b0.detach().clone().set_requires_grad(true);
  Tensor rm = Tensor::zeros({C}, DType::Float64), rv = Tensor::ones({C}, DType::Float64);
  Tensor y = batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
  sum_all(mul(y, cat({ua, ub}, 0))).backward();

  // two replicas
  Exchange ex;
  struct Out {
    Tensor y, gx, gw, gb, rm, rv;
  } out[2];
  auto replica = [&](int me) {
    Tensor xr = (me ? xb : xa).detach().clone().set_requires_grad(true);
    Tensor wr = w0.detach().clone().set_requires_grad(true), br = b0.detach().clone().set_requires_grad(true);
    out[me].rm = Tensor::zeros({C}, DType::Float64);
    out[me].rv = Tensor::ones({C}, DType::Float64);
    BatchNormSyncScope scope(std::make_shared<PairSync>(ex, me));
    out[me].y = batch_norm(xr, wr, br, out[me].rm, out[me].rv, true, 0.1, 1e-5);
    sum_all(mul(out[me].y, me ? ub : ua)).backward();
    out[me].gx = xr.grad();
    out[me].gw = wr.grad();
    out[me].gb = br.grad();
  };
  std::thread t0(replica, 0), t1(replica, 1);
  t0.join();
  t1.join();
  EXPECT_LT(rel_diff(out[0].y, narrow(y, 0, 0, 3)), 1e-10);
  EXPECT_LT(rel_diff(out[1].y, narrow(y, 0, 3, 2)), 1e-10);
  EXPECT_LT(rel_diff(out[0].gx, narrow(x.grad(), 0, 0, 3)), 1e-9);
  EXPECT_LT(rel_diff(out[1].gx, narrow(x.grad(), 0, 3, 2)), 1e-9);
  // the parameters' gradients are per replica; their sum is the global batch's (data parallel then averages them)
  EXPECT_LT(rel_diff(add(out[0].gw, out[1].gw), w.grad()), 1e-9);
  EXPECT_LT(rel_diff(add(out[0].gb, out[1].gb), b.grad()), 1e-12);
  for (int r = 0; r < 2; ++r) {
    EXPECT_LT(rel_diff(out[r].rm, rm), 1e-12);
    EXPECT_LT(rel_diff(out[r].rv, rv), 1e-10);
  }
  // without the sync the replicas would not match the global batch (the test can tell the difference)
  Tensor alone = batch_norm(xa, w0, b0, Tensor(), Tensor(), true);
  EXPECT_GT(rel_diff(alone, narrow(y, 0, 0, 3)), 1e-3);
}

TEST(SyncBatchNorm, GradcheckThroughTheSyncPath) {
  BatchNormSyncScope scope(std::make_shared<SelfSync>());
  GradcheckOptions o;
  auto f = [](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), true); };
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 21), random_tensor({3}, 22), random_tensor({3}, 23)}), o);
  auto g = [](const std::vector<Tensor>& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); };
  EXPECT_GRADCHECK(g, std::vector<Tensor>{random_tensor({3, 2, 3, 4, 5}, 24)}, o);
}

// ---------------------------------------------------------------- a process group of one rank
namespace {

class Tiny : public Module {
 public:
  explicit Tiny(Device d) {
    a = register_parameter("a", Tensor::from_vector({0.5, -1, 2, 0.25}, {4}).to(d));
    b = register_parameter("b", Tensor::from_vector({0.1, 0.2, 0.3, 0.4}, {4}).to(d));
    unused = register_parameter("unused", Tensor::from_vector({1, 2, 3}, {3}).to(d));
  }
  Tensor forward(const Tensor& x) const { return sum_all(square(add(mul(x, a), b))); }
  Tensor a, b, unused;
};

void check_collectives(Device d) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor t = Tensor::from_vector({1.5, -2, 3}, {3}, dt).to(d);
    dist::all_reduce(t, dist::ReduceOp::Sum);
    expect_values(t, {1.5, -2, 3});
    dist::all_reduce(t, dist::ReduceOp::Avg);
    expect_values(t, {1.5, -2, 3});
    dist::all_reduce(t, dist::ReduceOp::Max);
    dist::broadcast(t, 0);
    expect_values(t, {1.5, -2, 3});
  }
  Tensor n = Tensor::from_labels({7, -8}, {2}).to(d);
  dist::all_reduce(n, dist::ReduceOp::Sum);
  EXPECT_EQ(n.to_labels(), (std::vector<int64_t>{7, -8}));
  dist::barrier();
}

void check_data_parallel(Device d) {
  const Tensor x = Tensor::from_vector({1, 2, 3, 4}, {4}).to(d);
  Tiny plain(d), wrapped(d);
  plain.forward(x).backward();
  DataParallel::Options o;
  o.bucket_mb = o.first_bucket_mb = 1e-6;  // one parameter per bucket: several buckets in flight
  DataParallel dp(wrapped, o);
  EXPECT_EQ(dp.stats().buckets, 3);
  dp.backward(wrapped.forward(x));
  EXPECT_EQ(max_abs_diff(wrapped.a.grad(), plain.a.grad()), 0);
  EXPECT_EQ(max_abs_diff(wrapped.b.grad(), plain.b.grad()), 0);
  EXPECT_FALSE(wrapped.unused.grad().defined());  // no rank used it: undefined, as in a single process
  SGD opt(wrapped.named_parameters(), 0.1);
  opt.step();
  dp.broadcast_optimizer(opt);
  dp.broadcast_parameters();
}

}  // namespace

TEST(DistWorldOne, CollectivesStringsAndDataParallelOnTheCpu) {
  const std::string cpu = dist::backend_name(Device::CPU);
  if (cpu != "gloo" && !(cpu.rfind("nccl", 0) == 0 && cuda_available()))
    GTEST_SKIP() << "no CPU collectives in this build: " << cpu << " (install libgloo-dev, SEG_GLOO=AUTO/ON)";
  dist::init(world_of_one());
  EXPECT_TRUE(dist::initialized());
  EXPECT_EQ(dist::rank(), 0);
  EXPECT_EQ(dist::world_size(), 1);
  EXPECT_FALSE(dist::active());
  check_collectives(Device::CPU);
  EXPECT_EQ(dist::broadcast_string("abc"), "abc");
  EXPECT_EQ(dist::all_gather_strings("z"), std::vector<std::string>{"z"});
  check_data_parallel(Device::CPU);
  // the synchronised batch norm over the process group equals batch_norm with one rank
  const Tensor x = random_tensor({2, 3, 4, 5}, 31, -1, 1, 0, false);
  Tensor plain = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor synced;
  {
    BatchNormSyncScope scope(make_batch_norm_sync());
    synced = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  }
  EXPECT_LT(rel_diff(synced, plain), 1e-12);
  const auto st = dist::stats();
  EXPECT_GT(st.collectives, 10);
  dist::shutdown();
  EXPECT_FALSE(dist::initialized());
  EXPECT_SEG_ERROR(dist::barrier(), "not initialised");
}

TEST(DistCuda, NcclWiringOneRank) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  if (std::string(dist::backend_name(Device::CUDA)) != "nccl")
    GTEST_SKIP() << "CUDA collectives: " << dist::backend_name(Device::CUDA);
  dist::init(world_of_one());
  check_collectives(Device::CUDA);
  check_data_parallel(Device::CUDA);
  const Tensor x = random_tensor({2, 3, 4, 5}, 32, -1, 1, 0, false).to(DType::Float32).to(Device::CUDA);
  Tensor plain = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor synced;
  {
    BatchNormSyncScope scope(make_batch_norm_sync());
    synced = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  }
  EXPECT_LT(rel_diff(synced, plain), 1e-5);
  std::printf("[nccl] %s; device %d\n", dist::backend_name(Device::CUDA), cuda_device_index());
  dist::shutdown();
}
