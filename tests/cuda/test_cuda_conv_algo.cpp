// The cuDNN algorithm-fallback rules (kernels/conv_cudnn_algo.h) on the CPU: which heuristic entries are tried and in
// what order, which statuses move on to the next algorithm, that failed candidates are dropped (the next call starts
// with the one that worked), that "none worked" is reported, and the 32-bit descriptor limit. Host logic only: the
// same checks run in test_cuda and in its CPU half.
#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>
#include <vector>

#include "kernels/conv_cudnn_algo.h"

using namespace seg::cuda::conv_algo;

namespace {
// The fields of cuDNN's cudnnConvolution*AlgoPerf_t that the rules read.
struct FakePerf {
  int algo;
  int status;
  size_t memory;
  int mathType;
};
constexpr int kDefaultMath = 0, kTensorOp = 1, kTensorOpConv = 2, kFma = 3;  // cuDNN's cudnnMathType_t values
std::vector<int> algos(const std::vector<Candidate>& c) {
  std::vector<int> out;
  for (const Candidate& x : c) out.push_back(x.algo);
  return out;
}
}  // namespace

TEST(CudnnAlgo, CandidatesKeepCudnnOrderAndDropUnusableEntries) {
  const FakePerf perf[] = {
      {6, kStatusSuccess, 100, kTensorOp},        // tensor-op math: only when allowed
      {1, kStatusNotSupported, 0, kDefaultMath},  // heuristics say not supported
      {2, kStatusSuccess, size_t(1) << 31, kDefaultMath},  // workspace above the cap
      {0, kStatusSuccess, 0, kDefaultMath},
      {0, kStatusSuccess, 0, kFma},               // the same algorithm again in FMA math: one candidate when forced to FMA
      {5, kStatusSuccess, 4096, kTensorOpConv},
      {7, kStatusSuccess, 64, kDefaultMath},
  };
  const auto fp32 = usable_candidates(perf, 7, false, size_t(1) << 30, {kTensorOp, kTensorOpConv}, kFma);
  EXPECT_EQ(algos(fp32), (std::vector<int>{0, 7}));
  for (const Candidate& c : fp32) EXPECT_EQ(c.math, kFma) << "FP32 without TF32 must run in FMA math";
  EXPECT_EQ(fp32[1].workspace, 64u);

  const auto tf32 = usable_candidates(perf, 7, true, size_t(1) << 30, {kTensorOp, kTensorOpConv}, kFma);
  EXPECT_EQ(algos(tf32), (std::vector<int>{6, 0, 0, 5, 7}));  // algorithm 0 twice: two math types
  EXPECT_EQ(tf32[0].math, kTensorOp);
  EXPECT_EQ(tf32[2].math, kFma);
  EXPECT_TRUE(usable_candidates(perf, 0, true, size_t(1) << 30, {kTensorOp}, kFma).empty());
}

TEST(CudnnAlgo, StatusesThatMoveOnToTheNextAlgorithm) {
  for (int s : {3000, 3002, 3010, 5000, 5001, 5003, 4001, 4003, 4004}) EXPECT_TRUE(try_next_after(s)) << s;
  // success, bad parameters (our bug), a broken or mismatched library, other internal errors: no retry
  for (int s : {0, 1001, 1002, 1008, 2000, 2002, 2008, 4000, 4002, 4005}) EXPECT_FALSE(try_next_after(s)) << s;
}

TEST(CudnnAlgo, WalkDropsFailedCandidatesAndStopsAtTheFirstThatRuns) {
  std::vector<Candidate> list{{4, 0, 0}, {1, 1 << 20, 0}, {0, 0, 0}, {2, 0, 0}};
  std::vector<int> tried;
  const bool ran = run_first_working(list, [&](const Candidate& c) {
    tried.push_back(c.algo);
    return c.algo == 0 ? Outcome::Ran : Outcome::TryNext;
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(tried, (std::vector<int>{4, 1, 0}));
  EXPECT_EQ(algos(list), (std::vector<int>{0, 2}));  // the next call starts with the one that worked
  tried.clear();
  EXPECT_TRUE(run_first_working(list, [&](const Candidate& c) {
    tried.push_back(c.algo);
    return Outcome::Ran;
  }));
  EXPECT_EQ(tried, (std::vector<int>{0}));
}

TEST(CudnnAlgo, NoneWorkingEmptiesTheListAndErrorsPropagate) {
  std::vector<Candidate> list{{3, 0, 0}, {1, 0, 0}};
  int tries = 0;
  EXPECT_FALSE(run_first_working(list, [&](const Candidate&) {
    ++tries;
    return Outcome::TryNext;
  }));
  EXPECT_EQ(tries, 2);
  EXPECT_TRUE(list.empty());  // cached empty: the im2col path runs without asking cuDNN again
  EXPECT_FALSE(run_first_working(list, [&](const Candidate&) { return Outcome::Ran; }));

  std::vector<Candidate> two{{3, 0, 0}, {1, 0, 0}};
  EXPECT_THROW(run_first_working(two, [](const Candidate&) -> Outcome { throw std::runtime_error("bad param"); }),
               std::runtime_error);
  EXPECT_EQ(two.size(), 2u) << "an error that is not the algorithm's fault must not drop candidates";
}

TEST(CudnnAlgo, LegacyDescriptorRange) {
  EXPECT_TRUE(fits_legacy_descriptors(INT_MAX, 1, INT_MAX));
  EXPECT_FALSE(fits_legacy_descriptors(int64_t(INT_MAX) + 1, 1, 1));
  EXPECT_FALSE(fits_legacy_descriptors(1, int64_t(INT_MAX) + 1, 1));
  EXPECT_FALSE(fits_legacy_descriptors(1, 1, int64_t(INT_MAX) + 1));
  // a 3-D batch of 8 × 32 channels × 192³ float32 volumes: 1.8e9 elements still fit; 16 of them do not
  EXPECT_TRUE(fits_legacy_descriptors(int64_t(8) * 32 * 192 * 192 * 192, 32 * 32 * 27, int64_t(8) * 32 * 192 * 192 * 192));
  EXPECT_FALSE(fits_legacy_descriptors(int64_t(16) * 32 * 192 * 192 * 192, 32 * 32 * 27, 1));
}
