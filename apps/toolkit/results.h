// Result summaries and files of the toolkit: per-case values summarised as mean ± std, the learning curve of a run
// (one row per epoch, named columns) as curve.json / curve.csv / curve.svg + .png, and atomic text files.
// Key decision: columns are named at run time (train loss terms, learning rate, validation metrics, what an app adds),
// so no file format changes when a paper reports something new; non-finite values are JSON null, "nan" in CSV.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg {

struct MetricSummary {
  double mean = 0, std = 0;             // over cases with a finite value (sample std, n − 1)
  int finite = 0;                       // cases with a finite value (an empty prediction has no distance)
  std::map<std::string, double> per_patient;  // per case (patient, volume or image)
};

MetricSummary summarise(const std::map<std::string, double>& per_patient);
nlohmann::json to_json(const MetricSummary& s);  // {mean, std, per_patient, patients_with_value} (non-finite → null)
std::string mean_std(const MetricSummary& s, int digits = 2);  // "0.83 ± 0.20", "n/a" without a finite value
nlohmann::json json_number(double v);  // v, or null when not finite
double number_or_nan(const nlohmann::json& v);

// Writes text to path via a temp file + rename.
void write_text_atomic(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);  // whole file; throws naming it when unreadable

// The learning curve: rows of named values, in the order columns were first seen.
class Curve {
 public:
  void add(int epoch, const std::vector<std::pair<std::string, double>>& values);
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  int epoch(size_t i) const { return rows_[i].first; }
  double value(size_t i, const std::string& column) const;  // NaN when the row lacks it
  std::vector<double> column(const std::string& name) const;
  std::vector<double> epochs() const;
  const std::vector<std::string>& columns() const { return columns_; }
  double last(const std::string& column) const;  // value in the last row (NaN when empty)
  void truncate_after(int epoch);                 // drops rows past `epoch` (a run resumed from an earlier checkpoint)

  nlohmann::json to_json() const;
  static Curve from_json(const nlohmann::json& j);
  std::string csv() const;
  // curve.json + curve.csv in dir (atomically).
  void write(const std::string& dir) const;
  static Curve read(const std::string& dir);  // from dir/curve.json; empty when absent

 private:
  std::vector<std::string> columns_;
  std::vector<std::pair<int, std::map<std::string, double>>> rows_;
};

// A line plot written as SVG and PNG (stem.svg, stem.png): one series per (label, y) over x.
struct LineSeries {
  std::string label;
  std::vector<double> x, y;
};
void write_line_plot(const std::string& stem, const std::string& title, const std::string& xlabel,
                     const std::string& ylabel, const std::vector<LineSeries>& series, double ymin, double ymax);

}  // namespace seg
