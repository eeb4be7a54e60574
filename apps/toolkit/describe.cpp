// --describe output (see describe.h).
#include "apps/toolkit/describe.h"

#include <nlohmann/json.hpp>

namespace seg {

std::string describe_json(const std::vector<ModelDescription>& models) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& m : models) a.push_back({{"name", m.name}, {"variant", m.variant}, {"parameters", m.parameters}});
  return nlohmann::json{{"models", a}}.dump(2) + "\n";
}

}  // namespace seg
