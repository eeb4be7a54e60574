// libFuzzer target: the MetaImage header parser and LOCAL / zlib-compressed data decoding.
#include <stdexcept>
#include <vector>

#include "data/formats/metaimage.h"
#include "data/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const seg::Volume v = seg::parse_metaimage(bytes, "fuzz.mha", segfuzz::scratch_dir());
    if (v.data.size() != static_cast<size_t>(v.voxels() * v.channels)) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
