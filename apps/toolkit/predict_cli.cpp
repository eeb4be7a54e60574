// segtool predict (see predict_cli.h).
#include "apps/toolkit/predict_cli.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/toolkit/predict.h"
#include "apps/toolkit/results.h"
#include "data/formats/image_io.h"
#include "data/formats/nifti_like.h"
#include "engine/device.h"

namespace seg::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kUsage =
    "segtool predict MODEL INPUT... -o OUT_DIR [-i FOLDER] [--device cpu|cuda|auto] [--batch N] [--probabilities] "
    "[--keep-going] [--class-ids] [--no-reorient]";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::vector<std::string> pos, folders;
  std::string out, device = "auto";
  int64_t batch = 8;
  bool probabilities = false, keep_going = false, class_ids = false, no_reorient = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "-o" || a == "--out") o.out = value();
    else if (a == "-i" || a == "--input-folder") o.folders.push_back(value());
    else if (a == "--device") o.device = value();
    else if (a == "--batch") {
      const std::string v = value();
      size_t used = 0;
      long long n = 0;
      try {
        n = std::stoll(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size() || n < 1 || n > 4096) throw UsageError("--batch expects an integer in [1, 4096], got '" + v + "'");
      o.batch = n;
    } else if (a == "--probabilities") o.probabilities = true;
    else if (a == "--keep-going") o.keep_going = true;
    else if (a == "--class-ids") o.class_ids = true;
    else if (a == "--no-reorient") o.no_reorient = true;
    else if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option '" + a + "'");
    else o.pos.push_back(a);
  }
  if (o.pos.empty()) throw UsageError("no MODEL checkpoint given");
  if (o.out.empty()) throw UsageError("no output folder (-o OUT_DIR)");
  if (o.pos.size() < 2 && o.folders.empty()) throw UsageError("no INPUT file and no -i FOLDER");
  if (o.device != "cpu" && o.device != "cuda" && o.device != "auto")
    throw UsageError("--device expects cpu, cuda or auto, got '" + o.device + "'");
  return o;
}

bool readable_image(const fs::path& p) {
  static const std::vector<std::string> exts{"nii", "nii.gz", "mha", "mhd", "nrrd", "nhdr", "png", "jpg", "jpeg", "img"};
  return std::find(exts.begin(), exts.end(), io::extension(p.string())) != exts.end();
}

// Name without the (possibly double) extension; a folder (DICOM series) keeps its name.
std::string stem_of(const fs::path& p) {
  std::string name = p.filename().string();
  if (fs::is_directory(p)) return name;
  const std::string ext = io::extension(p.string());
  return ext.empty() ? name : name.substr(0, name.size() - ext.size() - 1);
}

struct CaseFiles {
  std::string id;
  std::vector<std::string> files;  // modalities in order
};

// nnU-Net's grouping: CASE_0000, CASE_0001, ... are the channels of CASE when the model takes several; with one
// channel every input is a case (CASE_0000 is written as CASE).
std::vector<CaseFiles> group_cases(const std::vector<std::string>& inputs, int64_t channels) {
  static const std::regex suffix("^(.*)_([0-9]{4})$");
  std::map<std::string, std::map<int, std::string>> groups;
  std::vector<std::string> order;
  std::vector<CaseFiles> cases;
  for (const auto& f : inputs) {
    const std::string st = stem_of(f);
    std::smatch m;
    if (std::regex_match(st, m, suffix) && (channels > 1 || m[2] == "0000")) {
      const std::string id = m[1];
      if (!groups.count(id)) order.push_back(id);
      const int k = std::stoi(m[2]);
      if (groups[id].count(k)) throw std::runtime_error("case " + id + ": two files for channel " + std::to_string(k) + " (" + groups[id][k] + ", " + f + ")");
      groups[id][k] = f;
    } else {
      cases.push_back({st, {f}});
    }
  }
  for (const auto& id : order) {
    CaseFiles c{id, {}};
    int expect = 0;
    for (const auto& [k, f] : groups[id]) {
      if (k != expect) throw std::runtime_error("case " + id + ": channel file _" + std::to_string(expect) + " is missing (found _" + std::to_string(k) + ")");
      c.files.push_back(f);
      ++expect;
    }
    cases.push_back(c);
  }
  std::map<std::string, std::string> seen;
  for (const auto& c : cases) {
    if (seen.count(c.id)) throw std::runtime_error("two inputs give the case name '" + c.id + "' (" + seen[c.id] + ", " + c.files[0] + "): their outputs would overwrite each other");
    seen[c.id] = c.files[0];
  }
  return cases;
}

// The output extension for an input (its format where it can hold a label map).
std::string output_extension(const std::string& input) {
  if (fs::is_directory(input)) return "nii.gz";  // DICOM series
  const std::string e = io::extension(input);
  if (e == "nii" || e == "nii.gz" || e == "mha" || e == "mhd" || e == "nrrd") return e;
  if (e == "nhdr") return "nrrd";
  return "png";  // png, jpg/jpeg (lossy: never for labels), JSRT .img
}

std::string safe_name(const std::string& s) {
  std::string r;
  for (char c : s) r += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return r;
}

struct Writer {
  bool nifti = false;
  NiftiHeaderBytes header;
  void write(const std::string& path, const Volume& v, bool labels) const {
    if (nifti && (io::extension(path) == "nii" || io::extension(path) == "nii.gz")) write_nifti_like(path, header, v, v.datatype, labels);
    else write_image(path, v);
  }
};

}  // namespace

int predict_command(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "segtool predict: %s\nusage: %s\n", e.what(), kUsage);
    return 2;
  }
  const Device device = parse_device(o.device);
  const std::string model_path = o.pos[0];
  const LoadedModel m = load_model(model_path, device);
  const ModelCard& card = m.card;
  std::printf("model: %s (%s, %lld input channel(s), %lld classes: ", model_path.c_str(), card.architecture.c_str(),
              static_cast<long long>(card.in_channels), static_cast<long long>(card.classes));
  for (size_t k = 0; k < card.class_names.size(); ++k) std::printf("%s%zu=%s→label %d", k ? ", " : "", k, card.class_names[k].c_str(), card.label_id(static_cast<int64_t>(k)));
  std::printf("); trained by %s (segengine %s) on %s; %s slices at %lldx%lld, %s; on %s\n", card.app.c_str(),
              card.segengine_version.c_str(), card.preprocessing.orientation.empty() ? "volumes of unknown orientation" : card.preprocessing.orientation.c_str(),
              card.preprocessing.normalisation.c_str(), static_cast<long long>(card.preprocessing.size[0]),
              static_cast<long long>(card.preprocessing.size[1]), card.preprocessing.kind.c_str(), device_name(device));

  std::vector<std::string> inputs(o.pos.begin() + 1, o.pos.end());
  for (const auto& d : o.folders) {
    if (!fs::is_directory(d)) throw std::runtime_error("-i " + d + ": not a folder");
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(d)) {
      const std::string name = e.path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      if (e.is_directory() || readable_image(e.path())) found.push_back(e.path().string());
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) throw std::runtime_error("-i " + d + ": no image files (.nii, .nii.gz, .mha, .mhd, .nrrd, .png, .jpg) or DICOM folders in it");
    inputs.insert(inputs.end(), found.begin(), found.end());
  }
  const std::vector<CaseFiles> cases = group_cases(inputs, card.in_channels);
  fs::create_directories(o.out);
  for (const auto& c : cases)
    for (const auto& f : c.files)
      if (fs::exists(f) && fs::equivalent(fs::path(f).parent_path().empty() ? "." : fs::path(f).parent_path(), o.out))
        throw std::runtime_error("the output folder " + o.out + " holds the input " + f + ": choose another -o, so no input is overwritten");

  PredictOptions popt;
  popt.batch = o.batch;
  popt.class_ids = o.class_ids;
  popt.reorient = !o.no_reorient;
  json log = {{"model", model_path}, {"card", card.to_json()}, {"device", device_name(device)}, {"cases", json::array()}};
  int failed = 0;
  size_t done = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const CaseFiles& c = cases[ci];
    const auto t0 = std::chrono::steady_clock::now();
    json entry = {{"id", c.id}, {"inputs", c.files}};
    try {
      PredictInput in;
      in.id = c.id;
      Writer w;
      const std::string ext = output_extension(c.files[0]);
      const std::string in_ext = fs::is_directory(c.files[0]) ? "" : io::extension(c.files[0]);
      for (const auto& f : c.files) in.channels.push_back(read_image(f));
      if (in_ext == "nii" || in_ext == "nii.gz") {
        w.nifti = true;
        w.header = read_nifti_header(c.files[0]);
        in.oriented = w.header.qform_code > 0 || w.header.sform_code > 0;
      } else if (in_ext == "png" || in_ext == "jpg" || in_ext == "jpeg" || in_ext == "img") {
        in.oriented = false;
      }
      const std::string out = (fs::path(o.out) / (c.id + "." + ext)).string();
      const PredictResult r = predict_case(m, in, popt, o.probabilities ? std::function<void(int64_t, const Volume&)>(
          [&](int64_t k, const Volume& p) {
            const std::string pext = ext == "png" ? "nii.gz" : ext;
            const std::string name = c.id + "_prob_" + std::to_string(k) + "_" + safe_name(card.class_names.at(static_cast<size_t>(k))) + "." + pext;
            w.write((fs::path(o.out) / name).string(), p, false);
            entry["probabilities"].push_back(name);
          }) : std::function<void(int64_t, const Volume&)>());
      w.write(out, r.labels, true);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const Volume& ref = in.channels[0];
      std::string notes;
      for (const auto& n : r.notes) notes += (notes.empty() ? "" : "; ") + n;
      std::printf("[%zu/%zu] %s: %lldx%lldx%lld → %s  (%s; %.1f s)\n", ci + 1, cases.size(), c.id.c_str(),
                  static_cast<long long>(ref.nx()), static_cast<long long>(ref.ny()), static_cast<long long>(ref.nz()),
                  out.c_str(), notes.c_str(), s);
      for (const auto& wmsg : r.warnings) std::printf("  warning: %s: %s\n", c.id.c_str(), wmsg.c_str());
      std::fflush(stdout);
      entry["output"] = out;
      entry["notes"] = r.notes;
      entry["warnings"] = r.warnings;
      entry["seconds"] = s;
      ++done;
    } catch (const std::exception& e) {
      ++failed;
      std::string files;
      for (const auto& f : c.files) files += (files.empty() ? "" : ", ") + f;
      std::fprintf(stderr, "[%zu/%zu] %s: error: %s (input: %s)\n", ci + 1, cases.size(), c.id.c_str(), e.what(), files.c_str());
      entry["error"] = e.what();
      log["cases"].push_back(entry);
      if (!o.keep_going) {
        write_text_atomic((fs::path(o.out) / "predict.json").string(), log.dump(2) + "\n");
        std::fprintf(stderr, "segtool predict: stopped at the first bad case (--keep-going goes on with the others)\n");
        return 1;
      }
      continue;
    }
    log["cases"].push_back(entry);
  }
  write_text_atomic((fs::path(o.out) / "predict.json").string(), log.dump(2) + "\n");
  std::printf("%zu case(s) predicted into %s%s\n", done, o.out.c_str(),
              failed ? (", " + std::to_string(failed) + " failed (see the errors above and predict.json)").c_str() : "");
  return failed ? 1 : 0;
}

}  // namespace seg::cli
