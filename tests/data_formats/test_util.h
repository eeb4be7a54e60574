// Helpers of the data-format tests: a temporary folder, the shared real-data folder, /usr/bin/python3 with nibabel.
// Key decision: tests never write into the repository or the shared data folder (SEG_SHARED_DIR, tests/support);
// every file they make lives in a fresh temp dir.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/volume.h"

namespace segtest {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "segfmt_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string real_dir(const std::string& sub) {
  return (std::filesystem::path(SEG_SHARED_DIR) / "data" / "real" / sub).string();
}

#define SKIP_IF_NO_REAL(sub)                                                                        \
  do {                                                                                              \
    if (!std::filesystem::exists(segtest::real_dir(sub)))                                           \
      GTEST_SKIP() << "real sample folder " << segtest::real_dir(sub) << " is absent (SEG_SHARED_DIR/data/real)"; \
  } while (0)

inline bool has_nibabel() {
  static const int rc = std::system(SEG_PYTHON " -c 'import nibabel, numpy' >/dev/null 2>&1");
  return rc == 0;
}

#define SKIP_IF_NO_NIBABEL() \
  do {                       \
    if (!segtest::has_nibabel()) GTEST_SKIP() << SEG_PYTHON " with nibabel and numpy is not available"; \
  } while (0)

inline bool has_pil() {
  static const int rc = std::system(SEG_PYTHON " -c 'import PIL.Image, numpy' >/dev/null 2>&1");
  return rc == 0;
}

// Pillow (Debian python3-pil) writes the GIF fixtures: files made by an encoder other than ours.
#define SKIP_IF_NO_PIL() \
  do {                   \
    if (!segtest::has_pil()) GTEST_SKIP() << SEG_PYTHON " with PIL (python3-pil) and numpy is not available"; \
  } while (0)

// Runs a Python script (written to DIR/script.py) with /usr/bin/python3; returns the exit status.
inline int run_python(const TempDir& dir, const std::string& script) {
  const std::string path = dir / "script.py";
  std::ofstream(path) << script;
  const std::string cmd = std::string(SEG_PYTHON) + " " + path + " > " + (dir / "python.log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream log(dir / "python.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << "python failed:\n" << text;
  }
  return rc;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A deterministic pseudo-random volume of integers in [lo, hi] (a tiny LCG: no dependence on <random> versions).
inline seg::Volume ramp_volume(std::array<int64_t, 3> dims, double lo, double hi, uint64_t seed = 1) {
  seg::Volume v = seg::Volume::make(dims, {0.7, 0.8, 2.5});
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& f : v.data) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    f = static_cast<float>(std::floor(lo + (hi - lo + 1) * ((s >> 11) * (1.0 / 9007199254740992.0))));
  }
  v.data[0] = static_cast<float>(lo), v.data[1] = static_cast<float>(hi);  // the type's extremes survive too
  return v;
}

// An oblique affine: rotation about z by 30 degrees, x flipped, spacing on the columns, a non-zero origin.
inline void set_oblique(seg::Volume& v) {
  const double c = std::cos(M_PI / 6), s = std::sin(M_PI / 6);
  const double sx = v.spacing[0], sy = v.spacing[1], sz = v.spacing[2];
  v.affine = {{{-c * sx, -s * sy, 0, 12.5}, {-s * sx, c * sy, 0, -40.25}, {0, 0, sz, 7.0}}};
}

inline void expect_affine_near(const seg::Volume& a, const seg::Volume& b, double tol) {
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(a.affine[r][c], b.affine[r][c], tol) << "affine[" << r << "][" << c << "]";
}

}  // namespace segtest
