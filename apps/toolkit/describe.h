// `--describe`: every app prints the model(s) its options would train, with exact parameter counts, as JSON
// {"models": [{"name", "variant", "parameters"}]}, and exits without loading data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace seg {

struct ModelDescription {
  std::string name, variant;
  int64_t parameters = 0;
};

std::string describe_json(const std::vector<ModelDescription>& models);  // pretty JSON with a trailing newline

}  // namespace seg
