// Connected components by union–find (see components.h).
#include "data/transforms/components.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace seg {

namespace {
int32_t find_root(std::vector<int32_t>& parent, int32_t a) {
  while (parent[static_cast<size_t>(a)] != a) {
    parent[static_cast<size_t>(a)] = parent[static_cast<size_t>(parent[static_cast<size_t>(a)])];  // path halving
    a = parent[static_cast<size_t>(a)];
  }
  return a;
}
}  // namespace

int64_t label_components(const uint8_t* mask, const std::array<int64_t, 3>& dims, std::vector<int32_t>& labels,
                         int connectivity) {
  if (connectivity != 6 && connectivity != 26) throw std::invalid_argument("label_components: connectivity must be 6 or 26");
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2], n = nx * ny * nz;
  if (n >= (int64_t{1} << 31)) throw std::invalid_argument("label_components: volume too large for 32-bit component ids");
  // the neighbours visited before (x, y, z) in raster order
  std::vector<std::array<int, 3>> back;
  for (int dz = -1; dz <= 0; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0))) continue;
        if (connectivity == 6 && std::abs(dx) + std::abs(dy) + std::abs(dz) != 1) continue;
        back.push_back({dx, dy, dz});
      }
  labels.assign(static_cast<size_t>(n), -1);
  std::vector<int32_t> parent;
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t i = x + nx * (y + ny * z);
        if (!mask[i]) continue;
        int32_t root = -1;
        for (const auto& d : back) {
          const int64_t xx = x + d[0], yy = y + d[1], zz = z + d[2];
          if (xx < 0 || xx >= nx || yy < 0 || zz < 0) continue;  // dy ≤ 0 when dz = 0 and dz ≤ 0, so no upper checks
          if (yy >= ny) continue;
          const int32_t l = labels[static_cast<size_t>(xx + nx * (yy + ny * zz))];
          if (l < 0) continue;
          const int32_t r = find_root(parent, l);
          if (root < 0) root = r;
          else if (r != root) parent[static_cast<size_t>(std::max(r, root))] = std::min(r, root), root = std::min(r, root);
        }
        if (root < 0) {
          root = static_cast<int32_t>(parent.size());
          parent.push_back(root);
        }
        labels[static_cast<size_t>(i)] = root;
      }
  // compact ids 1..count in order of first appearance
  std::vector<int32_t> id(parent.size(), 0);
  int32_t count = 0;
  for (auto& l : labels) {
    if (l < 0) {
      l = 0;
      continue;
    }
    const int32_t r = find_root(parent, l);
    if (id[static_cast<size_t>(r)] == 0) id[static_cast<size_t>(r)] = ++count;
    l = id[static_cast<size_t>(r)];
  }
  return count;
}

std::vector<uint8_t> keep_largest_component(const uint8_t* mask, const std::array<int64_t, 3>& dims, int connectivity) {
  std::vector<int32_t> labels;
  const int64_t n = label_components(mask, dims, labels, connectivity);
  std::vector<uint8_t> out(labels.size(), 0);
  if (n == 0) return out;
  std::vector<int64_t> size(static_cast<size_t>(n + 1), 0);
  for (int32_t l : labels) ++size[static_cast<size_t>(l)];
  const auto best = static_cast<int32_t>(std::max_element(size.begin() + 1, size.end()) - size.begin());
  for (size_t i = 0; i < labels.size(); ++i) out[i] = labels[i] == best;
  return out;
}

}  // namespace seg
