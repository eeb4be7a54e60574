// Experiment grids: rows (a paper's variants) × seeds, each (row, seed) in its own run folder, then the table —
// per row mean ± std over cases and over seeds, the paired two-sided Student t-test of each row against its baseline on
// the per-case scores, the paper's numbers beside ours — and overlaid validation curves, as table.json / table.md /
// table.csv and SVG + PNG figures.
// Key decisions: the grid knows nothing of any paper: an app gives its rows (a function that trains one run into a
// folder through run_experiment, so a finished run is read back and an interrupted one resumes when the command is
// repeated), the columns to report, the baseline of each row and the paper's figures. Across seeds the split is the
// app's (fixed by its split seed), so a case's scores are averaged over seeds first: "std" is over cases (the paper's
// ±), "std_over_seeds" is the spread of the per-seed means, and the t-test pairs the per-case seed averages.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/toolkit/run.h"

namespace seg {

struct GridColumn {
  std::string key;        // JSON key of the row ("dice_volume")
  std::string metric;     // Scores metric ("dice", "hd_mm")
  std::string structure;  // one structure, or "" for the mean over the structures of each case
  std::string header;     // Markdown header ("Dice")
  int digits = 2;
};

struct GridRow {
  std::string key;        // unique; the runs are in <out>/runs/<key>/seed<k>
  std::vector<std::pair<std::string, std::string>> labels;  // shown and written in this order ({"variant", "none"}, ...)
  std::string baseline;   // key of the row this one is t-tested against ("" = none, e.g. the baseline itself)
  std::function<RunResult(uint64_t seed, const std::string& dir)> run;
  nlohmann::json paper = nlohmann::json::object();  // the paper's numbers for this row by column key (text or number)
};

struct GridFigure {
  std::string stem;       // file stem in the output folder ("figure3")
  std::string title, ylabel;
  std::string column = "val_dice_loss";  // curve column plotted (mean over seeds per epoch)
  std::vector<std::string> rows;         // row keys, one series each
  double ymin = 0, ymax = 1;
};

struct GridSpec {
  std::string table;      // "I"
  std::string title;      // Markdown heading
  std::string out_dir;
  std::vector<uint64_t> seeds;
  std::vector<GridRow> rows;
  std::vector<GridColumn> columns;       // the first is the primary one (its p-value is the row's p_value_key)
  std::string split = "validation";      // "validation" or "test": the evaluation the table reports
  std::string p_value_key = "p_value_vs_baseline";
  std::vector<std::string> paper_columns;  // keys of GridRow::paper shown beside ours, in this order
  nlohmann::json paper = nlohmann::json::object();  // the paper's table as data (written into table.json)
  std::vector<GridFigure> figures;
  std::string notes_md;                  // appended to table.md (protocol differences, data source)
  std::string table_stem = "table";      // <stem>.json / .md / .csv
};

// Per-case values of several seeds → the summary the table shows.
struct SeedAggregate {
  MetricSummary over_cases;               // per case: mean over seeds; mean ± std over cases
  double std_over_seeds = 0;              // sample std of the per-seed means (0 with one seed)
  std::vector<double> seed_means;
};
SeedAggregate aggregate_over_seeds(const std::vector<std::map<std::string, double>>& per_seed);

// Paired two-sided t-test p-value on the cases finite in both maps; NaN with fewer than two pairs.
double paired_p_value(const std::map<std::string, double>& a, const std::map<std::string, double>& b);

// Runs (or reads back) every (row, seed) and writes the table and figures; returns table.json's content.
nlohmann::json run_grid(const GridSpec& spec);

// Only the aggregation and files, from finished runs per row (runs[row key][seed index]); used by run_grid.
nlohmann::json write_grid_table(const GridSpec& spec, const std::map<std::string, std::vector<RunResult>>& runs);

}  // namespace seg
