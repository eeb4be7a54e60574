// list_cases for each official layout (see datasets.h).
// Key decision: each layout is matched by exact, documented file names; anything missing produces one error that says
// which layout was expected and shows (part of) what the folder really holds, so a wrong path is fixed in one try.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "data/datasets/datasets.h"
#include "data/formats/jsrt.h"

namespace fs = std::filesystem;

namespace seg {

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// "a/, b.nii.gz, c (+12 more)" or "(empty)" / "(no such folder)".
std::string found(const fs::path& dir) {
  if (!is_dir(dir)) return "(no such folder)";
  const auto es = entries(dir);
  if (es.empty()) return "(empty)";
  std::string s;
  for (size_t i = 0; i < es.size() && i < 12; ++i) s += (i ? ", " : "") + es[i].filename().string() + (is_dir(es[i]) ? "/" : "");
  if (es.size() > 12) s += " (+" + std::to_string(es.size() - 12) + " more)";
  return s;
}

[[noreturn]] void wrong(const std::string& layout, const fs::path& dir, const std::string& expected, const std::string& detail = "") {
  throw std::runtime_error(dir.string() + ": not a " + layout + " folder" + (detail.empty() ? "" : " (" + detail + ")") +
                           ": expected " + expected + "; found: " + found(dir));
}

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends(const std::string& s, const std::string& e) { return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0; }

// First of DIR/stem.nii.gz, DIR/stem.nii that exists, or "".
std::string nii(const fs::path& dir, const std::string& stem) {
  for (const char* e : {".nii.gz", ".nii"})
    if (is_file(dir / (stem + e))) return (dir / (stem + e)).string();
  return "";
}

std::vector<Case> segthor(const fs::path& dir) {
  const std::string expect = "DIR/train/Patient_XX/{Patient_XX.nii.gz, GT.nii.gz}";
  const fs::path root = is_dir(dir / "train") ? dir / "train" : dir;
  std::vector<Case> out;
  for (const auto& p : entries(root)) {
    const std::string id = p.filename().string();
    if (!is_dir(p) || !starts(id, "Patient_")) continue;
    Case c{id, {nii(p, id)}, nii(p, "GT"), id, "segthor"};
    if (c.image_paths[0].empty() || c.label_path.empty())
      wrong("SegTHOR", p, id + ".nii.gz and GT.nii.gz", "incomplete patient " + id);
    out.push_back(c);
  }
  if (out.empty()) wrong("SegTHOR", root, expect, "no Patient_XX folder");
  return out;
}

std::vector<Case> acdc(const fs::path& dir) {
  fs::path root = dir;
  for (const char* sub : {"training", "database/training"})
    if (is_dir(dir / sub)) root = dir / sub;
  std::vector<Case> out;
  for (const auto& p : entries(root)) {
    const std::string pid = p.filename().string();
    if (!is_dir(p) || !starts(pid, "patient")) continue;
    if (!is_file(p / "Info.cfg")) wrong("ACDC", p, "Info.cfg next to the frames", "patient " + pid + " has no Info.cfg");
    size_t before = out.size();
    for (const auto& f : entries(p)) {
      const std::string name = f.filename().string();
      for (const char* e : {"_gt.nii.gz", "_gt.nii"}) {
        if (!ends(name, e)) continue;
        const std::string stem = name.substr(0, name.size() - std::string(e).size());
        const std::string img = nii(p, stem);
        if (img.empty()) wrong("ACDC", p, stem + ".nii.gz for " + name, "image of an annotated frame missing");
        out.push_back(Case{stem, {img}, f.string(), pid, "acdc"});
      }
    }
    if (out.size() == before)
      wrong("ACDC", p, pid + "_frameYY.nii.gz with " + pid + "_frameYY_gt.nii.gz", "no annotated frame for " + pid);
  }
  if (out.empty()) wrong("ACDC", root, "DIR/training/patientXXX/patientXXX_frameYY[_gt].nii.gz + Info.cfg", "no patientXXX folder");
  return out;
}

std::vector<Case> brats19(const fs::path& dir) {
  fs::path root = dir;
  if (!is_dir(dir / "HGG") && !is_dir(dir / "LGG") && is_dir(dir / "MICCAI_BraTS_2019_Data_Training"))
    root = dir / "MICCAI_BraTS_2019_Data_Training";
  const std::string expect = "DIR/{HGG,LGG}/BraTS19_*/BraTS19_*_{flair,t1,t1ce,t2,seg}.nii.gz";
  if (!is_dir(root / "HGG") && !is_dir(root / "LGG")) wrong("BraTS 2019", root, expect, "no HGG or LGG folder");
  std::vector<Case> out;
  for (const char* grade : {"HGG", "LGG"})
    for (const auto& p : entries(root / grade)) {
      if (!is_dir(p)) continue;
      const std::string id = p.filename().string();
      Case c{id, {}, nii(p, id + "_seg"), id, "brats19"};
      std::string missing;
      for (const char* m : {"flair", "t1", "t1ce", "t2"}) {
        c.image_paths.push_back(nii(p, id + "_" + m));
        if (c.image_paths.back().empty()) missing += " " + id + "_" + m + ".nii.gz";
      }
      if (!missing.empty()) wrong("BraTS 2019", p, "the four modalities", "case " + id + " lacks" + missing);
      out.push_back(c);
    }
  if (out.empty()) wrong("BraTS 2019", root, expect, "no case folder");
  return out;
}

std::vector<Case> kits19(const fs::path& dir) {
  const fs::path root = is_dir(dir / "data") ? dir / "data" : dir;
  std::vector<Case> out;
  for (const auto& p : entries(root)) {
    const std::string id = p.filename().string();
    if (!is_dir(p) || !starts(id, "case_")) continue;
    Case c{id, {nii(p, "imaging")}, nii(p, "segmentation"), id, "kits19"};
    if (c.image_paths[0].empty()) wrong("KiTS19", p, "imaging.nii.gz", "case " + id + " has no image");
    out.push_back(c);
  }
  if (out.empty()) wrong("KiTS19", root, "DIR/case_XXXXX/{imaging,segmentation}.nii.gz", "no case_XXXXX folder");
  return out;
}

std::vector<Case> promise12(const fs::path& dir) {
  std::vector<Case> out;
  std::function<void(const fs::path&, int)> scan = [&](const fs::path& d, int depth) {
    for (const auto& f : entries(d)) {
      const std::string name = f.filename().string();
      if (is_dir(f) && depth == 0) scan(f, 1);
      if (!is_file(f) || !starts(name, "Case") || !ends(name, ".mhd") || ends(name, "_segmentation.mhd")) continue;
      const std::string id = name.substr(0, name.size() - 4);
      const fs::path seg = d / (id + "_segmentation.mhd");
      out.push_back(Case{id, {f.string()}, is_file(seg) ? seg.string() : "", id, "promise12"});
    }
  };
  scan(dir, 0);
  if (out.empty()) wrong("Promise12", dir, "DIR/CaseXX.mhd with CaseXX_segmentation.mhd (and their .raw)", "no CaseXX.mhd");
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.id < b.id; });
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].id == out[i - 1].id)
      throw std::runtime_error(dir.string() + ": Promise12 case " + out[i].id + " appears twice: " +
                               out[i - 1].image_paths[0] + " and " + out[i].image_paths[0]);
  return out;
}

// The folder holding case `id`'s per-structure SCR masks, or "" when there is none: SCR as shipped
// (scratch/fold1|fold2/masks/<structure>/<id>.gif, also fold1|fold2/masks without scratch/) or converted
// (masks/<structure>/<id>.png|gif). `ext` receives the mask files' extension.
fs::path scr_masks_dir(const fs::path& dir, const std::string& id, std::string& ext) {
  const fs::path cands[] = {dir / "masks", dir / "scratch" / "fold1" / "masks", dir / "scratch" / "fold2" / "masks",
                            dir / "fold1" / "masks", dir / "fold2" / "masks"};
  for (const auto& m : cands)
    for (const char* e : {".gif", ".png"})
      for (const char* s : kScrStructures)
        if (is_file(m / s / (id + e))) {
          ext = e;
          return m;
        }
  return {};
}

std::vector<Case> jsrt(const fs::path& dir) {
  const fs::path root = is_dir(dir / "images") ? dir / "images" : dir;
  const fs::path masks = dir / "masks";
  const std::string expect = "masks/<ID>.png (label map), masks/{left lung,right lung,heart,left clavicle,right clavicle}/"
                             "<ID>.png|gif, or SCR's scratch/fold1|fold2/masks/{...}/<ID>.gif";
  std::vector<Case> out;
  for (const auto& f : entries(root)) {
    const std::string name = f.filename().string();
    std::string lname = name;
    std::transform(lname.begin(), lname.end(), lname.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!is_file(f) || !ends(lname, ".img")) continue;
    const std::string id = name.substr(0, name.size() - 4);
    std::string label, ext;
    if (is_file(masks / (id + ".png"))) {
      label = (masks / (id + ".png")).string();
    } else if (const fs::path m = scr_masks_dir(dir, id, ext); !m.empty()) {
      std::string missing;
      for (const char* s : kScrStructures)
        if (!is_file(m / s / (id + ext))) missing += std::string(" ") + s + "/" + id + ext;
      if (!missing.empty()) wrong("JSRT", m, "one " + ext + " mask per SCR structure", "case " + id + " lacks" + missing);
      label = m.string();
    } else {
      const bool scr = is_dir(dir / "scratch") || is_dir(masks / "heart") || is_dir(masks / "left lung");
      wrong("JSRT", scr && is_dir(dir / "scratch") ? dir / "scratch" : masks, expect, "no mask for " + id);
    }
    out.push_back(Case{id, {f.string()}, label, id, "jsrt"});
  }
  if (out.empty()) wrong("JSRT", root, "DIR/[images/]JPCxxxxx.IMG (2048x2048 raw) and its masks", "no .IMG file");
  return out;
}

// DIR/<name> matched case-insensitively (ORIGA and Kaggle copies ship Images/ and Masks/); DIR/<name> if none.
fs::path child_ci(const fs::path& dir, const std::string& name) {
  for (const auto& e : entries(dir)) {
    std::string f = e.filename().string();
    std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
    if (f == name && is_dir(e)) return e;
  }
  return dir / name;
}

std::vector<Case> images_masks(const fs::path& dir, const std::string& name) {
  const std::string expect = "DIR/images/<stem>.{png,jpg,jpeg} and DIR/masks/<stem>[_mask|-mask|_segmentation].{png,jpg,jpeg}";
  const fs::path images = child_ci(dir, "images"), masks = child_ci(dir, "masks");
  if (!is_dir(images) || !is_dir(masks)) wrong(name, dir, expect, "images/ or masks/ missing");
  std::vector<Case> out;
  for (const auto& f : entries(images)) {
    std::string ext = f.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!is_file(f) || (ext != ".png" && ext != ".jpg" && ext != ".jpeg")) continue;
    const std::string stem = f.stem().string();
    std::string mask;
    for (const char* suffix : {"", "_mask", "-mask", "_segmentation"})
      for (const char* e : {".png", ".jpg", ".jpeg", ".PNG", ".JPG"})
        if (mask.empty() && is_file(masks / (stem + suffix + e))) mask = (masks / (stem + suffix + e)).string();
    if (mask.empty()) wrong(name, masks, "a mask named " + stem + ".png (or .jpg, _mask, -mask)", "no mask for image " + f.filename().string());
    out.push_back(Case{stem, {f.string()}, mask, stem, "images_masks"});
  }
  if (out.empty()) wrong(name, images, expect, "no image");
  return out;
}

// dataset.json's "labels" (nnU-Net and the Decathlon): v2 maps names to values (or lists of values, for region-based
// training), v1 and the Decathlon values (as strings) to names. Absent: an empty set (any integer >= 0).
std::map<int, std::string> json_labels(const nlohmann::json& j, const fs::path& json_path) {
  std::map<int, std::string> labels;
  if (j.contains("labels")) {
    const std::string where = json_path.string() + ": \"labels\"";
    if (!j["labels"].is_object()) throw std::runtime_error(where + " is not an object");
    for (const auto& [k, v] : j["labels"].items()) {
      const auto add = [&](const nlohmann::json& x, const std::string& nm) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > 65535)
          throw std::runtime_error(where + ": entry '" + k + "' is not a label value in 0..65535 (" + x.dump() + ")");
        labels.emplace(static_cast<int>(x.get<int64_t>()), nm);
      };
      if (v.is_array()) {
        for (const auto& x : v) add(x, k);
      } else if (v.is_string()) {  // v1: "1": "edema"
        char* end = nullptr;
        const long value = std::strtol(k.c_str(), &end, 10);
        if (k.empty() || *end != '\0' || value < 0 || value > 65535)
          throw std::runtime_error(where + ": entry '" + k + "' is not a label value (nnU-Net v1 and Decathlon keys are values)");
        labels.emplace(static_cast<int>(value), v.get<std::string>());
      } else {
        add(v, k);
      }
    }
  }
  return labels;
}

std::vector<Case> nnunet(const fs::path& dir) {
  const std::string expect = "DIR/dataset.json, DIR/imagesTr/<case>_0000.nii.gz, DIR/labelsTr/<case>.nii.gz";
  if (!is_file(dir / "dataset.json") || !is_dir(dir / "imagesTr") || !is_dir(dir / "labelsTr"))
    wrong("nnU-Net raw", dir, expect, "dataset.json, imagesTr/ or labelsTr/ missing");
  nlohmann::json j;
  try {
    std::ifstream in(dir / "dataset.json");
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error((dir / "dataset.json").string() + ": not valid JSON (" + e.what() + ")");
  }
  size_t channels = 0;
  if (j.contains("channel_names") && j["channel_names"].is_object()) channels = j["channel_names"].size();
  else if (j.contains("modality") && j["modality"].is_object()) channels = j["modality"].size();
  if (channels == 0)
    throw std::runtime_error((dir / "dataset.json").string() + ": needs \"channel_names\" (v2) or \"modality\" (v1) with at least one entry");
  const std::string ending = j.contains("file_ending") && j["file_ending"].is_string() ? j["file_ending"].get<std::string>() : ".nii.gz";
  std::vector<Case> out;
  for (const auto& f : entries(dir / "labelsTr")) {
    const std::string name = f.filename().string();
    if (!is_file(f) || !ends(name, ending) || starts(name, ".")) continue;
    const std::string id = name.substr(0, name.size() - ending.size());
    Case c{id, {}, f.string(), id, "nnunet"};
    for (size_t k = 0; k < channels; ++k) {
      char suffix[32];
      std::snprintf(suffix, sizeof suffix, "_%04zu", k);
      const fs::path img = dir / "imagesTr" / (id + suffix + ending);
      if (!is_file(img)) wrong("nnU-Net raw", dir / "imagesTr", img.filename().string() + " (" + std::to_string(channels) + " channels per dataset.json)", "case " + id + " lacks a channel");
      c.image_paths.push_back(img.string());
    }
    out.push_back(c);
  }
  if (out.empty()) wrong("nnU-Net raw", dir / "labelsTr", "<case>" + ending, "no label file");
  const std::map<int, std::string> labels = json_labels(j, dir / "dataset.json");
  for (auto& c : out) c.labels = labels;
  if (j.contains("numTraining") && j["numTraining"].is_number_integer() && j["numTraining"].get<int64_t>() != static_cast<int64_t>(out.size()))
    throw std::runtime_error((dir / "dataset.json").string() + ": numTraining is " + std::to_string(j["numTraining"].get<int64_t>()) +
                             " but labelsTr holds " + std::to_string(out.size()) + " cases");
  return out;
}

// Medical Segmentation Decathlon: DIR/dataset.json lists "training": [{"image": "./imagesTr/X.nii.gz", "label":
// "./labelsTr/X.nii.gz"}]; multi-modal images are one 4-D file (Task01's four MRI modalities as channels).
std::vector<Case> msd(const fs::path& dir) {
  const std::string expect = "DIR/dataset.json with a \"training\" list, DIR/imagesTr/*.nii.gz, DIR/labelsTr/*.nii.gz";
  if (!is_file(dir / "dataset.json")) wrong("Medical Segmentation Decathlon", dir, expect, "dataset.json missing");
  nlohmann::json j;
  try {
    std::ifstream in(dir / "dataset.json");
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error((dir / "dataset.json").string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.contains("training") || !j["training"].is_array())
    throw std::runtime_error((dir / "dataset.json").string() + ": needs a \"training\" list of {\"image\", \"label\"}");
  std::vector<Case> out;
  for (const auto& e : j["training"]) {
    if (!e.is_object() || !e.contains("image") || !e.contains("label") || !e["image"].is_string() || !e["label"].is_string())
      throw std::runtime_error((dir / "dataset.json").string() + ": every \"training\" entry needs \"image\" and \"label\" paths");
    const fs::path img = (dir / e["image"].get<std::string>()).lexically_normal();
    const fs::path lab = (dir / e["label"].get<std::string>()).lexically_normal();
    if (!is_file(img)) wrong("Medical Segmentation Decathlon", img.parent_path(), img.filename().string() + " (listed in dataset.json)", "image missing");
    if (!is_file(lab)) wrong("Medical Segmentation Decathlon", lab.parent_path(), lab.filename().string() + " (listed in dataset.json)", "label missing");
    std::string id = img.filename().string();
    for (const char* ext : {".nii.gz", ".nii"})
      if (ends(id, ext)) id = id.substr(0, id.size() - std::string(ext).size());
    out.push_back(Case{id, {img.string()}, lab.string(), id, "msd"});
  }
  if (out.empty()) wrong("Medical Segmentation Decathlon", dir, expect, "the training list is empty");
  const std::map<int, std::string> labels = json_labels(j, dir / "dataset.json");
  for (auto& c : out) c.labels = labels;
  return out;
}

}  // namespace

std::vector<std::string> dataset_names() {
  return {"segthor", "acdc", "brats19", "kits19", "promise12", "jsrt", "images_masks", "nnunet", "msd"};
}

std::map<int, std::string> dataset_labels(const std::string& dataset) {
  if (dataset == "segthor") return {{0, "background"}, {1, "esophagus"}, {2, "heart"}, {3, "trachea"}, {4, "aorta"}};
  if (dataset == "acdc") return {{0, "background"}, {1, "RV"}, {2, "myocardium"}, {3, "LV"}};
  if (dataset == "brats19" || dataset == "brats")
    return {{0, "background"}, {1, "necrotic/non-enhancing tumour core"}, {2, "oedema"}, {4, "enhancing tumour"}};
  if (dataset == "kits19" || dataset == "kits") return {{0, "background"}, {1, "kidney"}, {2, "tumour"}};
  if (dataset == "promise12") return {{0, "background"}, {1, "prostate"}};
  if (dataset == "jsrt") return {{0, "background"}, {1, "lung"}, {2, "heart"}, {3, "clavicle"}};
  if (dataset == "images_masks" || dataset == "polyp" || dataset == "fundus" || dataset == "2d" || dataset == "nnunet" ||
      dataset == "msd")
    return {};
  std::string names;
  for (const auto& n : dataset_names()) names += " " + n;
  throw std::runtime_error("unknown data set '" + dataset + "' (known:" + names + ")");
}

std::vector<Case> list_cases(const std::string& dataset, const std::string& dir) {
  if (!is_dir(dir)) throw std::runtime_error(dir + ": no such folder (data set " + dataset + ")");
  std::vector<Case> out;
  const fs::path d(dir);
  if (dataset == "segthor") out = segthor(d);
  else if (dataset == "acdc") out = acdc(d);
  else if (dataset == "brats19" || dataset == "brats") out = brats19(d);
  else if (dataset == "kits19" || dataset == "kits") out = kits19(d);
  else if (dataset == "promise12") out = promise12(d);
  else if (dataset == "jsrt") out = jsrt(d);
  else if (dataset == "images_masks" || dataset == "polyp" || dataset == "fundus" || dataset == "2d") out = images_masks(d, dataset);
  else if (dataset == "nnunet") out = nnunet(d);
  else if (dataset == "msd") out = msd(d);
  else {
    std::string names;
    for (const auto& n : dataset_names()) names += " " + n;
    throw std::runtime_error("unknown data set '" + dataset + "' (known:" + names + ")");
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.id < b.id; });
  if (dataset != "nnunet" && dataset != "msd") {  // those two read their set from dataset.json
    const auto labels = dataset_labels(dataset);
    for (auto& c : out) c.labels = labels;
  }
  return out;
}

std::map<std::string, std::string> read_acdc_info(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open ACDC Info.cfg");
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto trim = [](std::string s) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
      return s;
    };
    kv[trim(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  if (!kv.count("ED") || !kv.count("ES")) throw std::runtime_error(path + ": ACDC Info.cfg without ED/ES lines");
  return kv;
}

}  // namespace seg
