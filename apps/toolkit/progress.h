// Progress lines for long jobs: epoch, step, named loss terms, it/s and ETA, on one refreshed line per epoch
// (or one line per update when stdout is not a terminal, so logs stay readable).
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace seg {

class Progress {
 public:
  Progress(int64_t total_steps, int64_t every = 10) : total_(total_steps), every_(every), start_(clock::now()) {}
  // Reports step `done` (1-based, of total) with named values; prints every `every` steps and at the end of an epoch.
  void update(int epoch, int epochs, int64_t done, const std::vector<std::pair<std::string, double>>& values,
              bool force = false);
  void line(const std::string& text);  // a full line (validation results), ending any refreshed line
  double elapsed_s() const;
  void reset_clock(int64_t already_done);  // after resuming: ETA from the steps still to do
  void set_budget(double seconds) { budget_s_ = seconds; }  // the run stops by then: ETA never past it (0: none)

 private:
  using clock = std::chrono::steady_clock;
  int64_t total_, every_, base_ = 0;
  clock::time_point start_;
  bool open_line_ = false;
  double budget_s_ = 0;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "42s"

}  // namespace seg
