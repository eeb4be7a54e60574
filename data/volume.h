// Volume: a host-side image or label map with its geometry, the currency of everything in data/.
// Key decision: voxels are stored as float (exact for int16 HU and label ids up to 2^24) in x-fastest order
// (NIfTI's order: index = x + nx*(y + ny*z)); the engine's tensors are built from it by the pipelines.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace seg {

struct Volume {
  std::array<int64_t, 3> dims{1, 1, 1};       // nx, ny, nz (a 2-D image has nz = 1)
  int64_t channels = 1;                         // RGB images: 3, stored as channel-major planes
  std::array<double, 3> spacing{1.0, 1.0, 1.0}; // mm per voxel along x, y, z
  // voxel (i,j,k) -> world (mm): affine[r][0..2]·(i,j,k) + affine[r][3]; identity*spacing when unknown.
  std::array<std::array<double, 4>, 3> affine{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}};
  std::string datatype = "float32";             // the on-disk datatype it was read from / should be written as
  std::vector<float> data;                      // channels * nx * ny * nz values

  int64_t nx() const { return dims[0]; }
  int64_t ny() const { return dims[1]; }
  int64_t nz() const { return dims[2]; }
  int64_t voxels() const { return dims[0] * dims[1] * dims[2]; }
  int64_t index(int64_t x, int64_t y, int64_t z) const { return x + dims[0] * (y + dims[1] * z); }
  float& at(int64_t x, int64_t y, int64_t z) { return data[static_cast<size_t>(index(x, y, z))]; }
  float at(int64_t x, int64_t y, int64_t z) const { return data[static_cast<size_t>(index(x, y, z))]; }

  // Allocates dims with every voxel set to `fill`, spacing on the diagonal of the affine.
  static Volume make(std::array<int64_t, 3> dims, std::array<double, 3> spacing = {1, 1, 1}, float fill = 0.f) {
    Volume v;
    v.dims = dims;
    v.spacing = spacing;
    v.affine = {{{spacing[0], 0, 0, 0}, {0, spacing[1], 0, 0}, {0, 0, spacing[2], 0}}};
    v.data.assign(static_cast<size_t>(dims[0] * dims[1] * dims[2]), fill);
    return v;
  }
};

}  // namespace seg
