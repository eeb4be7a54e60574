// JSRT .IMG reader (see jsrt.h). The file is exactly 2048*2048 big-endian uint16 samples with no header.
// Key decision: the exact file size is the only signature the format has, so any other size is rejected, and values
// above 4095 (not 12-bit) are reported as a wrong file rather than passed on.
#include "data/formats/jsrt.h"

#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

Volume decode_jsrt(const std::vector<uint8_t>& bytes, const std::string& name) {
  const size_t want = static_cast<size_t>(kJsrtSide * kJsrtSide * 2);
  if (bytes.size() != want)
    throw std::runtime_error(name + ": header/data size mismatch: a JSRT .IMG holds " + std::to_string(want) +
                             " bytes (2048 x 2048 x 16-bit), file has " + std::to_string(bytes.size()));
  Volume v = Volume::make({kJsrtSide, kJsrtSide, 1}, {kJsrtSpacing, kJsrtSpacing, 1.0});
  v.datatype = "uint16";
  io::decode_samples(bytes.data(), static_cast<size_t>(kJsrtSide * kJsrtSide), "uint16", true, 1.0, 0.0, v.data.data());
  for (size_t i = 0; i < v.data.size(); ++i)
    if (v.data[i] > 4095.f)
      throw std::runtime_error(name + ": value " + std::to_string(static_cast<int>(v.data[i])) + " at pixel " +
                               std::to_string(i) + " is not 12-bit: not a JSRT image (or wrong byte order)");
  return v;
}

const char* const kScrStructures[kScrStructureCount] = {"left lung", "right lung", "heart", "left clavicle",
                                                        "right clavicle"};

int scr_label(JsrtClasses classes, int s) {
  if (s < 0 || s >= kScrStructureCount) throw std::invalid_argument("scr_label: structure index out of range");
  static const int merged[kScrStructureCount] = {1, 1, 2, 3, 3};
  static const int lateral[kScrStructureCount] = {2, 1, 3, 0, 0};
  return classes == JsrtClasses::LungHeartClavicle ? merged[s] : lateral[s];
}

Volume read_jsrt(const std::string& path) { return decode_jsrt(io::read_file(path), path); }

}  // namespace seg
