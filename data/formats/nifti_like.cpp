// NIfTI written with another file's header (see nifti_like.h).
#include "data/formats/nifti_like.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "data/formats/image_io.h"
#include "data/formats/nifti.h"

namespace seg {

namespace {

template <class T>
T get(const std::vector<uint8_t>& b, size_t off, bool swap) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  if (swap) {
    uint8_t* p = reinterpret_cast<uint8_t*>(&v);
    std::reverse(p, p + sizeof(T));
  }
  return v;
}

template <class T>
void put(std::vector<uint8_t>& b, size_t off, T v, bool swap) {
  uint8_t* p = reinterpret_cast<uint8_t*>(&v);
  if (swap) std::reverse(p, p + sizeof(T));
  std::memcpy(b.data() + off, p, sizeof(T));
}

}  // namespace

NiftiHeaderBytes read_nifti_header(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::vector<uint8_t> b(540);
  const int n = gzread(f, b.data(), 540);
  gzclose(f);
  if (n < 348) throw std::runtime_error(path + ": not a NIfTI file: " + std::to_string(std::max(n, 0)) + " bytes, a header needs 348");
  NiftiHeaderBytes h;
  const int32_t sh = get<int32_t>(b, 0, false), shs = get<int32_t>(b, 0, true);
  if (sh == 348 || shs == 348) h.version = 1, h.swapped = sh != 348;
  else if (sh == 540 || shs == 540) h.version = 2, h.swapped = sh != 540;
  else throw std::runtime_error(path + ": not a NIfTI file (sizeof_hdr is " + std::to_string(sh) + ", expected 348 or 540)");
  const size_t size = h.version == 1 ? 348 : 540;
  if (static_cast<size_t>(n) < size) throw std::runtime_error(path + ": truncated NIfTI-2 header");
  b.resize(size);
  h.raw = b;
  if (h.version == 1) {
    h.qform_code = get<int16_t>(b, 252, h.swapped);
    h.sform_code = get<int16_t>(b, 254, h.swapped);
  } else {
    h.qform_code = get<int32_t>(b, 344, h.swapped);
    h.sform_code = get<int32_t>(b, 348, h.swapped);
  }
  return h;
}

void write_nifti_like(const std::string& path, const NiftiHeaderBytes& like, const Volume& vol, const std::string& datatype,
                      bool intent_label) {
  const int code = nifti_datatype_code(datatype);
  if (code == 0) throw std::invalid_argument(path + ": datatype '" + datatype + "' cannot be written as NIfTI");
  const bool v1 = like.version == 1, sw = like.swapped;
  const size_t hsize = v1 ? 348 : 540;
  if (like.raw.size() != hsize) throw std::invalid_argument(path + ": the template NIfTI header is not " + std::to_string(hsize) + " bytes");
  std::vector<uint8_t> buf(like.raw);
  // the grid must be the template's: dims 1..3 as stored (missing dims are 1)
  int64_t dim[8];
  for (int i = 0; i < 8; ++i) dim[i] = v1 ? get<int16_t>(buf, 40 + 2 * i, sw) : get<int64_t>(buf, 16 + 8 * i, sw);
  for (int i = 1; i <= 3; ++i) {
    const int64_t d = i <= dim[0] ? dim[i] : 1;
    if (d != vol.dims[static_cast<size_t>(i - 1)])
      throw std::invalid_argument(path + ": the volume is " + std::to_string(vol.nx()) + "x" + std::to_string(vol.ny()) + "x" +
                                  std::to_string(vol.nz()) + " but the template header's grid differs in dim " + std::to_string(i));
  }
  if (vol.channels != 1) throw std::invalid_argument(path + ": one channel per file (got " + std::to_string(vol.channels) + ")");
  const int64_t ndim = std::min<int64_t>(std::max<int64_t>(dim[0], vol.nz() > 1 ? 3 : 2), 3);
  const size_t n = static_cast<size_t>(vol.voxels());
  float lo = 0, hi = 0;
  if (n) {
    const auto [a, b] = std::minmax_element(vol.data.begin(), vol.data.begin() + static_cast<std::ptrdiff_t>(n));
    lo = *a, hi = *b;
  }
  const int bitpix = static_cast<int>(io::datatype_size(datatype) * 8);
  if (v1) {
    put<int16_t>(buf, 40, static_cast<int16_t>(ndim), sw);
    for (int i = 4; i < 8; ++i) put<int16_t>(buf, 40 + 2 * i, 1, sw);
    for (size_t off : {56, 60, 64}) put<float>(buf, off, 0.f, sw);  // intent_p1..3
    put<int16_t>(buf, 68, static_cast<int16_t>(intent_label ? 1002 : 0), sw);
    put<int16_t>(buf, 70, static_cast<int16_t>(code), sw);
    put<int16_t>(buf, 72, static_cast<int16_t>(bitpix), sw);
    put<float>(buf, 108, 352.f, sw);
    put<float>(buf, 112, 1.f, sw);
    put<float>(buf, 116, 0.f, sw);
    put<float>(buf, 124, hi, sw);
    put<float>(buf, 128, lo, sw);
    std::memset(buf.data() + 328, 0, 16);  // intent_name
  } else {
    put<int64_t>(buf, 16, ndim, sw);
    for (int i = 4; i < 8; ++i) put<int64_t>(buf, 16 + 8 * i, 1, sw);
    for (size_t off : {80, 88, 96}) put<double>(buf, off, 0.0, sw);
    put<int32_t>(buf, 504, intent_label ? 1002 : 0, sw);
    put<int16_t>(buf, 12, static_cast<int16_t>(code), sw);
    put<int16_t>(buf, 14, static_cast<int16_t>(bitpix), sw);
    put<int64_t>(buf, 168, 544, sw);
    put<double>(buf, 176, 1.0, sw);
    put<double>(buf, 184, 0.0, sw);
    put<double>(buf, 192, hi, sw);
    put<double>(buf, 200, lo, sw);
    std::memset(buf.data() + 508, 0, 16);
  }
  buf.resize(hsize + 4, 0);  // no extensions
  std::vector<uint8_t> data = io::encode_samples(vol.data.data(), n, datatype);
  const size_t es = io::datatype_size(datatype);
  if (sw && es > 1)
    for (size_t i = 0; i < data.size(); i += es) std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i), data.begin() + static_cast<std::ptrdiff_t>(i + es));
  buf.insert(buf.end(), data.begin(), data.end());
  io::write_file_atomic(path, buf, io::extension(path) == "nii.gz");
}

}  // namespace seg
