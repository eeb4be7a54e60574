// DICOM series written here with DCMTK: slices sorted by position along the normal (not by file name), rescale
// applied, oblique orientation carried into the affine, a folder mixing two series refused by name, and slices with
// a skewed orientation, a zero spacing or short pixel data refused naming the file (no PixelSpacing: a warning).
#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dctk.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/formats/image_io.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;

namespace {

// One 4x3 CT slice at z (along the normal of a 90-degree in-plane rotation); pixel = 100*k + index, stored uint16.
void write_slice(const std::string& path, const char* series, int k, double z) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  ds->putAndInsertString(DCM_SeriesInstanceUID, series);
  ds->putAndInsertUint16(DCM_Rows, 3);
  ds->putAndInsertUint16(DCM_Columns, 4);
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 12);
  ds->putAndInsertUint16(DCM_HighBit, 11);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertString(DCM_ImageOrientationPatient, "0\\1\\0\\-1\\0\\0");  // rows along +y, columns along -x
  ds->putAndInsertString(DCM_ImagePositionPatient, ("10\\-20\\" + std::to_string(z)).c_str());
  ds->putAndInsertString(DCM_PixelSpacing, "0.5\\0.75");
  ds->putAndInsertString(DCM_RescaleSlope, "2");
  ds->putAndInsertString(DCM_RescaleIntercept, "-1024");
  std::vector<Uint16> px(12);
  for (int i = 0; i < 12; ++i) px[i] = static_cast<Uint16>(100 * k + i);
  ds->putAndInsertUint16Array(DCM_PixelData, px.data(), 12);
  ASSERT_TRUE(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

TEST(Dicom, SortsByPositionAppliesRescaleAndOrientation) {
  TempDir t;
  std::filesystem::create_directory(t.path / "s");
  // File names in the opposite order of the positions: a reader sorting by name would stack them upside down.
  write_slice(t / "s/a.dcm", "1.2.3", 2, 4.0);
  write_slice(t / "s/b.dcm", "1.2.3", 1, 2.0);
  write_slice(t / "s/c.dcm", "1.2.3", 0, 0.0);
  const Volume v = read_image(t / "s");
  EXPECT_EQ(v.dims, (std::array<int64_t, 3>{4, 3, 3}));
  EXPECT_NEAR(v.spacing[0], 0.75, 1e-9);  // PixelSpacing = row spacing \ column spacing
  EXPECT_NEAR(v.spacing[1], 0.5, 1e-9);
  EXPECT_NEAR(v.spacing[2], 2.0, 1e-9);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 12; ++i) ASSERT_EQ(v.data[k * 12 + i], 2.f * (100 * k + i) - 1024.f);
  EXPECT_EQ(v.datatype, "int16");
  // LPS columns: x axis (0,1,0)*0.75, y axis (-1,0,0)*0.5, normal (0,0,1)*2; RAS flips the first two rows.
  const double want[3][4] = {{0, 0.5, 0, -10}, {-0.75, 0, 0, 20}, {0, 0, 2, 0}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(v.affine[r][c], want[r][c], 1e-9) << r << "," << c;
}

TEST(Dicom, MixedSeriesAndDuplicatePositionsAreErrors) {
  TempDir t;
  std::filesystem::create_directory(t.path / "m");
  write_slice(t / "m/1.dcm", "1.2.3", 0, 0.0);
  write_slice(t / "m/2.dcm", "1.2.4", 1, 2.0);
  try {
    read_image(t / "m");
    ADD_FAILURE() << "mixed series accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mixes 2 DICOM series"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1.2.4"), std::string::npos) << e.what();
  }
  std::filesystem::create_directory(t.path / "d");
  write_slice(t / "d/1.dcm", "1.2.3", 0, 0.0);
  write_slice(t / "d/2.dcm", "1.2.3", 1, 0.0);
  EXPECT_THROW(read_image(t / "d"), std::runtime_error);
}

// One slice with one attribute overridden (value "" removes it); pixel data cut to `pixels` values when >= 0.
std::string write_bad_slice(const TempDir& t, const std::string& name, const DcmTagKey& tag, const char* value,
                            int pixels = -1) {
  std::filesystem::create_directories(t.path / name);
  const std::string file = t / (name + "/1.dcm");
  write_slice(file, "1.2.3", 0, 0.0);
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(file.c_str()).good());
  DcmDataset* ds = ff.getDataset();
  if (std::string(value).empty()) ds->findAndDeleteElement(tag);
  else ds->putAndInsertString(tag, value);
  if (pixels >= 0) {
    std::vector<Uint16> px(static_cast<size_t>(pixels), 7);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(pixels));
  }
  EXPECT_TRUE(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit).good());
  return file;
}

void expect_dicom_error(const std::string& folder, std::initializer_list<const char*> phrases) {
  try {
    read_image(folder);
    ADD_FAILURE() << folder << ": read succeeded, an error was expected";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("1.dcm"), std::string::npos) << "the file is not named: " << msg;
    for (const char* p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' missing from: " << msg;
  }
}

// Slices whose geometry cannot place a voxel, or whose pixel data is short, are errors naming the file.
TEST(Dicom, BadOrientationSpacingAndShortPixelDataAreErrorsNamingTheFile) {
  TempDir t;
  write_bad_slice(t, "skew", DCM_ImageOrientationPatient, "1\\0\\0\\0.7\\0.7\\0");
  expect_dicom_error(t / "skew", {"ImageOrientationPatient", "not two perpendicular unit vectors"});
  write_bad_slice(t, "iop5", DCM_ImageOrientationPatient, "1\\0\\0\\0\\1");
  expect_dicom_error(t / "iop5", {"ImageOrientationPatient is not six finite numbers"});
  write_bad_slice(t, "ps0", DCM_PixelSpacing, "0\\0.75");
  expect_dicom_error(t / "ps0", {"PixelSpacing 0\\0.75", "must be > 0"});
  write_bad_slice(t, "rows", DCM_Rows, "0");
  expect_dicom_error(t / "rows", {"Rows/Columns missing or 0"});
  write_bad_slice(t, "short", DCM_PatientName, "x", 5);  // 12 pixels declared, 5 stored
  expect_dicom_error(t / "short", {"truncated data", "pixel data holds"});
}

// What DICOM allows but a user must know is read with a warning naming the file: no PixelSpacing (1 mm assumed).
TEST(Dicom, MissingPixelSpacingIsAWarning) {
  TempDir t;
  write_bad_slice(t, "nops", DCM_PixelSpacing, "");
  static std::vector<std::string> seen;
  seen.clear();
  const io::WarningHandler previous = io::set_warning_handler([](const std::string& m) { seen.push_back(m); });
  const Volume v = read_image(t / "nops");
  io::set_warning_handler(previous);
  EXPECT_DOUBLE_EQ(v.spacing[0], 1.0);
  EXPECT_DOUBLE_EQ(v.spacing[1], 1.0);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("no PixelSpacing in"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("1.dcm"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("assuming 1 x 1 mm"), std::string::npos) << seen[0];
}

}  // namespace
