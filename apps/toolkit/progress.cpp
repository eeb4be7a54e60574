// Progress lines (see progress.h).
#include "apps/toolkit/progress.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace seg {

std::string format_duration(double s) {
  char b[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600) std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(b, sizeof b, "%lds", t);
  return b;
}

double Progress::elapsed_s() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

void Progress::reset_clock(int64_t already_done) {
  base_ = already_done;
  start_ = clock::now();
}

void Progress::update(int epoch, int epochs, int64_t done, const std::vector<std::pair<std::string, double>>& values,
                      bool force) {
  if (!force && done % every_ != 0) return;
  const double el = elapsed_s();
  const double rate = (done - base_) > 0 ? static_cast<double>(done - base_) / el : 0.0;
  double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  if (budget_s_ > 0 && eta > budget_s_ - el) eta = std::max(0.0, budget_s_ - el);
  std::string vals;
  char b[96];
  for (const auto& [k, v] : values) {
    std::snprintf(b, sizeof b, " %s %.4f", k.c_str(), v);
    vals += b;
  }
  const bool tty = isatty(fileno(stdout));
  std::printf("%sepoch %d/%d  step %lld/%lld %s  %.2f it/s  elapsed %s  ETA %s%s", tty ? "\r" : "", epoch, epochs,
              static_cast<long long>(done), static_cast<long long>(total_), vals.c_str(), rate,
              format_duration(el).c_str(), format_duration(eta).c_str(), tty ? "   " : "\n");
  std::fflush(stdout);
  open_line_ = tty;
}

void Progress::line(const std::string& text) {
  if (open_line_) std::printf("\n");
  open_line_ = false;
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

}  // namespace seg
