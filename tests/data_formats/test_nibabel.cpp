// Interop with nibabel (the reference NIfTI implementation of the Python world), both directions:
// files written by nibabel with chosen datatypes, scaling, qform/sform, NIfTI-2 and byte order are read here and
// compared voxel by voxel with nibabel's own get_fdata(); files written here are read by nibabel and compared back.
// Skipped (with the reason) when /usr/bin/python3 has no nibabel.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/formats/image_io.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;

namespace {

// Every case: name -> (file, nibabel's shape, affine, zooms, dtype, values as float64 x-fastest in NAME.bin).
const char* kWriteScript = R"PY(
import json, sys, numpy as np, nibabel as nib
out = sys.argv[1] if len(sys.argv) > 1 else '.'
rng = np.random.default_rng(5)
rot = np.array([[0.0, -1.0, 0.0], [np.cos(0.3), 0.0, -np.sin(0.3)], [np.sin(0.3), 0.0, np.cos(0.3)]])
aff = np.eye(4); aff[:3, :3] = rot @ np.diag([0.9, 1.1, 2.5]); aff[:3, 3] = [-20.5, 33.0, 7.25]
shear = aff.copy(); shear[0, 1] += 0.2
cases = {}
def save(name, img, fname):
    nib.save(img, f'{out}/{fname}')
    back = nib.load(f'{out}/{fname}')
    data = np.asarray(back.get_fdata(dtype=np.float64))
    data.reshape(-1, order='F').astype('<f8').tofile(f'{out}/{name}.bin')
    cases[name] = dict(file=fname, shape=list(back.shape), affine=back.affine[:3].tolist(),
                       zooms=[float(z) for z in back.header.get_zooms()[:3]], dtype=str(back.get_data_dtype().newbyteorder('=')))
for dt, lo, hi in [('uint8', 0, 255), ('int8', -128, 127), ('int16', -32768, 32767), ('uint16', 0, 65535),
                   ('int32', -2**24, 2**24), ('uint32', 0, 2**24), ('int64', -2**24, 2**24), ('float32', -1e3, 1e3),
                   ('float64', -1e3, 1e3)]:
    arr = rng.uniform(lo, hi, (5, 4, 3))
    arr = arr.astype(dt) if dt.startswith('float') else np.round(arr).astype(dt)
    arr.flat[0], arr.flat[1] = lo, hi
    save(dt, nib.Nifti1Image(arr, aff, dtype=dt), f'{dt}.nii.gz')
img = nib.Nifti1Image(rng.integers(-500, 500, (6, 5, 4)).astype(np.int16), aff)
img.header.set_slope_inter(2.5, -7.0)
save('scaled', img, 'scaled.nii')
save('nifti2', nib.Nifti2Image(rng.normal(size=(4, 3, 5)).astype(np.float32), aff), 'nifti2.nii.gz')
hdr = nib.Nifti1Header(endianness='>')
save('bigendian', nib.Nifti1Image(rng.integers(-900, 900, (3, 4, 5)).astype('>i2'), aff, hdr), 'bigendian.nii')
img = nib.Nifti1Image(rng.integers(0, 9, (4, 4, 4)).astype(np.uint8), None)
img.set_qform(aff, code=1); img.set_sform(None, code=0)
save('qform_only', img, 'qform_only.nii.gz')
img = nib.Nifti1Image(rng.integers(0, 9, (4, 4, 4)).astype(np.uint8), None)
img.set_qform(aff, code=1); img.set_sform(shear, code=2)
save('sform_wins', img, 'sform_wins.nii.gz')
save('four_d', nib.Nifti1Image(rng.normal(size=(3, 4, 2, 3)).astype(np.float32), aff), 'four_d.nii.gz')
save('two_d', nib.Nifti1Image(rng.integers(0, 3, (7, 6)).astype(np.uint8), np.diag([0.5, 0.5, 1, 1])), 'two_d.nii')
json.dump(cases, open(f'{out}/cases.json', 'w'))
)PY";

TEST(Nibabel, FilesWrittenByNibabelReadWithItsGeometryAndValues) {
  SKIP_IF_NO_NIBABEL();
  TempDir tmp;
  ASSERT_EQ(segtest::run_python(tmp, std::string("import sys; sys.argv = ['x', '") + tmp.path.string() + "']\n" + kWriteScript), 0);
  const auto cases = nlohmann::json::parse(segtest::read_text(tmp / "cases.json"));
  ASSERT_EQ(cases.size(), 16u);
  for (const auto& [name, c] : cases.items()) {
    SCOPED_TRACE(name);
    const Volume v = read_image(tmp / c["file"].get<std::string>());
    const auto shape = c["shape"].get<std::vector<int64_t>>();
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(v.dims[i], i < shape.size() ? shape[i] : 1);
    EXPECT_EQ(v.channels, shape.size() > 3 ? shape[3] : 1);
    EXPECT_EQ(v.datatype, c["dtype"].get<std::string>());
    const auto aff = c["affine"].get<std::vector<std::vector<double>>>();
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(v.affine[r][k], aff[r][k], 1e-4) << "affine[" << r << "][" << k << "]";
    const auto zooms = c["zooms"].get<std::vector<double>>();
    for (size_t i = 0; i < zooms.size(); ++i) EXPECT_NEAR(v.spacing[i], zooms[i], 1e-6);
    const std::string bin = segtest::read_text(tmp / (name + ".bin"));
    ASSERT_EQ(bin.size(), v.data.size() * 8);
    for (size_t i = 0; i < v.data.size(); ++i) {
      double want;
      std::memcpy(&want, bin.data() + 8 * i, 8);
      ASSERT_EQ(v.data[i], static_cast<float>(want)) << "voxel " << i;
    }
  }
}

TEST(Nibabel, FilesWrittenHereReadByNibabel) {
  SKIP_IF_NO_NIBABEL();
  TempDir tmp;
  Volume ct = segtest::ramp_volume({9, 8, 7}, -1024, 3000, 11);
  ct.datatype = "int16";
  segtest::set_oblique(ct);
  write_image(tmp / "ct.nii.gz", ct);
  Volume lab = segtest::ramp_volume({9, 8, 7}, 0, 4, 12);
  lab.datatype = "uint8";
  lab.affine = ct.affine, lab.spacing = ct.spacing;
  write_image(tmp / "lab.nii", lab);
  Volume scaled = Volume::make({5, 2, 1});
  scaled.data = {-3.5f, 0.f, 1.25f, 700.75f, 12.f, 1.f, 2.f, 3.f, 4.f, 5.f};
  scaled.datatype = "int16";
  write_image(tmp / "scaled.nii.gz", scaled);

  const std::string script = "import json, numpy as np, nibabel as nib\nd = '" + tmp.path.string() + R"PY('
out = {}
for f in ['ct.nii.gz', 'lab.nii', 'scaled.nii.gz']:
    img = nib.load(f'{d}/{f}')
    data = img.get_fdata(dtype=np.float64)
    data.reshape(-1, order='F').astype('<f8').tofile(f'{d}/{f}.bin')
    q, qc = img.header.get_qform(coded=True)
    s, sc = img.header.get_sform(coded=True)
    out[f] = dict(shape=list(img.shape), dtype=str(img.get_data_dtype()), affine=img.affine[:3].tolist(),
                  qform=q[:3].tolist(), qcode=int(qc), scode=int(sc), zooms=[float(z) for z in img.header.get_zooms()])
json.dump(out, open(f'{d}/nib.json', 'w'))
)PY";
  ASSERT_EQ(segtest::run_python(tmp, script), 0);
  const auto got = nlohmann::json::parse(segtest::read_text(tmp / "nib.json"));
  const std::pair<const char*, const Volume*> files[] = {{"ct.nii.gz", &ct}, {"lab.nii", &lab}, {"scaled.nii.gz", &scaled}};
  for (const auto& [f, vol] : files) {
    SCOPED_TRACE(f);
    const auto& j = got[f];
    EXPECT_EQ(j["shape"], (std::vector<int64_t>{vol->dims[0], vol->dims[1], vol->dims[2]}));
    EXPECT_EQ(j["dtype"].get<std::string>(), vol->datatype);
    EXPECT_EQ(j["qcode"].get<int>(), 1);
    EXPECT_EQ(j["scode"].get<int>(), 1);
    const auto aff = j["affine"].get<std::vector<std::vector<double>>>();
    const auto q = j["qform"].get<std::vector<std::vector<double>>>();
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(aff[r][k], vol->affine[r][k], 1e-5);
        EXPECT_NEAR(q[r][k], vol->affine[r][k], 1e-5) << "qform (ITK-SNAP / ITK read it) disagrees with the sform";
      }
    const std::string bin = segtest::read_text(tmp / (std::string(f) + ".bin"));
    ASSERT_EQ(bin.size(), vol->data.size() * 8);
    const double tol = std::string(f) == "scaled.nii.gz" ? (700.75 + 3.5) / 65535.0 : 0.0;
    for (size_t i = 0; i < vol->data.size(); ++i) {
      double val;
      std::memcpy(&val, bin.data() + 8 * i, 8);
      ASSERT_NEAR(val, vol->data[i], tol) << "voxel " << i;
    }
  }
}

}  // namespace
