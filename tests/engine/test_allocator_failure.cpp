// The host caching allocator under requests the OS refuses: a seg::Error naming the size (and, through
// Tensor::empty, the tensor's shape), never a bare std::bad_alloc; the allocator keeps working afterwards.
// Sanitizer builds: ASan must return null for such requests (ASAN_OPTIONS=allocator_may_return_null=1, as README's
// sanitizer command sets) or it aborts the process the way the OS never would.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "engine/allocator.h"
#include "engine/error.h"
#include "engine/tensor.h"

using namespace seg;

namespace {
// Runs f, expects a seg::Error whose message holds every piece; returns the message.
template <class F>
std::string error_of(F&& f, std::initializer_list<std::string> pieces) {
  try {
    f();
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const auto& p : pieces) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' missing from: " << m;
    return m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected seg::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected seg::Error, nothing was thrown";
  return "";
}
}  // namespace

TEST(HostAllocator, RefusedRequestIsAnErrorNamingTheSize) {
  const AllocatorStats before = host_allocator_stats();
  // 2^50 bytes (1 PiB): more than x86-64's 47-bit user address space can map, so every OS refuses it.
  const size_t huge = size_t(1) << 50;
  error_of([&] { host_alloc(huge); }, {"host_alloc", "out of host memory", std::to_string(huge) + " bytes"});
  // Sizes whose bucket would wrap around size_t are refused before rounding.
  error_of([] { host_alloc(std::numeric_limits<size_t>::max() - 10); }, {"host_alloc", "cannot allocate"});
  const AllocatorStats after = host_allocator_stats();
  EXPECT_EQ(after.current_bytes, before.current_bytes) << "a refused request changed the bytes in use";

  // The allocator still serves ordinary requests.
  void* p = host_alloc(1000);
  ASSERT_NE(p, nullptr);
  static_cast<volatile char*>(p)[999] = 1;
  host_free(p, 1000);
}

TEST(HostAllocator, TensorThatCannotBeAllocatedNamesItsShape) {
  // 2^48 float32 = 2^50 bytes (1 PiB).
  error_of([] { Tensor::empty({int64_t(1) << 24, int64_t(1) << 24}, DType::Float32); },
           {"Tensor::empty", "[16777216, 16777216]", "float32", "out of host memory", "1125899906842624 bytes"});
  // 2^61 float64 elements: the byte count itself overflows size_t.
  error_of([] { Tensor::empty({int64_t(1) << 61}, DType::Float64); }, {"Tensor::empty", "2305843009213693952", "size_t"});
  // The engine goes on allocating after the failures.
  const Tensor t = Tensor::zeros({3, 5}, DType::Float64);
  EXPECT_EQ(t.numel(), 15);
}
