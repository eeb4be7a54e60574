// Real files nobody here chose (SEG_SHARED_DIR/data/real, see each SOURCE.md): geometry and values as documented there
// and as nibabel reads them, and the same scan in three formats (DICOM, NIfTI, NRRD) agreeing with itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "data/formats/image_io.h"
#include "test_util.h"

using namespace seg;
using segtest::real_dir;

namespace {

std::map<int, int64_t> histogram(const Volume& v) {
  std::map<int, int64_t> h;
  for (float f : v.data) ++h[static_cast<int>(f)];
  return h;
}

TEST(RealFiles, TotalSegmentatorCardiacCtAsDocumented) {
  SKIP_IF_NO_REAL("totalsegmentator_cardiac_ct");
  const Volume ct = read_image(real_dir("totalsegmentator_cardiac_ct") + "/ct.nii.gz");
  EXPECT_EQ(ct.dims, (std::array<int64_t, 3>{120, 126, 164}));
  EXPECT_EQ(ct.datatype, "int16");
  for (double s : ct.spacing) EXPECT_NEAR(s, 1.5, 1e-6);
  // SOURCE.md: HU min -1078, max 3343; orientation LPS (nibabel axcodes L,P,S: x and y columns negative in RAS).
  EXPECT_EQ(*std::min_element(ct.data.begin(), ct.data.end()), -1078.f);
  EXPECT_EQ(*std::max_element(ct.data.begin(), ct.data.end()), 3343.f);
  EXPECT_LT(ct.affine[0][0], 0);
  EXPECT_LT(ct.affine[1][1], 0);
  EXPECT_GT(ct.affine[2][2], 0);
  const Volume lab = read_image(real_dir("totalsegmentator_cardiac_ct") + "/labels.nii.gz");
  EXPECT_EQ(lab.datatype, "uint8");
  segtest::expect_affine_near(ct, lab, 1e-6);
  const auto h = histogram(lab);  // SOURCE.md's voxel counts
  EXPECT_EQ(h.at(0), 2207462);
  EXPECT_EQ(h.at(1), 185147);
  EXPECT_EQ(h.at(2), 72810);
  EXPECT_EQ(h.at(3), 14261);
}

TEST(RealFiles, NiftiAffinesAndSumsMatchNibabel) {
  SKIP_IF_NO_REAL("totalsegmentator_examples");
  SKIP_IF_NO_NIBABEL();
  segtest::TempDir tmp;
  const std::vector<std::string> files = {
      real_dir("totalsegmentator_cardiac_ct") + "/ct.nii.gz", real_dir("totalsegmentator_examples") + "/example_ct_sm.nii.gz",
      real_dir("totalsegmentator_examples") + "/example_mr_sm.nii.gz", real_dir("totalsegmentator_examples") + "/example_seg.nii.gz",
      real_dir("mricron_ch2_aal_atlas") + "/aal.nii.gz", real_dir("mricron_ch2_aal_atlas") + "/ch2bet.nii.gz"};
  std::string list;
  for (const auto& f : files) list += "'" + f + "',";
  ASSERT_EQ(segtest::run_python(tmp, "import json, numpy as np, nibabel as nib\nout = {}\nfor f in [" + list + R"PY(]:
    img = nib.load(f); d = img.get_fdata(dtype=np.float64)
    out[f] = dict(shape=list(img.shape), affine=img.affine[:3].tolist(), sum=float(d.sum()), min=float(d.min()),
                  max=float(d.max()), dtype=str(img.get_data_dtype()))
json.dump(out, open(')PY" + tmp / "nib.json" + "', 'w'))\n"), 0);
  const auto ref = nlohmann::json::parse(segtest::read_text(tmp / "nib.json"));
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    const Volume v = read_image(f);
    const auto& r = ref[f];
    const auto shape = r["shape"].get<std::vector<int64_t>>();
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(v.dims[i], shape[i]);
    EXPECT_EQ(v.datatype, r["dtype"].get<std::string>());
    const auto aff = r["affine"].get<std::vector<std::vector<double>>>();
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(v.affine[i][k], aff[i][k], 1e-4);
    double sum = 0;
    for (float x : v.data) sum += x;
    EXPECT_NEAR(sum, r["sum"].get<double>(), 1e-9 * std::abs(r["sum"].get<double>()) + 1e-3);
    EXPECT_EQ(*std::min_element(v.data.begin(), v.data.end()), static_cast<float>(r["min"].get<double>()));
    EXPECT_EQ(*std::max_element(v.data.begin(), v.data.end()), static_cast<float>(r["max"].get<double>()));
  }
}

TEST(RealFiles, DcmqiDicomNiftiAndNrrdDescribeTheSameSlices) {
  SKIP_IF_NO_REAL("dcmqi_ct_3slice_heart_liver_spine");
  const std::string d = real_dir("dcmqi_ct_3slice_heart_liver_spine");
  const Volume dcm = read_image(d + "/dicom");
  const Volume nii = read_image(d + "/ct.nii.gz");
  // SOURCE.md: 512 x 512 x 3, 0.810547 mm pixels, slices 1 mm apart at z = -128.69 .. -126.69, HU after intercept.
  EXPECT_EQ(dcm.dims, (std::array<int64_t, 3>{512, 512, 3}));
  EXPECT_NEAR(dcm.spacing[0], 0.810547, 1e-6);
  EXPECT_NEAR(dcm.spacing[2], 1.0, 1e-6);
  EXPECT_NEAR(dcm.affine[2][3], -128.69, 1e-3);
  EXPECT_EQ(dcm.datatype, "int16");
  EXPECT_EQ(*std::min_element(dcm.data.begin(), dcm.data.end()), -3024.f);
  EXPECT_EQ(*std::max_element(dcm.data.begin(), dcm.data.end()), 1381.f);
  ASSERT_EQ(dcm.dims, nii.dims);
  segtest::expect_affine_near(dcm, nii, 1e-3);
  EXPECT_EQ(dcm.data, nii.data) << "DICOM stacked by position must equal the NIfTI derived from it";
  // A single file is one slice at its own position: 03.dcm is the most inferior (k = 0).
  const Volume one = read_image(d + "/dicom/03.dcm");
  EXPECT_EQ(one.nz(), 1);
  EXPECT_TRUE(std::equal(one.data.begin(), one.data.end(), dcm.data.begin()));

  const Volume labels = read_image(d + "/labels.nii.gz");
  const Volume heart = read_image(d + "/nrrd_labels/heart_seg.nrrd");
  const Volume liver = read_image(d + "/nrrd_labels/liver_seg.nrrd");
  const Volume spine = read_image(d + "/nrrd_labels/spine_seg.nrrd");
  for (const Volume* v : {&labels, &heart, &liver, &spine}) {
    ASSERT_EQ(v->dims, dcm.dims);
    segtest::expect_affine_near(*v, dcm, 1e-3);
  }
  // labels.nii.gz = liver 1, spine 2, heart 3 (heart wins): rebuild it from the three NRRDs voxel by voxel.
  int64_t mismatches = 0;
  for (size_t i = 0; i < labels.data.size(); ++i) {
    float want = 0;
    if (liver.data[i] == 1) want = 1;
    if (spine.data[i] == 2) want = 2;
    if (heart.data[i] == 3) want = 3;
    mismatches += labels.data[i] != want;
  }
  EXPECT_EQ(mismatches, 0);
  const auto h = histogram(labels);
  EXPECT_EQ(h.at(3), 41449);
}

TEST(RealFiles, PyradiomicsNrrdHonoursNegativeSpaceDirection) {
  SKIP_IF_NO_REAL("pyradiomics_mri_lesions");
  const std::string d = real_dir("pyradiomics_mri_lesions");
  struct Want { const char* name; std::array<int64_t, 3> dims; double sz; float max; int64_t lesion; };
  for (const Want& w : {Want{"brain1", {256, 256, 25}, 6.5, 3057, 4137}, Want{"brain2", {256, 256, 23}, 6.5, 1523, 453},
                        Want{"breast1", {45, 120, 21}, 2.1, 248, 143}}) {
    SCOPED_TRACE(w.name);
    const Volume img = read_image(d + "/" + w.name + "_image.nrrd");
    const Volume lab = read_image(d + "/" + w.name + "_label.nrrd");
    EXPECT_EQ(img.dims, w.dims);
    EXPECT_EQ(img.datatype, "int16");
    EXPECT_NEAR(img.spacing[2], w.sz, 1e-3);
    EXPECT_EQ(*std::max_element(img.data.begin(), img.data.end()), w.max);
    EXPECT_EQ(std::count(lab.data.begin(), lab.data.end(), 1.f), w.lesion);
    segtest::expect_affine_near(img, lab, 1e-6);
  }
  // brain1's y direction is -0.78125 in LPS: +0.78125 in RAS.
  const Volume b1 = read_image(d + "/brain1_image.nrrd");
  EXPECT_NEAR(b1.affine[1][1], 0.78125, 1e-9);
  EXPECT_NEAR(b1.affine[0][0], -0.78125, 1e-9);
}

TEST(RealFiles, MontgomeryJpegImagesAndPngMasks) {
  SKIP_IF_NO_REAL("montgomery_cxr_lung_masks");
  for (int i = 1; i <= 4; ++i) {
    const Volume img = read_image(real_dir("montgomery_cxr_lung_masks") + "/images/" + std::to_string(i) + ".jpg");
    const Volume mask = read_image(real_dir("montgomery_cxr_lung_masks") + "/masks/" + std::to_string(i) + ".png");
    EXPECT_EQ(img.dims, (std::array<int64_t, 3>{512, 512, 1}));
    EXPECT_EQ(img.channels, 1);
    EXPECT_EQ(mask.dims, img.dims);
    const auto h = histogram(mask);
    EXPECT_EQ(h.size(), 2u);  // {0, 255}
    const double lung = static_cast<double>(h.at(255)) / mask.data.size();
    EXPECT_GT(lung, 0.18);
    EXPECT_LT(lung, 0.36);
  }
}

TEST(RealFiles, KvasirRgbJpegs) {
  SKIP_IF_NO_REAL("kvasir_seg_polyp_samples");
  const std::map<std::string, std::pair<int64_t, int64_t>> sizes = {{"cju0qkwl35piu0993l0dewei2", {622, 529}},
                                                                  {"cju0qoxqj9q6s0835b43399p4", {1348, 1070}}};
  for (const auto& [id, wh] : sizes) {
    const Volume img = read_image(real_dir("kvasir_seg_polyp_samples") + "/images/" + id + ".jpg");
    EXPECT_EQ(img.channels, 3);
    EXPECT_EQ(img.nx(), wh.first);
    EXPECT_EQ(img.ny(), wh.second);
  }
}

}  // namespace
