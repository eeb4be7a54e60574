// Experiment grids (see grid.h).
#include "apps/toolkit/grid.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/toolkit/progress.h"
#include "data/metrics/segmentation_metrics.h"

namespace seg {

SeedAggregate aggregate_over_seeds(const std::vector<std::map<std::string, double>>& per_seed) {
  SeedAggregate a;
  std::map<std::string, std::pair<double, int>> acc;
  for (const auto& m : per_seed) {
    const MetricSummary s = summarise(m);
    a.seed_means.push_back(s.mean);
    for (const auto& [c, v] : m) {
      auto& e = acc[c];
      if (std::isfinite(v)) e.first += v, ++e.second;
    }
  }
  std::map<std::string, double> per_case;
  for (const auto& [c, e] : acc) per_case[c] = e.second > 0 ? e.first / e.second : NAN;
  a.over_cases = summarise(per_case);
  std::map<std::string, double> sm;
  for (size_t i = 0; i < a.seed_means.size(); ++i) sm[std::to_string(i)] = a.seed_means[i];
  a.std_over_seeds = a.seed_means.size() > 1 ? summarise(sm).std : 0.0;
  return a;
}

double paired_p_value(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  std::vector<double> x, y;
  for (const auto& [c, v] : a) {
    const auto it = b.find(c);
    if (it != b.end() && std::isfinite(v) && std::isfinite(it->second)) x.push_back(v), y.push_back(it->second);
  }
  if (x.size() < 2) return NAN;
  return paired_t_test_p(x, y);
}

namespace {

const Scores& split_scores(const RunResult& r, const std::string& split) {
  if (split == "test") {
    SEG_CHECK(r.test.has_value(), r.dir, ": the table reports the test split, but this run has no test evaluation");
    return *r.test;
  }
  return r.validation;
}

std::map<std::string, double> column_values(const Scores& s, const GridColumn& c, const std::string& dir) {
  SEG_CHECK(s.has(c.metric), dir, ": no metric '", c.metric, "' in the run's results");
  if (c.structure.empty()) return s.per_case(c.metric);
  const auto& by = s.values.at(c.metric);
  SEG_CHECK(by.count(c.structure), dir, ": no structure '", c.structure, "' in the run's results");
  return by.at(c.structure);
}

std::string fmt(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string p_text(double p) {
  if (!std::isfinite(p)) return "—";
  char b[32];
  std::snprintf(b, sizeof b, p < 0.001 ? "%.1e" : "%.3f", p);
  return b;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

std::string paper_text(const nlohmann::json& v) {
  if (v.is_null()) return "—";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

nlohmann::json write_grid_table(const GridSpec& spec, const std::map<std::string, std::vector<RunResult>>& runs) {
  namespace fs = std::filesystem;
  SEG_CHECK(!spec.columns.empty(), "grid: no column to report");
  // per row and column: per-seed per-case values
  std::map<std::string, std::map<std::string, std::vector<std::map<std::string, double>>>> vals;
  for (const auto& row : spec.rows)
    for (const auto& r : runs.at(row.key)) {
      const Scores& s = split_scores(r, spec.split);
      for (const auto& c : spec.columns) vals[row.key][c.key].push_back(column_values(s, c, r.dir));
    }
  nlohmann::json table;
  table["table"] = spec.table;
  table["title"] = spec.title;
  table["split"] = spec.split;
  table["seeds"] = spec.seeds;
  table["paper"] = spec.paper;
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : spec.columns)
    cols.push_back({{"key", c.key}, {"metric", c.metric}, {"structure", c.structure}, {"header", c.header}});
  table["columns"] = cols;
  table["rows"] = nlohmann::json::array();

  std::ostringstream md, csv;
  md << "# " << spec.title << "\n\n";
  md << "Ours: mean ± std over " << (spec.split == "test" ? "test" : "validation")
     << " cases of the per-case score averaged over " << spec.seeds.size() << " seed(s); ± seeds = std of the per-seed "
     << "means; p = paired two-sided Student t-test against the row's baseline on the per-case scores.\n\n|";
  for (const auto& [k, v] : spec.rows.front().labels) md << ' ' << k << " |";
  for (const auto& c : spec.columns) md << ' ' << c.header << " (ours) | ± seeds | p |";
  for (const auto& pc : spec.paper_columns) md << " paper " << pc << " |";
  md << "\n|";
  const size_t ncol = spec.rows.front().labels.size() + 3 * spec.columns.size() + spec.paper_columns.size();
  for (size_t i = 0; i < ncol; ++i) md << "---|";
  md << '\n';
  for (const auto& [k, v] : spec.rows.front().labels) csv << csv_escape(k) << ',';
  csv << "seeds";
  for (const auto& c : spec.columns) csv << ',' << c.key << "_mean," << c.key << "_std," << c.key << "_std_over_seeds," << c.key << "_p";
  for (const auto& pc : spec.paper_columns) csv << ",paper_" << pc;
  csv << '\n';

  for (const auto& row : spec.rows) {
    nlohmann::json jr;
    jr["key"] = row.key;
    for (const auto& [k, v] : row.labels) jr[k] = v;
    jr["seeds"] = spec.seeds;
    nlohmann::json dirs = nlohmann::json::array();
    for (const auto& r : runs.at(row.key)) dirs.push_back(r.dir);
    jr["runs"] = dirs;
    md << '|';
    for (const auto& [k, v] : row.labels) md << ' ' << v << " |", csv << csv_escape(v) << ',';
    csv << spec.seeds.size();
    bool first = true;
    for (const auto& c : spec.columns) {
      const auto& ps = vals[row.key][c.key];
      const SeedAggregate a = aggregate_over_seeds(ps);
      double p = NAN;
      if (!row.baseline.empty() && row.baseline != row.key) {
        SEG_CHECK(vals.count(row.baseline), "grid: row ", row.key, " names baseline '", row.baseline, "', which is not a row");
        p = paired_p_value(a.over_cases.per_patient, aggregate_over_seeds(vals[row.baseline][c.key]).over_cases.per_patient);
      }
      nlohmann::json jc = to_json(a.over_cases);
      jc["std_over_seeds"] = json_number(a.std_over_seeds);
      nlohmann::json per_seed = nlohmann::json::object();
      for (size_t i = 0; i < ps.size(); ++i)
        per_seed[std::to_string(spec.seeds[i])] = {{"mean", json_number(a.seed_means[i])}, {"per_patient", to_json(summarise(ps[i]))["per_patient"]}};
      jc["per_seed"] = per_seed;
      jc["p_value"] = json_number(p);
      jr[c.key] = jc;
      if (first) jr[spec.p_value_key] = json_number(p), first = false;
      md << ' ' << mean_std(a.over_cases, c.digits) << " | " << (spec.seeds.size() > 1 ? fmt(a.std_over_seeds, c.digits) : "—")
         << " | " << p_text(p) << " |";
      csv << ',' << fmt(a.over_cases.mean, 6) << ',' << fmt(a.over_cases.std, 6) << ',' << fmt(a.std_over_seeds, 6) << ','
          << (std::isfinite(p) ? fmt(p, 6) : "");
    }
    jr["paper"] = row.paper;
    for (const auto& pc : spec.paper_columns) {
      const nlohmann::json v = row.paper.contains(pc) ? row.paper[pc] : nlohmann::json(nullptr);
      md << ' ' << paper_text(v) << " |";
      csv << ',' << csv_escape(v.is_null() ? "" : paper_text(v));
    }
    md << '\n';
    csv << '\n';
    table["rows"].push_back(jr);
  }

  // figures: a curve column per epoch, mean over the seeds that reached the epoch
  nlohmann::json figs = nlohmann::json::array();
  for (const auto& f : spec.figures) {
    std::vector<LineSeries> series;
    std::ostringstream fc;
    fc << "row,epoch," << f.column << ",seeds\n";
    for (const auto& key : f.rows) {
      SEG_CHECK(runs.count(key), "grid: figure ", f.stem, " names row '", key, "', which is not a row");
      std::map<int, std::pair<double, int>> acc;
      for (const auto& r : runs.at(key))
        for (size_t i = 0; i < r.curve.size(); ++i) {
          const double v = r.curve.value(i, f.column);
          if (std::isfinite(v)) acc[r.curve.epoch(i)].first += v, ++acc[r.curve.epoch(i)].second;
        }
      LineSeries s;
      for (const auto& row : spec.rows)
        if (row.key == key) {
          for (const auto& [k, v] : row.labels) s.label += (s.label.empty() ? "" : ", ") + v;
        }
      for (const auto& [e, sum] : acc) {
        s.x.push_back(e);
        s.y.push_back(sum.first / sum.second);
        fc << csv_escape(key) << ',' << e << ',' << fmt(sum.first / sum.second, 6) << ',' << sum.second << '\n';
      }
      series.push_back(s);
    }
    write_line_plot(spec.out_dir + "/" + f.stem, f.title, "epoch", f.ylabel, series, f.ymin, f.ymax);
    write_text_atomic(spec.out_dir + "/" + f.stem + ".csv", fc.str());
    figs.push_back({{"svg", f.stem + ".svg"}, {"png", f.stem + ".png"}, {"csv", f.stem + ".csv"}, {"title", f.title},
                    {"column", f.column}, {"rows", f.rows}});
    md << "\n![" << f.title << "](" << f.stem << ".svg)\n";
  }
  table["figures"] = figs;
  if (!spec.notes_md.empty()) md << '\n' << spec.notes_md << '\n';
  md << "\nRun folders: `runs/<row>/seed<k>/` (config.json, results.json/md, curve.csv/svg/png, overlays/, "
        "best/last.safetensors).\n";
  write_text_atomic(spec.out_dir + "/" + spec.table_stem + ".json", table.dump(2) + "\n");
  write_text_atomic(spec.out_dir + "/" + spec.table_stem + ".md", md.str());
  write_text_atomic(spec.out_dir + "/" + spec.table_stem + ".csv", csv.str());
  return table;
}

nlohmann::json run_grid(const GridSpec& spec) {
  namespace fs = std::filesystem;
  SEG_CHECK(!spec.rows.empty() && !spec.seeds.empty(), "grid: no row or no seed to run");
  SEG_CHECK(spec.split == "validation" || spec.split == "test", "grid: split must be validation or test, got '", spec.split, "'");
  fs::create_directories(spec.out_dir);
  std::map<std::string, std::vector<RunResult>> runs;
  const size_t total = spec.rows.size() * spec.seeds.size();
  size_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& row : spec.rows) {
    SEG_CHECK(!runs.count(row.key), "grid: two rows share the key '", row.key, "'");
    runs[row.key];
    for (uint64_t seed : spec.seeds) {
      ++n;
      const std::string dir = spec.out_dir + "/runs/" + row.key + "/seed" + std::to_string(seed);
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("\n=== grid %s: run %zu/%zu — %s, seed %llu (%s elapsed) → %s\n", spec.table.c_str(), n, total,
                  row.key.c_str(), static_cast<unsigned long long>(seed), format_duration(el).c_str(), dir.c_str());
      std::fflush(stdout);
      runs[row.key].push_back(row.run(seed, dir));
    }
  }
  return write_grid_table(spec, runs);
}

}  // namespace seg
