// opcheck: runs a folder of reference cases (../shared/opcheck-format.md: manifest.json + .npy files, typically made by
// tools/opcheck/gen_cases.py with PyTorch) through the engine, forward and backward, and compares.
// Key decisions:
// - An op registry maps an op name to one small function (OpCall -> Tensor). Entries live in files per family,
//   engine/opcheck_ops_<family>.cpp, each registering itself with SEG_OPCHECK_OP; those files are compiled straight
//   into the opcheck executables (apps/, tests/opcheck/), so their static registrars are never dropped by the linker.
//   A case whose op has no entry is UNSUPPORTED (an op function may also throw Unsupported for an attribute).
// - A malformed folder/manifest is an Error before any case runs; a case whose files are missing or corrupt, or whose
//   op throws, FAILs with the message (the run goes on).
// - Relative error is |a-b|/|b| over elements with b != 0 (elements with b == 0 are judged by the absolute error).
#pragma once
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace seg::opcheck {

// Thrown by an op function for an op/attribute combination the engine does not implement.
struct Unsupported : Error {
  using Error::Error;
};

// What an op function gets: the case's attrs and its input tensors (already on the run's device and dtype).
struct OpCall {
  std::string op;
  nlohmann::json attrs = nlohmann::json::object();
  std::map<std::string, Tensor> inputs;

  const Tensor& input(const std::string& name) const;  // Error when missing
  Tensor optional(const std::string& name) const;       // undefined when missing
  std::vector<Tensor> numbered(const std::string& prefix) const;  // prefix0, prefix1, ... (at least one)

  bool has(const std::string& key) const { return attrs.contains(key) && !attrs[key].is_null(); }
  int64_t integer(const std::string& key) const;                 // required
  int64_t integer(const std::string& key, int64_t dflt) const;
  double number(const std::string& key) const;
  double number(const std::string& key, double dflt) const;
  std::string text(const std::string& key, const std::string& dflt) const;
  bool flag(const std::string& key, bool dflt) const;
  std::vector<int64_t> ints(const std::string& key) const;       // an int or a list of ints
  std::vector<int64_t> ints(const std::string& key, std::vector<int64_t> dflt) const;
  std::vector<double> numbers(const std::string& key, std::vector<double> dflt) const;
};

using OpFn = std::function<Tensor(const OpCall&)>;

void register_op(const std::string& name, OpFn fn);  // a second entry for a name is an error at startup
const OpFn* find_op(const std::string& name);        // null when unregistered
std::vector<std::string> registered_ops();

struct Registrar {
  Registrar(const char* name, OpFn fn) { register_op(name, std::move(fn)); }
};
#define SEG_OPCHECK_CAT2(a, b) a##b
#define SEG_OPCHECK_CAT(a, b) SEG_OPCHECK_CAT2(a, b)
// SEG_OPCHECK_OP("relu", [](const OpCall& c) { return relu(c.input("input")); });
#define SEG_OPCHECK_OP(name, ...) \
  static ::seg::opcheck::Registrar SEG_OPCHECK_CAT(seg_opcheck_reg_, __LINE__)(name, __VA_ARGS__)

// ---- the folder ----
struct Case {
  std::string name, op;
  nlohmann::json attrs = nlohmann::json::object();
  std::map<std::string, std::string> inputs, outputs, grads;  // role -> file (relative to the folder)
  std::string grad_output;                                     // empty when the case has no backward
  double rtol = 1e-6, atol = 1e-8;                             // for runs in the dtype of the stored inputs
  bool has_tol = false;
  double rtol_f32 = 1e-3, atol_f32 = 1e-4;                     // for runs cast to float32 (CUDA)
};

// Reads and validates DIR/manifest.json (structure only; .npy files are read when a case runs). Error when malformed.
std::vector<Case> load_manifest(const std::string& dir);

enum class Status { Pass, Fail, Unsupported };
const char* status_name(Status s);

struct CaseResult {
  std::string name, op;
  Status status = Status::Fail;
  double max_abs = 0, max_rel = 0;
  std::string worst;    // which compared tensor had the worst violation ("output", "grad.weight")
  std::string message;  // why it failed / is unsupported
};

struct Options {
  std::string dir;
  Device device = Device::CPU;
  std::string filter;             // run only cases whose name or op contains it
  bool skip_unsupported = false;  // development aid: UNSUPPORTED cases are reported but not counted as failed
};

CaseResult run_case(const std::string& dir, const Case& c, Device device);

struct Summary {
  int passed = 0, failed = 0, unsupported = 0, skipped = 0;  // skipped = unsupported not counted (skip_unsupported)
};
// Runs every (filtered) case, printing one line each and the final "N passed, N failed" line to `out`.
Summary run_all(const Options& opt, std::ostream& out);

// The command line: opcheck DIR [--device cpu|cuda] [--filter SUBSTRING] [--skip-unsupported]; returns the exit code.
int main_opcheck(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace seg::opcheck
