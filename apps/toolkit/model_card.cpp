// Model cards (see model_card.h).
#include "apps/toolkit/model_card.h"

#include <algorithm>
#include <set>

#include "engine/error.h"
#include "models/registry.h"
#include "seg_version.h"

namespace seg {

using json = nlohmann::json;

const char* segengine_version() { return SEG_VERSION; }

json Preprocessing::to_json() const {
  json j;
  j["kind"] = kind;
  j["normalisation"] = normalisation;
  j["intensity"] = json::array();
  for (const auto& a : intensity) j["intensity"].push_back({a[0], a[1]});
  j["size"] = {size[0], size[1]};
  j["slice_axis"] = slice_axis;
  j["spacing_mm"] = {spacing[0], spacing[1], spacing[2]};
  j["orientation"] = orientation.empty() ? json(nullptr) : json(orientation);
  j["orientations_seen"] = orientations_seen;
  j["label_ids"] = json::object();
  for (const auto& [src, k] : label_ids) j["label_ids"][std::to_string(src)] = k;
  j["extra"] = extra;
  return j;
}

Preprocessing Preprocessing::from_json(const json& j) {
  Preprocessing p;
  try {
    SEG_CHECK(j.is_object(), "not a JSON object");
    p.kind = j.at("kind").get<std::string>();
    p.normalisation = j.at("normalisation").get<std::string>();
    for (const auto& a : j.value("intensity", json::array())) p.intensity.push_back({a.at(0).get<double>(), a.at(1).get<double>()});
    const auto sz = j.at("size");
    p.size = {sz.at(0).get<int64_t>(), sz.at(1).get<int64_t>()};
    p.slice_axis = j.value("slice_axis", 2);
    if (j.contains("spacing_mm"))
      for (size_t i = 0; i < 3; ++i) p.spacing[i] = j["spacing_mm"].at(i).get<double>();
    if (j.contains("orientation") && !j["orientation"].is_null()) p.orientation = j["orientation"].get<std::string>();
    if (j.contains("orientations_seen")) p.orientations_seen = j["orientations_seen"].get<std::map<std::string, int>>();
    const json ids = j.value("label_ids", json::object());
    for (const auto& [src, k] : ids.items()) p.label_ids[std::stoi(src)] = k.get<int>();
    p.extra = j.value("extra", json::object());
  } catch (const std::exception& e) {
    fail("model card: malformed \"preprocessing\" ", j.dump(), ": ", e.what());
  }
  SEG_CHECK(p.slice_axis >= 0 && p.slice_axis <= 2, "model card: slice_axis must be 0, 1 or 2, got ", p.slice_axis);
  return p;
}

Preprocessing slice_preprocessing(const std::vector<SliceSet>& sets) {
  Preprocessing p;
  p.kind = "slices2d";
  if (sets.empty()) return p;
  const SliceSet& a = sets[0];
  p.size = {a.height, a.width};
  p.normalisation = a.prep.normalisation;
  p.intensity = a.prep.intensity;
  p.slice_axis = a.prep.slice_axis;
  p.label_ids = a.prep.label_map;
  std::vector<std::string> problems;
  std::vector<double> sp[3];
  for (const auto& s : sets) {
    if (s.prep.normalisation != a.prep.normalisation)
      problems.push_back("cases " + a.id + " and " + s.id + " were normalised differently ('" + a.prep.normalisation +
                         "', '" + s.prep.normalisation + "')");
    if (s.prep.label_map != a.prep.label_map) problems.push_back("cases " + a.id + " and " + s.id + " map label ids differently");
    if (s.prep.intensity != a.prep.intensity || s.prep.slice_axis != a.prep.slice_axis)
      problems.push_back("cases " + a.id + " and " + s.id + " differ in intensity scaling or slice axis");
    if (!s.prep.orientation.empty()) ++p.orientations_seen[s.prep.orientation];
    if (s.prep.source_dims[0] > 0)
      for (int i = 0; i < 3; ++i) sp[i].push_back(s.prep.source_spacing[static_cast<size_t>(i)]);
  }
  if (!problems.empty()) {
    p.normalisation.clear();
    p.extra["problems"] = problems;
  }
  if (p.orientations_seen.size() == 1) p.orientation = p.orientations_seen.begin()->first;
  for (int i = 0; i < 3; ++i)
    if (!sp[i].empty()) {
      std::nth_element(sp[i].begin(), sp[i].begin() + static_cast<std::ptrdiff_t>(sp[i].size() / 2), sp[i].end());
      p.spacing[static_cast<size_t>(i)] = sp[i][sp[i].size() / 2];
    }
  return p;
}

json ModelCard::to_json() const {
  return {{"format", format},
          {"architecture", architecture},
          {"config", config},
          {"in_channels", in_channels},
          {"classes", classes},
          {"modalities", modalities},
          {"class_names", class_names},
          {"app", app},
          {"segengine_version", segengine_version},
          {"data", data},
          {"preprocessing", preprocessing.to_json()},
          {"missing", missing}};
}

ModelCard ModelCard::from_metadata(const std::map<std::string, std::string>& meta, const std::string& path, bool complete) {
  const auto it = meta.find(kModelCardKey);
  if (it == meta.end()) {
    std::string keys;
    for (const auto& [k, v] : meta) keys += (keys.empty() ? "" : ", ") + k;
    fail(path, ": no model card in the checkpoint (metadata key '", kModelCardKey, "' is absent; it has ",
         keys.empty() ? std::string("no metadata") : "only: " + keys,
         "). It holds weights only — written before checkpoints described their model, or not by the experiment "
         "toolkit — so the architecture and its config, the classes and the preprocessing are unknown. Retrain with the "
         "current apps, or rebuild the model in code and load the weights with load_checkpoint().");
  }
  ModelCard c;
  json j;
  try {
    j = json::parse(it->second);
  } catch (const std::exception& e) {
    fail(path, ": the model card (metadata '", kModelCardKey, "') is not valid JSON: ", e.what());
  }
  try {
    c.format = j.at("format").get<int>();
    SEG_CHECK(c.format <= kModelCardFormat, "format ", c.format, " is newer than this segengine reads (", kModelCardFormat,
              "): update segengine");
    c.architecture = j.at("architecture").get<std::string>();
    c.config = j.at("config");
    c.in_channels = j.at("in_channels").get<int64_t>();
    c.classes = j.at("classes").get<int64_t>();
    c.modalities = j.value("modalities", std::vector<std::string>{});
    c.class_names = j.value("class_names", std::vector<std::string>{});
    c.app = j.value("app", "");
    c.segengine_version = j.value("segengine_version", "");
    c.data = j.value("data", "");
    c.missing = j.value("missing", std::vector<std::string>{});
    c.preprocessing = Preprocessing::from_json(j.at("preprocessing"));
  } catch (const std::exception& e) {
    fail(path, ": malformed model card: ", e.what());
  }
  if (complete) {
    std::vector<std::string> miss = c.missing;
    if (c.architecture.empty() && miss.empty()) miss.push_back("architecture");
    if (c.in_channels <= 0) miss.push_back("in_channels");
    if (c.classes < 2) miss.push_back("classes");
    if (c.preprocessing.normalisation.empty() && miss.empty()) miss.push_back("preprocessing.normalisation");
    if (!miss.empty()) {
      std::string m;
      for (const auto& s : miss) m += "\n  - " + s;
      fail(path, ": the model card is incomplete, so the model cannot be applied as it was trained (app '", c.app,
           "', segengine ", c.segengine_version, "); missing:", m);
    }
  }
  return c;
}

int ModelCard::label_id(int64_t k) const {
  if (k == 0) return 0;
  for (const auto& [src, cls] : preprocessing.label_ids)
    if (cls == k) return src;  // std::map: the smallest id first
  return static_cast<int>(k);
}

ModelCard make_model_card(const Module& model, const Sampler& train, const Evaluator& validation, const json& run_config,
                          const std::vector<std::string>& modalities, const std::vector<std::string>& class_names) {
  ModelCard c;
  c.app = run_config.is_object() ? run_config.value("app", "") : "";
  c.data = run_config.is_object() && run_config.contains("data") && run_config["data"].is_string() ? run_config["data"].get<std::string>() : "";
  c.segengine_version = segengine_version();
  if (const auto rec = find_model_record(model)) {
    c.architecture = rec->architecture;
    c.config = rec->config;
    c.in_channels = c.config.value("in_channels", int64_t{0});
    c.classes = c.config.value("classes", int64_t{0});
  } else {
    c.missing.push_back("architecture: the model type " + module_type_name(model) +
                        " is not registered in models/registry.cpp (docs/adding.md, \"Adding a model\")");
  }
  const json pj = train.preprocessing();
  if (pj.is_null()) {
    c.missing.push_back("preprocessing: the training sampler does not describe how its inputs were made");
  } else {
    c.preprocessing = Preprocessing::from_json(pj);
    if (c.preprocessing.normalisation.empty()) {
      std::string why = "the training slice sets do not say how they were normalised (built without make_slice_set; set SliceSet::prep)";
      if (c.preprocessing.extra.contains("problems")) why = c.preprocessing.extra["problems"].dump();
      c.missing.push_back("preprocessing.normalisation: " + why);
    }
  }
  if (c.classes <= 0 && !validation.structures().empty()) {
    int64_t k = 1;
    for (const auto& st : validation.structures())
      for (int cl : st.classes) k = std::max<int64_t>(k, cl + 1);
    c.classes = k;
  }
  c.class_names.assign(static_cast<size_t>(std::max<int64_t>(c.classes, 0)), "");
  for (size_t k = 0; k < c.class_names.size(); ++k) c.class_names[k] = k == 0 ? "background" : "class " + std::to_string(k);
  for (const auto& st : validation.structures())
    if (st.classes.size() == 1 && st.classes[0] > 0 && static_cast<size_t>(st.classes[0]) < c.class_names.size())
      c.class_names[static_cast<size_t>(st.classes[0])] = st.name;
  for (size_t k = 0; k < class_names.size() && k < c.class_names.size(); ++k)
    if (!class_names[k].empty()) c.class_names[k] = class_names[k];
  for (int64_t ch = 0; ch < c.in_channels; ++ch)
    c.modalities.push_back(static_cast<size_t>(ch) < modalities.size() ? modalities[static_cast<size_t>(ch)] : "channel " + std::to_string(ch));
  return c;
}

}  // namespace seg
