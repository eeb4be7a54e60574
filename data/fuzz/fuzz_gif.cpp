// libFuzzer target: GIF decoding through giflib (SCR's JSRT masks): whatever the bytes, a volume of consistent size or
// a std::runtime_error, never a crash.
#include <stdexcept>

#include "data/formats/gif_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const seg::Volume v = seg::decode_gif(data, size, "fuzz.gif");
    if (v.data.size() != static_cast<size_t>(v.voxels() * v.channels)) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
