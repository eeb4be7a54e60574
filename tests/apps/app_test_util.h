// What the app smoke tests share: run an app binary of the build (SEG_APPS_DIR) with arguments and capture its exit
// code and output (stdout and stderr together), a fresh per-process temporary folder, and a JSON reader.
// Key decision: the apps are run as a user runs them (a subprocess through the shell), so their option parsing, exit
// codes and messages are what is tested.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace seg::apptest {

struct AppRun {
  int rc;              // exit status; -1 when the process did not exit normally (signal)
  std::string output;  // stdout + stderr
};

// Runs SEG_APPS_DIR/<app> <args> (args as a shell would split them), with passive OpenMP waiting: on a machine shared
// with other jobs (ctest -j2 on 2 cores), libgomp's spinning threads made app runs up to 60x slower.
inline AppRun run_app(const std::string& app, const std::string& args) {
  const std::string cmd = "OMP_WAIT_POLICY=PASSIVE " + std::string(SEG_APPS_DIR) + "/" + app + " " + args + " 2>&1";
  AppRun r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed for: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// <tmp>/<prefix>_test_<name>_<pid>, removed if it exists (not created).
inline std::string fresh_tmpdir(const std::string& prefix, const std::string& name) {
  const std::filesystem::path d =
      std::filesystem::temp_directory_path() / (prefix + "_test_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(f);
}

}  // namespace seg::apptest
