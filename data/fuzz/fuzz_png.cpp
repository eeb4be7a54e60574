// libFuzzer target: PNG decoding through libpng (setjmp error path included).
#include <stdexcept>

#include "data/formats/png_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const seg::Volume v = seg::decode_png(data, size, "fuzz.png");
    if (v.data.size() != static_cast<size_t>(v.voxels() * v.channels)) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
