// The model card: what a checkpoint says about the model it holds, so that `segtool predict` can rebuild it and apply
// it to new scans exactly as it was trained — architecture and config (models/registry.h), input channels and their
// modalities, classes and their names, the app and the segengine version that trained it, and the preprocessing
// (normalisation, the slice size or spacing, slice axis, the training volumes' orientation, the label ids of the
// training data). Stored as one JSON document under the key "segengine.model" of the safetensors `__metadata__`
// (a string → string map), which Python's safetensors (safe_open(...).metadata()) and a plain JSON parser of the
// header both read.
// Key decisions: the trainer writes the card into best.safetensors and last.safetensors of every run folder, built
// from the run itself (the model's registered type, the sampler's slice preparation, the evaluator's structures), so
// an app needs no code for it; an incomplete card is written with a "missing" list and refused by predict with that
// list; a checkpoint without a card (written before cards existed) is refused with a message saying so.
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/toolkit/batch.h"
#include "apps/toolkit/evaluate.h"
#include "apps/toolkit/slice_data.h"
#include "engine/module.h"

namespace seg {

inline constexpr const char* kModelCardKey = "segengine.model";
inline constexpr int kModelCardFormat = 1;

// How inputs are made from a case's volumes.
struct Preprocessing {
  std::string kind;                               // "slices2d": a 2-D model on slices; "volume3d": a 3-D model
  std::string normalisation;                      // slice_data.h's names ("minmax-volume", ...)
  std::vector<std::array<double, 2>> intensity;   // optional per channel (shift, scale) applied first
  std::array<int64_t, 2> size{0, 0};              // slices2d: H, W of the slices the model sees
  int slice_axis = 2;                             // slices2d: voxel axis (in the training orientation) sliced along
  std::array<double, 3> spacing{0, 0, 0};         // volume3d: resampling target (mm); slices2d: the training cases'
                                                  // median spacing (for information)
  std::string orientation;                        // axis codes of the training volumes; "" = unknown or mixed
  std::map<std::string, int> orientations_seen;   // codes → training cases stored so
  std::map<int, int> label_ids;                   // training data's label id → class id
  nlohmann::json extra = nlohmann::json::object();  // what a pipeline adds (3-D: clip window, patch size ...)

  nlohmann::json to_json() const;
  static Preprocessing from_json(const nlohmann::json& j);  // throws on malformed fields
};

// The preparation shared by slice sets (they must agree in size, channels, classes, normalisation and label ids).
Preprocessing slice_preprocessing(const std::vector<SliceSet>& sets);

struct ModelCard {
  int format = kModelCardFormat;
  std::string architecture;                       // models/registry.h name; "" when the model is not registered
  nlohmann::json config = nlohmann::json::object();
  int64_t in_channels = 0, classes = 0;
  std::vector<std::string> modalities;            // one per input channel, in order
  std::vector<std::string> class_names;           // index = class id (0: "background")
  std::string app, segengine_version, data;       // the app, the commit, the training data's source
  Preprocessing preprocessing;
  std::vector<std::string> missing;               // what could not be recorded (predict refuses such a card)

  nlohmann::json to_json() const;
  // From a checkpoint's metadata; `path` names the file in errors. Throws a clear error when the card is absent,
  // malformed, or (when `complete`) lists missing parts.
  static ModelCard from_metadata(const std::map<std::string, std::string>& metadata, const std::string& path,
                                 bool complete = true);
  // The label id written for class k: the smallest training label id mapped to k, else k itself.
  int label_id(int64_t k) const;
};

// The card of a training run: the model's registered type and config, the sampler's preprocessing, class names
// (`class_names` when given, else the evaluator's one-class structures, else "class k"), modalities (when given, else
// "channel c"), and the app and data source named in the run's config ("app", "data" keys). Parts it cannot find are
// listed in `missing`.
ModelCard make_model_card(const Module& model, const Sampler& train, const Evaluator& validation,
                          const nlohmann::json& run_config, const std::vector<std::string>& modalities = {},
                          const std::vector<std::string>& class_names = {});

// The commit the toolkit was built from ("unknown" outside a git checkout).
const char* segengine_version();

}  // namespace seg
