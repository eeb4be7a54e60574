// Patch sampling and augmentation (see patches.h).
#include "data/pipeline3d/patches.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "data/phantoms/phantom_random.h"
#include "data/transforms/crop_pad.h"
#include "data/transforms/edges.h"

namespace seg {

std::string PatchConfig::describe() const {
  std::ostringstream s;
  s << size[0] << "×" << size[1] << "×" << size[2] << " patches, " << foreground_ratio * 100
    << "% centred on a foreground class, flips p " << p_flip << " per axis, intensity ×U(" << 1 - intensity_scale
    << ", " << 1 + intensity_scale << ") + U(±" << intensity_shift << ") per channel";
  return s.str();
}

Patch crop_patch(const Case3d& c, int classes, const std::array<int64_t, 3>& start, const std::array<int64_t, 3>& size,
                 bool edges, bool per_class) {
  Patch p;
  p.dims = size;
  p.start = start;
  p.channels = c.image.channels;
  const int64_t V = size[0] * size[1] * size[2];
  // The image crop, channel by channel (crop_or_pad works on all channels of a Volume at once).
  const Volume img = crop_or_pad(c.image, start, size, c.background);
  p.image = img.data;
  if (!c.has_label) return p;
  const std::array<int64_t, 3> grown_start{start[0] - 1, start[1] - 1, start[2] - 1};
  const std::array<int64_t, 3> grown{size[0] + 2, size[1] + 2, size[2] + 2};
  const Volume lab = crop_or_pad(c.label, grown_start, grown, 0.f);
  p.label.resize(static_cast<size_t>(V));
  auto inner = [&](int64_t x, int64_t y, int64_t z) { return (x + 1) + grown[0] * ((y + 1) + grown[1] * (z + 1)); };
  for (int64_t z = 0; z < size[2]; ++z)
    for (int64_t y = 0; y < size[1]; ++y)
      for (int64_t x = 0; x < size[0]; ++x)
        p.label[static_cast<size_t>(x + size[0] * (y + size[1] * z))] =
            static_cast<uint8_t>(lab.data[static_cast<size_t>(inner(x, y, z))]);
  if (!edges) return p;
  const int64_t GV = grown[0] * grown[1] * grown[2];
  const Volume e = sobel_edges_onehot(lab, classes);  // channel k: edges of class k on the grown box
  p.edge_channels = per_class ? classes - 1 : 1;
  p.edges.assign(static_cast<size_t>(p.edge_channels * V), 0.f);
  for (int k = 1; k < classes; ++k) {
    const int64_t ch = per_class ? k - 1 : 0;
    for (int64_t z = 0; z < size[2]; ++z)
      for (int64_t y = 0; y < size[1]; ++y)
        for (int64_t x = 0; x < size[0]; ++x)
          if (e.data[static_cast<size_t>(k * GV + inner(x, y, z))] != 0)
            p.edges[static_cast<size_t>(ch * V + x + size[0] * (y + size[1] * z))] = 1.f;
  }
  return p;
}

namespace {
// Reverses axis a (0 x, 1 y, 2 z) of `planes` planes of dims d, in place.
template <class T>
void flip_axis(std::vector<T>& v, int64_t planes, const std::array<int64_t, 3>& d, int a) {
  const int64_t V = d[0] * d[1] * d[2];
  for (int64_t c = 0; c < planes; ++c)
    for (int64_t z = 0; z < d[2]; ++z)
      for (int64_t y = 0; y < d[1]; ++y)
        for (int64_t x = 0; x < d[0]; ++x) {
          int64_t xx = x, yy = y, zz = z;
          if (a == 0) { if (x >= d[0] / 2) continue; xx = d[0] - 1 - x; }
          if (a == 1) { if (y >= d[1] / 2) continue; yy = d[1] - 1 - y; }
          if (a == 2) { if (z >= d[2] / 2) continue; zz = d[2] - 1 - z; }
          std::swap(v[static_cast<size_t>(c * V + x + d[0] * (y + d[1] * z))],
                    v[static_cast<size_t>(c * V + xx + d[0] * (yy + d[1] * zz))]);
        }
}
}  // namespace

Patch sample_patch(const Case3d& c, int classes, const PatchConfig& cfg, uint64_t seed, uint64_t index) {
  for (int a = 0; a < 3; ++a)
    if (cfg.size[a] < 1) throw std::invalid_argument("sample_patch: patch sizes must be positive");
  PhantomRandom r(seed ^ 0x9A7C4ull, index);
  const std::array<int64_t, 3>& n = c.image.dims;
  std::array<int64_t, 3> centre{};
  bool fg = false;
  if (c.has_label && r.uniform() < cfg.foreground_ratio) {
    std::vector<size_t> present;
    for (size_t k = 0; k < c.class_voxels.size(); ++k)
      if (!c.class_voxels[k].empty()) present.push_back(k);
    if (!present.empty()) {
      const auto& vox = c.class_voxels[present[static_cast<size_t>(r.uniform() * static_cast<double>(present.size())) % present.size()]];
      const int64_t i = vox[static_cast<size_t>(r.uniform() * static_cast<double>(vox.size())) % vox.size()];
      centre = {i % n[0], (i / n[0]) % n[1], i / (n[0] * n[1])};
      fg = true;
    }
  }
  std::array<int64_t, 3> start{};
  for (int a = 0; a < 3; ++a) {
    if (fg) {
      start[a] = centre[a] - cfg.size[a] / 2;
    } else {
      const int64_t span = std::max<int64_t>(0, n[a] - cfg.size[a]);  // a patch larger than the volume is centred
      start[a] = n[a] >= cfg.size[a] ? static_cast<int64_t>(r.uniform() * static_cast<double>(span + 1)) % (span + 1)
                                     : -(cfg.size[a] - n[a]) / 2;
    }
  }
  Patch p = crop_patch(c, classes, start, cfg.size, cfg.edges, cfg.edges_per_class);
  p.foreground = fg;
  for (int a = 0; a < 3; ++a) {
    p.flipped[a] = r.uniform() < cfg.p_flip;
    if (!p.flipped[a]) continue;
    flip_axis(p.image, p.channels, p.dims, a);
    if (!p.label.empty()) flip_axis(p.label, 1, p.dims, a);
    if (!p.edges.empty()) flip_axis(p.edges, p.edge_channels, p.dims, a);
  }
  const int64_t V = p.dims[0] * p.dims[1] * p.dims[2];
  for (int64_t k = 0; k < p.channels; ++k) {
    const float s = static_cast<float>(r.uniform(1 - cfg.intensity_scale, 1 + cfg.intensity_scale));
    const float b = static_cast<float>(r.uniform(-cfg.intensity_shift, cfg.intensity_shift));
    for (int64_t i = 0; i < V; ++i) {
      float& v = p.image[static_cast<size_t>(k * V + i)];
      v = v * s + b;
    }
  }
  return p;
}

}  // namespace seg
