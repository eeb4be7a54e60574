// Helpers of the data_processing tests: small volumes from literals, and running /usr/bin/python3 with scipy.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg::test {

inline Volume vol2d(int64_t nx, int64_t ny, std::vector<float> v) {
  Volume out = Volume::make({nx, ny, 1});
  out.data = std::move(v);
  return out;
}

inline bool python_has(const char* module) {
  const std::string c = std::string("/usr/bin/python3 -c 'import ") + module + "' >/dev/null 2>&1";
  return std::system(c.c_str()) == 0;
}

// stdout of a shell command (the reference scripts print numbers).
inline std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace seg::test
