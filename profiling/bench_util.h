// Helpers of the benchmark programs: timing with warm-up (median and min), PyTorch side-runs, table printing.
// Key decision: benchmarks print tables and are never tests; PyTorch's figures (when Debian's python3-torch is
// importable) are measured by the same shapes in a Python script run beside ours, in its fastest setting here.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace seg::bench {

struct Timing {
  double median_ms = 0, min_ms = 0;
};

inline Timing time_it(const std::function<void()>& f, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

// Runs `/usr/bin/python3 script args` with glibc told to keep freed memory (PyTorch's fastest setting on these
// machines) and parses lines "name value" into a map; empty when torch is not importable.
inline std::map<std::string, double> run_torch(const std::string& script, const std::string& args) {
  std::map<std::string, double> out;
  const char* py = "/usr/bin/python3";
  std::string probe = std::string(py) + " -c 'import torch' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) return out;
  std::string cmd = "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 " + std::string(py) + " " + script + " " + args;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char name[256];
  double v;
  char line[512];
  while (fgets(line, sizeof line, p))
    if (std::sscanf(line, "%255s %lf", name, &v) == 2) out[name] = v;
  pclose(p);
  return out;
}

// The folder of this source file's scripts, for finding profiling/*.py from the build tree.
inline std::string script_dir() {
  const char* env = std::getenv("SEG_PROFILING_DIR");
  return env ? env : SEG_PROFILING_SOURCE_DIR;
}

}  // namespace seg::bench
