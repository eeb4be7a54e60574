// libFuzzer target (built by data/fuzz/run_fuzzers.sh): the safetensors checkpoint parser of engine/serialize
// (header length, JSON header, dtypes, shapes, data offsets).
#include <stdexcept>
#include <string>

#include "engine/serialize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const seg::SafeTensors st =
        seg::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    volatile unsigned char sink = 0;
    for (const auto& [name, t] : st.tensors) {
      const auto* p = static_cast<const unsigned char*>(t.raw());
      const size_t bytes = static_cast<size_t>(t.numel()) * seg::dtype_size(t.dtype());
      for (size_t i = 0; i < bytes; ++i) sink = sink + p[i];
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
