// The algorithm-fallback rules of the cuDNN convolution path (kernels/conv.cu), host-only and free of cuDNN types so
// the CPU tests (tests/cuda/test_cuda_conv_algo.cpp) check them on machines without a GPU or cuDNN:
//  * the usable candidates of cuDNN's heuristic list (cudnnGet*Algorithm_v7), in its order;
//  * which statuses mean "this algorithm cannot run this problem, try the next" and which are our bug (thrown);
//  * the walk over the candidates, which drops every candidate that failed so later calls do not retry it;
//  * the 32-bit range of the legacy descriptors (larger tensors go to the im2col path, which indexes in 64 bits).
// Key decision: as PyTorch does, a failing algorithm or a workspace that cannot be allocated is not an error while
// another algorithm or the im2col path can compute the same convolution; a bad parameter or a broken library is.
#pragma once
#include <climits>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace seg::cuda::conv_algo {

// One algorithm cuDNN suggests for a problem: its enum value, workspace bytes and math type (cuDNN's enum values).
struct Candidate {
  int algo = 0;
  size_t workspace = 0;
  int math = 0;
};

// Status values of cuDNN 9 (cudnn_graph.h; conv.cu static_asserts that they match): a full code is category + detail.
constexpr int kStatusSuccess = 0;
constexpr int kStatusNotSupported = 3000;          // 3xxx: this algorithm does not support the problem
constexpr int kStatusInternalError = 4000;         // 4xxx: cuDNN internal errors, some of them per algorithm
constexpr int kStatusCompilationFailed = 4001;     // a runtime-compiled engine failed to compile
constexpr int kStatusHostAllocFailed = 4003;       // cuDNN could not allocate host memory for this algorithm
constexpr int kStatusDeviceAllocFailed = 4004;     // cuDNN could not allocate device memory for this algorithm
constexpr int kStatusExecutionFailed = 5000;       // 5xxx: the algorithm's kernels failed to launch or run

constexpr int status_category(int status) { return status / 1000 * 1000; }

// True when another algorithm may succeed where this one returned `status`; false for success and for statuses that
// every algorithm would return (bad parameters: our bug; library not initialised or mismatched: a broken install).
constexpr bool try_next_after(int status) {
  const int cat = status_category(status);
  return cat == kStatusNotSupported || cat == kStatusExecutionFailed || status == kStatusCompilationFailed ||
         status == kStatusHostAllocFailed || status == kStatusDeviceAllocFailed;
}

// The candidates worth trying, in cuDNN's order: successful heuristic entries whose workspace fits max_workspace and
// whose math type is allowed (no tensor-op math for FP32 unless TF32 is allowed). Perf is one of cuDNN's
// cudnnConvolution*AlgoPerf_t (fields algo, status, memory, mathType); tensor_op_math lists the math enum values that
// use tensor cores. With tensor ops not allowed, the candidate runs in `fma_math`.
template <class Perf>
std::vector<Candidate> usable_candidates(const Perf* perf, int count, bool allow_tensor_ops, size_t max_workspace,
                                         std::initializer_list<int> tensor_op_math, int fma_math) {
  std::vector<Candidate> out;
  for (int i = 0; i < count; ++i) {
    if (static_cast<int>(perf[i].status) != kStatusSuccess || perf[i].memory > max_workspace) continue;
    bool tensor_op = false;
    for (int m : tensor_op_math) tensor_op = tensor_op || static_cast<int>(perf[i].mathType) == m;
    if (tensor_op && !allow_tensor_ops) continue;
    const Candidate c{static_cast<int>(perf[i].algo), perf[i].memory,
                      allow_tensor_ops ? static_cast<int>(perf[i].mathType) : fma_math};
    bool seen = false;  // cuDNN lists an algorithm once per math type; forced to FMA math they can coincide
    for (const Candidate& o : out) seen = seen || (o.algo == c.algo && o.math == c.math);
    if (!seen) out.push_back(c);
  }
  return out;
}

enum class Outcome { Ran, TryNext };

// Tries list[0], list[1], ... with attempt(candidate) until one runs; every candidate that failed is removed from the
// list (the caller caches the list, so the next call starts with the one that worked). Returns whether one ran.
// attempt throws for errors that are not the algorithm's fault (see try_next_after).
template <class Attempt>
bool run_first_working(std::vector<Candidate>& list, Attempt&& attempt) {
  while (!list.empty()) {
    if (attempt(list.front()) == Outcome::Ran) return true;
    list.erase(list.begin());
  }
  return false;
}

// The legacy descriptors take int dimensions and strides: every tensor of the problem must have at most INT_MAX
// elements (then every stride and dimension fits too). Sizes are element counts of x, w and y.
constexpr bool fits_legacy_descriptors(int64_t x_numel, int64_t w_numel, int64_t y_numel) {
  return x_numel <= INT_MAX && w_numel <= INT_MAX && y_numel <= INT_MAX;
}

}  // namespace seg::cuda::conv_algo
