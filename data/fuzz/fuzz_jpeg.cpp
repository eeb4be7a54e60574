// libFuzzer target: JPEG decoding through libjpeg(-turbo) (its setjmp error path and the early-end refusal included).
#include <stdexcept>

#include "data/formats/jpeg_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const seg::Volume v = seg::decode_jpeg(data, size, "fuzz.jpg");
    if (v.data.size() != static_cast<size_t>(v.voxels() * v.channels)) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
