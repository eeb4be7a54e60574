// segtool predict end to end on a model an app trained: segthor_weak runs one epoch on phantom patients written in
// SegTHOR's layout (32×32, 20 mm slices), then its best.safetensors is
//  * read by Python (the header as the safetensors format defines it: 8-byte length, JSON, "__metadata__"; Debian 12
//    packages no python3-safetensors, so the test parses the header with json/struct, as safe_open().metadata() does),
//    which finds the model card;
//  * applied by `segtool predict` to the validation patient stored with a non-diagonal affine (qform and sform
//    different, sform sheared): nibabel reads the label map back with the input's shape, affine, qform and sform; the
//    labels and probabilities equal the app's own evaluation of that patient (predict_labels on the app's slice set),
//    and the Dice of `segtool evaluate` equals the Dice in the run's results.json;
//  * applied to the same patient stored permuted and flipped ("ILA"): mapped back, the prediction equals the canonical
//    one voxel for voxel (and the Dice against the equally permuted ground truth is the same), while --no-reorient
//    gives another prediction (the check has teeth);
//  * applied to MetaImage, NRRD and PNG inputs (outputs in the same format on the same grid), refused clearly for a
//    checkpoint without a model card or with an incomplete one, for a wrong channel count, for missing files and
//    folders, and going on past a bad case with --keep-going;
//  * applied to a real CT (SEG_SHARED_DIR, skipped when absent) as a DICOM series and as NIfTI: the same prediction on
//    the scan's grid, and `segtool evaluate` against its real labels.
// The trained run is shared by the test processes (ctest runs each test alone) through a folder in the temp dir named
// after the app binary's time stamp, guarded by a lock; the app itself reads a finished run back instead of redoing it.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/paper1/data.h"
#include "apps/paper1/protocol.h"
#include "apps/toolkit/evaluate.h"
#include "apps/toolkit/model_card.h"
#include "data/formats/image_io.h"
#include "data/phantoms/segthor_phantom.h"
#include "engine/autograd.h"
#include "engine/serialize.h"
#include "kernels/softmax.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace seg;

namespace {

const char* kPython = "/usr/bin/python3";

struct Cmd {
  int rc;
  std::string out;
};

Cmd run(const std::string& cmd) {
  Cmd r{0, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string segtool() { return std::string(SEG_APPS_DIR) + "/segtool"; }

bool has_nibabel() {
  static const int rc = std::system((std::string(kPython) + " -c 'import nibabel, numpy' >/dev/null 2>&1").c_str());
  return rc == 0;
}

// Runs a Python script with arguments; the script's stdout is returned (the test fails on a non-zero exit).
Cmd python(const fs::path& dir, const std::string& name, const std::string& script, const std::string& args) {
  const fs::path p = dir / (name + ".py");
  std::ofstream(p) << script;
  return run(std::string(kPython) + " " + p.string() + " " + args);
}

struct Trained {
  fs::path root, data, run, best, val_gt, val_ct;
  std::string val_case;
  json results;
};

// Trains once per build of the app (see the file comment).
const Trained& trained() {
  static const Trained t = [] {
    Trained t;
    const auto stamp = fs::last_write_time(fs::path(SEG_APPS_DIR) / "segthor_weak").time_since_epoch().count();
    const fs::path base = fs::temp_directory_path() / ("segengine_test_predict_" + std::to_string(getuid()));
    t.root = base / std::to_string(stamp);
    fs::create_directories(t.root);
    const int fd = open((t.root / "lock").c_str(), O_CREAT | O_RDWR, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + (t.root / "lock").string());
    for (const auto& e : fs::directory_iterator(base))  // runs of older builds: a day old, gone
      if (e.path() != t.root && fs::last_write_time(e.path()) < fs::file_time_type::clock::now() - std::chrono::hours(24))
        fs::remove_all(e.path());
    t.data = t.root / "data";
    if (!fs::exists(t.data)) {
      SegthorPhantomOptions o;
      o.nx = o.ny = 32;
      o.spacing_z = 20;
      const fs::path tmp = t.root / "data.tmp";
      fs::remove_all(tmp);
      write_segthor_phantom(tmp.string(), 3, 0, o);
      fs::rename(tmp, t.data);
    }
    t.run = t.root / "run";
    const Cmd r = run(std::string(SEG_APPS_DIR) + "/segthor_weak --data " + t.data.string() +
                      " --size 32 --epochs 1 --train-patients 2 --val-patients 1 --max-minutes 0 --device cpu --out " +
                      t.run.string());
    flock(fd, LOCK_UN);
    close(fd);
    if (r.rc != 0) throw std::runtime_error("segthor_weak failed:\n" + r.out);
    t.best = t.run / "best.safetensors";
    t.results = json::parse(std::ifstream(t.run / "results.json"));
    t.val_case = t.results["config"]["val_cases"][0].get<std::string>();
    t.val_ct = t.data / "train" / t.val_case / (t.val_case + ".nii.gz");
    t.val_gt = t.data / "train" / t.val_case / "GT.nii.gz";
    return t;
  }();
  return t;
}

struct TempDir {
  fs::path p;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "segpredict_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    p = tmpl;
  }
  ~TempDir() { fs::remove_all(p); }
  fs::path operator/(const std::string& f) const { return p / f; }
};

// The validation patient (CT and GT) rewritten by nibabel with a non-diagonal affine: qform (code 1) a rotation of
// 0.3 rad about z and 0.1 about x with a translation, sform (code 2) the same with a shear — the codes stay RAS.
const char* kObliqueScript = R"PY(
import sys, numpy as np, nibabel as nib
ct, gt, out_ct, out_gt = sys.argv[1:5]
def rot(a, b):
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return rz @ rx
for src, dst, dtype in ((ct, out_ct, np.int16), (gt, out_gt, np.uint8)):
    img = nib.load(src)
    z = img.header.get_zooms()[:3]
    q = np.eye(4); q[:3, :3] = rot(0.3, 0.1) @ np.diag(z); q[:3, 3] = [-12.5, 40.25, -7.0]
    s = q.copy(); s[0, 1] += 0.05 * z[1]
    o = nib.Nifti1Image(np.asarray(img.dataobj).astype(dtype), None)
    o.set_qform(q, code=1); o.set_sform(s, code=2)
    o.header.set_xyzt_units('mm', 'sec')
    nib.save(o, dst)
print(''.join(nib.aff2axcodes(nib.load(out_ct).affine)))
)PY";

// Input vs output of predict, as nibabel sees them: shape, affine, qform and sform with their codes, units, dtype.
const char* kSameGridScript = R"PY(
import sys, json, numpy as np, nibabel as nib
a, b = nib.load(sys.argv[1]), nib.load(sys.argv[2])
q1, c1 = a.get_qform(coded=True); q2, c2 = b.get_qform(coded=True)
s1, d1 = a.get_sform(coded=True); s2, d2 = b.get_sform(coded=True)
out = dict(shape_in=list(a.shape), shape_out=list(b.shape), affine=bool(np.allclose(a.affine, b.affine, atol=1e-6)),
           qform=bool(c1 == c2 and np.allclose(q1, q2, atol=1e-6)), sform=bool(d1 == d2 and np.allclose(s1, s2, atol=1e-6)),
           qform_code=int(c2), sform_code=int(d2), units=[str(u) for u in b.header.get_xyzt_units()],
           dtype=str(b.get_data_dtype()), values=sorted(int(v) for v in np.unique(np.asarray(b.dataobj))))
print(json.dumps(out))
)PY";

std::string predict_cmd(const std::string& args) { return segtool() + " predict " + trained().best.string() + " " + args; }

}  // namespace

TEST(Predict, CheckpointsCarryTheModelCardThatPythonReads) {
  const Trained& t = trained();
  TempDir tmp;
  const char* script = R"PY(
import json, struct, sys
cards = []
for f in sys.argv[1:]:
    with open(f, 'rb') as fh:
        n = struct.unpack('<Q', fh.read(8))[0]
        header = json.loads(fh.read(n))
    meta = header['__metadata__']
    assert all(isinstance(v, str) for v in meta.values()), 'safetensors metadata must be str -> str'
    assert any(k.startswith('model.') and v['dtype'] == 'F32' for k, v in header.items() if k != '__metadata__')
    cards.append(json.loads(meta['segengine.model']))
print(json.dumps(cards))
)PY";
  const Cmd r = python(tmp.p, "card", script, t.best.string() + " " + (t.run / "last.safetensors").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json cards = json::parse(r.out);
  ASSERT_EQ(cards.size(), 2u);
  for (const json& c : cards) {
    EXPECT_EQ(c["format"], 1);
    EXPECT_EQ(c["architecture"], "residual_unet");
    EXPECT_EQ(c["config"], (json{{"in_channels", 1}, {"classes", 2}, {"base_width", 32}, {"coord", "none"}, {"seed", 0}}));
    EXPECT_EQ(c["in_channels"], 1);
    EXPECT_EQ(c["classes"], 2);
    EXPECT_EQ(c["class_names"], (json{"background", "heart"}));
    EXPECT_EQ(c["modalities"].size(), 1u);
    EXPECT_EQ(c["app"], "segthor_weak");
    EXPECT_FALSE(c["segengine_version"].get<std::string>().empty());
    EXPECT_EQ(c["data"], t.data.string());
    EXPECT_EQ(c["missing"], json::array());
    const json& p = c["preprocessing"];
    EXPECT_EQ(p["kind"], "slices2d");
    EXPECT_EQ(p["normalisation"], "minmax-volume");
    EXPECT_EQ(p["size"], (json{32, 32}));
    EXPECT_EQ(p["slice_axis"], 2);
    EXPECT_EQ(p["orientation"], "RAS");       // the phantom's volumes
    EXPECT_EQ(p["orientations_seen"]["RAS"], 2);  // both training patients
    EXPECT_EQ(p["label_ids"], (json{{"2", 1}}));  // SegTHOR's heart
    EXPECT_DOUBLE_EQ(p["spacing_mm"][2].get<double>(), 20.0);
  }
  // results.json keeps the same card
  EXPECT_EQ(t.results["model_card"]["architecture"], "residual_unet");
}

TEST(Predict, NonDiagonalNiftiKeepsItsGridAndEqualsTheAppsEvaluation) {
  if (!has_nibabel()) GTEST_SKIP() << kPython << " with nibabel and numpy is not available";
  const Trained& t = trained();
  TempDir tmp;
  fs::create_directories(tmp / "in");
  fs::create_directories(tmp / "gt");
  Cmd r = python(tmp.p, "oblique", kObliqueScript,
                 t.val_ct.string() + " " + t.val_gt.string() + " " + (tmp / "in/case.nii.gz").string() + " " + (tmp / "gt/case.nii.gz").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_EQ(r.out, "RAS\n");
  r = run(predict_cmd((tmp / "in/case.nii.gz").string() + " -o " + (tmp / "out").string() + " --probabilities --device cpu"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("[1/1] case"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("orientation RAS as in training"), std::string::npos) << r.out;
  for (const char* f : {"case.nii.gz", "case_prob_0_background.nii.gz", "case_prob_1_heart.nii.gz", "predict.json"})
    EXPECT_TRUE(fs::exists(tmp / ("out/" + std::string(f)))) << f;

  // nibabel: the input's shape, affine, qform and sform (codes 1 and 2, different matrices), units; labels 0 / 2
  r = python(tmp.p, "grid", kSameGridScript, (tmp / "in/case.nii.gz").string() + " " + (tmp / "out/case.nii.gz").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json g = json::parse(r.out);
  EXPECT_EQ(g["shape_out"], g["shape_in"]);
  EXPECT_TRUE(g["affine"].get<bool>());
  EXPECT_TRUE(g["qform"].get<bool>());
  EXPECT_TRUE(g["sform"].get<bool>());
  EXPECT_EQ(g["qform_code"], 1);
  EXPECT_EQ(g["sform_code"], 2);
  EXPECT_EQ(g["units"], (json{"mm", "sec"}));
  EXPECT_EQ(g["dtype"], "uint8");
  for (const auto& v : g["values"]) EXPECT_TRUE(v == 0 || v == 2) << v;
  r = python(tmp.p, "grid_prob", kSameGridScript,
             (tmp / "in/case.nii.gz").string() + " " + (tmp / "out/case_prob_1_heart.nii.gz").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(json::parse(r.out)["sform"].get<bool>());
  EXPECT_EQ(json::parse(r.out)["dtype"], "float32");

  // the app's own evaluation of this patient: its slice set and its inference loop, on the checkpoint's weights
  Paper1DataOptions o;
  o.dataset = Paper1Dataset::SegTHOR;
  o.data_dir = t.data.string();
  o.train_patients = 2;
  o.val_patients = 1;
  o.size = 32;
  o.seed = 0;
  const Paper1Data d = load_paper1_data(o);
  ASSERT_EQ(d.val.size(), 1u);
  const SliceSet& v = d.val[0];
  ASSERT_EQ(v.id, t.val_case);
  auto model = make_paper1_model(CoordPlacement::None, 0);
  load_checkpoint(t.best.string(), *model, nullptr);
  model->eval();
  const ForwardFn forward = [&](const Tensor& x) { return Outputs{model->forward(x), {}}; };
  const std::vector<uint8_t> app = predict_labels(forward, v, 8, Device::CPU);
  const Volume pred = read_image((tmp / "out/case.nii.gz").string()), prob = read_image((tmp / "out/case_prob_1_heart.nii.gz").string());
  ASSERT_EQ(pred.dims, (std::array<int64_t, 3>{v.width, v.height, v.slices}));
  int64_t differ = 0, heart = 0;
  for (size_t i = 0; i < app.size(); ++i) {
    differ += pred.data[i] != (app[i] ? 2.f : 0.f);
    heart += app[i];
  }
  EXPECT_EQ(differ, 0) << "of " << app.size() << " voxels (" << heart << " heart)";
  double max_diff = 0, lo = 1, hi = 0;
  for_each_slice_batch(forward, v, 8, Device::CPU, [&](int64_t z0, const Tensor& logits) {
    const Tensor p = softmax(logits, 1);
    const float* pp = p.data<float>();
    const int64_t n = p.size(0), P = v.pixels();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t q = 0; q < P; ++q) {
        const double want = pp[(b * 2 + 1) * P + q], got = prob.data[static_cast<size_t>((z0 + b) * P + q)];
        max_diff = std::max(max_diff, std::fabs(want - got));
        lo = std::min(lo, got), hi = std::max(hi, got);
      }
  });
  EXPECT_LT(max_diff, 1e-6);
  EXPECT_GT(hi - lo, 1e-3) << "the heart probability is constant: the comparison would prove little";

  // segtool evaluate's Dice of this prediction = the Dice the app reported for this patient
  r = run(segtool() + " evaluate " + (tmp / "out").string() + " " + (tmp / "gt").string() + " --labels 2 -o " + (tmp / "s.json").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json s = json::parse(std::ifstream(tmp / "s.json"));
  const double app_dice = t.results["validation"]["metrics"]["dice"]["heart"]["per_patient"][t.val_case].get<double>();
  EXPECT_NEAR(s["metric_per_case"][0]["metrics"]["2"]["Dice"].get<double>(), app_dice, 1e-12);
}

TEST(Predict, PermutedAndFlippedVolumeLandsOnTheSameAnatomy) {
  if (!has_nibabel()) GTEST_SKIP() << kPython << " with nibabel and numpy is not available";
  const Trained& t = trained();
  TempDir tmp;
  for (const char* f : {"in", "gt", "pin", "pgt"}) fs::create_directories(tmp / f);
  Cmd r = python(tmp.p, "oblique", kObliqueScript,
                 t.val_ct.string() + " " + t.val_gt.string() + " " + (tmp / "in/case.nii.gz").string() + " " + (tmp / "gt/case.nii.gz").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  // the same patient stored as I-L-A (axes permuted, two of them reversed), GT alike
  const char* perm = R"PY(
import sys, nibabel as nib
from nibabel.orientations import io_orientation, axcodes2ornt, ornt_transform
for src, dst in zip(sys.argv[1:3], sys.argv[3:5]):
    img = nib.load(src)
    nib.save(img.as_reoriented(ornt_transform(io_orientation(img.affine), axcodes2ornt(('I', 'L', 'A')))), dst)
print(''.join(nib.aff2axcodes(nib.load(sys.argv[3]).affine)))
)PY";
  r = python(tmp.p, "perm", perm, (tmp / "in/case.nii.gz").string() + " " + (tmp / "gt/case.nii.gz").string() + " " +
                                      (tmp / "pin/perm.nii.gz").string() + " " + (tmp / "pgt/perm.nii.gz").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_EQ(r.out, "ILA\n");
  r = run(predict_cmd((tmp / "in/case.nii.gz").string() + " " + (tmp / "pin/perm.nii.gz").string() + " -o " +
                      (tmp / "out").string() + " --probabilities --device cpu"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("reoriented ILA → RAS"), std::string::npos) << r.out;
  r = run(predict_cmd((tmp / "pin/perm.nii.gz").string() + " -o " + (tmp / "raw").string() + " --probabilities --no-reorient"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("warning"), std::string::npos) << r.out;
  const char* check = R"PY(
import sys, json, numpy as np, nibabel as nib
from nibabel.orientations import io_orientation, ornt_transform
d, pin = sys.argv[1], sys.argv[2]
def back(img, like):
    return img.as_reoriented(ornt_transform(io_orientation(img.affine), io_orientation(like.affine)))
ref, ref_p = nib.load(d + '/out/case.nii.gz'), nib.load(d + '/out/case_prob_1_heart.nii.gz')
p, p_p = nib.load(d + '/out/perm.nii.gz'), nib.load(d + '/out/perm_prob_1_heart.nii.gz')
raw_p = nib.load(d + '/raw/perm_prob_1_heart.nii.gz')
src = nib.load(pin)
out = dict(grid=bool(p.shape == src.shape and np.allclose(p.affine, src.affine, atol=1e-6)),
           labels_equal=bool(np.array_equal(np.asarray(back(p, ref).dataobj), np.asarray(ref.dataobj))),
           affine_back=bool(np.allclose(back(p, ref).affine, ref.affine, atol=1e-4)),
           prob_diff=float(np.abs(back(p_p, ref_p).get_fdata() - ref_p.get_fdata()).max()),
           raw_prob_diff=float(np.abs(back(raw_p, ref_p).get_fdata() - ref_p.get_fdata()).max()),
           heart_voxels=int((np.asarray(ref.dataobj) == 2).sum()))
print(json.dumps(out))
)PY";
  r = python(tmp.p, "check", check, tmp.p.string() + " " + (tmp / "pin/perm.nii.gz").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json c = json::parse(r.out);
  EXPECT_TRUE(c["grid"].get<bool>()) << r.out;          // on the permuted input's own grid
  EXPECT_TRUE(c["labels_equal"].get<bool>()) << r.out;  // mapped back: the canonical prediction, voxel for voxel
  EXPECT_TRUE(c["affine_back"].get<bool>()) << r.out;
  EXPECT_LT(c["prob_diff"].get<double>(), 1e-6) << r.out;
  EXPECT_GT(c["raw_prob_diff"].get<double>(), 1e-2) << r.out;  // as stored, the model sees other slices
  // the Dice against the (equally permuted) ground truth is the same
  fs::create_directories(tmp / "pout");
  fs::copy_file(tmp / "out/perm.nii.gz", tmp / "pout/perm.nii.gz");
  fs::remove(tmp / "out/perm.nii.gz");
  r = run(segtool() + " evaluate " + (tmp / "out").string() + " " + (tmp / "gt").string() + " --labels 2 -o " + (tmp / "a.json").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  r = run(segtool() + " evaluate " + (tmp / "pout").string() + " " + (tmp / "pgt").string() + " --labels 2 -o " + (tmp / "b.json").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json a = json::parse(std::ifstream(tmp / "a.json")), b = json::parse(std::ifstream(tmp / "b.json"));
  EXPECT_EQ(a["mean"]["2"]["Dice"], b["mean"]["2"]["Dice"]);
  EXPECT_EQ(a["mean"]["2"]["n_pred"], b["mean"]["2"]["n_pred"]);
}

TEST(Predict, MetaImageNrrdAndPngInputsGiveTheirFormatOnTheirGrid) {
  const Trained& t = trained();
  TempDir tmp;
  fs::create_directories(tmp / "in");
  Volume ct = read_image(t.val_ct.string());
  // not diagonal: the x and y axes rotated by 0.3 rad about z (a direction matrix that MetaImage's orthonormal
  // TransformMatrix and NRRD's space directions both hold exactly, the spacing unchanged)
  const double c = std::cos(0.3), s = std::sin(0.3), ax[2] = {ct.affine[0][0], ct.affine[1][1]};
  ct.affine[0][0] = c * ax[0], ct.affine[1][0] = s * ax[0];
  ct.affine[0][1] = -s * ax[1], ct.affine[1][1] = c * ax[1];
  write_image((tmp / "in/cm.mha").string(), ct);
  write_image((tmp / "in/cn.nrrd").string(), ct);
  Volume slice = Volume::make({ct.nx(), ct.ny(), 1});
  slice.datatype = "uint16";
  const int64_t z = ct.nz() / 2;
  for (int64_t y = 0; y < ct.ny(); ++y)
    for (int64_t x = 0; x < ct.nx(); ++x) slice.at(x, y, 0) = std::clamp(ct.at(x, y, z) + 1024.f, 0.f, 65535.f);
  write_image((tmp / "in/slice.png").string(), slice);
  Cmd r = run(predict_cmd("-i " + (tmp / "in").string() + " -o " + (tmp / "out").string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("2-D image: used as stored"), std::string::npos) << r.out;
  const Volume m = read_image((tmp / "out/cm.mha").string()), n = read_image((tmp / "out/cn.nrrd").string());
  const Volume m_in = read_image((tmp / "in/cm.mha").string()), n_in = read_image((tmp / "in/cn.nrrd").string());
  for (const auto& [v, in] : {std::pair{&m, &m_in}, std::pair{&n, &n_in}}) {
    EXPECT_EQ(v->dims, ct.dims);
    EXPECT_EQ(v->spacing, in->spacing);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) {
        EXPECT_NEAR(in->affine[i][j], ct.affine[i][j], 1e-6) << "the input as written, " << i << "," << j;
        EXPECT_NEAR(v->affine[i][j], in->affine[i][j], 1e-9) << "the output on the input's grid, " << i << "," << j;
      }
    int64_t heart = 0;
    for (float x : v->data) {
      EXPECT_TRUE(x == 0.f || x == 2.f) << x;
      heart += x == 2.f;
    }
    EXPECT_GT(heart, 0) << "no heart predicted: the grid check would prove little";
  }
  EXPECT_EQ(m.data, n.data);  // one prediction, two formats
  const Volume p = read_image((tmp / "out/slice.png").string());
  EXPECT_EQ(p.dims, slice.dims);
  for (float x : p.data) EXPECT_TRUE(x == 0.f || x == 2.f) << x;
  const json log = json::parse(std::ifstream(tmp / "out/predict.json"));
  EXPECT_EQ(log["cases"].size(), 3u);
  EXPECT_EQ(log["card"]["architecture"], "residual_unet");
}

TEST(Predict, CheckpointsWithoutACompleteCardAreRefusedSayingWhatIsMissing) {
  const Trained& t = trained();
  TempDir tmp;
  ResidualUNet small({.base_width = 2});
  save_checkpoint((tmp / "old.safetensors").string(), small, nullptr, {{"epoch", "3"}});
  Cmd r = run(segtool() + " predict " + (tmp / "old.safetensors").string() + " " + t.val_ct.string() + " -o " + (tmp / "o").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("no model card"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("segengine.model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("only: epoch"), std::string::npos) << r.out;
  // a card written by a run whose model was not registered
  ModelCard c;
  c.missing = {"architecture: the model type seg::Something is not registered in models/registry.cpp"};
  save_checkpoint((tmp / "unreg.safetensors").string(), small, nullptr, {{kModelCardKey, c.to_json().dump()}});
  r = run(segtool() + " predict " + (tmp / "unreg.safetensors").string() + " " + t.val_ct.string() + " -o " + (tmp / "o").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("model card is incomplete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not registered"), std::string::npos) << r.out;
  // weights that do not fit the card's model
  ModelCard big = ModelCard::from_metadata(load_safetensors(t.best.string()).metadata, t.best.string());
  save_checkpoint((tmp / "mismatch.safetensors").string(), small, nullptr, {{kModelCardKey, big.to_json().dump()}});
  r = run(segtool() + " predict " + (tmp / "mismatch.safetensors").string() + " " + t.val_ct.string() + " -o " + (tmp / "o").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("has shape"), std::string::npos) << r.out;
  // usage errors: exit 2
  EXPECT_EQ(run(segtool() + " predict " + t.best.string() + " " + t.val_ct.string()).rc, 2);
  EXPECT_EQ(run(segtool() + " predict " + t.best.string() + " -o " + (tmp / "o").string()).rc, 2);
  EXPECT_EQ(run(segtool() + " predict " + t.best.string() + " " + t.val_ct.string() + " -o x --device tpu").rc, 2);
}

TEST(Predict, KeepGoingPastABadCase) {
  const Trained& t = trained();
  TempDir tmp;
  fs::create_directories(tmp / "in");
  std::ofstream(tmp / "in/a_bad.nii.gz") << "not a NIfTI file";
  fs::copy_file(t.val_ct, tmp / "in/b_good.nii.gz");
  Cmd r = run(predict_cmd("-i " + (tmp / "in").string() + " -o " + (tmp / "stop").string()));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("a_bad.nii.gz"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--keep-going"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp / "stop/b_good.nii.gz"));
  r = run(predict_cmd("-i " + (tmp / "in").string() + " -o " + (tmp / "go").string() + " --keep-going"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("[1/2] a_bad: error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[2/2] b_good"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 failed"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp / "go/b_good.nii.gz"));
  const json log = json::parse(std::ifstream(tmp / "go/predict.json"));
  ASSERT_EQ(log["cases"].size(), 2u);
  EXPECT_TRUE(log["cases"][0].contains("error"));
  EXPECT_FALSE(log["cases"][1].contains("error"));
  // the output folder may not be an input folder
  r = run(predict_cmd("-i " + (tmp / "in").string() + " -o " + (tmp / "in").string()));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("no input is overwritten"), std::string::npos) << r.out;
}

TEST(Predict, WrongChannelCountAndMissingFilesAreClearErrors) {
  const Trained& t = trained();
  TempDir tmp;
  fs::create_directories(tmp / "in");
  // two channels for a one-channel model: one 2-channel NRRD, and two nnU-Net channel files of one case
  const Volume ct = read_image(t.val_ct.string());
  Volume two = ct;
  two.channels = 2;
  two.data.insert(two.data.end(), ct.data.begin(), ct.data.end());
  write_image((tmp / "in/two.nrrd").string(), two);
  ASSERT_EQ(read_image((tmp / "in/two.nrrd").string()).channels, 2);
  Cmd r = run(predict_cmd((tmp / "in/two.nrrd").string() + " -o " + (tmp / "o").string()));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("two: error: case two: 2 input channel(s), the model takes 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in/two.nrrd"), std::string::npos) << r.out;  // the input is named
  EXPECT_FALSE(fs::exists(tmp / "o/two.nrrd"));
  // a two-channel 4-D NIfTI alike (the channels as the 4th dimension)
  write_image((tmp / "in/two4d.nii.gz").string(), two);
  r = run(predict_cmd((tmp / "in/two4d.nii.gz").string() + " -o " + (tmp / "o").string()));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("2 input channel(s), the model takes 1"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp / "o/two4d.nii.gz"));

  // a missing input file: named, and the other case still predicted with --keep-going
  const std::string missing = (tmp / "in/nowhere.nii.gz").string();
  r = run(predict_cmd(missing + " " + t.val_ct.string() + " -o " + (tmp / "k").string() + " --keep-going"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("[1/2] nowhere: error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(missing), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp / ("k/" + t.val_case + ".nii.gz")));
  const json log = json::parse(std::ifstream(tmp / "k/predict.json"));
  ASSERT_EQ(log["cases"].size(), 2u);
  EXPECT_TRUE(log["cases"][0].contains("error"));
  EXPECT_EQ(log["cases"][1]["output"], (tmp / ("k/" + t.val_case + ".nii.gz")).string());

  // a missing checkpoint and a missing -i folder: exit 1 naming the path, nothing written
  const std::string no_model = (tmp / "no_such.safetensors").string();
  r = run(segtool() + " predict " + no_model + " " + t.val_ct.string() + " -o " + (tmp / "m").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find(no_model), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp / "m/predict.json"));
  r = run(predict_cmd("-i " + (tmp / "no_folder").string() + " -o " + (tmp / "f").string()));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("no_folder: not a folder"), std::string::npos) << r.out;
  // an nnU-Net case whose _0000 file is missing (only _0001 given) for a one-channel model: taken as its own case
  // name, so the output is not silently called after a missing channel — it is predicted as "c_0001"
  fs::copy_file(t.val_ct, tmp / "in/c_0001.nii.gz");
  r = run(predict_cmd((tmp / "in/c_0001.nii.gz").string() + " -o " + (tmp / "n").string()));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(tmp / "n/c_0001.nii.gz"));
}

// A real scan (SEG_SHARED_DIR/data/real/dcmqi_ct_3slice_heart_liver_spine, see its SOURCE.md): three 512×512 CT slices
// as a DICOM series and as the NIfTI derived from it (same grid, LPS). The phantom-trained model is not expected to
// find the heart here; what is checked is the path: the DICOM series and its NIfTI give the same probabilities and
// labels, on the scan's grid (spacing 0.810547 mm, origin as in SOURCE.md), and `segtool evaluate` against the real
// labels counts the reference voxels SOURCE.md states (heart 41,449, spine 12,439) and the predicted ones we count.
TEST(Predict, RealCtAsDicomSeriesAndNiftiGivesTheSamePredictionOnItsGrid) {
  const fs::path src = fs::path(SEG_SHARED_DIR) / "data/real/dcmqi_ct_3slice_heart_liver_spine";
  if (!fs::exists(src / "dicom") || !fs::exists(src / "ct.nii.gz") || !fs::exists(src / "labels.nii.gz"))
    GTEST_SKIP() << "the real CT sample is absent: " << src;
  const Trained& t = trained();
  TempDir tmp;
  Cmd r = run(predict_cmd((src / "dicom").string() + " " + (src / "ct.nii.gz").string() + " -o " + (tmp / "out").string() +
                          " --probabilities --device cpu"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("[1/2] dicom: 512x512x3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reoriented LPS → RAS for the model and back"), std::string::npos) << r.out;  // stored LPS
  const Volume ct = read_image((src / "ct.nii.gz").string());
  const Volume from_dicom = read_image((tmp / "out/dicom.nii.gz").string()), from_nifti = read_image((tmp / "out/ct.nii.gz").string());
  for (const Volume* v : {&from_dicom, &from_nifti}) {
    ASSERT_EQ(v->dims, (std::array<int64_t, 3>{512, 512, 3}));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) EXPECT_NEAR(v->affine[i][j], ct.affine[i][j], 1e-4) << i << "," << j;
    EXPECT_NEAR(v->spacing[0], 0.810547, 1e-6);
    EXPECT_NEAR(v->spacing[2], 1.0, 1e-6);
    EXPECT_NEAR(v->affine[0][0], -0.810547, 1e-6);  // LPS stays LPS in RAS terms: x and y negated
    EXPECT_NEAR(v->affine[2][3], -128.69, 1e-4);
  }
  EXPECT_EQ(from_dicom.data, from_nifti.data);
  const Volume pd = read_image((tmp / "out/dicom_prob_1_heart.nii.gz").string());
  const Volume pn = read_image((tmp / "out/ct_prob_1_heart.nii.gz").string());
  ASSERT_EQ(pd.data.size(), pn.data.size());
  double max_diff = 0, lo = 1, hi = 0;
  for (size_t i = 0; i < pd.data.size(); ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(pd.data[i] - pn.data[i])));
    lo = std::min(lo, static_cast<double>(pd.data[i])), hi = std::max(hi, static_cast<double>(pd.data[i]));
  }
  EXPECT_LT(max_diff, 1e-6);
  EXPECT_GT(hi - lo, 1e-3) << "constant probabilities: the comparison would prove little";
  int64_t pred2 = 0, pred3 = 0;  // the model's heart is written as SegTHOR's id 2 (the real labels' spine id)
  for (float x : from_dicom.data) pred2 += x == 2.f, pred3 += x == 3.f;
  EXPECT_EQ(pred3, 0);

  fs::create_directories(tmp / "pred");
  fs::create_directories(tmp / "gt");
  fs::copy_file(tmp / "out/dicom.nii.gz", tmp / "pred/case.nii.gz");
  fs::copy_file(src / "labels.nii.gz", tmp / "gt/case.nii.gz");
  r = run(segtool() + " evaluate " + (tmp / "pred").string() + " " + (tmp / "gt").string() + " --labels 2,3 -o " +
          (tmp / "s.json").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json s = json::parse(std::ifstream(tmp / "s.json"));
  ASSERT_EQ(s["metric_per_case"].size(), 1u);
  const json& m = s["metric_per_case"][0]["metrics"];
  EXPECT_EQ(m["3"]["n_ref"], 41449);  // heart, as SOURCE.md counts it
  EXPECT_EQ(m["2"]["n_ref"], 12439);  // spine
  EXPECT_EQ(m["3"]["n_pred"], 0);
  EXPECT_EQ(m["2"]["n_pred"], pred2);
  EXPECT_NEAR(m["3"]["volume_ref_mm3"].get<double>(), 41449 * 0.810547 * 0.810547 * 1.0, 0.5);
}
