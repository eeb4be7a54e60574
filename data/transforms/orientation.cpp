// Axis codes and exact reorientation (see orientation.h).
#include "data/transforms/orientation.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace seg {

namespace {
const char kPos[3] = {'R', 'A', 'S'}, kNeg[3] = {'L', 'P', 'I'};

int world_axis(char c) {
  for (int w = 0; w < 3; ++w)
    if (c == kPos[w] || c == kNeg[w]) return w;
  return -1;
}
}  // namespace

bool valid_axis_codes(const std::string& codes) {
  if (codes.size() != 3) return false;
  bool seen[3] = {false, false, false};
  for (char c : codes) {
    const int w = world_axis(c);
    if (w < 0 || seen[w]) return false;
    seen[w] = true;
  }
  return true;
}

std::string axis_codes(const std::array<std::array<double, 4>, 3>& a) {
  std::vector<std::tuple<double, int, int>> cand;  // (|component|, voxel axis, world axis)
  for (int i = 0; i < 3; ++i)
    for (int w = 0; w < 3; ++w) cand.emplace_back(std::fabs(a[w][i]), i, w);
  std::stable_sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
  std::string codes = "???";
  bool used_i[3] = {false, false, false}, used_w[3] = {false, false, false};
  for (const auto& [mag, i, w] : cand) {
    if (used_i[i] || used_w[w]) continue;
    used_i[i] = used_w[w] = true;
    codes[static_cast<size_t>(i)] = a[w][i] >= 0 ? kPos[w] : kNeg[w];
  }
  return codes;
}

std::string axis_codes(const Volume& v) { return axis_codes(v.affine); }

std::string Reorientation::describe() const {
  if (identity()) return "identity";
  std::string s = "axes (" + std::to_string(perm[0]) + ", " + std::to_string(perm[1]) + ", " + std::to_string(perm[2]) + ")";
  for (int j = 0; j < 3; ++j)
    if (flip[j]) s += ", flip axis " + std::to_string(j);
  return s;
}

Reorientation reorientation(const std::string& from, const std::string& to) {
  if (!valid_axis_codes(from)) throw std::invalid_argument("orientation: '" + from + "' is not three axis codes (one of R/L, A/P, S/I each)");
  if (!valid_axis_codes(to)) throw std::invalid_argument("orientation: '" + to + "' is not three axis codes (one of R/L, A/P, S/I each)");
  Reorientation r;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 3; ++i)
      if (world_axis(from[static_cast<size_t>(i)]) == world_axis(to[static_cast<size_t>(j)])) {
        r.perm[j] = i;
        r.flip[j] = from[static_cast<size_t>(i)] != to[static_cast<size_t>(j)];
      }
  return r;
}

Volume reorient(const Volume& v, const Reorientation& r) {
  if (r.identity()) return v;
  Volume o;
  o.channels = v.channels;
  o.datatype = v.datatype;
  for (int j = 0; j < 3; ++j) {
    o.dims[j] = v.dims[r.perm[j]];
    o.spacing[j] = v.spacing[r.perm[j]];
  }
  // new column j = ± old column perm[j]; the origin moves to the old position of the new voxel 0
  for (int w = 0; w < 3; ++w) {
    o.affine[w][3] = v.affine[w][3];
    for (int j = 0; j < 3; ++j) {
      const double col = v.affine[w][r.perm[j]];
      o.affine[w][j] = r.flip[j] ? -col : col;
      if (r.flip[j]) o.affine[w][3] += col * static_cast<double>(v.dims[r.perm[j]] - 1);
    }
  }
  const int64_t n = v.voxels();
  o.data.resize(v.data.size());
  std::array<int64_t, 3> stride_old{1, v.dims[0], v.dims[0] * v.dims[1]};
  std::array<int64_t, 3> step{}, start{};  // per new axis: stride in the old array and the old offset of index 0
  int64_t base = 0;
  for (int j = 0; j < 3; ++j) {
    const int64_t s = stride_old[r.perm[j]];
    step[j] = r.flip[j] ? -s : s;
    start[j] = r.flip[j] ? s * (o.dims[j] - 1) : 0;
    base += start[j];
  }
  for (int64_t c = 0; c < v.channels; ++c) {
    const float* src = v.data.data() + c * n;
    float* dst = o.data.data() + c * n;
    int64_t k = 0;
    for (int64_t z = 0; z < o.dims[2]; ++z)
      for (int64_t y = 0; y < o.dims[1]; ++y) {
        const int64_t row = base + z * step[2] + y * step[1];
        for (int64_t x = 0; x < o.dims[0]; ++x) dst[k++] = src[row + x * step[0]];
      }
  }
  return o;
}

Volume reorient_back(const Volume& v, const Reorientation& r) {
  Reorientation inv;
  for (int j = 0; j < 3; ++j) inv.perm[r.perm[j]] = j;
  for (int i = 0; i < 3; ++i) inv.flip[i] = r.flip[inv.perm[i]];
  return reorient(v, inv);
}

}  // namespace seg
