// libFuzzer target (built by data/fuzz/run_fuzzers.sh): the .npy parser of engine/npy (header dict literal, dtypes,
// shapes, data size).
#include <stdexcept>
#include <string>

#include "engine/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const seg::Tensor t = seg::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz.npy");
    // Every byte of the tensor is readable (ASan would flag a storage shorter than the shape).
    volatile unsigned char sink = 0;
    const auto* p = static_cast<const unsigned char*>(t.raw());
    const size_t bytes = static_cast<size_t>(t.numel()) * seg::dtype_size(t.dtype());
    for (size_t i = 0; i < bytes; ++i) sink = sink + p[i];
  } catch (const std::runtime_error&) {
  }
  return 0;
}
