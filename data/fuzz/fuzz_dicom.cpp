// libFuzzer target: one DICOM file through DCMTK and read_dicom (tags, transfer syntaxes, the JPEG and RLE codecs
// DCMTK registers, the pixel-data checks). read_dicom takes a path, so each input is written to the scratch folder.
#include <cstdio>
#include <stdexcept>

#include "data/formats/dicom.h"
#include "data/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = segfuzz::scratch_dir() + "/input.dcm";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const seg::Volume v = seg::read_dicom(path);
    if (v.data.size() != static_cast<size_t>(v.voxels() * v.channels)) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
