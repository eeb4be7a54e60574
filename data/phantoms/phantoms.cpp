// Phantom registry (see phantoms.h).
#include "data/phantoms/phantoms.h"

#include <functional>
#include <stdexcept>
#include <utility>

#include "data/phantoms/segthor_phantom.h"

namespace seg {

namespace {
using Writer = std::function<void(const std::string&, int, uint64_t, int64_t)>;

const std::vector<std::pair<std::string, Writer>>& registry() {
  static const std::vector<std::pair<std::string, Writer>> r = {
      {"segthor",
       [](const std::string& dir, int n, uint64_t seed, int64_t size) {
         SegthorPhantomOptions o;
         if (size > 0) o.nx = o.ny = size;
         write_segthor_phantom(dir, n, seed, o);
       }},
  };
  return r;
}
}  // namespace

std::vector<std::string> phantom_names() {
  std::vector<std::string> n;
  for (const auto& e : registry()) n.push_back(e.first);
  return n;
}

void write_phantom(const std::string& name, const std::string& dir, int n, uint64_t seed, int64_t size) {
  if (n < 1) throw std::invalid_argument("phantom: need at least one case");
  for (const auto& e : registry())
    if (e.first == name) return e.second(dir, n, seed, size);
  std::string known;
  for (const auto& e : registry()) known += (known.empty() ? "" : ", ") + e.first;
  throw std::invalid_argument("unknown phantom '" + name + "' (known: " + known + ")");
}

}  // namespace seg
