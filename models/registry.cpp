// The model registry (see registry.h). Registering a model is two lines, both in this file:
//   1. SEG_CONFIG_JSON(Model::Config, every field...)      — the JSON form of its Config (enums: SEG_ENUM_JSON)
//   2. entry<Model>({.name = "...", .divisor = ...})        — in entries(): name, spatial dims, input divisor and,
//                                                             when forward() returns a struct, .segment
#include "models/registry.h"

#include <algorithm>
#include <concepts>
#include <cxxabi.h>
#include <map>
#include <typeindex>

#include "engine/error.h"
#include "models/enet.h"
#include "models/residual_unet.h"
#include "models/small_cnn.h"
#include "models/unet_bn.h"

namespace seg {

// ---- JSON forms of the configs and their enums ---------------------------------------------------------------
// Every field of a Config must be listed: a field left out would be rebuilt at its default.
#define SEG_CONFIG_JSON(Type, ...) NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Type, __VA_ARGS__)
// An enum as its name, through the model's own name/parse functions (unknown names are the parser's error).
#define SEG_ENUM_JSON(Type, name_fn, parse_fn)                                                          \
  inline void to_json(nlohmann::json& j, const Type& v) { j = name_fn(v); }                            \
  inline void from_json(const nlohmann::json& j, Type& v) { v = parse_fn(j.get<std::string>()); }

inline const char* init_name(Init i) { return i == Init::HeNormalFanOut ? "he_normal_fan_out" : "pytorch_default"; }
inline Init parse_init(const std::string& s) {
  if (s == "he_normal_fan_out") return Init::HeNormalFanOut;
  if (s == "pytorch_default") return Init::PyTorchDefault;
  fail("init: expected he_normal_fan_out or pytorch_default, got '", s, "'");
}
SEG_ENUM_JSON(Init, init_name, parse_init)
SEG_ENUM_JSON(CoordPlacement, coord_placement_name, parse_coord_placement)

SEG_CONFIG_JSON(ResidualUNet::Config, in_channels, classes, base_width, coord, seed)
SEG_CONFIG_JSON(ENet::Config, in_channels, classes, base_width, projection, spatial_dropout, unused_heads, seed)
SEG_CONFIG_JSON(UNetBN::Config, in_channels, classes, base_width, pe_lambda, padding_mode, align_corners, init, seed)
SEG_CONFIG_JSON(SmallCNN::Config, in_channels, classes, width, depth, pe_lambda, padding_mode, init, seed)

// ---- the registry --------------------------------------------------------------------------------------------
namespace {

using json = nlohmann::json;

// How a model's config is read from a built object (models whose accessor is not config() overload this).
template <class M>
auto config_of(const M& m) -> decltype(m.config()) {
  return m.config();
}

template <class M>
struct Spec {
  const char* name = "";
  int spatial_dims = 2;
  int64_t divisor = 1;                                           // fixed input divisor, or:
  std::function<int64_t(const M&)> divisor_of{};                 // one that depends on the config
  std::function<Tensor(const M&, const Tensor&)> segment{};      // default: forward(x) when it returns a Tensor
};

struct Entry {
  std::string name;
  std::type_index type;
  std::function<BuiltModel(const json&)> build;
  std::function<json(const Module&)> record;
};

const char* kind_name(const json& v) {
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "true/false";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}
bool same_kind(const json& a, const json& b) {
  return (a.is_number() && b.is_number()) || (a.is_string() && b.is_string()) || (a.is_boolean() && b.is_boolean()) ||
         (a.is_array() && b.is_array()) || (a.is_object() && b.is_object());
}

template <class M>
Entry entry(Spec<M> s) {
  using Config = std::decay_t<decltype(config_of(std::declval<const M&>()))>;
  if (!s.segment) {
    if constexpr (requires(const M& m, const Tensor& x) {
                    { m.forward(x) } -> std::convertible_to<Tensor>;
                  })
      s.segment = [](const M& m, const Tensor& x) { return m.forward(x); };
    else
      fail("model registry: ", s.name, "'s forward does not return a Tensor: its entry must say .segment");
  }
  const std::string name = s.name;
  auto build = [name, s](const json& j) {
    SEG_CHECK(j.is_object(), "model '", name, "': the config must be a JSON object, got ", j.dump());
    const json defaults = Config{};
    for (const auto& [k, v] : j.items()) {
      SEG_CHECK(defaults.contains(k), "model '", name, "': config key '", k, "' is not a field of this model (fields: ",
                [&] {
                  std::string f;
                  for (const auto& [dk, dv] : defaults.items()) f += (f.empty() ? "" : ", ") + dk;
                  return f;
                }(),
                "): a checkpoint of another version of the model?");
      SEG_CHECK(same_kind(v, defaults[k]), "model '", name, "': config key '", k, "' must be ", kind_name(defaults[k]),
                ", got ", v.dump());
    }
    Config c;
    try {
      c = j.get<Config>();
    } catch (const nlohmann::json::exception& e) {
      fail("model '", name, "': config ", j.dump(), " cannot be read: ", e.what());
    }
    auto m = std::make_shared<M>(c);
    m->eval();
    BuiltModel b;
    b.architecture = name;
    b.spatial_dims = s.spatial_dims;
    b.divisor = s.divisor_of ? s.divisor_of(*m) : s.divisor;
    const json cj = c;
    b.in_channels = cj.value("in_channels", int64_t{0});
    b.classes = cj.value("classes", int64_t{0});
    const auto seg = s.segment;
    M* raw = m.get();
    b.segment = [seg, raw](const Tensor& x) { return seg(*raw, x); };
    b.module = m;
    return b;
  };
  auto record = [](const Module& mod) { return json(config_of(dynamic_cast<const M&>(mod))); };
  return Entry{name, std::type_index(typeid(M)), build, record};
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> all{
      entry<ResidualUNet>({.name = "residual_unet", .spatial_dims = 2, .divisor = 16}),
      entry<ENet>({.name = "enet", .spatial_dims = 2, .divisor = 8}),
      entry<UNetBN>({.name = "unet_bn", .spatial_dims = 2, .divisor = 16}),
      entry<SmallCNN>({.name = "small_cnn", .spatial_dims = 2, .divisor = 1}),
  };
  return all;
}

}  // namespace

std::vector<std::string> registered_architectures() {
  std::vector<std::string> r;
  for (const auto& e : entries()) r.push_back(e.name);
  return r;
}

BuiltModel build_model(const std::string& architecture, const nlohmann::json& config) {
  for (const auto& e : entries())
    if (e.name == architecture) return e.build(config);
  std::string known;
  for (const auto& e : entries()) known += (known.empty() ? "" : ", ") + e.name;
  fail("unknown model architecture '", architecture, "' (registered: ", known,
       "); a model is registered in models/registry.cpp");
}

std::optional<ModelRecord> find_model_record(const Module& model) {
  const std::type_index t(typeid(model));
  for (const auto& e : entries())
    if (e.type == t) return ModelRecord{e.name, e.record(model)};
  return std::nullopt;
}

std::string module_type_name(const Module& model) {
  int status = 0;
  const char* mangled = typeid(model).name();
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string r = status == 0 && d ? d : mangled;
  std::free(d);
  return r;
}

}  // namespace seg
