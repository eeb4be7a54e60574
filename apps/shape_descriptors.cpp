// shape_descriptors — paper 5 complete ("Beyond pixel-wise supervision for segmentation: a few global shape
// descriptors might be surprisingly good!", Kervadec et al.): Table 1 and Fig 4 by one command each.
// The method as the paper states it: a segmentation network trained with no pixel label at all, only with bounds on a
// few shape descriptors of each class's softmax map (size, centroid, average distance to the centroid, length) taken
// ±10 % / ±20 px around the ground truth's, plus ACDC's anatomical priors (the myocardium shares the LV's centroid;
// 2 ≤ L(Myo)/L(LV) ≤ 3), enforced with the extended log-barrier (t × 1.1 per epoch, weight 1e-2 per descriptor, no
// cross entropy); compared with cross entropy on full masks. ACDC: ENet, batch 8, 200 epochs; PROMISE12: the residual
// U-Net, batch 4, 300 epochs; Adam 5e-4 (β 0.9, 0.99); 256²; blur / rotation / scale / shift augmentation; test Dice
// per case (3-D) and class, mean (std). (losses/descriptor_loss.h, apps/paper5/.)
//
// --table 1: every (data set, supervision) × seed is one run folder under --out (a repeated command reads finished
// runs back and resumes an interrupted one), then table.json / table.md (ours beside the paper's, the paired t-test of
// descriptors against cross entropy on the per-case Dice) and the Fig 4 figures. --figure 4 runs (or reads) the same
// runs and writes the figures: per data set, the training and validation Dice per epoch and class (and their mean) of
// both methods, and the distribution of per-case test Dice (box + strip plot), SVG + PNG.
// CPU defaults (without --paper), sized so `--table 1` finishes on the phantoms in well under an hour on 2 cores:
// 64² instead of 256², fewer epochs with a per-run time budget, phantoms of 20 (ACDC) and 20 (PROMISE12) patients
// split in the paper's proportions. What differs is printed. Absent classes (in no case of a data set) are reported as
// absent, never as Dice 0.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "apps/paper5/protocol.h"
#include "apps/toolkit/cli.h"
#include "apps/toolkit/grid.h"
#include "apps/toolkit/results.h"
#include "data/report/box_plot.h"
#include "data/report/svg_raster.h"
#include "engine/device.h"

using namespace seg;

namespace {

using cli::split_list;

// --data: "DIR" (one data set selected) or "acdc=DIR,promise12=DIR".
std::map<Paper5Dataset, std::string> parse_data(const std::string& s, const std::vector<Paper5Dataset>& sets) {
  std::map<Paper5Dataset, std::string> out;
  if (s.empty()) return out;
  if (s.find('=') == std::string::npos) {
    SEG_CHECK(sets.size() == 1, "--data DIR names one folder but ", sets.size(), " data sets are selected: give "
              "--dataset acdc|promise12, or --data acdc=DIR,promise12=DIR");
    out[sets[0]] = s;
    return out;
  }
  for (const auto& kv : split_list(s)) {
    const size_t eq = kv.find('=');
    SEG_CHECK(eq != std::string::npos && eq + 1 < kv.size(), "--data: expected NAME=DIR, got '", kv, "'");
    out[parse_paper5_dataset(kv.substr(0, eq))] = kv.substr(eq + 1);
  }
  return out;
}

const char* kColor[2] = {"#1f77b4", "#d62728"};     // cross entropy, descriptors

struct Cell {  // one (data set, supervision): its runs over seeds
  Paper5Dataset dataset;
  Paper5Supervision supervision;
  std::vector<RunResult> runs;
};

// Per-case test Dice of a structure, averaged over seeds.
std::map<std::string, double> test_dice(const Cell& c, const std::string& structure) {
  std::map<std::string, std::vector<double>> acc;
  for (const RunResult& r : c.runs) {
    SEG_CHECK(r.test.has_value(), r.dir, ": the run has no test evaluation");
    for (const auto& [cs, v] : r.test->values.at("dice").at(structure)) acc[cs].push_back(v);
  }
  std::map<std::string, double> out;
  for (const auto& [cs, v] : acc) {
    double s = 0;
    for (double x : v) s += x;
    out[cs] = s / static_cast<double>(v.size());
  }
  return out;
}

void write_svg_png(const std::string& stem) { write_png_from_svg(stem + ".svg", stem + ".png"); }

// Fig 4 for one data set: training and validation Dice per epoch (per class and mean, both methods; mean over seeds),
// and the per-case test Dice distribution.
std::vector<std::string> write_figure4(const std::string& out, Paper5Dataset ds, const std::vector<Structure>& structures,
                                       const std::vector<const Cell*>& cells) {
  std::vector<std::string> files;
  const std::string name = paper5_dataset_name(ds);
  for (const char* split : {"train", "val"}) {
    std::vector<LineSeries> series;
    for (const Cell* c : cells) {
      std::vector<std::string> cols;
      for (const Structure& st : structures) cols.push_back(std::string(split) + "_dice_" + st.name);
      if (structures.size() > 1) cols.push_back("mean");
      for (const std::string& col : cols) {
        LineSeries ls;
        ls.label = std::string(c->supervision == Paper5Supervision::CrossEntropy ? "CE " : "descriptors ") +
                   (col == "mean" ? "mean" : col.substr(col.rfind('_') + 1));
        std::map<int, std::pair<double, int>> acc;  // epoch → (sum, n) over seeds
        for (const RunResult& r : c->runs)
          for (size_t i = 0; i < r.curve.size(); ++i) {
            double v = 0;
            if (col == "mean") {
              for (const Structure& st : structures) v += r.curve.value(i, std::string(split) + "_dice_" + st.name);
              v /= static_cast<double>(structures.size());
            } else {
              v = r.curve.value(i, col);
            }
            if (!std::isfinite(v)) continue;
            acc[r.curve.epoch(i)].first += v;
            acc[r.curve.epoch(i)].second += 1;
          }
        for (const auto& [e, sn] : acc) {
          ls.x.push_back(e);
          ls.y.push_back(sn.first / sn.second);
        }
        series.push_back(ls);
      }
    }
    const std::string stem = out + "/figure4_" + name + "_" + split + "_dice";
    write_line_plot(stem, std::string("Fig. 4: ") + (std::string(split) == "train" ? "training" : "validation") + " Dice, " +
                              name + " (RV=1, Myo=2, LV=3 as in the paper)",
                    "epoch", std::string(split) == "train" ? "Dice of the training batches (2-D)" : "validation 3-D Dice",
                    series, 0, 1);
    files.push_back(stem + ".svg");
  }
  std::vector<std::string> groups;
  for (const Structure& st : structures) groups.push_back(st.name);
  std::vector<BoxSeries> box;
  for (size_t i = 0; i < cells.size(); ++i) {
    BoxSeries b;
    b.label = paper5_supervision_title(cells[i]->supervision);
    b.color = kColor[cells[i]->supervision == Paper5Supervision::CrossEntropy ? 0 : 1];
    for (const Structure& st : structures) {
      std::vector<double> v;
      for (const auto& [cs, d] : test_dice(*cells[i], st.name)) v.push_back(d);
      b.values.push_back(v);
    }
    box.push_back(b);
  }
  const std::string stem = out + "/figure4_" + name + "_test_dice";
  write_box_plot_svg(stem + ".svg", "Fig. 4: test 3-D Dice per case, " + name, "Dice", groups, box, 0, 1);
  write_svg_png(stem);
  files.push_back(stem + ".svg");
  return files;
}

nlohmann::json summary_json(const MetricSummary& m) {
  nlohmann::json pp = nlohmann::json::object();
  for (const auto& [k, v] : m.per_patient) pp[k] = json_number(v);
  return {{"mean", json_number(m.mean)}, {"std", json_number(m.std)}, {"per_patient", pp}};
}

std::string fmt3(const MetricSummary& m) {
  if (m.finite == 0) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.3f (%.3f)", m.mean, m.std);
  return b;
}

std::string fmt3_json(const nlohmann::json& c) {
  char b[64];
  std::snprintf(b, sizeof b, "%.3f (%.3f)", c.at("mean").get<double>(), c.at("std").get<double>());
  return b;
}

std::string fmt_p(const nlohmann::json& p) {
  if (!p.is_number()) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", p.get<double>());
  return b;
}

// Expected Dice of an image-blind labelling that gives each pixel class k with probability q_k (the class's share of
// the training pixels): per test case, E ≈ 2·q·n_k / (q·N + n_k) for n_k pixels of class k among N.
std::map<std::string, std::map<std::string, double>> chance_dice(const Paper5Data& data, const std::vector<Structure>& structures) {
  std::map<int, double> q;
  double total = 0;
  for (const SliceSet& s : data.train)
    for (uint8_t l : s.labels) {
      q[l] += 1;
      total += 1;
    }
  std::map<std::string, std::map<std::string, double>> out;
  for (const Structure& st : structures) {
    const int k = st.classes.at(0);
    const double qk = total > 0 ? q[k] / total : 0;
    for (const SliceSet& s : data.test) {
      double n = 0;
      for (uint8_t l : s.labels) n += l == k;
      const double N = static_cast<double>(s.labels.size());
      out[st.name][s.id] = qk * N + n > 0 ? 2 * qk * n / (qk * N + n) : 1.0;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("shape_descriptors",
                 "Paper 5: segmentation supervised by shape descriptors only (log-barrier bounds on size, centroid,\n"
                 "distance to centroid, length; ACDC's priors) vs cross entropy on full masks — Table 1 and Fig 4.\n"
                 "Phantom data by default; --data points at ACDC's training/ layout or PROMISE12's CaseXX.mhd folder.");
  args.option("table", "", "1: Table 1 (every selected data set × both supervisions × seeds), with the Fig 4 figures")
      .option("figure", "", "4: Fig 4 (training/validation Dice curves and per-case test Dice distribution)")
      .option("dataset", "acdc,promise12", "acdc and/or promise12 (one for a single run)")
      .option("supervision", "", "ce | descriptors: one run (with one --dataset); --table/--figure use both")
      .option("seeds", "1", "training seeds per (data set, supervision) (0..K-1: weights, batch order, augmentation)")
      .option("data-seed", "0", "seed of the phantoms and the patient split (the same for every run)")
      .option("data", "", "DIR (with one --dataset) or acdc=DIR,promise12=DIR")
      .option("patients", "20", "phantom patients per data set (split 70/10/20 and 35/5/10 in proportion)")
      .option("size", "64", "training size S (multiple of 16)")
      .option("batch-acdc", "8", "ACDC batch size (ENet)")
      .option("batch-promise12", "4", "PROMISE12 batch size (residual U-Net)")
      .option("epochs-acdc", "60", "ACDC epochs per run")
      .option("epochs-promise12", "30", "PROMISE12 epochs per run")
      .option("lr", "5e-4", "Adam learning rate (constant)")
      .option("max-minutes-per-run", "8", "wall-clock budget per run in minutes, 0: none")
      .option("t-factor", "1.1", "log-barrier t multiplier after every epoch (t starts at 1)")
      .option("device", "auto", "cpu | cuda | auto")
      .option("out", "runs/shape_descriptors", "output folder; repeat the command to resume")
      .flag("no-augment", "no online augmentation")
      .flag("paper", "the paper's protocol: 256², 200 (ACDC) / 300 (PROMISE12) epochs, batch 8 / 4, no time budget")
      .flag("describe", "print the models (JSON) and exit");
  try {
    if (!args.parse(argc, argv)) return 0;
    if (args.on("describe")) {
      std::printf("%s", describe_json(describe_paper5_models()).c_str());
      return 0;
    }
    if (args.on("paper")) {
      args.set("size", "256");
      args.set("batch-acdc", "8");
      args.set("batch-promise12", "4");
      args.set("epochs-acdc", "200");
      args.set("epochs-promise12", "300");
      args.set("lr", "5e-4");
      args.set("max-minutes-per-run", "0");
    }
    std::vector<Paper5Dataset> sets;
    for (const auto& s : split_list(args.str("dataset"))) sets.push_back(parse_paper5_dataset(s));
    SEG_CHECK(!sets.empty(), "--dataset: nothing given");
    const bool table = args.given("table"), figure = args.given("figure");
    if (table) SEG_CHECK(args.integer("table") == 1, "--table: the paper has Table 1 only, got ", args.str("table"));
    if (figure) SEG_CHECK(args.integer("figure") == 4, "--figure: the paper's curves are Fig 4, got ", args.str("figure"));
    std::vector<Paper5Supervision> sups;
    if (table || figure) {
      SEG_CHECK(!args.given("supervision"), "--supervision selects a single run; --table/--figure train both methods");
      sups = {Paper5Supervision::CrossEntropy, Paper5Supervision::Descriptors};
    } else {
      SEG_CHECK(args.given("supervision") && sets.size() == 1,
                "give --table 1 or --figure 4, or a single run with --dataset acdc|promise12 --supervision ce|descriptors");
      sups = {parse_paper5_supervision(args.str("supervision"))};
    }
    const int64_t seeds = args.integer("seeds");
    SEG_CHECK(seeds >= 1, "--seeds must be at least 1, got ", seeds);
    const std::map<Paper5Dataset, std::string> dirs = parse_data(args.str("data"), sets);
    const int64_t S = args.integer("size");
    const std::string out = args.str("out");
    std::filesystem::create_directories(out);

    if (!args.on("paper"))
      std::printf("protocol (CPU defaults; --paper for the paper's): %lld² instead of 256²; ACDC %lld epochs instead of "
                  "200, PROMISE12 %lld instead of 300; at most %.1f min per run (budget); phantoms of %lld patients "
                  "split in the paper's proportions unless --data\n",
                  static_cast<long long>(S), static_cast<long long>(args.integer("epochs-acdc")),
                  static_cast<long long>(args.integer("epochs-promise12")), args.real("max-minutes-per-run"),
                  static_cast<long long>(args.integer("patients")));

    nlohmann::json rows = nlohmann::json::array(), chance_rows = nlohmann::json::object();
    std::ostringstream md;
    md << "# Paper 5, Table 1 — test Dice (3-D, per case), mean (std): shape descriptors vs cross entropy\n\n";
    std::vector<std::string> figures;
    for (Paper5Dataset ds : sets) {
      Paper5DataOptions dopt;
      dopt.dataset = ds;
      if (dirs.count(ds)) dopt.data_dir = dirs.at(ds);
      dopt.phantom_patients = static_cast<int>(args.integer("patients"));
      dopt.size = S;
      dopt.seed = static_cast<uint64_t>(args.integer("data-seed"));
      const Paper5Data data = load_paper5_data(dopt);
      std::printf("data: %s — %zu training / %zu validation / %zu test cases (%lld training slices, %lld²)\n",
                  data.source.c_str(), data.train.size(), data.val.size(), data.test.size(),
                  static_cast<long long>(data.train_slices), static_cast<long long>(S));
      for (const auto& l : data.left_out) std::printf("      left out: %s\n", l.c_str());
      const std::vector<std::string> names = paper5_class_names(ds);
      for (int k : data.absent)
        std::printf("      class %s occurs in no case of this data set: reported as absent (bounds [0, 0])\n",
                    names[static_cast<size_t>(k)].c_str());
      const std::vector<Structure> structures = paper5_structures(data, ds);

      std::vector<Cell> cells;
      for (Paper5Supervision sup : sups) {
        Cell c{ds, sup, {}};
        for (int64_t k = 0; k < seeds; ++k) {
          Paper5Setting s;
          s.dataset = ds;
          s.supervision = sup;
          s.size = S;
          const bool acdc = ds == Paper5Dataset::ACDC;
          s.batch = args.integer(acdc ? "batch-acdc" : "batch-promise12");
          s.epochs = static_cast<int>(args.integer(acdc ? "epochs-acdc" : "epochs-promise12"));
          s.lr = args.real("lr");
          s.max_minutes = args.real("max-minutes-per-run");
          s.t_factor = args.real("t-factor");
          s.augment = !args.on("no-augment");
          s.seed = static_cast<uint64_t>(k);
          s.device = parse_device(args.str("device"));
          const std::string dir = out + "/runs/" + paper5_dataset_name(ds) + "_" + paper5_supervision_name(sup) + "/seed" +
                                  std::to_string(k);
          c.runs.push_back(run_paper5(s, data, dir, "shape_descriptors", {{"data_seed", dopt.seed}}));
        }
        cells.push_back(std::move(c));
      }
      if (!table && !figure) {
        const RunResult& r = cells[0].runs[0];
        std::printf("\n%s\nrun folder: %s\n", read_text(r.dir + "/results.md").c_str(), r.dir.c_str());
        return 0;
      }

      // ---- Table 1 rows
      md << "## " << (ds == Paper5Dataset::ACDC ? "ACDC (ENet)" : "PROMISE12 (residual U-Net)") << "\n\nData: "
         << data.source << "; " << data.train.size() << " / " << data.val.size() << " / " << data.test.size()
         << " training / validation / test cases at " << S << "².";
      for (int k : data.absent) md << " " << names[static_cast<size_t>(k)] << ": absent from the data set (not evaluated).";
      md << "\n\n| method |";
      for (const Structure& st : structures) md << " " << st.name << " |";
      if (structures.size() > 1) md << " overall |";
      md << "\n|---|";
      for (size_t i = 0; i < structures.size() + (structures.size() > 1 ? 1 : 0); ++i) md << "---|";
      md << "\n";
      auto paper_md = [&](const nlohmann::json& paper, const std::string& title) {
        md << "| " << title << " |";
        for (const Structure& st : structures) md << " " << (paper.contains(st.name) ? fmt3_json(paper[st.name]) : "—") << " |";
        if (structures.size() > 1) md << " " << (paper.contains("overall") ? fmt3_json(paper["overall"]) : "—") << " |";
        md << "\n";
      };
      std::map<std::string, std::map<std::string, double>> ce_per;  // structure → per-case (for the t-test)
      for (const Cell& c : cells) {
        nlohmann::json row{{"dataset", paper5_dataset_name(ds)}, {"supervision", paper5_supervision_name(c.supervision)},
                           {"method", paper5_supervision_title(c.supervision)}, {"seeds", seeds},
                           {"runs", nlohmann::json::array()}};
        for (const RunResult& r : c.runs) row["runs"].push_back(r.dir);
        nlohmann::json dice = nlohmann::json::object();
        std::map<std::string, double> pooled;  // "case/structure" → Dice: the paper's "overall"
        md << "| " << paper5_supervision_title(c.supervision) << ", ours |";
        for (const Structure& st : structures) {
          const auto per = test_dice(c, st.name);
          const MetricSummary m = summarise(per);
          nlohmann::json j = summary_json(m);
          if (c.supervision == Paper5Supervision::CrossEntropy) ce_per[st.name] = per;
          else if (ce_per.count(st.name)) j["p_value_vs_ce"] = json_number(paired_p_value(per, ce_per[st.name]));
          dice[st.name] = j;
          for (const auto& [cs, v] : per) pooled[cs + "/" + st.name] = v;
          md << " " << fmt3(m) << " |";
        }
        for (int k : data.absent) dice[names[static_cast<size_t>(k)]] = "absent";
        if (structures.size() > 1) {
          const MetricSummary m = summarise(pooled);
          dice["overall"] = {{"mean", json_number(m.mean)}, {"std", json_number(m.std)}, {"pairs", m.finite}};
          md << " " << fmt3(m) << " |";
        }
        md << "\n";
        const nlohmann::json paper = paper5_paper_row(ds, c.supervision);
        paper_md(paper, std::string(paper5_supervision_title(c.supervision)) + ", paper");
        row["dice"] = dice;
        row["paper"] = paper;
        rows.push_back(row);
      }
      // the chance level: a labelling drawn pixel by pixel with the training set's class frequencies, whatever the image
      {
        const auto chance = chance_dice(data, structures);
        nlohmann::json cj = nlohmann::json::object();
        std::map<std::string, double> pooled;
        md << "| chance (random labels at the training frequencies) |";
        for (const Structure& st : structures) {
          const MetricSummary m = summarise(chance.at(st.name));
          cj[st.name] = {{"mean", json_number(m.mean)}, {"std", json_number(m.std)}};
          for (const auto& [cs, v] : chance.at(st.name)) pooled[cs + "/" + st.name] = v;
          md << " " << fmt3(m) << " |";
        }
        if (structures.size() > 1) {
          const MetricSummary m = summarise(pooled);
          cj["overall"] = {{"mean", json_number(m.mean)}, {"std", json_number(m.std)}};
          md << " " << fmt3(m) << " |";
        }
        md << "\n";
        chance_rows[paper5_dataset_name(ds)] = cj;
      }
      if (cells.size() == 2) {
        md << "\np (paired two-sided t-test, descriptors vs cross entropy, per-case Dice):";
        for (const Structure& st : structures)
          md << " " << st.name << " " << fmt_p(rows.back()["dice"][st.name].value("p_value_vs_ce", nlohmann::json(nullptr)));
        md << "\n\n";
      }
      std::vector<const Cell*> cp;
      for (const Cell& c : cells) cp.push_back(&c);
      for (const auto& f : write_figure4(out, ds, structures, cp)) figures.push_back(f);
    }
    md << "Ours: mean (std) over test cases (per-case values averaged over seeds first), each case one 3-D volume (an "
          "ACDC frame, as the authors' evaluation groups slices); 'overall' pools every (case, class) pair, which is "
          "what reproduces the paper's overall std. Best epoch chosen on the validation Dice, its weights restored "
          "before the test.\n";
    if (!args.on("paper"))
      md << "\nCPU protocol, not the paper's: " << S << "², ACDC " << args.integer("epochs-acdc") << " / PROMISE12 "
         << args.integer("epochs-promise12") << " epochs at most and " << args.real("max-minutes-per-run")
         << " min per run (the paper: 256², 200 / 300 epochs). On phantoms the table checks the method end to end; it "
            "does not reproduce the paper's numbers.\n";
    const nlohmann::json tj{{"table", "1"}, {"rows", rows}, {"chance", chance_rows}, {"paper", paper5_paper_table()}, {"figures", figures},
                            {"options", args.values()}};
    write_text_atomic(out + "/table.json", tj.dump(1) + "\n");
    write_text_atomic(out + "/table.md", md.str());
    std::printf("\n%s\ntable: %s/table.md (.json)\nfigures:", md.str().c_str(), out.c_str());
    for (const auto& f : figures) std::printf(" %s", f.c_str());
    std::printf(" (+ .png)\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shape_descriptors: error: %s\n", e.what());
    return 1;
  }
}
