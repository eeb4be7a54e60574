// Distance and contour maps (see distance_maps.h).
#include "data/transforms/distance_maps.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/metrics/distance_transform.h"

namespace seg {

namespace {

std::vector<uint8_t> binary(const Volume& v, int label) {
  std::vector<uint8_t> m(static_cast<size_t>(v.voxels()));
  for (size_t i = 0; i < m.size(); ++i) m[i] = label < 0 ? v.data[i] != 0 : std::lround(v.data[i]) == label;
  return m;
}

// One block (a slice or the whole volume) of the distance map.
void distance_block(const std::vector<uint8_t>& m, const std::array<int64_t, 3>& dims, const std::array<double, 3>& sp,
                    DistanceVariant var, bool normalise, float* out) {
  const size_t n = m.size();
  bool any = false;
  for (uint8_t b : m) any = any || b;
  if (!any) {
    std::fill(out, out + n, 0.f);
    return;
  }
  std::vector<double> d;
  if (var == DistanceVariant::D1) {
    d = distance_to(m, dims, sp);
  } else {
    const std::vector<uint8_t> boundary = surface_of(m, dims);
    d = distance_to(boundary, dims, sp);
    if (var == DistanceVariant::D3)
      for (size_t i = 0; i < n; ++i)
        if (m[i]) d[i] = -d[i];
  }
  double mx = 0;
  for (double x : d) mx = std::max(mx, std::fabs(x));
  const double s = normalise && mx > 0 ? 1.0 / mx : 1.0;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(d[i] * s);
}

}  // namespace

DistanceVariant parse_distance_variant(const std::string& s) {
  std::string u = s;
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "D1") return DistanceVariant::D1;
  if (u == "D2") return DistanceVariant::D2;
  if (u == "D3") return DistanceVariant::D3;
  throw std::invalid_argument("unknown distance-map variant '" + s + "' (expected D1, D2 or D3)");
}

Volume distance_map(const Volume& mask, DistanceVariant variant, int label, bool per_slice, bool normalise) {
  Volume out = mask;
  out.channels = 1;
  out.datatype = "float32";
  out.data.assign(static_cast<size_t>(mask.voxels()), 0.f);
  const std::vector<uint8_t> m = binary(mask, label);
  if (!per_slice || mask.nz() == 1) {
    distance_block(m, mask.dims, mask.spacing, variant, normalise, out.data.data());
    return out;
  }
  const int64_t P = mask.nx() * mask.ny();
  for (int64_t z = 0; z < mask.nz(); ++z) {
    const std::vector<uint8_t> s(m.begin() + z * P, m.begin() + (z + 1) * P);
    distance_block(s, {mask.nx(), mask.ny(), 1}, mask.spacing, variant, normalise, out.data.data() + z * P);
  }
  return out;
}

Volume contour_map(const Volume& mask, double radius_px, int label) {
  if (!(radius_px >= 0)) throw std::invalid_argument("contour_map: radius must be >= 0");
  Volume out = mask;
  out.channels = 1;
  out.datatype = "uint8";
  out.data.assign(static_cast<size_t>(mask.voxels()), 0.f);
  const std::vector<uint8_t> m = binary(mask, label);
  const int64_t P = mask.nx() * mask.ny();
  const std::array<int64_t, 3> dims{mask.nx(), mask.ny(), 1};
  for (int64_t z = 0; z < mask.nz(); ++z) {
    const std::vector<uint8_t> s(m.begin() + z * P, m.begin() + (z + 1) * P);
    const std::vector<uint8_t> boundary = surface_of(s, dims);
    if (std::find(boundary.begin(), boundary.end(), 1) == boundary.end()) continue;
    const std::vector<double> d = distance_to(boundary, dims, {1.0, 1.0, 1.0});
    for (int64_t p = 0; p < P; ++p) out.data[static_cast<size_t>(z * P + p)] = d[static_cast<size_t>(p)] <= radius_px + 1e-9 ? 1.f : 0.f;
  }
  return out;
}

}  // namespace seg
