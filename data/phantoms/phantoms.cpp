// Phantom registry (see phantoms.h).
#include "data/phantoms/phantoms.h"

#include <functional>
#include <stdexcept>
#include <utility>

#include "data/phantoms/acdc_phantom.h"
#include "data/phantoms/brats_phantom.h"
#include "data/phantoms/kits_phantom.h"
#include "data/phantoms/promise12_phantom.h"
#include "data/phantoms/segthor_phantom.h"
#include "data/phantoms/xray_phantoms.h"

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
      {"acdc",
       [](const std::string& dir, int n, uint64_t seed, int64_t size) {
         AcdcPhantomOptions o;
         o.nx = size;
         write_acdc_phantom(dir, n, seed, o);
       }},
      {"brats19", [](const std::string& d, int n, uint64_t s, int64_t size) { write_brats_phantom(d, n, s, size); }},
      {"kits19", [](const std::string& d, int n, uint64_t s, int64_t size) { write_kits_phantom(d, n, s, size); }},
      {"promise12", [](const std::string& d, int n, uint64_t s, int64_t size) { write_promise12_phantom(d, n, s, size); }},
      {"jsrt", [](const std::string& d, int n, uint64_t s, int64_t) { write_jsrt_phantom(d, n, s); }},  // .IMG is 2048² by definition
      {"polyp", [](const std::string& d, int n, uint64_t s, int64_t size) { write_polyp_phantom(d, n, s, size); }},
      {"fundus", [](const std::string& d, int n, uint64_t s, int64_t size) { write_fundus_phantom(d, n, s, size); }},
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
