// opcheck: the op table, the manifest reader, the case runner and the command line (see opcheck.h). The op entries
// live in tools/opcheck/ops_<family>.cpp.
#include "tools/opcheck/opcheck.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/device.h"
#include "engine/npy.h"

namespace seg::opcheck {
namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- OpCall
const Tensor& OpCall::input(const std::string& name) const {
  auto it = inputs.find(name);
  if (it == inputs.end()) {
    std::string have;
    for (const auto& [k, v] : inputs) have += (have.empty() ? "" : ", ") + k;
    fail(op, ": missing input '", name, "' (the case has: ", have, ")");
  }
  return it->second;
}

Tensor OpCall::optional(const std::string& name) const {
  auto it = inputs.find(name);
  return it == inputs.end() ? Tensor() : it->second;
}

std::vector<Tensor> OpCall::numbered(const std::string& prefix) const {
  std::vector<Tensor> xs;
  for (int k = 0;; ++k) {
    auto it = inputs.find(prefix + std::to_string(k));
    if (it == inputs.end()) break;
    xs.push_back(it->second);
  }
  SEG_CHECK(!xs.empty(), op, ": expected inputs '", prefix, "0', '", prefix, "1', ...");
  return xs;
}

namespace {
const json& attr(const OpCall& c, const std::string& key) {
  SEG_CHECK(c.has(key), c.op, ": missing attribute '", key, "'");
  return c.attrs.at(key);
}
int64_t as_int(const OpCall& c, const std::string& key, const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())) return static_cast<int64_t>(v.get<double>());
  fail(c.op, ": attribute '", key, "' must be an integer, got ", v.dump());
}
double as_num(const OpCall& c, const std::string& key, const json& v) {
  SEG_CHECK(v.is_number(), c.op, ": attribute '", key, "' must be a number, got ", v.dump());
  return v.get<double>();
}
}  // namespace

int64_t OpCall::integer(const std::string& key) const { return as_int(*this, key, attr(*this, key)); }
int64_t OpCall::integer(const std::string& key, int64_t dflt) const { return has(key) ? integer(key) : dflt; }
double OpCall::number(const std::string& key) const { return as_num(*this, key, attr(*this, key)); }
double OpCall::number(const std::string& key, double dflt) const { return has(key) ? number(key) : dflt; }
std::string OpCall::text(const std::string& key, const std::string& dflt) const {
  if (!has(key)) return dflt;
  const json& v = attrs.at(key);
  SEG_CHECK(v.is_string(), op, ": attribute '", key, "' must be a string, got ", v.dump());
  return v.get<std::string>();
}
bool OpCall::flag(const std::string& key, bool dflt) const {
  if (!has(key)) return dflt;
  const json& v = attrs.at(key);
  SEG_CHECK(v.is_boolean(), op, ": attribute '", key, "' must be true or false, got ", v.dump());
  return v.get<bool>();
}
std::vector<int64_t> OpCall::ints(const std::string& key) const {
  const json& v = attr(*this, key);
  std::vector<int64_t> out;
  if (v.is_array()) {
    for (const json& e : v) out.push_back(as_int(*this, key, e));
  } else {
    out.push_back(as_int(*this, key, v));
  }
  return out;
}
std::vector<int64_t> OpCall::ints(const std::string& key, std::vector<int64_t> dflt) const {
  return has(key) ? ints(key) : dflt;
}
std::vector<double> OpCall::numbers(const std::string& key, std::vector<double> dflt) const {
  if (!has(key)) return dflt;
  const json& v = attrs.at(key);
  std::vector<double> out;
  if (v.is_array()) {
    for (const json& e : v) out.push_back(as_num(*this, key, e));
  } else {
    out.push_back(as_num(*this, key, v));
  }
  return out;
}

// ---------------------------------------------------------------- the op table
void OpTable::add(const std::string& name, OpFn fn) {
  SEG_CHECK(ops_.emplace(name, std::move(fn)).second, "opcheck: op '", name, "' has two entries");
}
const OpFn* OpTable::find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}
std::vector<std::string> OpTable::names() const {
  std::vector<std::string> names;
  for (const auto& [k, v] : ops_) names.push_back(k);
  return names;
}

void register_all_ops(OpTable& t) {
  register_core_ops(t);
  register_norm_ops(t);
  register_pool_ops(t);
  register_upsample_ops(t);
  register_prelu_ops(t);
  register_project_ops(t);
  register_coordconv_ops(t);
  register_losses_ops(t);
}

const OpTable& op_table() {
  static const OpTable table = [] {
    OpTable t;
    register_all_ops(t);
    return t;
  }();
  return table;
}

// ---------------------------------------------------------------- manifest
namespace {
std::map<std::string, std::string> file_map(const json& c, const std::string& key, const std::string& where,
                                            bool required) {
  std::map<std::string, std::string> m;
  if (!c.contains(key) || c[key].is_null()) {
    SEG_CHECK(!required, where, ": missing \"", key, "\"");
    return m;
  }
  SEG_CHECK(c[key].is_object(), where, ": \"", key, "\" must be an object {role: file.npy}");
  for (const auto& [role, file] : c[key].items()) {
    SEG_CHECK(file.is_string(), where, ": \"", key, "\".\"", role, "\" must be a file name string, got ", file.dump());
    m[role] = file.get<std::string>();
  }
  return m;
}

void check_file(const std::string& dir, const std::string& file, const std::string& where) {
  const fs::path p(file);
  SEG_CHECK(!file.empty() && p.is_relative() && file.find("..") == std::string::npos, where, ": file name '", file,
            "' must be a plain relative name inside the folder");
  std::error_code ec;
  SEG_CHECK(fs::is_regular_file(fs::path(dir) / p, ec), where, ": file '", file, "' does not exist in '", dir, "'");
}

double tol(const json& c, const char* key, double dflt, const std::string& where) {
  if (!c.contains(key)) return dflt;
  SEG_CHECK(c[key].is_number() && c[key].get<double>() >= 0, where, ": \"", key, "\" must be a non-negative number");
  return c[key].get<double>();
}
}  // namespace

std::vector<Case> load_manifest(const std::string& dir) {
  std::error_code ec;
  SEG_CHECK(fs::is_directory(dir, ec), "opcheck: '", dir, "' is not a folder");
  const std::string path = (fs::path(dir) / "manifest.json").string();
  std::ifstream f(path);
  SEG_CHECK(f.good(), "opcheck: no manifest.json in '", dir, "'");
  json m;
  try {
    m = json::parse(f);
  } catch (const json::exception& e) {
    fail("opcheck: '", path, "' is not valid JSON: ", e.what());
  }
  SEG_CHECK(m.is_object(), "opcheck: '", path, "': the top level must be an object {\"format\": 1, \"cases\": [...]}");
  SEG_CHECK(m.contains("format") && m["format"].is_number_integer() && m["format"].get<int>() == 1, "opcheck: '", path,
            "': \"format\" must be 1");
  SEG_CHECK(m.contains("cases") && m["cases"].is_array(), "opcheck: '", path, "': \"cases\" must be an array");
  std::vector<Case> cases;
  std::set<std::string> names;
  for (size_t k = 0; k < m["cases"].size(); ++k) {
    const json& c = m["cases"][k];
    std::string where = "opcheck: '" + path + "': case #" + std::to_string(k);
    SEG_CHECK(c.is_object(), where, " must be an object");
    SEG_CHECK(c.contains("name") && c["name"].is_string() && !c["name"].get<std::string>().empty(), where,
              ": missing \"name\"");
    Case cs;
    cs.name = c["name"].get<std::string>();
    where += " ('" + cs.name + "')";
    SEG_CHECK(names.insert(cs.name).second, where, ": duplicate case name");
    SEG_CHECK(c.contains("op") && c["op"].is_string(), where, ": missing \"op\"");
    cs.op = c["op"].get<std::string>();
    if (c.contains("attrs") && !c["attrs"].is_null()) {
      SEG_CHECK(c["attrs"].is_object(), where, ": \"attrs\" must be an object");
      cs.attrs = c["attrs"];
    }
    cs.inputs = file_map(c, "inputs", where, true);
    SEG_CHECK(!cs.inputs.empty(), where, ": \"inputs\" is empty");
    cs.outputs = file_map(c, "outputs", where, true);
    SEG_CHECK(cs.outputs.size() == 1, where, ": \"outputs\" must have exactly one entry (ops have one output)");
    cs.grads = file_map(c, "grads", where, false);
    if (c.contains("grad_output") && !c["grad_output"].is_null()) {
      SEG_CHECK(c["grad_output"].is_string(), where, ": \"grad_output\" must be a file name");
      cs.grad_output = c["grad_output"].get<std::string>();
    }
    SEG_CHECK(cs.grads.empty() || !cs.grad_output.empty(), where, ": \"grads\" given without \"grad_output\"");
    for (const auto& [role, file] : cs.grads)
      SEG_CHECK(cs.inputs.count(role), where, ": \"grads\" names '", role, "', which is not an input");
    cs.has_tol = c.contains("rtol") || c.contains("atol");
    cs.rtol = tol(c, "rtol", cs.rtol, where);
    cs.atol = tol(c, "atol", cs.atol, where);
    cs.rtol_f32 = tol(c, "rtol_f32", cs.rtol_f32, where);
    cs.atol_f32 = tol(c, "atol_f32", cs.atol_f32, where);
    for (const auto* mp : {&cs.inputs, &cs.outputs, &cs.grads})
      for (const auto& [role, file] : *mp) check_file(dir, file, where);
    if (!cs.grad_output.empty()) check_file(dir, cs.grad_output, where);
    cases.push_back(std::move(cs));
  }
  return cases;
}

const char* status_name(Status s) {
  switch (s) {
    case Status::Pass: return "PASS";
    case Status::Fail: return "FAIL";
    default: return "UNSUPPORTED";
  }
}

// ---------------------------------------------------------------- running a case
namespace {
struct Comparison {
  double max_abs = 0, max_rel = 0, worst_ratio = 0;  // ratio = |a-b| / (atol + rtol|b|); > 1 fails
  std::string detail;
};

Comparison compare(const Tensor& got, const Tensor& want, double rtol, double atol, const std::string& what) {
  Comparison r;
  if (got.shape() != want.shape()) {
    r.worst_ratio = INFINITY;
    r.max_abs = r.max_rel = INFINITY;
    r.detail = what + ": shape " + shape_str(got.shape()) + ", expected " + shape_str(want.shape());
    return r;
  }
  const std::vector<double> a = got.to_vector(), b = want.to_vector();
  size_t worst = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    double d = std::fabs(a[k] - b[k]);
    if (std::isnan(a[k]) || std::isnan(b[k])) d = (std::isnan(a[k]) && std::isnan(b[k])) ? 0 : INFINITY;
    if (a[k] == b[k]) d = 0;  // equal infinities
    const double ratio = d / (atol + rtol * std::fabs(b[k]));
    r.max_abs = std::max(r.max_abs, d);
    if (b[k] != 0) r.max_rel = std::max(r.max_rel, d / std::fabs(b[k]));
    if (ratio > r.worst_ratio || (std::isnan(ratio) && d > 0)) {
      r.worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
      worst = k;
    }
  }
  if (r.worst_ratio > 1) {
    std::ostringstream os;
    os.precision(9);
    os << what << "[" << worst << "] = " << a[worst] << ", expected " << b[worst];
    r.detail = os.str();
  }
  return r;
}

std::string join(const std::string& dir, const std::string& file) { return (fs::path(dir) / file).string(); }
}  // namespace

CaseResult run_case(const std::string& dir, const Case& c, Device device) {
  CaseResult res;
  res.name = c.name;
  res.op = c.op;
  const OpFn* fn = op_table().find(c.op);
  if (!fn) {
    res.status = Status::Unsupported;
    res.message = "no engine entry for op '" + c.op + "'";
    return res;
  }
  try {
    OpCall call;
    call.op = c.op;
    call.attrs = c.attrs;
    // The run's dtype: float64 on the CPU when every float input is <f8; float32 when any is <f4 or on CUDA.
    bool any_f32 = false;
    std::map<std::string, Tensor> host;
    for (const auto& [role, file] : c.inputs) {
      host[role] = load_npy(join(dir, file));
      any_f32 |= host[role].dtype() == DType::Float32;
    }
    const DType run_dtype = (device == Device::CUDA || any_f32) ? DType::Float32 : DType::Float64;
    const bool cast_down = run_dtype == DType::Float32 && !any_f32;
    const double rtol = cast_down ? c.rtol_f32 : c.rtol;
    const double atol = cast_down ? c.atol_f32 : c.atol;
    auto prepare = [&](const Tensor& t) {
      Tensor x = t.is_floating() && t.dtype() != run_dtype ? t.to(run_dtype) : t;
      return device == Device::CPU ? x : x.to(device);
    };
    for (auto& [role, t] : host) {
      Tensor x = prepare(t);
      if (c.grads.count(role)) {
        SEG_CHECK(x.is_floating(), "input '", role, "' is ", dtype_name(x.dtype()), " but \"grads\" asks for its gradient");
        x.set_requires_grad(true);
      }
      call.inputs[role] = x;
    }
    Tensor out;
    try {
      out = (*fn)(call);
    } catch (const Unsupported& e) {
      res.status = Status::Unsupported;
      res.message = e.what();
      return res;
    }
    Comparison worst;
    auto keep = [&](const Comparison& cmp, const std::string& what) {
      res.max_abs = std::max(res.max_abs, cmp.max_abs);
      res.max_rel = std::max(res.max_rel, cmp.max_rel);
      if (cmp.worst_ratio > worst.worst_ratio || res.worst.empty()) {
        worst = cmp;
        res.worst = what;
      }
    };
    const auto& [out_role, out_file] = *c.outputs.begin();
    keep(compare(out, load_npy(join(dir, out_file)), rtol, atol, out_role), out_role);
    if (!c.grads.empty()) {
      Tensor go = prepare(load_npy(join(dir, c.grad_output)));
      SEG_CHECK(go.shape() == out.shape(), "grad_output has shape ", shape_str(go.shape()), " but the output is ",
                shape_str(out.shape()));
      SEG_CHECK(out.requires_grad(), "the output has no gradient history (op not differentiable?)");
      out.backward(go);
      for (const auto& [role, file] : c.grads) {
        const Tensor& x = call.inputs.at(role);
        Tensor g = x.grad().defined() ? x.grad() : Tensor::zeros(x.shape(), x.dtype());
        keep(compare(g, load_npy(join(dir, file)), rtol, atol, "grad." + role), "grad." + role);
      }
    }
    res.status = worst.worst_ratio <= 1 ? Status::Pass : Status::Fail;
    if (res.status == Status::Fail) {
      std::ostringstream os;
      os << worst.detail << " (rtol " << rtol << ", atol " << atol << ")";
      res.message = os.str();
    }
  } catch (const std::exception& e) {
    res.status = Status::Fail;
    res.message = std::string("error: ") + e.what();
  }
  return res;
}

// ---------------------------------------------------------------- the run and the command line
Summary run_all(const Options& opt, std::ostream& out) {
  const std::vector<Case> cases = load_manifest(opt.dir);
  Summary s;
  for (const Case& c : cases) {
    if (!opt.filter.empty() && c.name.find(opt.filter) == std::string::npos &&
        c.op.find(opt.filter) == std::string::npos)
      continue;
    const CaseResult r = run_case(opt.dir, c, opt.device);
    char line[512];
    if (r.status == Status::Unsupported) {
      std::snprintf(line, sizeof line, "%-36s %-26s abs %-9s  rel %-9s  %s", r.name.c_str(), r.op.c_str(), "-", "-",
                    status_name(r.status));
    } else {
      std::snprintf(line, sizeof line, "%-36s %-26s abs %.3e  rel %.3e  %s", r.name.c_str(), r.op.c_str(), r.max_abs,
                    r.max_rel, status_name(r.status));
    }
    out << line;
    if (!r.message.empty()) out << "  (" << r.message << ")";
    out << "\n";
    if (r.status == Status::Pass) {
      ++s.passed;
    } else if (r.status == Status::Unsupported) {
      ++s.unsupported;
      if (opt.skip_unsupported) {
        ++s.skipped;
      } else {
        ++s.failed;
      }
    } else {
      ++s.failed;
    }
  }
  if (s.skipped)
    out << s.skipped << " unsupported cases not counted (--skip-unsupported, a development aid)\n";
  out << s.passed << " passed, " << s.failed << " failed\n";
  out.flush();
  return s;
}

int main_opcheck(int argc, char** argv, std::ostream& out, std::ostream& err) {
  const char* usage =
      "usage: opcheck DIR [--device cpu|cuda] [--filter SUBSTRING] [--skip-unsupported] [--list]\n"
      "  Runs the reference cases in DIR (manifest.json + .npy, see docs/opcheck-format.md) forward and backward\n"
      "  and compares with the stored results. --skip-unsupported (development only): ops with no engine entry are\n"
      "  reported but not counted as failures. --list prints the registered ops.\n";
  Options opt;
  try {
    for (int k = 1; k < argc; ++k) {
      const std::string a = argv[k];
      auto value = [&]() -> std::string {
        SEG_CHECK(k + 1 < argc, "opcheck: ", a, " needs a value");
        return argv[++k];
      };
      if (a == "--device") {
        const std::string d = value();
        SEG_CHECK(d == "cpu" || d == "cuda", "opcheck: --device must be cpu or cuda, got '", d, "'");
        opt.device = d == "cuda" ? Device::CUDA : Device::CPU;
      } else if (a == "--filter") {
        opt.filter = value();
      } else if (a == "--skip-unsupported") {
        opt.skip_unsupported = true;
      } else if (a == "--list") {
        for (const auto& n : op_table().names()) out << n << "\n";
        return 0;
      } else if (a == "-h" || a == "--help") {
        out << usage;
        return 0;
      } else if (!a.empty() && a[0] == '-') {
        fail("opcheck: unknown option '", a, "'");
      } else {
        SEG_CHECK(opt.dir.empty(), "opcheck: more than one folder given ('", opt.dir, "', '", a, "')");
        opt.dir = a;
      }
    }
    SEG_CHECK(!opt.dir.empty(), "opcheck: no folder given");
  } catch (const Error& e) {
    err << e.what() << "\n" << usage;
    return 2;
  }
  try {
    if (opt.device == Device::CUDA)
      SEG_CHECK(cuda_available(), "opcheck: --device cuda but no usable GPU: ", cuda_unavailable_reason());
    const Summary s = run_all(opt, out);
    return s.failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    err << (msg.rfind("opcheck:", 0) == 0 ? "" : "opcheck: ") << msg << "\n";
    return 2;
  }
}

}  // namespace seg::opcheck
