// DICOM series reader through DCMTK (see dicom.h).
// Key decisions: files that are not DICOM images (DICOMDIR, notes) are skipped, but a folder with no image, mixed
// series, multi-frame or colour data, inconsistent geometry, duplicate or unevenly spaced slices is an error;
// compressed transfer syntaxes (JPEG, RLE) are decoded by DCMTK's registered codecs.
#include "data/formats/dicom.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

namespace {

struct Slice {
  std::string file, series;
  int rows = 0, cols = 0;
  double ipp[3] = {0, 0, 0}, iop[6] = {1, 0, 0, 0, 1, 0}, ps[2] = {1, 1};
  double thickness = 0, position = 0;
  bool has_ps = false, has_thickness = false;
  std::string stored;  // "uint8", "uint16", "int16"
  std::vector<float> values;
};

void init_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);  // a library should not print DCMTK's warnings on stderr
  });
}

bool get_doubles(DcmDataset* ds, const DcmTagKey& tag, double* out, int n) {
  for (int i = 0; i < n; ++i) {
    Float64 v;
    if (ds->findAndGetFloat64(tag, v, static_cast<unsigned long>(i)).bad() || !std::isfinite(v)) return false;
    out[i] = v;
  }
  return true;
}

// Returns false (with `why`) when the file is not a DICOM image; throws on a broken image.
bool read_slice(const std::string& file, Slice& s, std::string& why) {
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(file.c_str());
  if (c.bad()) {
    why = c.text();
    return false;
  }
  DcmDataset* ds = ff.getDataset();
  if (!ds->tagExists(DCM_PixelData)) {
    why = "no pixel data";
    return false;
  }
  s.file = file;
  OFString str;
  if (ds->findAndGetOFString(DCM_SeriesInstanceUID, str).good()) s.series = str.c_str();
  Uint16 rows = 0, cols = 0, alloc = 0, stored = 0, repr = 0, spp = 1;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  ds->findAndGetUint16(DCM_BitsAllocated, alloc);
  ds->findAndGetUint16(DCM_BitsStored, stored);
  ds->findAndGetUint16(DCM_PixelRepresentation, repr);
  ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
  if (rows == 0 || cols == 0) throw std::runtime_error(file + ": bad DICOM: Rows/Columns missing or 0");
  if (spp != 1) throw std::runtime_error(file + ": unsupported DICOM: " + std::to_string(spp) + " samples per pixel (colour)");
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
    throw std::runtime_error(file + ": unsupported DICOM: multi-frame image (" + std::to_string(frames) + " frames)");
  if (alloc != 8 && alloc != 16)
    throw std::runtime_error(file + ": unsupported DICOM: BitsAllocated " + std::to_string(alloc) + " (8 or 16 supported)");
  if (stored == 0 || stored > alloc) stored = alloc;
  s.rows = rows, s.cols = cols;
  get_doubles(ds, DCM_ImagePositionPatient, s.ipp, 3);
  if (ds->tagExistsWithValue(DCM_ImageOrientationPatient)) {
    // Two unit vectors, perpendicular (within the rounding of DICOM's decimal strings); anything else cannot place
    // a voxel and would give a singular or skewed affine.
    double o[6];
    if (!get_doubles(ds, DCM_ImageOrientationPatient, o, 6))
      throw std::runtime_error(file + ": bad DICOM: ImageOrientationPatient is not six finite numbers");
    const double lr = std::sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]), lc = std::sqrt(o[3] * o[3] + o[4] * o[4] + o[5] * o[5]);
    const double dot = o[0] * o[3] + o[1] * o[4] + o[2] * o[5];
    if (std::abs(lr - 1) > 1e-2 || std::abs(lc - 1) > 1e-2 || std::abs(dot) > 1e-2) {
      std::string t;
      for (double x : o) t.append(t.empty() ? "" : "\\").append(io::format_double(x));
      throw std::runtime_error(file + ": bad DICOM: ImageOrientationPatient " + t +
                               " is not two perpendicular unit vectors (row and column directions)");
    }
    std::copy(o, o + 6, s.iop);
  }
  s.has_ps = ds->tagExistsWithValue(DCM_PixelSpacing);
  if (s.has_ps) {
    if (!get_doubles(ds, DCM_PixelSpacing, s.ps, 2))
      throw std::runtime_error(file + ": bad DICOM: PixelSpacing is not two finite numbers");
    if (!(s.ps[0] > 0 && s.ps[1] > 0))
      throw std::runtime_error(file + ": bad DICOM: PixelSpacing " + io::format_double(s.ps[0]) + "\\" +
                               io::format_double(s.ps[1]) + " (row and column spacings must be > 0 mm)");
  } else {
    s.ps[0] = s.ps[1] = 1.0;
  }
  s.has_thickness = get_doubles(ds, DCM_SliceThickness, &s.thickness, 1);
  double slope = 1.0, inter = 0.0;
  get_doubles(ds, DCM_RescaleSlope, &slope, 1);
  get_doubles(ds, DCM_RescaleIntercept, &inter, 1);
  if (slope == 0.0) slope = 1.0;

  if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit))
    throw std::runtime_error(file + ": cannot decode the DICOM transfer syntax (unsupported compression)");
  DcmElement* el = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, el).bad() || !el) throw std::runtime_error(file + ": bad DICOM: pixel data unreadable");
  const size_t n = static_cast<size_t>(rows) * cols;
  s.values.resize(n);
  if (alloc == 8) {
    Uint8* p = nullptr;
    if (el->getUint8Array(p).bad() || !p || el->getLength() < n)
      throw std::runtime_error(file + ": truncated data: pixel data holds " + std::to_string(el->getLength()) +
                               " bytes, " + std::to_string(rows) + "x" + std::to_string(cols) + " needs " + std::to_string(n));
    for (size_t i = 0; i < n; ++i) s.values[i] = static_cast<float>(p[i] * slope + inter);
    s.stored = "uint8";
  } else {
    Uint16* p = nullptr;
    if (el->getUint16Array(p).bad() || !p || el->getLength() < 2 * n)
      throw std::runtime_error(file + ": truncated data: pixel data holds " + std::to_string(el->getLength()) +
                               " bytes, " + std::to_string(rows) + "x" + std::to_string(cols) + " needs " + std::to_string(2 * n));
    const uint32_t mask = stored >= 16 ? 0xFFFFu : ((1u << stored) - 1u);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t u = p[i] & mask;
      // Signed data: sign-extend from BitsStored bits.
      const int32_t v = repr == 1 && (u & (1u << (stored - 1))) ? static_cast<int32_t>(u) - static_cast<int32_t>(mask) - 1
                                                                : static_cast<int32_t>(u);
      s.values[i] = static_cast<float>(v * slope + inter);
    }
    s.stored = repr == 1 ? "int16" : "uint16";
  }
  return true;
}

}  // namespace

Volume read_dicom(const std::string& path) {
  init_dcmtk();
  std::vector<std::string> files;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(path, ec))
      if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
  } else if (std::filesystem::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    throw std::runtime_error(path + ": no such file or folder");
  }
  std::vector<Slice> slices;
  std::string skipped;
  for (const auto& f : files) {
    Slice s;
    std::string why;
    if (read_slice(f, s, why)) slices.push_back(std::move(s));
    else if (skipped.size() < 400) skipped += " " + std::filesystem::path(f).filename().string() + " (" + why + ")";
  }
  if (slices.empty())
    throw std::runtime_error(path + ": no DICOM image found (" + std::to_string(files.size()) + " files;" +
                             (skipped.empty() ? std::string(" none") : skipped) + ")");
  std::set<std::string> series;
  for (const auto& s : slices) series.insert(s.series);
  if (series.size() > 1) {
    std::string list;
    for (const auto& u : series) list += " " + u;
    throw std::runtime_error(path + ": the folder mixes " + std::to_string(series.size()) +
                             " DICOM series (SeriesInstanceUID:" + list + "); put one series per folder");
  }
  const Slice& s0 = slices[0];
  for (const auto& s : slices) {
    bool same = s.rows == s0.rows && s.cols == s0.cols && std::abs(s.ps[0] - s0.ps[0]) < 1e-4 && std::abs(s.ps[1] - s0.ps[1]) < 1e-4;
    for (int i = 0; i < 6; ++i) same = same && std::abs(s.iop[i] - s0.iop[i]) < 1e-4;
    if (!same)
      throw std::runtime_error(path + ": slices disagree in size, pixel spacing or orientation: " + s0.file + " vs " + s.file);
  }
  const double* r = s0.iop;
  const double* c = s0.iop + 3;
  const double nrm[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
  for (auto& s : slices) s.position = s.ipp[0] * nrm[0] + s.ipp[1] * nrm[1] + s.ipp[2] * nrm[2];
  std::stable_sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) { return a.position < b.position; });
  if (!s0.has_ps) io::warn(path + ": no PixelSpacing in " + s0.file + "; assuming 1 x 1 mm pixels");
  double dz = s0.thickness > 0 ? s0.thickness : 1.0;
  if (slices.size() == 1 && s0.has_thickness && !(s0.thickness > 0))
    io::warn(s0.file + ": SliceThickness is " + io::format_double(s0.thickness) + "; assuming 1 mm for the single slice");
  if (slices.size() > 1) {
    dz = (slices.back().position - slices.front().position) / static_cast<double>(slices.size() - 1);
    for (size_t k = 1; k < slices.size(); ++k) {
      const double d = slices[k].position - slices[k - 1].position;
      if (d < 1e-4)
        throw std::runtime_error(path + ": duplicate slice position " + io::format_double(slices[k].position) + " in " +
                                 slices[k - 1].file + " and " + slices[k].file);
      if (std::abs(d - dz) > 0.01 * dz + 1e-3)
        throw std::runtime_error(path + ": uneven slice spacing (" + io::format_double(d) + " mm between " +
                                 slices[k - 1].file + " and " + slices[k].file + ", mean " + io::format_double(dz) + " mm)");
    }
  }
  Volume v;
  v.dims = {slices[0].cols, slices[0].rows, static_cast<int64_t>(slices.size())};
  io::checked_elements(v.dims, 1, path);
  v.spacing = {slices[0].ps[1], slices[0].ps[0], dz};
  const Slice& first = slices.front();
  for (int i = 0; i < 3; ++i) {
    const double flip = i < 2 ? -1.0 : 1.0;  // LPS -> RAS
    v.affine[i][0] = flip * r[i] * v.spacing[0];
    v.affine[i][1] = flip * c[i] * v.spacing[1];
    v.affine[i][2] = flip * nrm[i] * dz;
    v.affine[i][3] = flip * first.ipp[i];
  }
  for (auto& row : v.affine)
    for (double& x : row) x += 0.0;  // -0 from the LPS flip prints as "-0"
  const size_t plane = static_cast<size_t>(v.nx() * v.ny());
  v.data.resize(plane * slices.size());
  for (size_t k = 0; k < slices.size(); ++k) std::copy(slices[k].values.begin(), slices[k].values.end(), v.data.begin() + k * plane);
  // The stored type unless rescaling left it (CT: uint16 + intercept -1024 -> int16); float32 when not integral.
  v.datatype = "float32";
  for (const char* dt : {first.stored.c_str(), "int16", "int32"})
    if (io::representable(v.data, dt)) {
      v.datatype = dt;
      break;
    }
  return v;
}

}  // namespace seg
