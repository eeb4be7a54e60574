// The device layer: probing never throws and gives a reason without a GPU; the caching allocator reuses blocks;
// copies round-trip; errors name the op.
#include <cstdio>

#include "cuda_test_util.h"
#include "engine/allocator.h"
#include "engine/device.h"
#include "kernels/conv_cuda.h"

using namespace seg;
using namespace seg::cudatest;

namespace {
// Prints once per run what the tests exercise (profiling/gpu_check.sh copies the line into its report).
class Banner : public ::testing::Environment {
  void SetUp() override {
    if (kCpuHalf) {
      std::printf("[cuda tests] CPU half: the side under test runs on the CPU too\n");
    } else if (!cuda_available()) {
      std::printf("[cuda tests] no GPU: %s\n", cuda_unavailable_reason().c_str());
    } else {
      std::printf("[cuda tests] convolutions: %s\n", cuda::conv_path().c_str());
    }
  }
};
const ::testing::Environment* const kBanner = ::testing::AddGlobalTestEnvironment(new Banner);
}  // namespace

TEST(CudaDevice, ProbeGivesAReasonWhenUnavailable) {
  const bool ok = cuda_available();
  EXPECT_EQ(ok, cuda_unavailable_reason().empty()) << cuda_unavailable_reason();
  if (!ok) {
    EXPECT_THROW(parse_device("cuda"), Error);
    EXPECT_EQ(parse_device("auto"), Device::CPU);
    EXPECT_THROW(Tensor::empty({4}, DType::Float32, Device::CUDA), Error);
  }
}

TEST(CudaDevice, CopiesRoundTripEveryDtype) {
  SEG_REQUIRE_GPU();
  Tensor f = rand_tensor({3, 5, 7}, 1, -1, 1, false);
  EXPECT_TRUE(close(f.to(test_device()).to(Device::CPU), f, 0, 0));
  Tensor d = f.to(DType::Float64);
  EXPECT_TRUE(close(d.to(test_device()).clone().to(Device::CPU), d, 0, 0));
  Tensor l = rand_labels({11}, 5, 2);
  EXPECT_EQ(l.to(test_device()).to_labels(), l.to_labels());
  EXPECT_TRUE(close(Tensor::zeros({9}, DType::Float32, test_device()), Tensor::zeros({9}), 0, 0));
  EXPECT_TRUE(close(Tensor::full({9}, 2.5, DType::Float32, test_device()), Tensor::full({9}, 2.5), 0, 0));
}

TEST(CudaDevice, AllocatorReusesFreedBlocks) {
  SEG_REQUIRE_GPU();
  // The CPU half checks the host allocator the same way (both are caching allocators with the same statistics).
  auto stats = [] { return kCpuHalf ? host_allocator_stats() : cuda_allocator_stats(); };
  { Tensor warm = Tensor::empty({1 << 20}, DType::Float32, test_device()); }
  const AllocatorStats before = stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = Tensor::empty({1 << 20}, DType::Float32, test_device());
    EXPECT_GE(stats().current_bytes, before.current_bytes + (4 << 20));
  }
  const AllocatorStats after = stats();
  EXPECT_EQ(after.os_allocs, before.os_allocs) << "steady-state allocations reached the device's (or OS) allocator";
  EXPECT_EQ(after.current_bytes, before.current_bytes);
  EXPECT_GE(after.peak_bytes, before.current_bytes + (4 << 20));
}

TEST(CudaDevice, OutOfMemoryIsAClearError) {
  SEG_GPU_ONLY("the CUDA allocator's out-of-memory message");
  try {
    Tensor t = Tensor::empty({int64_t(1) << 48}, DType::Float32, Device::CUDA);  // 1 PiB
    FAIL() << "allocating 1 PiB succeeded";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("out of GPU memory"), std::string::npos) << m;
    EXPECT_NE(m.find("peak"), std::string::npos) << m;
  }
  Tensor ok = Tensor::ones({16}, DType::Float32, Device::CUDA);  // the device still works afterwards
  EXPECT_DOUBLE_EQ(ok.to_vector()[3], 1.0);
}
