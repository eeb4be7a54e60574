// Result summaries, learning curves and plots (see results.h).
#include "apps/toolkit/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/report/svg_plot.h"
#include "data/report/svg_raster.h"
#include "engine/serialize.h"

namespace seg {

MetricSummary summarise(const std::map<std::string, double>& per) {
  MetricSummary s;
  s.per_patient = per;
  double sum = 0, sq = 0;
  for (const auto& [k, v] : per)
    if (std::isfinite(v)) {
      sum += v;
      sq += v * v;
      ++s.finite;
    }
  if (s.finite > 0) {
    s.mean = sum / s.finite;
    s.std = s.finite > 1 ? std::sqrt(std::max(0.0, (sq - s.finite * s.mean * s.mean) / (s.finite - 1))) : 0.0;
  } else {
    s.mean = s.std = NAN;
  }
  return s;
}

nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number_or_nan(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : NAN; }

nlohmann::json to_json(const MetricSummary& s) {
  nlohmann::json per = nlohmann::json::object();
  for (const auto& [k, v] : s.per_patient) per[k] = json_number(v);
  return {{"mean", json_number(s.mean)}, {"std", json_number(s.std)}, {"per_patient", per}, {"patients_with_value", s.finite}};
}

std::string mean_std(const MetricSummary& s, int digits) {
  if (!std::isfinite(s.mean)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f ± %.*f", digits, s.mean, digits, s.std);
  return b;
}

void write_text_atomic(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read '" + path + "'");
  std::ostringstream o;
  o << f.rdbuf();
  return o.str();
}

// ---- Curve

void Curve::add(int epoch, const std::vector<std::pair<std::string, double>>& values) {
  std::map<std::string, double> row;
  for (const auto& [k, v] : values) {
    if (std::find(columns_.begin(), columns_.end(), k) == columns_.end()) columns_.push_back(k);
    row[k] = v;
  }
  rows_.emplace_back(epoch, std::move(row));
}

double Curve::value(size_t i, const std::string& c) const {
  const auto it = rows_.at(i).second.find(c);
  return it == rows_[i].second.end() ? NAN : it->second;
}

std::vector<double> Curve::column(const std::string& name) const {
  std::vector<double> r;
  for (size_t i = 0; i < rows_.size(); ++i) r.push_back(value(i, name));
  return r;
}

std::vector<double> Curve::epochs() const {
  std::vector<double> r;
  for (const auto& row : rows_) r.push_back(row.first);
  return r;
}

double Curve::last(const std::string& c) const { return rows_.empty() ? NAN : value(rows_.size() - 1, c); }

void Curve::truncate_after(int epoch) {
  while (!rows_.empty() && rows_.back().first > epoch) rows_.pop_back();
}

nlohmann::json Curve::to_json() const {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [e, row] : rows_) {
    nlohmann::json r = nlohmann::json::object();
    r["epoch"] = e;
    for (const auto& c : columns_)
      if (row.count(c)) r[c] = json_number(row.at(c));
    a.push_back(r);
  }
  return {{"columns", columns_}, {"rows", a}};
}

Curve Curve::from_json(const nlohmann::json& j) {
  Curve c;
  c.columns_ = j.at("columns").get<std::vector<std::string>>();
  for (const auto& r : j.at("rows")) {
    std::map<std::string, double> row;
    for (const auto& col : c.columns_)
      if (r.contains(col)) row[col] = number_or_nan(r[col]);
    c.rows_.emplace_back(r.at("epoch").get<int>(), std::move(row));
  }
  return c;
}

std::string Curve::csv() const {
  std::ostringstream o;
  o << "epoch";
  for (const auto& c : columns_) o << ',' << c;
  o << '\n';
  char b[64];
  for (size_t i = 0; i < rows_.size(); ++i) {
    o << rows_[i].first;
    for (const auto& c : columns_) {
      const double v = value(i, c);
      if (std::isfinite(v)) std::snprintf(b, sizeof b, "%.6g", v);
      else std::snprintf(b, sizeof b, "nan");
      o << ',' << b;
    }
    o << '\n';
  }
  return o.str();
}

void Curve::write(const std::string& dir) const {
  write_text_atomic(dir + "/curve.json", to_json().dump(1) + "\n");
  write_text_atomic(dir + "/curve.csv", csv());
}

Curve Curve::read(const std::string& dir) {
  const std::string p = dir + "/curve.json";
  if (!std::filesystem::exists(p)) return {};
  try {
    return from_json(nlohmann::json::parse(read_text(p)));
  } catch (const std::exception& e) {
    throw std::runtime_error(p + ": not a curve file written by this toolkit (" + e.what() + ")");
  }
}

// ---- plots

void write_line_plot(const std::string& stem, const std::string& title, const std::string& xlabel,
                     const std::string& ylabel, const std::vector<LineSeries>& series, double ymin, double ymax) {
  static const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  std::vector<PlotSeries> ps;
  for (size_t i = 0; i < series.size(); ++i)
    ps.push_back({series[i].label, series[i].x, series[i].y, colours[i % (sizeof colours / sizeof *colours)]});
  write_line_plot_svg(stem + ".svg", title, xlabel, ylabel, ps, ymin, ymax);
  write_png_from_svg(stem + ".svg", stem + ".png");
}

}  // namespace seg
