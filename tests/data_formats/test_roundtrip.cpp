// Round trips: every writer's output read back by our reader gives the same values, dims, spacing, affine, datatype.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/formats/image_io.h"
#include "data/formats/metaimage.h"
#include "data/formats/nifti.h"
#include "data/formats/nrrd.h"
#include "data/formats/png_io.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;

namespace {

const std::vector<std::string> kTypes = {"uint8", "int8",  "uint16", "int16",   "uint32",
                                         "int32", "int64", "uint64", "float32", "float64"};

Volume sample_for(const std::string& dt) {
  auto [lo, hi] = io::datatype_range(dt);
  // Keep the extremes float-exact (float32 Volume storage): 2^24 bounds the 32/64-bit and float types.
  lo = std::max(lo, -16777216.0), hi = std::min(hi, 16777216.0);
  Volume v = segtest::ramp_volume({5, 4, 3}, lo, hi, 7);
  if (dt[0] == 'f') v.data[2] = 0.15625f, v.data[3] = -1e-3f;  // fractions survive float types
  v.datatype = dt;
  segtest::set_oblique(v);
  return v;
}

void expect_same(const Volume& a, const Volume& b, double affine_tol) {
  EXPECT_EQ(a.dims, b.dims);
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.datatype, b.datatype);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(a.spacing[i], b.spacing[i], 1e-6);
  segtest::expect_affine_near(a, b, affine_tol);
  ASSERT_EQ(a.data.size(), b.data.size());
  for (size_t i = 0; i < a.data.size(); ++i) ASSERT_EQ(a.data[i], b.data[i]) << "voxel " << i;
}

class EveryType : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryType, NiftiPlainAndGzip) {
  TempDir tmp;
  const Volume v = sample_for(GetParam());
  for (const char* name : {"a.nii", "a.nii.gz"}) {
    write_image(tmp / name, v);
    expect_same(v, read_image(tmp / name), 1e-5);  // NIfTI-1 stores the sform in float32
  }
}

TEST_P(EveryType, MetaImageMhaCompressedAndMhdRaw) {
  TempDir tmp;
  const Volume v = sample_for(GetParam());
  write_image(tmp / "a.mha", v);
  expect_same(v, read_image(tmp / "a.mha"), 1e-9);
  write_image(tmp / "b.mhd", v);
  EXPECT_TRUE(std::filesystem::exists(tmp / "b.raw"));
  expect_same(v, read_image(tmp / "b.mhd"), 1e-9);
}

TEST_P(EveryType, NrrdGzipAndRaw) {
  TempDir tmp;
  const Volume v = sample_for(GetParam());
  write_nrrd(tmp / "a.nrrd", v, true);
  expect_same(v, read_image(tmp / "a.nrrd"), 1e-9);
  write_nrrd(tmp / "b.nrrd", v, false);
  expect_same(v, read_image(tmp / "b.nrrd"), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Formats, EveryType, ::testing::ValuesIn(kTypes));

TEST(RoundTrip, MultiChannelVolumesKeepChannelPlanes) {
  TempDir tmp;
  Volume v = segtest::ramp_volume({4, 3, 2}, 0, 200, 3);
  v.channels = 2;
  v.data.resize(v.data.size() * 2);
  for (size_t i = v.data.size() / 2; i < v.data.size(); ++i) v.data[i] = static_cast<float>(i % 17);
  v.datatype = "uint8";
  for (const char* name : {"c.nii.gz", "c.mha", "c.nrrd"}) {
    write_image(tmp / name, v);
    expect_same(v, read_image(tmp / name), 1e-5);
  }
}

TEST(RoundTrip, NiftiIntegerTypeThatCannotHoldValuesGetsSlopeNotClipping) {
  TempDir tmp;
  Volume v = Volume::make({6, 1, 1});
  v.data = {-1000.5f, 0.25f, 3.75f, 1234.5f, 99.f, 5000.f};
  v.datatype = "int16";
  write_image(tmp / "s.nii", v);
  const Volume r = read_image(tmp / "s.nii");
  EXPECT_EQ(r.datatype, "int16");
  const double step = (5000.0 + 1000.5) / 65535.0;  // the quantisation step of the chosen slope
  for (size_t i = 0; i < v.data.size(); ++i) EXPECT_NEAR(r.data[i], v.data[i], step) << i;
}

TEST(RoundTrip, MetaImageAndNrrdPromoteUnrepresentableIntegersToFloat) {
  TempDir tmp;
  Volume v = Volume::make({3, 1, 1});
  v.data = {0.5f, 300.f, -2.f};
  v.datatype = "uint8";
  for (const char* name : {"p.mha", "p.nrrd"}) {
    write_image(tmp / name, v);
    const Volume r = read_image(tmp / name);
    EXPECT_EQ(r.datatype, "float32") << name;
    EXPECT_EQ(r.data, v.data) << name;
  }
}

TEST(RoundTrip, CrossFormatGeometryAgreesAfterLpsConversion) {
  TempDir tmp;
  Volume v = sample_for("int16");
  write_image(tmp / "x.nii.gz", v);
  // nii -> mha -> nrrd -> nii: each hop goes through a different world convention on disk.
  write_image(tmp / "x.mha", read_image(tmp / "x.nii.gz"));
  write_image(tmp / "x.nrrd", read_image(tmp / "x.mha"));
  write_image(tmp / "y.nii", read_image(tmp / "x.nrrd"));
  expect_same(v, read_image(tmp / "y.nii"), 1e-5);
}

TEST(RoundTrip, Png8And16BitGreyAndRgb) {
  TempDir tmp;
  Volume g8 = segtest::ramp_volume({7, 5, 1}, 0, 255, 2);
  g8.spacing = {1, 1, 1};
  g8.affine = Volume::make({1, 1, 1}).affine;
  g8.datatype = "uint8";
  write_image(tmp / "g8.png", g8);
  expect_same(g8, read_image(tmp / "g8.png"), 0);

  Volume g16 = segtest::ramp_volume({6, 9, 1}, 0, 65535, 4);
  g16.spacing = g8.spacing, g16.affine = g8.affine;
  g16.datatype = "uint16";
  write_image(tmp / "g16.png", g16);
  expect_same(g16, read_image(tmp / "g16.png"), 0);

  Volume rgb = segtest::ramp_volume({4, 3, 1}, 0, 255, 5);
  rgb.spacing = g8.spacing, rgb.affine = g8.affine;
  rgb.channels = 3;
  rgb.data.resize(36);
  for (size_t i = 12; i < 36; ++i) rgb.data[i] = static_cast<float>((i * 37) % 256);
  rgb.datatype = "uint8";
  write_image(tmp / "rgb.png", rgb);
  expect_same(rgb, read_image(tmp / "rgb.png"), 0);
}

TEST(RoundTrip, WritePngRgbBufferIsInterleavedRowMajor) {
  TempDir tmp;
  const int w = 3, h = 2;
  std::vector<uint8_t> rgb(w * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 11);
  write_png_rgb(tmp / "o.png", w, h, rgb);
  const Volume r = read_image(tmp / "o.png");
  ASSERT_EQ(r.channels, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(r.data[c * w * h + y * w + x], rgb[(y * w + x) * 3 + c]);
  std::vector<uint8_t> grey(w * h, 200);
  write_png_grey(tmp / "g.png", w, h, grey);
  EXPECT_EQ(read_image(tmp / "g.png").data, std::vector<float>(w * h, 200.f));
  EXPECT_THROW(write_png_rgb(tmp / "bad.png", w, h, grey), std::runtime_error);
}

TEST(RoundTrip, WritersLeaveNoTmpFileAndFailCleanly) {
  TempDir tmp;
  const Volume v = sample_for("uint8");
  write_image(tmp / "ok.nii.gz", v);
  EXPECT_FALSE(std::filesystem::exists(tmp / "ok.nii.gz.tmp"));
  EXPECT_THROW(write_image(tmp / "missing_dir/x.nii", v), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(tmp / "missing_dir"));
  // A failed write (3-D volume to PNG) must leave the existing file untouched.
  write_image(tmp / "keep.png", Volume::make({2, 2, 1}, {1, 1, 1}, 9.f));
  EXPECT_THROW(write_image(tmp / "keep.png", v), std::runtime_error);
  EXPECT_EQ(read_image(tmp / "keep.png").data, std::vector<float>(4, 9.f));
}

}  // namespace
