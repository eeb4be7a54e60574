// A small command-line parser for the apps: declared options with defaults and help text, `--name value` or
// `--name=value`, flags, `--help`. Key decision: an unknown option or a malformed value is an error naming it
// (a typo must not silently run a 10-minute job with defaults).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace seg::cli {

class Args {
 public:
  Args(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}
  // Declares an option with a default (as text) and help; flags take no value ("0"/"1").
  Args& option(const std::string& name, const std::string& def, const std::string& help);
  Args& flag(const std::string& name, const std::string& help);
  // Data-parallel training for this program (the one line an app adds): declares --nproc N, --sync-bn and
  // --dist-timeout S; parse() then joins the job when RANK/WORLD_SIZE are set (torchrun, a cluster script, or the
  // launcher), or, given --nproc N > 1, becomes the launcher: starts N ranks of this program with the same arguments,
  // waits for them, and EXITS with their status (engine/dist_launch.h) — only the ranks go past parse().
  Args& distributed();
  // Parses argv; returns false when --help was printed. Throws std::runtime_error on bad input.
  bool parse(int argc, char** argv);

  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  bool on(const std::string& name) const;
  bool given(const std::string& name) const;  // set on the command line (not the default)
  std::vector<double> reals(const std::string& name) const;  // "a,b"
  void set(const std::string& name, const std::string& value);  // presets (e.g. --paper) before reading
  std::string help() const;
  std::map<std::string, std::string> values() const;  // for results.json

 private:
  struct Opt {
    std::string value, help;
    bool is_flag = false, given = false;
  };
  std::string program_, summary_;
  bool distributed_ = false;
  std::vector<std::string> order_;
  std::map<std::string, Opt> opts_;
  const Opt& get(const std::string& name) const;
};

// The non-empty parts of a list option ("none,1st,,enc" → none, 1st, enc).
std::vector<std::string> split_list(const std::string& s, char sep = ',');

}  // namespace seg::cli
