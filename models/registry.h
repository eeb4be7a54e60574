// The model registry: an architecture name + its Config as JSON → a constructed model, and back (a model → its name
// and config JSON), so a checkpoint can say which model it holds and `segtool predict` can rebuild it.
// Key decisions:
//  * ONE place says how each model is (de)serialised: models/registry.cpp, where a model is registered by one line
//    (its Config's fields for JSON, then its entry: name, spatial dims, input-size divisor and, for models whose
//    forward returns several outputs, which one is the segmentation) — docs/adding.md, "Adding a model";
//  * reading is strict: an unknown architecture lists the known ones; a config key the model does not have is an
//    error (a renamed or removed field must not silently fall back to a default); a missing key takes the Config's
//    default (a field added later keeps old checkpoints loadable);
//  * a model is found by its dynamic type (typeid), so the toolkit describes whatever Module an app trains, with no
//    app code, and an unregistered model is reported by name.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/module.h"

namespace seg {

struct BuiltModel {
  std::string architecture;
  std::shared_ptr<Module> module;                  // owns the parameters and buffers (names as in checkpoints)
  std::function<Tensor(const Tensor&)> segment;    // (N, C, spatial...) → (N, K, spatial...) segmentation logits
                                                   // (or log-probabilities: same argmax and softmax)
  int spatial_dims = 2;                            // 2: (N, C, H, W); 3: (N, C, D, H, W)
  int64_t divisor = 1;                             // every spatial size of an input must be a multiple of it
  int64_t in_channels = 0, classes = 0;            // from the config
};

struct ModelRecord {
  std::string architecture;
  nlohmann::json config;
};

// Builds a registered model from its config JSON (errors name the architecture and the key).
BuiltModel build_model(const std::string& architecture, const nlohmann::json& config);
// The architecture and config of a model object; nullopt when its type is not registered.
std::optional<ModelRecord> find_model_record(const Module& model);
// Type name of a module as the compiler spells it (for "not registered" messages).
std::string module_type_name(const Module& model);
std::vector<std::string> registered_architectures();

}  // namespace seg
