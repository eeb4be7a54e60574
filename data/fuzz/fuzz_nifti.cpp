// libFuzzer target: the NIfTI-1/2 parser (uncompressed bytes) and, for gzip input, the .nii.gz path through zlib.
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "data/formats/nifti.h"
#include "data/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const seg::Volume v = seg::parse_nifti(bytes, "fuzz.nii");
    if (v.data.size() != static_cast<size_t>(v.voxels() * v.channels)) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    const std::string path = segfuzz::scratch_dir() + "/input.nii.gz";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(data, 1, size, f);
      std::fclose(f);
      try {
        seg::read_nifti(path);
      } catch (const std::runtime_error&) {
      }
    }
  }
  return 0;
}
