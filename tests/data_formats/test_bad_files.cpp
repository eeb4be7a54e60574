// Hostile and broken input: every reader must throw std::runtime_error naming the file and what is wrong
// (bad magic, truncated data, header/data size mismatch, unsupported datatype, dims overflow) and never crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/formats/image_io.h"
#include "data/formats/jsrt.h"
#include "data/formats/nifti.h"
#include "data/formats/nrrd.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;

namespace {

std::vector<uint8_t> bytes_of(const std::string& path) {
  const std::string s = segtest::read_text(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}
void put(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
void put(const std::string& path, const std::string& s) { std::ofstream(path, std::ios::binary) << s; }

// Reads `path` expecting an error whose text names the file and contains every phrase.
void expect_error(const std::string& path, std::initializer_list<const char*> phrases) {
  try {
    read_image(path);
    ADD_FAILURE() << path << ": read succeeded, an error was expected";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::filesystem::path(path).filename().string()), std::string::npos) << msg;
    for (const char* p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' missing from: " << msg;
  }
}

Volume small() {
  Volume v = segtest::ramp_volume({6, 5, 4}, -100, 100, 9);
  v.datatype = "int16";
  return v;
}

TEST(BadFiles, NiftiBadMagicTruncationAndHeaderLies) {
  TempDir t;
  write_image(t / "ok.nii", small());
  const auto ok = bytes_of(t / "ok.nii");

  put(t / "garbage.nii", std::string(400, 'x'));
  expect_error(t / "garbage.nii", {"bad magic", "sizeof_hdr"});

  auto nomagic = ok;
  std::memcpy(nomagic.data() + 344, "abc\0", 4);
  put(t / "nomagic.nii", nomagic);
  expect_error(t / "nomagic.nii", {"bad magic"});

  put(t / "shorthdr.nii", std::vector<uint8_t>(ok.begin(), ok.begin() + 200));
  expect_error(t / "shorthdr.nii", {"truncated header"});

  put(t / "short.nii", std::vector<uint8_t>(ok.begin(), ok.end() - 10));
  expect_error(t / "short.nii", {"truncated data", "declares 240 bytes"});

  auto badtype = ok;
  badtype[70] = 32, badtype[71] = 0;  // complex64
  put(t / "complex.nii", badtype);
  expect_error(t / "complex.nii", {"unsupported datatype code 32"});

  auto huge = ok;
  huge[40] = 7;
  for (int i = 1; i <= 7; ++i) huge[40 + 2 * i] = 0xff, huge[41 + 2 * i] = 0x7f;  // 32767^7
  put(t / "huge.nii", huge);
  expect_error(t / "huge.nii", {"overflows"});

  auto neg = ok;
  neg[42] = 0xfe, neg[43] = 0xff;  // dim[1] = -2
  put(t / "neg.nii", neg);
  expect_error(t / "neg.nii", {"dim[1] is -2"});

  auto pair = ok;
  std::memcpy(pair.data() + 344, "ni1\0", 4);
  put(t / "pair.nii", pair);
  expect_error(t / "pair.nii", {".hdr/.img"});
}

TEST(BadFiles, NiftiGzipCutShort) {
  TempDir t;
  write_image(t / "ok.nii.gz", small());
  const auto ok = bytes_of(t / "ok.nii.gz");
  put(t / "cut.nii.gz", std::vector<uint8_t>(ok.begin(), ok.begin() + ok.size() / 2));
  expect_error(t / "cut.nii.gz", {"truncated"});
  EXPECT_THROW(read_image(t / "absent.nii.gz"), std::runtime_error);
}

TEST(BadFiles, MetaImageMismatchAndBadHeaders) {
  TempDir t;
  write_image(t / "ok.mhd", small());
  auto raw = bytes_of(t / "ok.raw");
  raw.resize(raw.size() - 2);
  put(t / "ok.raw", raw);
  expect_error(t / "ok.mhd", {"header/data size mismatch", "declares 240 bytes", "found 238"});

  put(t / "bin.mha", std::string("\x01\x02\x03\x04garbage\n", 12));
  expect_error(t / "bin.mha", {"bad magic"});
  put(t / "nodata.mha", "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\n");
  expect_error(t / "nodata.mha", {"ElementDataFile"});
  put(t / "type.mha", "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_STRING\nElementDataFile = LOCAL\n");
  expect_error(t / "type.mha", {"unsupported ElementType"});
  put(t / "dims.mha", "NDims = 3\nDimSize = 100000 100000 100000\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n");
  expect_error(t / "dims.mha", {"exceed"});

  write_image(t / "z.mha", small());
  auto z = bytes_of(t / "z.mha");
  put(t / "zcut.mha", std::vector<uint8_t>(z.begin(), z.end() - 20));
  expect_error(t / "zcut.mha", {"compressed data"});
}

TEST(BadFiles, NrrdMismatchAndBadHeaders) {
  TempDir t;
  write_nrrd(t / "raw.nrrd", small(), false);
  auto raw = bytes_of(t / "raw.nrrd");
  put(t / "rawcut.nrrd", std::vector<uint8_t>(raw.begin(), raw.end() - 4));
  expect_error(t / "rawcut.nrrd", {"header/data size mismatch", "truncated data"});
  write_nrrd(t / "gz.nrrd", small(), true);
  auto gz = bytes_of(t / "gz.nrrd");
  put(t / "gzcut.nrrd", std::vector<uint8_t>(gz.begin(), gz.end() - 30));
  expect_error(t / "gzcut.nrrd", {"compressed data"});
  put(t / "magic.nrrd", "NRRX0004\ntype: short\n\n");
  expect_error(t / "magic.nrrd", {"bad magic"});
  put(t / "bz.nrrd", "NRRD0004\ntype: uchar\ndimension: 1\nsizes: 4\nencoding: bzip2\n\nxxxx");
  expect_error(t / "bz.nrrd", {"unsupported encoding 'bzip2'"});
  put(t / "sizes.nrrd", "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 4 4\nencoding: raw\n\n");
  expect_error(t / "sizes.nrrd", {"sizes"});
  // Huge or zero sizes: refused from the header, before anything the size of the image is allocated.
  put(t / "huge.nrrd", "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 100000 100000 100000\nencoding: raw\n\nxxxx");
  expect_error(t / "huge.nrrd", {"voxels exceed the supported maximum"});
  put(t / "zero.nrrd", "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 4 0 4\nencoding: raw\n\nxxxx");
  expect_error(t / "zero.nrrd", {"size 0", "must be a positive integer"});
}

TEST(BadFiles, PngJpegJsrt) {
  TempDir t;
  Volume img = Volume::make({40, 30, 1}, {1, 1, 1}, 100.f);
  img.datatype = "uint8";
  write_image(t / "ok.png", img);
  const auto ok = bytes_of(t / "ok.png");
  put(t / "cut.png", std::vector<uint8_t>(ok.begin(), ok.begin() + ok.size() - 30));
  expect_error(t / "cut.png", {});
  put(t / "magic.png", std::string("GIF89a......"));
  expect_error(t / "magic.png", {"bad magic", "not a PNG"});

  put(t / "magic.jpg", std::string("\x89PNG\r\n\x1a\n"));
  expect_error(t / "magic.jpg", {"bad magic", "not a JPEG"});
  if (std::filesystem::exists(segtest::real_dir("montgomery_cxr_lung_masks"))) {
    const auto jpg = bytes_of(segtest::real_dir("montgomery_cxr_lung_masks") + "/images/1.jpg");
    put(t / "cut.jpg", std::vector<uint8_t>(jpg.begin(), jpg.begin() + jpg.size() / 2));
    expect_error(t / "cut.jpg", {"truncated data"});
  }

  put(t / "short.IMG", std::string(1000, '\0'));
  expect_error(t / "short.IMG", {"header/data size mismatch", "8388608"});
  std::vector<uint8_t> jsrt(static_cast<size_t>(kJsrtSide * kJsrtSide * 2), 0);
  jsrt[2] = 0x10, jsrt[3] = 0x00;  // 4096 big-endian: not 12-bit
  put(t / "wide.IMG", jsrt);
  expect_error(t / "wide.IMG", {"not 12-bit"});
  jsrt[2] = 0x0f, jsrt[3] = 0xff;  // 4095, the largest 12-bit value
  put(t / "ok.IMG", jsrt);
  const Volume j = read_image(t / "ok.IMG");
  EXPECT_EQ(j.data[1], 4095.f);
  EXPECT_NEAR(j.spacing[0], 0.175, 1e-12);
}

TEST(BadFiles, DicomFolderWithoutImagesAndUnknownExtension) {
  TempDir t;
  std::filesystem::create_directory(t / "dcm");
  put(t / "dcm/readme.txt", "not dicom");
  expect_error(t / "dcm", {"no DICOM image found", "readme.txt"});
  put(t / "x.tiff", "II*");
  expect_error(t / "x.tiff", {"unknown image extension"});
  // GIF is read (giflib, SCR's JSRT masks): a truncated one is an error naming the file and giflib's reason.
  put(t / "x.gif", "GIF89a");
  expect_error(t / "x.gif", {"x.gif", "not a readable GIF"});
}

TEST(BadFiles, RandomBytesNeverCrashAnyReader) {
  // A poor man's fuzz pass that runs in every ctest (the libFuzzer targets in data/fuzz go much further).
  TempDir t;
  uint64_t s = 42;
  write_image(t / "seed.nii", small());
  write_image(t / "seed.mha", small());
  write_nrrd(t / "seed.nrrd", small(), false);
  write_image(t / "seed.png", Volume::make({5, 5, 1}, {1, 1, 1}, 3.f));
  for (const char* ext : {"nii", "mha", "nrrd", "png"}) {
    const auto seed = bytes_of(t / (std::string("seed.") + ext));
    for (int trial = 0; trial < 300; ++trial) {
      auto b = seed;
      for (int k = 0; k < 1 + trial % 8; ++k) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        b[(s >> 33) % b.size()] = static_cast<uint8_t>(s >> 24);
      }
      if (trial % 5 == 0) b.resize((s >> 40) % b.size());
      const std::string p = t / (std::string("m.") + ext);
      put(p, b);
      try {
        const Volume v = read_image(p);
        EXPECT_EQ(static_cast<int64_t>(v.data.size()), v.voxels() * v.channels);
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("m."), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
