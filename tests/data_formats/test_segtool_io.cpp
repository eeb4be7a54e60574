// segtool info / convert as functions (data/cli/commands.h): JSON keys and values against nibabel on a real CT,
// against direct computation on a written file, convert round trips, usage errors.
#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "data/cli/commands.h"
#include "data/formats/image_io.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;

namespace {

// Runs a sub-command with the given arguments, returning (exit code, stdout).
std::pair<int, std::string> run(int (*cmd)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  const int rc = cmd(static_cast<int>(argv.size()), argv.data());
  std::fflush(stdout);
  std::cout.flush();
  return {rc, testing::internal::GetCapturedStdout()};
}

TEST(SegtoolIo, InfoJsonOnAWrittenFile) {
  TempDir t;
  Volume v = segtest::ramp_volume({7, 6, 5}, -300, 900, 21);
  v.datatype = "int16";
  write_image(t / "v.nii.gz", v);
  const auto [rc, out] = run(cli::info, {"info", t / "v.nii.gz", "--json"});
  ASSERT_EQ(rc, 0);
  const auto j = nlohmann::json::parse(out);
  for (const char* key : {"dims", "spacing", "datatype", "min", "max", "mean", "sum"}) EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["dims"], (std::vector<int64_t>{7, 6, 5}));
  EXPECT_EQ(j["datatype"], "int16");
  EXPECT_NEAR(j["spacing"][2].get<double>(), 2.5, 1e-6);
  double sum = 0;
  for (float f : v.data) sum += f;
  EXPECT_DOUBLE_EQ(j["sum"].get<double>(), sum);
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), sum / v.data.size());
  EXPECT_EQ(j["min"].get<double>(), -300);
  EXPECT_EQ(j["max"].get<double>(), 900);
  const auto [rc2, text] = run(cli::info, {"info", t / "v.nii.gz"});
  EXPECT_EQ(rc2, 0);
  EXPECT_NE(text.find("dims:     7 x 6 x 5"), std::string::npos) << text;
  EXPECT_NE(text.find("datatype: int16"), std::string::npos) << text;
}

TEST(SegtoolIo, InfoAgreesWithNibabelOnRealCt) {
  SKIP_IF_NO_REAL("totalsegmentator_cardiac_ct");
  SKIP_IF_NO_NIBABEL();
  TempDir t;
  const std::string ct = segtest::real_dir("totalsegmentator_cardiac_ct") + "/ct.nii.gz";
  ASSERT_EQ(segtest::run_python(t, "import json, numpy as np, nibabel as nib\nimg = nib.load('" + ct + R"PY(')
d = img.get_fdata(dtype=np.float64)
json.dump(dict(dims=list(img.shape), spacing=[float(z) for z in img.header.get_zooms()], datatype=str(img.get_data_dtype()),
               min=float(d.min()), max=float(d.max()), mean=float(d.mean()), sum=float(d.sum())), open(')PY" + t / "ref.json" + "', 'w'))\n"), 0);
  const auto ref = nlohmann::json::parse(segtest::read_text(t / "ref.json"));
  const auto [rc, out] = run(cli::info, {"info", ct, "--json"});
  ASSERT_EQ(rc, 0);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["dims"], ref["dims"]);
  EXPECT_EQ(j["datatype"], ref["datatype"]);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(j["spacing"][i].get<double>(), ref["spacing"][i].get<double>(), 1e-6);
  for (const char* key : {"min", "max", "mean", "sum"})
    EXPECT_NEAR(j[key].get<double>(), ref[key].get<double>(), 1e-9 * std::abs(ref[key].get<double>()) + 1e-9) << key;
}

TEST(SegtoolIo, ConvertKeepsValuesAndGeometryAcrossFormats) {
  TempDir t;
  Volume v = segtest::ramp_volume({5, 4, 3}, 0, 7, 2);
  v.datatype = "uint8";
  segtest::set_oblique(v);
  write_image(t / "in.nii.gz", v);
  EXPECT_EQ(run(cli::convert, {"convert", t / "in.nii.gz", t / "out.mha"}).first, 0);
  EXPECT_EQ(run(cli::convert, {"convert", t / "out.mha", t / "out.nrrd", "--datatype", "int16"}).first, 0);
  const Volume back = read_image(t / "out.nrrd");
  EXPECT_EQ(back.data, v.data);
  EXPECT_EQ(back.datatype, "int16");
  segtest::expect_affine_near(back, v, 1e-5);
  EXPECT_EQ(run(cli::convert, {"convert", t / "in.nii.gz", t / "out.xyz"}).first, 1);
  EXPECT_EQ(run(cli::convert, {"convert", t / "absent.nii", t / "o.nii"}).first, 1);
  EXPECT_EQ(run(cli::convert, {"convert", t / "in.nii.gz"}).first, 2);
  EXPECT_EQ(run(cli::convert, {"convert", t / "in.nii.gz", t / "o.nii", "--datatype", "complex"}).first, 2);
}

TEST(SegtoolIo, InfoUsageAndErrors) {
  TempDir t;
  EXPECT_EQ(run(cli::info, {"info"}).first, 2);
  EXPECT_EQ(run(cli::info, {"info", "a", "b"}).first, 2);
  EXPECT_EQ(run(cli::info, {"info", t / "x.nii", "--bogus"}).first, 2);
  EXPECT_EQ(run(cli::info, {"info", t / "absent.nii"}).first, 1);
  const auto [rc, out] = run(cli::info, {"info", "--help"});
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("segtool info FILE"), std::string::npos);
}

}  // namespace
