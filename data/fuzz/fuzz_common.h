// Shared by the libFuzzer targets: an empty scratch folder (detached-data lookups of MetaImage/NRRD land there) and
// the rule that only std::runtime_error is an acceptable outcome of hostile input.
// Key decision: any other exception (bad_alloc, length_error, out_of_range) escapes and libFuzzer reports it as a
// crash, because it means a size was trusted before it was checked.
#pragma once
#include <cstdlib>
#include <string>

namespace segfuzz {

inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/segfuzz_XXXXXX";
    const char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

}  // namespace segfuzz
