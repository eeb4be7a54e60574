// NIfTI-1/2 reader and NIfTI-1 writer (see nifti.h). Field offsets follow nifti1.h / nifti2.h of the NIfTI standard.
// Key decision: the header is decoded field by field from bytes (either byte order) rather than through a packed
// struct, so hostile files cannot cause misaligned or out-of-range reads; every size is checked before it is used.
#include "data/formats/nifti.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

namespace {

struct Reader {
  const std::vector<uint8_t>& b;
  bool swap;
  template <typename T>
  T get(size_t off) const {
    T v;
    std::memcpy(&v, b.data() + off, sizeof(T));
    if (swap) {
      uint8_t t[sizeof(T)];
      std::memcpy(t, &v, sizeof(T));
      std::reverse(t, t + sizeof(T));
      std::memcpy(&v, t, sizeof(T));
    }
    return v;
  }
};

int32_t bswap32(int32_t v) { return static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(v))); }

bool finite_pos(double v) { return std::isfinite(v) && v > 0; }

// The NIfTI standard's nifti_quatern_to_mat44.
std::array<std::array<double, 4>, 3> quatern_to_affine(double b, double c, double d, double qx, double qy, double qz,
                                                       double dx, double dy, double dz, double qfac) {
  double a = 1.0 - (b * b + c * c + d * d);
  if (a < 1.e-7) {  // special case: a 180-degree rotation, renormalise (b,c,d)
    a = 1.0 / std::sqrt(b * b + c * c + d * d);
    b *= a, c *= a, d *= a;
    a = 0.0;
  } else {
    a = std::sqrt(a);
  }
  const double xd = dx > 0 ? dx : 1.0, yd = dy > 0 ? dy : 1.0;
  double zd = dz > 0 ? dz : 1.0;
  if (qfac < 0) zd = -zd;
  std::array<std::array<double, 4>, 3> m{};
  m[0] = {(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, qx};
  m[1] = {2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, qy};
  m[2] = {2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, qz};
  return m;
}

// The NIfTI standard's nifti_mat44_to_quatern for an (assumed orthogonal) rotation; returns b, c, d, qfac.
std::array<double, 4> affine_to_quatern(const std::array<std::array<double, 4>, 3>& m) {
  double r[3][3];
  for (int j = 0; j < 3; ++j) {
    const double n = std::sqrt(m[0][j] * m[0][j] + m[1][j] * m[1][j] + m[2][j] * m[2][j]);
    for (int i = 0; i < 3; ++i) r[i][j] = n > 0 ? m[i][j] / n : (i == j ? 1.0 : 0.0);
  }
  const double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
                     r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
                     r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  double qfac = 1.0;
  if (det < 0) {
    qfac = -1.0;
    for (int i = 0; i < 3; ++i) r[i][2] = -r[i][2];
  }
  double a = r[0][0] + r[1][1] + r[2][2] + 1.0, b, c, d;
  if (a > 0.5) {
    a = 0.5 * std::sqrt(a);
    b = 0.25 * (r[2][1] - r[1][2]) / a;
    c = 0.25 * (r[0][2] - r[2][0]) / a;
    d = 0.25 * (r[1][0] - r[0][1]) / a;
  } else {
    const double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
    const double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
    const double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1.0) {
      b = 0.5 * std::sqrt(xd);
      c = 0.25 * (r[0][1] + r[1][0]) / b;
      d = 0.25 * (r[0][2] + r[2][0]) / b;
      a = 0.25 * (r[2][1] - r[1][2]) / b;
    } else if (yd > 1.0) {
      c = 0.5 * std::sqrt(yd);
      b = 0.25 * (r[0][1] + r[1][0]) / c;
      d = 0.25 * (r[1][2] + r[2][1]) / c;
      a = 0.25 * (r[0][2] - r[2][0]) / c;
    } else {
      d = 0.5 * std::sqrt(zd);
      b = 0.25 * (r[0][2] + r[2][0]) / d;
      c = 0.25 * (r[1][2] + r[2][1]) / d;
      a = 0.25 * (r[1][0] - r[0][1]) / d;
    }
    if (a < 0) b = -b, c = -c, d = -d;
  }
  // For (near) 180-degree rotations a ~ 0 is rebuilt by readers as sqrt(1 - b²-c²-d²) from float32 b, c, d, where
  // rounding leaves ~1e-4 and tilts the axes; a (b,c,d) of length just above 1 makes readers clamp a to exactly 0.
  if (std::abs(a) < 1e-4) {
    const double len = std::sqrt(b * b + c * c + d * d);
    float q[3] = {static_cast<float>(b / len), static_cast<float>(c / len), static_cast<float>(d / len)};
    int big = 0;
    for (int i = 1; i < 3; ++i)
      if (std::abs(q[i]) > std::abs(q[big])) big = i;
    // Grow the largest component one float step at a time until 1 - |q|² <= 0 in float and in double arithmetic
    // (nibabel tolerates down to -3 float eps; the NIfTI C library treats anything below 1e-7 as 0).
    for (int step = 0; step < 16; ++step) {
      const float sf = q[0] * q[0] + q[1] * q[1] + q[2] * q[2];
      const double sd = double(q[0]) * q[0] + double(q[1]) * q[1] + double(q[2]) * q[2];
      if (1.0f - sf <= 0.0f && 1.0 - sd <= 0.0) break;
      q[big] = std::nextafter(q[big], q[big] < 0 ? -2.0f : 2.0f);
    }
    b = q[0], c = q[1], d = q[2];
  }
  return {b, c, d, qfac};
}

}  // namespace

std::string nifti_datatype_name(int code) {
  switch (code) {
    case 2: return "uint8";
    case 4: return "int16";
    case 8: return "int32";
    case 16: return "float32";
    case 64: return "float64";
    case 256: return "int8";
    case 512: return "uint16";
    case 768: return "uint32";
    case 1024: return "int64";
    case 1280: return "uint64";
    default: return "";
  }
}

int nifti_datatype_code(const std::string& name) {
  for (int code : {2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280})
    if (nifti_datatype_name(code) == name) return code;
  return 0;
}

Volume parse_nifti(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.size() < 4) throw std::runtime_error(name + ": not a NIfTI file: only " + std::to_string(bytes.size()) + " bytes");
  int32_t sh;
  std::memcpy(&sh, bytes.data(), 4);
  int version = 0;
  bool swap = false;
  if (sh == 348 || bswap32(sh) == 348) version = 1, swap = sh != 348;
  else if (sh == 540 || bswap32(sh) == 540) version = 2, swap = sh != 540;
  else
    throw std::runtime_error(name + ": bad magic: not a NIfTI file (sizeof_hdr is " + std::to_string(sh) +
                             ", expected 348 for NIfTI-1 or 540 for NIfTI-2)");
  const size_t hdr = version == 1 ? 348 : 540;
  if (bytes.size() < hdr)
    throw std::runtime_error(name + ": truncated header: " + std::to_string(bytes.size()) + " bytes, NIfTI-" +
                             std::to_string(version) + " needs " + std::to_string(hdr));
  Reader r{bytes, swap};
  const char* magic = reinterpret_cast<const char*>(bytes.data()) + (version == 1 ? 344 : 4);
  const bool single = version == 1 ? std::memcmp(magic, "n+1\0", 4) == 0 : std::memcmp(magic, "n+2\0\r\n\032\n", 8) == 0;
  const bool pair = version == 1 ? std::memcmp(magic, "ni1\0", 4) == 0 : std::memcmp(magic, "ni2\0", 4) == 0;
  if (pair) throw std::runtime_error(name + ": a .hdr/.img NIfTI pair header; only single-file .nii is supported");
  if (!single) throw std::runtime_error(name + ": bad magic: NIfTI-" + std::to_string(version) + " magic string missing");

  int64_t dim[8];
  double pixdim[8];
  int code;
  double vox_offset, slope, inter;
  int qform_code, sform_code;
  double qb, qc, qd, qx, qy, qz, srow[3][4];
  if (version == 1) {
    for (int i = 0; i < 8; ++i) dim[i] = r.get<int16_t>(40 + 2 * i), pixdim[i] = r.get<float>(76 + 4 * i);
    code = r.get<int16_t>(70);
    vox_offset = r.get<float>(108);
    slope = r.get<float>(112), inter = r.get<float>(116);
    qform_code = r.get<int16_t>(252), sform_code = r.get<int16_t>(254);
    qb = r.get<float>(256), qc = r.get<float>(260), qd = r.get<float>(264);
    qx = r.get<float>(268), qy = r.get<float>(272), qz = r.get<float>(276);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) srow[i][j] = r.get<float>(280 + 16 * i + 4 * j);
  } else {
    for (int i = 0; i < 8; ++i) dim[i] = r.get<int64_t>(16 + 8 * i), pixdim[i] = r.get<double>(104 + 8 * i);
    code = r.get<int16_t>(12);
    const int64_t off = r.get<int64_t>(168);
    vox_offset = static_cast<double>(off);
    slope = r.get<double>(176), inter = r.get<double>(184);
    qform_code = r.get<int32_t>(344), sform_code = r.get<int32_t>(348);
    qb = r.get<double>(352), qc = r.get<double>(360), qd = r.get<double>(368);
    qx = r.get<double>(376), qy = r.get<double>(384), qz = r.get<double>(392);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) srow[i][j] = r.get<double>(400 + 32 * i + 8 * j);
  }

  if (dim[0] < 1 || dim[0] > 7)
    throw std::runtime_error(name + ": bad header: dim[0] (number of dimensions) is " + std::to_string(dim[0]) +
                             ", expected 1..7");
  for (int i = 1; i <= dim[0]; ++i)
    if (dim[i] < 1)
      throw std::runtime_error(name + ": bad header: dim[" + std::to_string(i) + "] is " + std::to_string(dim[i]) +
                               " (must be >= 1)");
  const std::string dt = nifti_datatype_name(code);
  if (dt.empty())
    throw std::runtime_error(name + ": unsupported datatype code " + std::to_string(code) +
                             " (supported: uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64)");

  Volume v;
  v.datatype = dt;
  for (int i = 0; i < 3; ++i) v.dims[i] = i + 1 <= dim[0] ? dim[i + 1] : 1;
  v.channels = 1;
  for (int i = 4; i <= dim[0]; ++i) v.channels = io::checked_mul(v.channels, dim[i], name, "channel count");
  const int64_t n = io::checked_elements(v.dims, v.channels, name);
  const int64_t nbytes = io::checked_mul(n, static_cast<int64_t>(io::datatype_size(dt)), name, "data size");
  if (!std::isfinite(vox_offset) || vox_offset < static_cast<double>(hdr) || vox_offset > 1e15)
    throw std::runtime_error(name + ": bad header: vox_offset " + std::to_string(vox_offset) + " (must be >= " +
                             std::to_string(hdr) + ")");
  const int64_t off = static_cast<int64_t>(vox_offset);
  if (off > static_cast<int64_t>(bytes.size()) || nbytes > static_cast<int64_t>(bytes.size()) - off)
    throw std::runtime_error(name + ": truncated data: header declares " + std::to_string(nbytes) + " bytes of " + dt +
                             " at offset " + std::to_string(off) + ", file holds " +
                             std::to_string(static_cast<int64_t>(bytes.size()) - std::min<int64_t>(off, bytes.size())));

  // nibabel's rule: a slope of 0 or NaN means "no scaling"; a NaN intercept means 0.
  const bool scaled = std::isfinite(slope) && slope != 0.0;
  const double s = scaled ? slope : 1.0, b0 = scaled && std::isfinite(inter) ? inter : 0.0;
  v.data.resize(static_cast<size_t>(n));
  io::decode_samples(bytes.data() + off, static_cast<size_t>(n), dt, swap, s, b0, v.data.data());

  // The affine: sform, else qform, else pixdim alone (the standard's methods 3, 2, 1). A coded matrix that is not
  // finite or is singular cannot place a voxel; the next method is used with a warning, and none left is an error.
  const auto usable = [](const std::array<std::array<double, 4>, 3>& m) {
    for (const auto& row : m)
      for (double x : row)
        if (!std::isfinite(x)) return false;
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    return std::isfinite(det) && det != 0.0;
  };
  const auto matrix_text = [](const std::array<std::array<double, 4>, 3>& m) {
    std::string t;
    for (const auto& row : m)
      for (int j = 0; j < 4; ++j) t += (t.empty() ? "" : j ? " " : "; ") + io::format_double(row[j]);
    return t;
  };
  bool placed = false;
  if (sform_code > 0) {
    std::array<std::array<double, 4>, 3> m{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) m[i][j] = srow[i][j];
    if (usable(m)) {
      v.affine = m, placed = true;
    } else if (qform_code > 0) {
      io::warn(name + ": the sform (srow_x/y/z = " + matrix_text(m) + ") is singular or not finite; using the qform");
    } else {
      throw std::runtime_error(name + ": bad header: the sform (srow_x/y/z = " + matrix_text(m) +
                               ") is singular or not finite, and there is no qform to fall back on");
    }
  }
  // The quaternion's spacings: |pixdim| where it is a positive finite number, 1 otherwise (the standard's rule).
  if (!placed && qform_code > 0) {
    const auto m = quatern_to_affine(qb, qc, qd, qx, qy, qz, std::abs(pixdim[1]), std::abs(pixdim[2]),
                                     std::abs(pixdim[3]), pixdim[0]);
    if (!usable(m))
      throw std::runtime_error(name + ": bad header: the qform (quatern_b/c/d " + io::format_double(qb) + " " +
                               io::format_double(qc) + " " + io::format_double(qd) + ", offsets " + io::format_double(qx) +
                               " " + io::format_double(qy) + " " + io::format_double(qz) + ") is not finite");
    v.affine = m, placed = true;
  }
  if (!placed)  // NIfTI "method 1": pixdim scaling only
    v.affine = {{{finite_pos(std::abs(pixdim[1])) ? std::abs(pixdim[1]) : 1.0, 0, 0, 0},
                 {0, finite_pos(std::abs(pixdim[2])) ? std::abs(pixdim[2]) : 1.0, 0, 0},
                 {0, 0, finite_pos(std::abs(pixdim[3])) ? std::abs(pixdim[3]) : 1.0, 0}}};
  // Spacing: |pixdim| of each axis. For an axis the image has, a pixdim that is 0, NaN or infinite (allowed by the
  // format: "unknown") is replaced by the length of the affine's column, and a negative one by its magnitude, each
  // with a warning naming the value read and the value used; axes beyond dim[0] take the column length silently.
  for (int i = 0; i < 3; ++i) {
    const double raw = pixdim[i + 1], p = std::abs(raw);
    const double col = std::sqrt(v.affine[0][i] * v.affine[0][i] + v.affine[1][i] * v.affine[1][i] +
                                 v.affine[2][i] * v.affine[2][i]);
    const bool has_axis = i + 1 <= dim[0];
    v.spacing[i] = (has_axis && finite_pos(p)) ? p : (finite_pos(col) ? col : 1.0);
    if (has_axis && !(finite_pos(raw)))
      io::warn(name + ": pixdim[" + std::to_string(i + 1) + "] (voxel size along axis " + std::to_string(i) + ") is " +
               io::format_double(raw) + (finite_pos(p) ? " (negative); using its magnitude " : "; assuming ") +
               io::format_double(v.spacing[i]) + " mm");
  }
  return v;
}

Volume read_nifti(const std::string& path) {
  // The header bounds the data at kMaxElements * 8 bytes (+ offset); anything longer is not a sane NIfTI file.
  const size_t cap = static_cast<size_t>(io::kMaxElements) * 8 + (size_t(1) << 24);
  return parse_nifti(io::read_gz_file(path, cap), path);
}

void write_nifti(const std::string& path, const Volume& vol, const std::string& datatype) {
  const std::string dt = datatype.empty() ? vol.datatype : datatype;
  const int code = nifti_datatype_code(dt);
  if (!code) throw std::runtime_error(path + ": cannot write datatype '" + dt + "' as NIfTI");
  const int64_t n = io::checked_elements(vol.dims, vol.channels, path);
  if (static_cast<int64_t>(vol.data.size()) != n)
    throw std::runtime_error(path + ": volume holds " + std::to_string(vol.data.size()) + " values, dims say " +
                             std::to_string(n));
  for (int i = 0; i < 3; ++i)
    if (vol.dims[i] > 32767) throw std::runtime_error(path + ": dimension " + std::to_string(vol.dims[i]) + " exceeds NIfTI-1's 32767");
  if (vol.channels > 32767) throw std::runtime_error(path + ": too many channels for NIfTI-1");

  // Integer types that cannot hold the values get a slope/intercept (nibabel's choice), never silent clipping.
  double slope = 1.0, inter = 0.0;
  std::vector<float> scaled;
  const std::vector<float>* src = &vol.data;
  if (io::datatype_is_integer(dt) && !io::representable(vol.data, dt)) {
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (float f : vol.data)
      if (std::isfinite(f)) lo = std::min(lo, f), hi = std::max(hi, f);
    if (lo > hi) lo = hi = 0.f;
    auto [tlo, thi] = io::datatype_range(dt);
    if (dt == "int64" || dt == "uint64" || dt == "int32" || dt == "uint32")  // keep the scaled range float-exact
      tlo = std::max(tlo, -16777216.0), thi = std::min(thi, 16777216.0);
    slope = hi > lo ? (static_cast<double>(hi) - lo) / (thi - tlo) : 1.0;
    inter = static_cast<double>(lo) - tlo * slope;
    scaled.resize(vol.data.size());
    for (size_t i = 0; i < scaled.size(); ++i) scaled[i] = static_cast<float>((vol.data[i] - inter) / slope);
    src = &scaled;
  }

  const size_t voxoff = 352;
  const std::vector<uint8_t> payload = io::encode_samples(src->data(), src->size(), dt);
  std::vector<uint8_t> buf(voxoff, 0);
  io::put_le<int32_t>(buf, 0, 348);
  buf[39] = 0;  // dim_info
  const int16_t ndim = vol.channels > 1 ? 4 : 3;
  const int16_t dims[8] = {ndim, static_cast<int16_t>(vol.dims[0]), static_cast<int16_t>(vol.dims[1]),
                           static_cast<int16_t>(vol.dims[2]), static_cast<int16_t>(vol.channels), 1, 1, 1};
  for (int i = 0; i < 8; ++i) io::put_le<int16_t>(buf, 40 + 2 * i, dims[i]);
  io::put_le<int16_t>(buf, 70, static_cast<int16_t>(code));
  io::put_le<int16_t>(buf, 72, static_cast<int16_t>(io::datatype_size(dt) * 8));
  const auto q = affine_to_quatern(vol.affine);
  const float pix[8] = {static_cast<float>(q[3]), static_cast<float>(vol.spacing[0]), static_cast<float>(vol.spacing[1]),
                        static_cast<float>(vol.spacing[2]), 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) io::put_le<float>(buf, 76 + 4 * i, pix[i]);
  io::put_le<float>(buf, 108, static_cast<float>(voxoff));
  io::put_le<float>(buf, 112, static_cast<float>(slope));
  io::put_le<float>(buf, 116, static_cast<float>(inter));
  buf[123] = 2 | 8;  // xyzt_units: mm, s
  const char descrip[] = "segengine";
  std::memcpy(buf.data() + 148, descrip, sizeof descrip - 1);
  io::put_le<int16_t>(buf, 252, 1);  // qform_code: scanner
  io::put_le<int16_t>(buf, 254, 1);  // sform_code: scanner
  for (int i = 0; i < 3; ++i) io::put_le<float>(buf, 256 + 4 * i, static_cast<float>(q[i]));
  for (int i = 0; i < 3; ++i) io::put_le<float>(buf, 268 + 4 * i, static_cast<float>(vol.affine[i][3]));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) io::put_le<float>(buf, 280 + 16 * i + 4 * j, static_cast<float>(vol.affine[i][j]));
  std::memcpy(buf.data() + 344, "n+1\0", 4);
  buf.insert(buf.end(), payload.begin(), payload.end());
  const std::string ext = io::extension(path);
  if (ext != "nii" && ext != "nii.gz") throw std::runtime_error(path + ": a NIfTI file name must end in .nii or .nii.gz");
  io::write_file_atomic(path, buf, ext == "nii.gz");
}

}  // namespace seg
