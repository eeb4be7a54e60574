// opcheck: runs a folder of reference cases (docs/opcheck-format.md: manifest.json + .npy files, typically made by
// tools/opcheck/gen_cases.py with PyTorch) through the engine, forward and backward, and compares.
// Key decisions:
// - A table maps an op name to one small function (OpCall -> Tensor). Each family file tools/opcheck/ops_<family>.cpp
//   defines register_<family>_ops(OpTable&), and register_all_ops() calls every one of them: registration is explicit
//   code, built once on first use, so no static registrar can be dropped or run twice by the linker. The runner and
//   the table form the `segopcheck` library, linked by the `opcheck` app and by tests/opcheck.
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

// Op name -> entry.
class OpTable {
 public:
  void add(const std::string& name, OpFn fn);  // Error when the name already has an entry
  const OpFn* find(const std::string& name) const;  // null when there is none
  std::vector<std::string> names() const;           // sorted
 private:
  std::map<std::string, OpFn> ops_;
};

// One function per family file tools/opcheck/ops_<family>.cpp; a new family adds its line here and in
// register_all_ops (opcheck.cpp).
void register_core_ops(OpTable& t);       // elementwise, softmax, losses, cat, convolutions, sum/mean
void register_norm_ops(OpTable& t);       // batch_norm, group_norm
void register_pool_ops(OpTable& t);       // max_pool, max_unpool
void register_upsample_ops(OpTable& t);   // upsample_*
void register_prelu_ops(OpTable& t);      // prelu
void register_project_ops(OpTable& t);    // the papers' kernels: Sobel, moments, Laplacian, BCE, Dice, log-barrier
void register_coordconv_ops(OpTable& t);  // coordconv2d, coordconv_transpose2d (through models/layers.h)
void register_losses_ops(OpTable& t);     // losses/: size_penalty
void register_all_ops(OpTable& t);

// The table every run uses: register_all_ops, once, on first use.
const OpTable& op_table();

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
