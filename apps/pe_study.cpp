// pe_study — paper 2 (Murase, Suganuma, Okatani, "How can CNNs use image position for segmentation?") complete:
// Table 1 (U-Net without / with positional encoding λ = 1, 10, 256, and the averaged-mask baseline; JSRT and ACDC),
// Table 2 (JSRT with 156, 10 and 5 training images, without / with PE λ = 256) and Figs 2–5 (test Dice against
// Gaussian noise, Gaussian blur and shot noise for the U-Net ± PE, the 4-layer CNN ± PE, zero vs reflection padding
// ± PE; Dice against horizontal shifts), each by one command on the experiment toolkit.
//
// Method as the paper states it: PE adds two input channels λ·i/(W−1), λ·j/(H−1) in [0, λ] (here the fused CoordConv
// at the input, never materialised); U-Net with BatchNorm (supplement Table 3; 13,394,372 parameters for 4 classes)
// and the 4-layer CNN (Table 4; 75,140); cross entropy, Adam lr 1e-3, batch 20, 100 epochs; Dice on the test split,
// ± over repeated trainings. JSRT: 247 radiographs, classes background / right lung / left lung / heart, 156 / 23 / 68,
// 256², z-score with the training set's statistics. ACDC: 100 subjects, background / LV / RV / myocardium, 70 / 10 /
// 20, 256², z-score per slice. Degradations on [0, 1] intensities: Gaussian noise σ 0.04–0.18, shot noise c 250–15;
// the blur's σ values were lost in the paper's text: we use 1–16 px at 256².
// Our choices where the paper is silent: the best epoch on validation (mean Dice over the three structures); no
// augmentation (a mirror would swap the lungs' labels); Adam's β (0.9, 0.999) as PyTorch's default; constant lr.
//
// CPU defaults (no --paper), sized so each item finishes on the phantoms in well under an hour on a 2-core machine
// (what differs is printed): smaller images and U-Net width, fewer epochs, fewer ACDC phantom subjects, a per-run
// time budget. Every (model, data set, seed) trains once into --out/runs/<key>/seed<k>: items share runs (Fig. 2
// reuses Table 1's), a repeated command reads finished runs back and resumes an interrupted one.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "apps/paper2/protocol.h"
#include "apps/toolkit/cli.h"
#include "apps/toolkit/grid.h"
#include "apps/toolkit/results.h"
#include "engine/device.h"

using namespace seg;
using namespace seg::paper2;

namespace {

using cli::split_list;

std::string fmt(double v, int digits = 4) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// table.json's rows: `dice` gains per_class — per structure, mean ± std over test cases of the seed-averaged Dice and
// the std of the per-seed means — read back from each run's results; the same as a Markdown section.
std::string add_per_class(nlohmann::json& table) {
  std::ostringstream md;
  md << "\n## Per structure (test Dice, mean ± std over cases; ± seeds)\n\n| dataset | model | structure | Dice | ± seeds |\n"
        "|---|---|---|---|---|\n";
  for (auto& row : table["rows"]) {
    std::map<std::string, std::vector<std::map<std::string, double>>> per;  // structure → per seed → per case
    std::vector<std::string> order;
    for (const auto& dir : row["runs"]) {
      const auto r = load_finished_run(dir.get<std::string>());
      SEG_CHECK(r && r->test, dir.get<std::string>(), ": no finished run with a test evaluation");
      for (const auto& st : r->test->structures) {
        if (!per.count(st)) order.push_back(st);
        per[st].push_back(r->test->values.at("dice").at(st));
      }
    }
    nlohmann::json pc = nlohmann::json::object();
    for (const auto& st : order) {
      const SeedAggregate a = aggregate_over_seeds(per[st]);
      pc[st] = {{"mean", json_number(a.over_cases.mean)}, {"std", json_number(a.over_cases.std)},
                {"std_over_seeds", json_number(a.std_over_seeds)}};
      md << "| " << row.value("dataset", "") << " | " << row.value("model", "") << " | " << st << " | "
         << mean_std(a.over_cases, 4) << " | " << fmt(a.std_over_seeds, 4) << " |\n";
    }
    row["dice"]["per_class"] = pc;
  }
  return md.str();
}

// A variant by assignment: GCC 12 warns (-Wmaybe-uninitialized, falsely) on designated initialisers of a struct with a
// std::string member inside a braced temporary.
Variant variant(ModelKind m, double pe = 0, const std::string& padding = "zeros", int64_t train_images = 0) {
  Variant v;
  v.model = m;
  v.pe = pe;
  v.padding = padding;
  v.train_images = train_images;
  return v;
}

struct Item {
  int table = 0, figure = 0;
  std::string stem() const { return table ? "table" + std::to_string(table) : "figure" + std::to_string(figure); }
};

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("pe_study",
                 "Paper 2: positional encoding for segmentation. Table 1 (U-Net ± PE λ 1/10/256, averaged mask; JSRT\n"
                 "and ACDC), Table 2 (JSRT with 156/10/5 training images ± PE), Figs 2–5 (Dice vs degradation / shift).\n"
                 "Phantom data by default; --data-jsrt / --data-acdc point at the real data sets.");
  args.option("table", "", "1 | 2")
      .option("figure", "", "2 (U-Net ± PE λ, degradations) | 3 (4-layer CNN ± PE) | 4 (zero vs reflection padding ± PE) | "
                            "5 (U-Net ± PE vs horizontal shift)")
      .option("datasets", "jsrt,acdc", "data sets of Table 1 and the figures (Table 2 is JSRT only)")
      .option("data-jsrt", "", "JSRT folder: the 247 <ID>.IMG with SCR's scratch/fold1|fold2/masks/<structure>/<ID>.gif "
                               "(or masks/<structure>/<ID>.png); default: the phantom")
      .option("data-acdc", "", "ACDC folder (DIR/training/patientXXX/...); default: the phantom")
      .option("seeds", "1", "trainings per variant (seeds 0..K-1: initial weights and batch order)")
      .option("split-seed", "0", "seed of the data split and of Table 2's training subsets (the same for every run)")
      .option("phantom-seed", "2", "seed of the phantoms")
      .option("jsrt-images", "247", "JSRT phantom images (the database has 247)")
      .option("acdc-subjects", "30", "ACDC phantom subjects (the data set has 100; split 70/10/20 scaled)")
      .option("lambdas", "1,10,256", "PE ranges of Table 1 and Fig. 2")
      .option("pe", "256", "PE range of Table 2 and Figs 3–5 (the paper: 256 where stated)")
      .option("size", "64", "image size S (a multiple of 16)")
      .option("width", "16", "U-Net base width w (encoder w-2w-4w-8w-8w; the paper: 64)")
      .option("cnn-width", "64", "4-layer CNN channels (the paper: 64)")
      .option("cnn-size", "0", "image size of the 4-layer CNN runs (Fig. 3; 0: --size). Its 7×7 receptive field spans "
                               "10 mm at 256², 39 mm at 64²: smaller images make the task easier for it")
      .option("batch", "20", "batch size")
      .option("epochs", "20", "epochs per run (the best epoch on validation is kept)")
      .option("lr", "1e-3", "Adam learning rate (constant)")
      .option("max-minutes-per-run", "5", "wall-clock budget of each run in minutes (0: none); a run stops after the "
                                          "last epoch that fits")
      .option("device", "auto", "cpu | cuda | auto")
      .option("out", "runs/pe_study", "output folder (shared by every item; repeat a command to resume)")
      .flag("paper", "the paper's protocol: 256², U-Net width 64, CNN width 64 at 256², batch 20, 100 epochs, lr 1e-3, "
                     "100 ACDC subjects, no time budget")
      .flag("describe", "print the models the options would train (JSON) and exit");
  try {
    if (!args.parse(argc, argv)) return 0;
    if (args.on("paper")) {
      args.set("size", "256");
      args.set("cnn-size", "256");
      args.set("width", "64");
      args.set("cnn-width", "64");
      args.set("batch", "20");
      args.set("epochs", "100");
      args.set("lr", "1e-3");
      args.set("acdc-subjects", "100");
      args.set("jsrt-images", "247");
      args.set("max-minutes-per-run", "0");
    }
    Protocol p;
    p.size = args.integer("size");
    p.unet_width = args.integer("width");
    p.cnn_width = args.integer("cnn-width");
    p.batch = args.integer("batch");
    p.epochs = static_cast<int>(args.integer("epochs"));
    p.lr = args.real("lr");
    p.max_minutes = args.real("max-minutes-per-run");
    p.device = parse_device(args.str("device"));
    SEG_CHECK(p.size >= 16 && p.size % 16 == 0, "--size must be a positive multiple of 16, got ", p.size);
    SEG_CHECK(p.unet_width > 0 && p.cnn_width > 0 && p.batch > 0 && p.epochs > 0 && p.lr > 0,
              "--width, --cnn-width, --batch, --epochs and --lr must be positive");
    Protocol pc = p;  // the 4-layer CNN's runs
    pc.size = args.integer("cnn-size") > 0 ? args.integer("cnn-size") : p.size;
    SEG_CHECK(pc.size >= 16 && pc.size % 16 == 0, "--cnn-size must be a positive multiple of 16, got ", pc.size);
    std::vector<double> lambdas;
    for (const auto& s : split_list(args.str("lambdas"))) lambdas.push_back(std::stod(s));
    for (double l : lambdas) SEG_CHECK(l > 0, "--lambdas: every λ must be > 0, got ", l);
    const double pe = args.real("pe");
    SEG_CHECK(pe > 0, "--pe must be > 0, got ", pe);

    if (args.on("describe")) {
      std::vector<ModelDescription> d;
      for (ModelKind k : {ModelKind::UNetBN, ModelKind::SmallCNN})
        for (double l : {0.0, pe}) d.push_back(describe_model(variant(k, l), p));
      std::printf("%s", describe_json(d).c_str());
      return 0;
    }

    SEG_CHECK(args.given("table") != args.given("figure"), "give one of --table 1|2 or --figure 2|3|4|5 (try --help)");
    Item item;
    if (args.given("table")) item.table = static_cast<int>(args.integer("table"));
    if (args.given("figure")) item.figure = static_cast<int>(args.integer("figure"));
    SEG_CHECK(item.table == 0 || item.table == 1 || item.table == 2, "--table: expected 1 or 2, got ", item.table);
    SEG_CHECK(item.figure == 0 || (item.figure >= 2 && item.figure <= 5), "--figure: expected 2, 3, 4 or 5, got ", item.figure);
    std::vector<Dataset> datasets;
    for (const auto& s : split_list(args.str("datasets"))) datasets.push_back(parse_dataset(s));
    if (item.table == 2) datasets = {Dataset::Jsrt};
    SEG_CHECK(!datasets.empty(), "--datasets: none given");
    const int64_t seeds = args.integer("seeds");
    SEG_CHECK(seeds >= 1, "--seeds must be at least 1, got ", seeds);
    const std::string out = args.str("out");
    const bool cnn = item.figure == 3;
    const Protocol& proto = cnn ? pc : p;

    {  // what differs from the paper's protocol, printed (and in table.md's notes)
      std::vector<std::string> diff;
      if (proto.size != 256) diff.push_back(std::to_string(proto.size) + "² instead of 256²");
      const int64_t w = cnn ? pc.cnn_width : p.unet_width;
      if (w != 64) diff.push_back(std::string(cnn ? "4-layer CNN" : "U-Net") + " width " + std::to_string(w) + " instead of 64");
      if (proto.batch != 20) diff.push_back("batch " + std::to_string(proto.batch) + " instead of 20");
      if (proto.epochs != 100) diff.push_back(std::to_string(proto.epochs) + " epochs instead of 100");
      if (proto.lr != 1e-3) diff.push_back("lr " + fmt(proto.lr, 5) + " instead of 1e-3");
      if (proto.max_minutes > 0) diff.push_back("at most " + fmt(proto.max_minutes, 1) + " min per run");
      if (args.str("data-jsrt").empty() && args.integer("jsrt-images") != 247)
        diff.push_back("JSRT phantom " + std::to_string(args.integer("jsrt-images")) + " images instead of 247");
      if (args.str("data-acdc").empty() && args.integer("acdc-subjects") != 100)
        diff.push_back("ACDC phantom " + std::to_string(args.integer("acdc-subjects")) + " subjects instead of 100");
      std::string line;
      for (const auto& x : diff) line += (line.empty() ? std::string() : std::string(", ")) + x;
      std::printf("protocol: %s\n", diff.empty() ? "the paper's" : ("differs from the paper's (--paper for it): " + line).c_str());
    }

    // ---- data, loaded once per data set (and per Table 2 training subset)
    std::map<std::string, PaperData> data;  // key: dataset[_n<images>]
    std::map<Dataset, Split> full;          // the whole split of each data set (Table 2's subsets copy from it)
    std::function<const PaperData&(Dataset, int64_t)> load = [&](Dataset d, int64_t subset) -> const PaperData& {
      const std::string k = std::string(dataset_name(d)) + (subset ? "_n" + std::to_string(subset) : "");
      if (!data.count(k)) {
        DataOptions o;
        o.size = proto.size;
        o.dir = args.str(d == Dataset::Jsrt ? "data-jsrt" : "data-acdc");
        o.split_seed = static_cast<uint64_t>(args.integer("split-seed"));
        o.train_subset = subset;
        o.phantom_seed = static_cast<uint64_t>(args.integer("phantom-seed"));
        o.phantom_cases = static_cast<int>(args.integer(d == Dataset::Jsrt ? "jsrt-images" : "acdc-subjects"));
        if (subset) {
          load(d, 0);
          o.loaded = &full.at(d);
        }
        const Split s = load_split(d, o);
        if (!subset) full[d] = s;
        data[k] = prepare_data(d, s);
        const PaperData& pd = data[k];
        int64_t slices = 0;
        for (const auto& c : pd.train) slices += c.slices;
        std::printf("data: %s %s — %zu training (%lld slices) / %zu validation / %zu test cases at %lld²\n", dataset_name(d),
                    pd.source.c_str(), pd.train.size(), static_cast<long long>(slices), pd.val.size(), pd.test.size(),
                    static_cast<long long>(proto.size));
      }
      return data.at(k);
    };

    // ---- the grid of the item
    GridSpec g;
    g.out_dir = out;
    g.split = "test";
    g.p_value_key = "p_value_vs_no_pe";
    for (int64_t k = 0; k < seeds; ++k) g.seeds.push_back(static_cast<uint64_t>(k));
    g.columns = {{"dice", "dice", "", "Dice", 4}};
    g.table_stem = item.table ? item.stem() : item.stem() + "_clean";
    const nlohmann::json extra{{"split_seed", args.integer("split-seed")}, {"phantom_seed", args.integer("phantom-seed")}};
    const std::string app = "pe_study";
    // rows (variant, data set) with the variant's label and the key of its baseline
    struct Planned {
      Variant v;
      Dataset d;
      std::string baseline;
      nlohmann::json paper;
    };
    std::vector<Planned> plan;
    std::vector<std::string> average_rows;
    if (item.table == 1 || item.figure == 2) {
      for (Dataset d : datasets) {
        const Variant none = variant(ModelKind::UNetBN);
        plan.push_back({none, d, "", paper_table1_cell(d, "none")});
        for (double l : lambdas)
          plan.push_back({variant(ModelKind::UNetBN, l), d, none.key(d), paper_table1_cell(d, fmt(l, 0))});
      }
    } else if (item.table == 2) {
      for (int64_t n : {int64_t(0), int64_t(10), int64_t(5)}) {
        const Variant none = variant(ModelKind::UNetBN, 0, "zeros", n);
        const int64_t shown = n ? n : 156;
        plan.push_back({none, Dataset::Jsrt, "", paper_table2_cell(shown, false)});
        plan.push_back({variant(ModelKind::UNetBN, pe, "zeros", n), Dataset::Jsrt, none.key(Dataset::Jsrt),
                        paper_table2_cell(shown, true)});
      }
    } else if (item.figure == 3) {
      for (Dataset d : datasets) {
        // the paper's text on its Fig. 3 (clean images, λ = 256, read off the curves)
        const bool j = d == Dataset::Jsrt;
        const Variant none = variant(ModelKind::SmallCNN);
        plan.push_back({none, d, "", {{"dice", j ? "slightly above 0.5" : "below 0.1"}}});
        plan.push_back({variant(ModelKind::SmallCNN, pe), d, none.key(d), {{"dice", j ? "about 0.9" : "about 0.55"}}});
      }
    } else if (item.figure == 4) {
      for (Dataset d : datasets)
        for (const char* pad : {"zeros", "reflect"}) {
          const Variant none = variant(ModelKind::UNetBN, 0, pad);
          plan.push_back({none, d, std::string(pad) == "zeros" ? "" : variant(ModelKind::UNetBN).key(d), nlohmann::json::object()});
          plan.push_back({variant(ModelKind::UNetBN, pe, pad), d, none.key(d), nlohmann::json::object()});
        }
    } else {  // figure 5
      for (Dataset d : datasets) {
        const Variant none = variant(ModelKind::UNetBN);
        plan.push_back({none, d, "", nlohmann::json::object()});
        plan.push_back({variant(ModelKind::UNetBN, pe), d, none.key(d), nlohmann::json::object()});
      }
    }
    if (item.table == 1)
      for (Dataset d : datasets)
        for (bool soft : {false, true}) {
          GridRow row;
          row.key = std::string(dataset_name(d)) + "_averaged_mask" + (soft ? "_soft" : "");
          row.labels = {{"dataset", dataset_name(d)}, {"model", soft ? "averaged mask (soft)" : "averaged mask"}};
          row.paper = soft ? nlohmann::json{{"dice", nullptr}} : paper_table1_cell(d, "average_hard");
          row.run = [&load, d, soft](uint64_t, const std::string& dir) { return averaged_mask_run(load(d, 0), soft, dir); };
          g.rows.push_back(row);
          average_rows.push_back(row.key);
        }
    for (const auto& pl : plan) {
      GridRow row;
      row.key = pl.v.key(pl.d);
      row.labels = {{"dataset", dataset_name(pl.d)}, {"model", pl.v.label()}};
      row.baseline = pl.baseline;
      row.paper = pl.paper;
      const Variant v = pl.v;
      const Dataset d = pl.d;
      const Protocol* pp = &proto;
      row.run = [&load, v, d, pp, app, extra](uint64_t seed, const std::string& dir) {
        return run_variant(v, *pp, load(d, v.train_images), seed, dir, app, extra);
      };
      g.rows.push_back(row);
    }
    // Table 1 lists the baselines first, as the paper does
    if (item.table == 1)
      std::stable_partition(g.rows.begin(), g.rows.end(),
                            [](const GridRow& r) { return r.key.find("averaged_mask") != std::string::npos; });
    g.paper_columns = {"dice"};
    if (item.table == 1) {
      g.table = "1";
      g.title = "Paper 2, Table 1 — U-Net without / with positional encoding, and the averaged mask (test Dice)";
      g.paper = paper_table1();
    } else if (item.table == 2) {
      g.table = "2";
      g.title = "Paper 2, Table 2 — JSRT, U-Net without / with PE (λ = " + fmt(pe, 0) + ") by training-set size (test Dice)";
      g.paper = paper_table2();
    } else {
      g.table = "figure" + std::to_string(item.figure);
      g.title = "Paper 2, Fig. " + std::to_string(item.figure) + " — clean test Dice of the models in the figure";
      g.paper = {{"text", paper_figure_text(item.figure)}};
    }
    std::ostringstream notes;
    notes << "Data: ";
    for (Dataset d : datasets) {
      const PaperData& pd = load(d, 0);
      notes << dataset_name(d) << " " << pd.source << " (" << pd.train.size() << " / " << pd.val.size() << " / "
            << pd.test.size() << " cases); ";
    }
    notes << "classes JSRT right lung / left lung / heart, ACDC LV / RV / myocardium. ";
    notes << "Protocol: " << proto.size << "², " << (cnn ? "4-layer CNN width " + std::to_string(pc.cnn_width)
                                                          : "U-Net width " + std::to_string(p.unet_width))
          << ", batch " << proto.batch << ", at most " << proto.epochs << " epochs"
          << (proto.max_minutes > 0 ? " and " + fmt(proto.max_minutes, 1) + " min per run" : std::string())
          << ", Adam lr " << proto.lr << " (β 0.9, 0.999, constant), cross entropy, no augmentation, the best epoch on "
             "validation; Dice on the test split, per case the mean over the three structures. The paper: 256², width "
             "64, batch 20, 100 epochs. The paper's ± is over repeated trainings: compare it with our '± seeds'.";
    for (const auto& [k, pd] : data)
      if (pd.source.find("phantom") != std::string::npos) {
        notes << "\n\nA generated phantom: the table checks the method end to end and shows the effects qualitatively; "
                 "it does not reproduce the paper's numbers. Point --data-jsrt / --data-acdc at the data sets for that.";
        break;
      }
    if (item.table == 1)
      notes << "\n\nAveraged mask: the most frequent class of the training masks at each pixel as the prediction (the "
               "paper does not say how it made a prediction of its average; the soft row scores the class frequencies "
               "themselves with the soft Dice 2Σpg/(Σp+Σg)).";
    if (item.table == 2) notes << "\n\nThe 10- and 5-image training sets are drawn once (--split-seed) from the 156; with fewer training "
                "images than the batch, a step's batch is all of them (PyTorch's DataLoader without drop_last).";
    g.notes_md = notes.str();
    nlohmann::json table = run_grid(g);
    const std::string per_class_md = add_per_class(table);
    write_text_atomic(out + "/" + g.table_stem + ".json", table.dump(2) + "\n");
    write_text_atomic(out + "/" + g.table_stem + ".md", read_text(out + "/" + g.table_stem + ".md") + per_class_md);
    std::printf("\n%s\ntable: %s/%s.md (.json, .csv)\n", read_text(out + "/" + g.table_stem + ".md").c_str(), out.c_str(),
                g.table_stem.c_str());
    if (!item.figure) return 0;

    // ---- figures: test Dice of every run on the degraded / shifted test sets
    const std::vector<DegradationSpec> degs = paper_degradations(proto.size);
    const std::vector<int64_t> shifts = paper_shifts(proto.size);
    nlohmann::json fig = {{"figure", item.figure}, {"paper", paper_figure_text(item.figure)}, {"size", proto.size},
                          {"seeds", g.seeds}, {"panels", nlohmann::json::array()}};
    std::ostringstream csv, md;
    csv << "dataset,panel,model,level_index,level,dice_mean,dice_std_over_seeds,per_seed\n";
    md << "# Paper 2, Fig. " << item.figure << "\n\n" << paper_figure_text(item.figure) << "\n\nOurs: mean test Dice over "
       << seeds << " seed(s) at " << proto.size << "²; level 0 is the clean test set.\n";
    for (Dataset d : datasets) {
      const PaperData& pd = load(d, 0);
      std::vector<std::pair<Planned, std::vector<nlohmann::json>>> rob;
      for (const auto& pl : plan) {
        if (pl.d != d) continue;
        std::vector<nlohmann::json> per_seed;
        for (uint64_t s : g.seeds) {
          const std::string dir = out + "/runs/" + pl.v.key(d) + "/seed" + std::to_string(s);
          std::printf("robustness: %s, %s, seed %llu\n", dataset_name(d), pl.v.label().c_str(), static_cast<unsigned long long>(s));
          std::fflush(stdout);
          per_seed.push_back(robustness(pl.v, proto, pd, dir, s, degs, shifts));
        }
        rob.push_back({pl, per_seed});
      }
      struct Panel {
        std::string key, title, xlabel;
        std::vector<double> levels;
      };
      std::vector<Panel> panels;
      if (item.figure == 5) {
        std::vector<double> dx(shifts.begin(), shifts.end());
        panels.push_back({"shift", "horizontal shift", "shift (px at " + std::to_string(proto.size) + "²)", dx});
      } else {
        for (const auto& dg : degs) {
          std::string xl = dg.title + " level (0 = clean; " + dg.unit + " =";
          for (double l : dg.levels) xl += " " + fmt(l, l < 1 ? 2 : 0);
          panels.push_back({dg.key, dg.title, xl + ")", dg.levels});
        }
      }
      for (const auto& pan : panels) {
        std::vector<LineSeries> series;
        nlohmann::json jp = {{"dataset", dataset_name(d)}, {"panel", pan.key}, {"levels", pan.levels}, {"models", nlohmann::json::array()}};
        md << "\n## " << dataset_name(d) << ", " << pan.title << "\n\n| model |";
        const size_t npts = item.figure == 5 ? pan.levels.size() : pan.levels.size() + 1;
        for (size_t i = 0; i < npts; ++i)
          md << ' ' << (item.figure == 5 ? fmt(pan.levels[i], 0) : i == 0 ? std::string("clean") : fmt(pan.levels[i - 1], pan.levels[i - 1] < 1 ? 2 : 0)) << " |";
        md << "\n|---|";
        for (size_t i = 0; i < npts; ++i) md << "---|";
        md << '\n';
        for (const auto& [pl, per_seed] : rob) {
          LineSeries ls;
          ls.label = pl.v.label();
          nlohmann::json jm = {{"model", pl.v.label()}, {"key", pl.v.key(d)}, {"mean", nlohmann::json::array()},
                               {"std_over_seeds", nlohmann::json::array()}, {"per_seed", nlohmann::json::array()}};
          md << "| " << pl.v.label() << " |";
          for (size_t i = 0; i < npts; ++i) {
            std::map<std::string, double> vals;
            nlohmann::json ps = nlohmann::json::array();
            for (size_t s = 0; s < per_seed.size(); ++s) {
              const nlohmann::json& r = per_seed[s];
              const double v = item.figure == 5 ? r["shifts"]["dice"][i].get<double>() : r["degradations"][pan.key]["dice"][i].get<double>();
              vals[std::to_string(s)] = v;
              ps.push_back(v);
            }
            const MetricSummary m = summarise(vals);
            const double x = item.figure == 5 ? pan.levels[i] : static_cast<double>(i);
            ls.x.push_back(x);
            ls.y.push_back(m.mean);
            jm["mean"].push_back(json_number(m.mean));
            jm["std_over_seeds"].push_back(json_number(per_seed.size() > 1 ? m.std : 0.0));
            jm["per_seed"].push_back(ps);
            md << ' ' << fmt(m.mean, 3) << " |";
            csv << dataset_name(d) << ',' << pan.key << ",\"" << pl.v.label() << "\"," << i << ','
                << (item.figure == 5 ? pan.levels[i] : i == 0 ? 0.0 : pan.levels[i - 1]) << ',' << fmt(m.mean, 6) << ','
                << fmt(per_seed.size() > 1 ? m.std : 0.0, 6) << ",\"" << ps.dump() << "\"\n";
          }
          md << '\n';
          series.push_back(ls);
          jp["models"].push_back(jm);
        }
        const std::string stem = item.stem() + "_" + dataset_name(d) + "_" + pan.key;
        write_line_plot(out + "/" + stem, "Fig. " + std::to_string(item.figure) + " — " + dataset_name(d) + ", " + pan.title,
                        pan.xlabel, "test Dice", series, 0.0, 1.0);
        jp["svg"] = stem + ".svg";
        jp["png"] = stem + ".png";
        fig["panels"].push_back(jp);
        md << "\n![" << dataset_name(d) << ", " << pan.title << "](" << stem << ".svg)\n";
      }
    }
    md << "\nNumbers: " << item.stem() << ".json / .csv (per seed); clean Dice with t-tests: " << g.table_stem << ".md.\n";
    write_text_atomic(out + "/" + item.stem() + ".json", fig.dump(2) + "\n");
    write_text_atomic(out + "/" + item.stem() + ".csv", csv.str());
    write_text_atomic(out + "/" + item.stem() + ".md", md.str());
    std::printf("\n%s\nfigure: %s/%s.md (.json, .csv, panels .svg/.png)\n", md.str().c_str(), out.c_str(), item.stem().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pe_study: error: %s\n", e.what());
    return 1;
  }
}
