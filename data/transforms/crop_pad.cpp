// Crop, pad, shift, flip (see crop_pad.h).
#include "data/transforms/crop_pad.h"

#include <stdexcept>
#include <string>

namespace seg {

Volume crop_or_pad(const Volume& v, const std::array<int64_t, 3>& start, const std::array<int64_t, 3>& dims, float fill) {
  if (dims[0] < 1 || dims[1] < 1 || dims[2] < 1) throw std::invalid_argument("crop_or_pad: output dims must be >= 1");
  if (static_cast<int64_t>(v.data.size()) != v.voxels() * v.channels) throw std::invalid_argument("crop_or_pad: data size does not match dims");
  Volume out;
  out.dims = dims;
  out.channels = v.channels;
  out.spacing = v.spacing;
  out.affine = v.affine;
  out.datatype = v.datatype;
  const int64_t ovox = dims[0] * dims[1] * dims[2], ivox = v.voxels();
  out.data.assign(static_cast<size_t>(ovox * v.channels), fill);
  for (int64_t c = 0; c < v.channels; ++c)
    for (int64_t z = 0; z < dims[2]; ++z) {
      const int64_t sz = z + start[2];
      if (sz < 0 || sz >= v.nz()) continue;
      for (int64_t y = 0; y < dims[1]; ++y) {
        const int64_t sy = y + start[1];
        if (sy < 0 || sy >= v.ny()) continue;
        for (int64_t x = 0; x < dims[0]; ++x) {
          const int64_t sx = x + start[0];
          if (sx < 0 || sx >= v.nx()) continue;
          out.data[static_cast<size_t>(c * ovox + x + dims[0] * (y + dims[1] * z))] =
              v.data[static_cast<size_t>(c * ivox + v.index(sx, sy, sz))];
        }
      }
    }
  for (int r = 0; r < 3; ++r)
    for (int a = 0; a < 3; ++a) out.affine[static_cast<size_t>(r)][3] += v.affine[static_cast<size_t>(r)][static_cast<size_t>(a)] * static_cast<double>(start[static_cast<size_t>(a)]);
  return out;
}

Volume center_crop_or_pad(const Volume& v, const std::array<int64_t, 3>& dims, float fill) {
  std::array<int64_t, 3> start{};
  for (size_t a = 0; a < 3; ++a) {
    const int64_t diff = v.dims[a] - dims[a];  // > 0: crop, < 0: pad; floor division puts the odd voxel on the high side
    start[a] = diff >= 0 ? diff / 2 : -((-diff) / 2);
  }
  return crop_or_pad(v, start, dims, fill);
}

Volume shift_integer(const Volume& v, int64_t dx, int64_t dy, int64_t dz, float fill) {
  Volume out = crop_or_pad(v, {-dx, -dy, -dz}, v.dims, fill);
  out.affine = v.affine;  // same grid: the content moved, not the voxels
  return out;
}

Volume flip(const Volume& v, int axis) {
  if (axis < 0 || axis > 2) throw std::invalid_argument("flip: axis must be 0, 1 or 2, got " + std::to_string(axis));
  Volume out = v;
  const int64_t vox = v.voxels(), n = v.dims[static_cast<size_t>(axis)];
  for (int64_t c = 0; c < v.channels; ++c)
    for (int64_t z = 0; z < v.nz(); ++z)
      for (int64_t y = 0; y < v.ny(); ++y)
        for (int64_t x = 0; x < v.nx(); ++x) {
          int64_t s[3] = {x, y, z};
          s[axis] = n - 1 - s[axis];
          out.data[static_cast<size_t>(c * vox + v.index(x, y, z))] = v.data[static_cast<size_t>(c * vox + v.index(s[0], s[1], s[2]))];
        }
  // voxel i of the output is voxel n−1−i of the input: column negated, origin moved to the old last voxel
  for (int r = 0; r < 3; ++r) {
    out.affine[static_cast<size_t>(r)][3] += v.affine[static_cast<size_t>(r)][static_cast<size_t>(axis)] * static_cast<double>(n - 1);
    out.affine[static_cast<size_t>(r)][static_cast<size_t>(axis)] = -v.affine[static_cast<size_t>(r)][static_cast<size_t>(axis)];
  }
  return out;
}

}  // namespace seg
