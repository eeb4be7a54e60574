// coordconv_tables — paper 1 complete: Table I (SegTHOR heart) and Table II (ACDC left-ventricular cavity) by one
// command each, and Figs 3–4 (validation Dice-loss curves of the four variants under full supervision, overlaid).
// Each table is a toolkit grid (apps/toolkit/grid.h): the residual U-Net with CoordConv none / 1st / enc / all ×
// full / weak supervision × seeds, each run in its own folder under --out (a repeated command reads finished runs back
// and resumes an interrupted one), then mean ± std over validation patients and over seeds, the paired two-sided
// t-test of each variant against "none" under the same supervision on the per-patient Dice (and on each column), and
// the paper's numbers beside ours: table.json / table.md / table.csv and figure3|4.svg/.png.
//
// Protocol (apps/paper1/protocol.h; the paper's with --paper): 256², batch 4, 200 epochs, Adam 5e-4 (β 0.9, 0.99)
// halved after 20 epochs without validation improvement, rotation / mirroring / flipping, size bounds [210, 7800]
// (SegTHOR) and [97.9, 1722] (ACDC) at 256², 6 / 4 SegTHOR patients, ACDC split 75 % / 25 % by patient.
// CPU defaults (no --paper), sized so a table finishes on the phantom on a 2-core machine in well under an hour:
// 64², lr 2.5e-4 decayed linearly over a per-run time budget (--max-minutes-per-run), size bounds from the training
// ground truth, SegTHOR phantom with 5 mm slices, an ACDC phantom of 16 patients. What differs is printed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "apps/paper1/protocol.h"
#include "apps/toolkit/cli.h"
#include "apps/toolkit/grid.h"
#include "engine/device.h"
#include "engine/distributed.h"

using namespace seg;

namespace {

using cli::split_list;

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("coordconv_tables",
                 "Paper 1: Table I (SegTHOR heart) or Table II (ACDC LV) — residual U-Net with CoordConv none/1st/enc/all ×\n"
                 "full/weak supervision × seeds, t-tests against 'none', the paper's numbers beside ours — and Figs 3–4.\n"
                 "Phantom data by default; --data points at SegTHOR's train/ or ACDC's training/ layout.");
  args.option("table", "", "1 (SegTHOR heart) | 2 (ACDC left-ventricular cavity)")
      .option("figure", "", "3 (SegTHOR) | 4 (ACDC): only the full-supervision runs and the overlaid validation curves")
      .option("variants", "none,1st,enc,all", "CoordConv placements, comma-separated (none is the t-test baseline)")
      .option("supervision", "full,weak", "full and/or weak, comma-separated")
      .option("seeds", "1", "training seeds per variant (0..K-1: initial weights, batch order, augmentation)")
      .option("data-seed", "0", "seed of the phantom, the patient split and the weak labels (the same for every run)")
      .option("data", "", "SegTHOR folder (DIR/train/Patient_XX/...) or ACDC folder (DIR/training/patientXXX/...)")
      .option("patients", "", "phantom patients (default: SegTHOR 10, ACDC 16)")
      .option("phantom-slice-mm", "5", "SegTHOR phantom slice spacing in mm (SegTHOR: 2–3.7; coarser = faster)")
      .option("size", "64", "training size S (a multiple of 16)")
      .option("batch", "4", "batch size")
      .option("epochs", "12", "epochs per run (the time budget may stop a run earlier)")
      .option("lr", "2.5e-4", "Adam learning rate")
      .option("lr-schedule", "auto", "budget | plateau | constant | auto (budget when there is a time budget, else plateau)")
      .option("max-minutes-per-run", "", "CPU time budget of each run in minutes, 0: none (default: SegTHOR 3, ACDC 2)")
      .option("lambda", "0.01", "weight of the size constraint at 256×256 (scaled by (256/S)² at size S)")
      .option("device", "auto", "cpu | cuda | auto")
      .option("out", "", "output folder (default runs/coordconv_table1 | runs/coordconv_table2); repeat the command to resume")
      .flag("paper", "the paper's protocol: 256², batch 4, 200 epochs, lr 5e-4 halved after 20 epochs without improvement, "
                     "the paper's size bounds, 6/4 SegTHOR patients, no time budget")
      .flag("describe", "print the models the options would train (JSON) and exit")
      .distributed();  // --nproc N, --sync-bn, torchrun's variables (docs/distributed.md)
  try {
    if (!args.parse(argc, argv)) return 0;
    std::vector<CoordPlacement> variants;
    for (const auto& v : split_list(args.str("variants"))) variants.push_back(parse_coord_placement(v));
    SEG_CHECK(!variants.empty(), "--variants: no variant given");
    if (args.on("describe")) {
      std::vector<ModelDescription> d;
      for (CoordPlacement c : variants) d.push_back(describe_paper1_model(c));
      std::printf("%s", describe_json(d).c_str());
      return 0;
    }
    const bool figure_only = args.given("figure") && !args.given("table");
    SEG_CHECK(args.given("table") || args.given("figure"), "give --table 1|2 or --figure 3|4 (try --help)");
    int table = 0;
    if (args.given("table")) {
      table = static_cast<int>(args.integer("table"));
      SEG_CHECK(table == 1 || table == 2, "--table: expected 1 or 2, got ", table);
    }
    if (args.given("figure")) {
      const int f = static_cast<int>(args.integer("figure"));
      SEG_CHECK(f == 3 || f == 4, "--figure: expected 3 or 4, got ", f);
      SEG_CHECK(table == 0 || table == f - 2, "--figure ", f, " belongs to --table ", f - 2, ", not --table ", table);
      table = f - 2;
    }
    const Paper1Dataset ds = table == 1 ? Paper1Dataset::SegTHOR : Paper1Dataset::ACDC;
    const bool seg = ds == Paper1Dataset::SegTHOR;
    if (!args.given("patients")) args.set("patients", seg ? "10" : "16");
    if (!args.given("max-minutes-per-run")) args.set("max-minutes-per-run", seg ? "3" : "2");
    if (args.on("paper")) {
      args.set("size", "256");
      args.set("batch", "4");
      args.set("epochs", "200");
      args.set("lr", "5e-4");
      args.set("lr-schedule", "plateau");
      args.set("max-minutes-per-run", "0");
    }
    std::vector<std::string> sups = split_list(args.str("supervision"));
    if (figure_only) sups = {"full"};
    for (const auto& s : sups) SEG_CHECK(s == "full" || s == "weak", "--supervision: expected full and/or weak, got '", s, "'");
    SEG_CHECK(!sups.empty(), "--supervision: nothing given");
    const int64_t seeds = args.integer("seeds");
    SEG_CHECK(seeds >= 1, "--seeds must be at least 1, got ", seeds);
    const int64_t S = args.integer("size");

    // ---- data, loaded once for every run
    Paper1DataOptions dopt;
    dopt.dataset = ds;
    dopt.data_dir = args.str("data");
    dopt.phantom_patients = static_cast<int>(args.integer("patients"));
    dopt.phantom_slice_mm = args.real("phantom-slice-mm");
    dopt.train_patients = 6;
    dopt.val_patients = 4;  // the paper's SegTHOR split (a --data folder's other patients are left out)
    dopt.train_fraction = 0.75;
    dopt.size = S;
    dopt.seed = static_cast<uint64_t>(args.integer("data-seed"));
    if (args.on("paper")) {
      const double f = static_cast<double>(S * S) / (256.0 * 256.0);
      dopt.bounds = {paper1_bounds_256(ds)[0] * f, paper1_bounds_256(ds)[1] * f};
    }
    const Paper1Data data = load_paper1_data(dopt);
    std::printf("data: %s — %zu training / %zu validation cases (%lld training slices); size bounds [%.1f, %.1f] px at %lld² (%s)\n",
                data.source.c_str(), data.train.size(), data.val.size(), static_cast<long long>(data.train_slices),
                data.bounds[0], data.bounds[1], static_cast<long long>(S), data.bounds_source.c_str());
    if (!data.left_out.empty()) std::printf("      %zu patients of the folder are in neither split (the paper used 6 + 4)\n", data.left_out.size());

    Paper1Setting base;
    base.dataset = ds;
    base.size = S;
    base.batch = args.integer("batch");
    base.epochs = static_cast<int>(args.integer("epochs"));
    base.lr = args.real("lr");
    base.lambda_256 = args.real("lambda");
    base.max_minutes = args.real("max-minutes-per-run");
    base.device = parse_device(args.str("device"));
    const std::string sched = args.str("lr-schedule");
    base.schedule.kind = sched == "auto" ? (base.max_minutes > 0 ? ScheduleSpec::Budget : ScheduleSpec::Plateau) : parse_schedule(sched);
    base.schedule.patience = 20;
    base.schedule.factor = 0.5;
    SEG_CHECK(base.schedule.kind != ScheduleSpec::Budget || base.max_minutes > 0, "--lr-schedule budget needs --max-minutes-per-run > 0");
    if (!args.on("paper"))
      std::printf("protocol (CPU defaults; --paper for the paper's): %lld² instead of 256², lr %g with %s instead of 5e-4 "
                  "halved after 20 epochs without improvement, at most %d epochs and %.1f min per run instead of 200 "
                  "epochs, size bounds from the training ground truth instead of the paper's\n",
                  static_cast<long long>(S), base.lr, base.schedule.describe().c_str(), base.epochs, base.max_minutes);

    // ---- the grid
    GridSpec g;
    g.table = seg ? "I" : "II";
    g.title = std::string("Paper 1, Table ") + g.table + " — " + (seg ? "SegTHOR heart" : "ACDC left-ventricular cavity") +
              ": residual U-Net ± CoordConv, " + (sups.size() == 2 ? "full and weak" : sups[0]) + " supervision";
    g.out_dir = !args.str("out").empty() ? args.str("out") : std::string("runs/coordconv_table") + (seg ? "1" : "2");
    for (int64_t k = 0; k < seeds; ++k) g.seeds.push_back(static_cast<uint64_t>(k));
    g.split = "validation";
    g.p_value_key = "p_value_vs_none";
    g.columns = {{"dice_volume", "dice", "", "Dice", 2}, {"hd_mm", "hd_mm", "", "HD (mm)", 2}, {"hd95_mm", "hd95_mm", "", "HD95 (mm)", 2}};
    g.paper_columns = {"dice", "hausdorff"};
    g.paper = paper1_paper_table(ds);
    const bool have_none = std::find(variants.begin(), variants.end(), CoordPlacement::None) != variants.end();
    const nlohmann::json extra{{"data_seed", dopt.seed}};
    for (const auto& sup : sups)
      for (CoordPlacement c : variants) {
        GridRow row;
        row.key = sup + "_" + coord_placement_name(c);
        row.labels = {{"variant", coord_placement_name(c)}, {"supervision", sup}};
        row.baseline = have_none && c != CoordPlacement::None ? sup + "_none" : "";
        row.paper = paper1_paper_cell(ds, c, sup == "weak");
        Paper1Setting s = base;
        s.coord = c;
        s.weak = sup == "weak";
        row.run = [s, &data, extra](uint64_t seed, const std::string& dir) {
          Paper1Setting t = s;
          t.seed = seed;
          return run_paper1(t, data, dir, "coordconv_tables", extra);
        };
        g.rows.push_back(row);
      }
    if (std::find(sups.begin(), sups.end(), "full") != sups.end()) {
      GridFigure f;
      f.stem = seg ? "figure3" : "figure4";
      f.title = std::string("Fig. ") + (seg ? "3" : "4") + ": validation Dice loss, " + (seg ? "SegTHOR" : "ACDC") + ", full supervision";
      f.ylabel = "Dice loss (1 − soft Dice)";
      f.column = "val_dice_loss";
      for (CoordPlacement c : variants) f.rows.push_back(std::string("full_") + coord_placement_name(c));
      g.figures.push_back(f);
    }
    std::ostringstream notes;
    notes << "Data: " << data.source << "; " << data.train.size() << " training / " << data.val.size()
          << " validation cases (" << (seg ? "patients" : "ED and ES frames, each a case; split by patient") << ").";
    if (data.source.find("phantom") != std::string::npos)
      notes << " A generated phantom: the table checks the method end to end; it does not reproduce the paper's numbers.";
    notes << "\n\nProtocol: " << S << "², batch " << base.batch << ", at most " << base.epochs << " epochs"
          << (base.max_minutes > 0 ? " and " + std::to_string(base.max_minutes).substr(0, 4) + " min per run" : std::string())
          << ", Adam lr " << base.lr << " (β 0.9, 0.99), schedule " << base.schedule.describe()
          << "; the paper: 256², batch 4, 200 epochs, lr 5e-4 halved after 20 epochs without improvement. Size bounds ["
          << data.bounds[0] << ", " << data.bounds[1] << "] px at " << S << "² (" << data.bounds_source << "; the paper: "
          << paper1_bounds_256(ds)[0] << ", " << paper1_bounds_256(ds)[1] << " at 256²).\n\n"
          << "The paper's Hausdorff comes from code that computes it incorrectly (it hands binary masks to SciPy's "
             "directed_hausdorff, which treats each row as a point; docs/reference_code.md): compare Dice only. "
          << "Ours is the exact symmetric Hausdorff distance in mm; HD95 as MedPy. p: paired two-sided t-test against "
             "the same supervision's 'none' row on the per-patient values (the paper's test).";
    if (!seg) notes << " Table II's weakly supervised rows: the paper's text fills only two, without row names; shown on none and 1st (uncertain).";
    g.notes_md = notes.str();
    if (figure_only) g.table_stem = g.figures.at(0).stem + "_table";  // leaves a full table.* in the same folder alone
    const nlohmann::json t = run_grid(g);
    if (!dist::is_main()) return 0;  // data parallel: rank 0 wrote the table
    const std::string fig = g.figures.empty() ? "" : ", figure: " + g.out_dir + "/" + g.figures[0].stem + ".svg/.png";
    std::printf("\n%s\ntable: %s/%s.md (.json, .csv)%s\n", read_text(g.out_dir + "/" + g.table_stem + ".md").c_str(),
                g.out_dir.c_str(), g.table_stem.c_str(), fig.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coordconv_tables: error: %s\n", e.what());
    return 1;
  }
}
