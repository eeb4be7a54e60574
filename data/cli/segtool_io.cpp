// segtool info and segtool convert (declared in data/cli/commands.h).
// Key decision: statistics are taken over the values after scl_slope/scl_inter (what nibabel's get_fdata() gives),
// accumulated in double; non-finite voxels are counted and left out of min/max/mean/sum instead of poisoning them.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/cli/commands.h"
#include "data/formats/image_io.h"

namespace seg::cli {

int info(int argc, char** argv) {
  std::string file;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--help" || a == "-h") {
      std::printf("usage: segtool info FILE [--json]\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "segtool info: unknown option '%s' (usage: segtool info FILE [--json])\n", a.c_str());
      return 2;
    } else if (file.empty()) file = a;
    else {
      std::fprintf(stderr, "segtool info: one FILE expected, got '%s' and '%s'\n", file.c_str(), a.c_str());
      return 2;
    }
  }
  if (file.empty()) {
    std::fprintf(stderr, "usage: segtool info FILE [--json]\n");
    return 2;
  }
  Volume v;
  try {
    v = read_image(file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "segtool info: %s\n", e.what());
    return 1;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0.0;
  int64_t finite = 0, nonfinite = 0;
  for (float f : v.data) {
    if (!std::isfinite(f)) {
      ++nonfinite;
      continue;
    }
    lo = std::min(lo, static_cast<double>(f));
    hi = std::max(hi, static_cast<double>(f));
    sum += f;
    ++finite;
  }
  const double mean = finite ? sum / static_cast<double>(finite) : std::nan("");
  if (json) {
    nlohmann::json j;
    j["file"] = file;
    j["dims"] = {v.dims[0], v.dims[1], v.dims[2]};
    j["channels"] = v.channels;
    j["spacing"] = {v.spacing[0], v.spacing[1], v.spacing[2]};
    j["datatype"] = v.datatype;
    j["affine"] = {{v.affine[0][0], v.affine[0][1], v.affine[0][2], v.affine[0][3]},
                   {v.affine[1][0], v.affine[1][1], v.affine[1][2], v.affine[1][3]},
                   {v.affine[2][0], v.affine[2][1], v.affine[2][2], v.affine[2][3]}};
    if (finite) {
      j["min"] = lo, j["max"] = hi, j["mean"] = mean;
    } else {  // JSON has no NaN: an all-NaN image reports null
      j["min"] = nullptr, j["max"] = nullptr, j["mean"] = nullptr;
    }
    j["sum"] = sum;
    j["nonfinite"] = nonfinite;
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("file:     %s\n", file.c_str());
    std::printf("dims:     %lld x %lld x %lld", static_cast<long long>(v.dims[0]), static_cast<long long>(v.dims[1]),
                static_cast<long long>(v.dims[2]));
    if (v.channels > 1) std::printf(" x %lld channels", static_cast<long long>(v.channels));
    std::printf("\nspacing:  %.6g x %.6g x %.6g mm\n", v.spacing[0], v.spacing[1], v.spacing[2]);
    std::printf("datatype: %s\n", v.datatype.c_str());
    std::printf("min:      %.17g\nmax:      %.17g\nmean:     %.17g\nsum:      %.17g\n", lo, hi, mean, sum);
    if (nonfinite) std::printf("nonfinite voxels (left out above): %lld\n", static_cast<long long>(nonfinite));
    for (int r = 0; r < 3; ++r)
      std::printf("%s [%.6g %.6g %.6g %.6g]\n", r == 0 ? "affine:  " : "         ", v.affine[r][0], v.affine[r][1],
                  v.affine[r][2], v.affine[r][3]);
  }
  return 0;
}

int convert(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string datatype;
  const char* usage = "usage: segtool convert IN OUT [--datatype uint8|int8|uint16|int16|uint32|int32|int64|float32|float64]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage);
      return 0;
    } else if (a == "--datatype" && i + 1 < argc) {
      datatype = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "segtool convert: unknown option '%s'\n%s", a.c_str(), usage);
      return 2;
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() != 2) {
    std::fprintf(stderr, "%s", usage);
    return 2;
  }
  if (!datatype.empty() && io::datatype_size(datatype) == 0) {
    std::fprintf(stderr, "segtool convert: unknown datatype '%s'\n%s", datatype.c_str(), usage);
    return 2;
  }
  try {
    Volume v = read_image(pos[0]);
    if (!datatype.empty()) v.datatype = datatype;
    write_image(pos[1], v);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "segtool convert: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace seg::cli
