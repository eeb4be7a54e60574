// egcnn_tables — paper 3 complete: Table 1 (BraTS 2019: Dice of ET, TC, WT and their average) and Table 2 (KiTS 2019:
// kidney, tumour and composite Dice) by one command each, for the three 3-D backbones (U-Net, V-Net, SegResNet — the
// paper's "Seg-Net" — with GroupNorm) without and with the edge-gated stream (EG-CNN), beside the paper's numbers; and
// Figs 2–3 (an axial slice: the ground truth, Seg-Net's and Seg-Net + EG-CNN's predictions and the predicted edges).
// Each table is a toolkit grid (apps/toolkit/grid.h): rows × seeds, each run in its own folder under --out (a repeated
// command reads finished runs back and resumes an interrupted one), mean ± std over validation patients, the paired
// t-test of each EG-CNN row against its backbone without the stream, table.json / table.md / table.csv, the validation
// Dice-loss curves overlaid, overlays with the predicted edges in every run folder.
//
// The method as the paper states it (apps/paper3/protocol.h, models/egcnn.h, losses/egcnn_losses.h): an edge stream
// reading every encoder resolution and the first up-sampled decoder map through residual blocks, trilinear upsampling
// and edge-gated layers, fused with the main stream before its final convolution; main Dice + edge Dice + balanced BCE
// against the 3-D Sobel edges of the one-hot ground truth + dual-task L1 between the Sobel gradient magnitudes of a
// Gumbel-softmax sample of the main output and of the ground truth; GroupNorm in U-Net and V-Net; Adam, lr ·
// (1 − e/E)^0.9, batch 8, 80/20 split; BraTS z-scored over non-zero voxels per modality, KiTS CT clipped to
// [−1000, 1000] / 1000; isotropic resampling for training and back to the original grid after inference.
// Lost from the paper's text, chosen here and options: the isotropic spacing, crop size, initial lr, λ weights (all 1)
// and τ (0.5, GSCNN's); --paper sets 1 mm (BraTS) / 1.5 mm (KiTS), 128³ crops, batch 8, lr 1e-4, 300 epochs.
// CPU defaults (no --paper), sized so a table finishes on the phantom on a 2-core machine in well under an hour:
// 32³ patches, batch 2, narrow widths (U-Net 8-16-32-64, V-Net 4 … 64, SegResNet 8, edge stream 8), short runs with a
// time budget each; BraTS phantom 48² × 31 (5 mm) with noise σ 0.8; KiTS phantom resampled to 6 mm, Dice + cross-
// entropy (without it the small tumour class is not learnt in such short runs). What differs is printed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/paper3/figures.h"
#include "apps/paper3/protocol.h"
#include "apps/toolkit/cli.h"
#include "apps/toolkit/grid.h"
#include "apps/toolkit/volume_evaluator.h"
#include "engine/device.h"

using namespace seg;

namespace {

using cli::split_list;

// Figs 2–3: one validation case, Seg-Net without and with the EG-CNN stream (seed 0 runs).
void write_figure(const std::string& path, const Paper3Setting& none, const Paper3Setting& eg, Paper3Data& data,
                  const std::string& dir_none, const std::string& dir_eg) {
  const auto a = load_paper3_model(none, data, dir_none), b = load_paper3_model(eg, data, dir_eg);
  VolumeEvalOptions vo;
  vo.window.patch = {none.patch, none.patch, none.patch};
  vo.window.overlap = none.overlap;
  VolumeEvaluator plain(*data.store, {data.val[0]}, data.structures, vo);
  vo.extra_head = "edge";
  vo.extra_channels = b->edge_channels();
  VolumeEvaluator with_edges(*data.store, {data.val[0]}, data.structures, vo);
  const VolumeEvaluator::Prediction pa = plain.predict(paper3_forward(*a), none.device, 0);
  const VolumeEvaluator::Prediction pb = with_edges.predict(paper3_forward(*b), eg.device, 0, true);
  const auto c = data.store->get(data.val[0]);
  const int64_t z = busiest_axial_slice(c->label);
  const RgbImage img = slice_panels(c->image, 0, z,
                                    {{SlicePanel::Image, nullptr}, {SlicePanel::Labels, &c->label},
                                     {SlicePanel::Labels, &pa.classes}, {SlicePanel::Labels, &pb.classes},
                                     {SlicePanel::Edges, &pb.extra}},
                                    data.scheme);
  write_panels_png(path, img);
  std::printf("figure: %s — case %s, axial slice %lld: image | ground truth | Seg-Net | Seg-Net + EG-CNN | EG-CNN edges\n",
              path.c_str(), c->id.c_str(), static_cast<long long>(z));
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("egcnn_tables",
                 "Paper 3: Table 1 (BraTS 2019) or Table 2 (KiTS 2019) — U-Net, V-Net, SegResNet (GroupNorm) × without /\n"
                 "with the edge-gated stream (EG-CNN) × seeds, t-tests against each backbone without the stream, the\n"
                 "paper's numbers beside ours — and Figs 2–3. Phantom data by default; --data points at BraTS 2019\n"
                 "(HGG/LGG) or the Decathlon's Task01_BrainTumour (Table 1), or KiTS 2019's case_XXXXX folders (Table 2).");
  args.option("table", "", "1 (BraTS 2019) | 2 (KiTS 2019)")
      .option("backbones", "unet3d,vnet,segresnet", "backbones, comma-separated (unet3d, vnet, segresnet)")
      .option("variants", "none,eg-cnn", "none and/or eg-cnn, comma-separated (none is the t-test baseline)")
      .option("seeds", "1", "training seeds per row (0..K-1: initial weights, patches, Gumbel noise)")
      .option("data-seed", "0", "seed of the phantom and of the 80/20 patient split (the same for every run)")
      .option("data", "", "BraTS 2019 / Decathlon Task01 folder (table 1) or KiTS 2019 folder (table 2)")
      .option("cases", "20", "phantom cases")
      .option("phantom-size", "", "phantom in-plane voxels (default: BraTS 48 → 5 mm; KiTS 64 → ~6 mm)")
      .option("phantom-noise", "", "σ of Gaussian noise added to the normalised phantom images (default: BraTS 0.8, KiTS 0)")
      .option("spacing", "", "isotropic working spacing in mm, 0 = native grid (default: BraTS phantom 0, KiTS phantom 6, "
                             "--data 2 (BraTS) / 3 (KiTS))")
      .option("max-memory-mb", "4096", "--data: preprocessed volumes kept in memory")
      .option("patch", "32", "cubic training and inference tile (voxels; a multiple of 16 for V-Net's 5 levels)")
      .option("batch", "2", "batch size")
      .option("steps-per-epoch", "40", "training steps per epoch")
      .option("epochs", "", "epochs per run (default: BraTS 12, KiTS 25)")
      .option("lr", "3e-3", "Adam initial learning rate (decayed as (1 − e/E)^0.9)")
      .option("max-minutes-per-run", "", "time budget of each run in minutes, 0: none (default: BraTS 5, KiTS 8)")
      .option("width-unet3d", "8", "U-Net widths w, 2w, 4w, 8w")
      .option("width-vnet", "4", "V-Net base width (Milletari: 16)")
      .option("width-segresnet", "8", "SegResNet initial filters (MONAI's default 8; Myronenko 32)")
      .option("edge-width", "8", "the edge stream's width C_e")
      .option("levels", "0", "resolutions of every backbone (0: defaults 4, V-Net 5)")
      .flag("edge-per-class", "one edge map per foreground class instead of one boundary map")
      .option("w-dice", "1", "λ of the main Dice")
      .option("w-ce", "", "λ of the main cross-entropy (default: BraTS 0, KiTS 1; the paper: 0)")
      .option("w-edge-dice", "1", "λ of the edge Dice")
      .option("w-edge-bce", "1", "λ of the edge balanced BCE")
      .option("w-dual", "1", "λ of the dual-task consistency")
      .option("tau", "0.5", "Gumbel-softmax temperature")
      .flag("hard-gumbel", "straight-through one-hot Gumbel sample in the dual-task loss")
      .option("fg-ratio", "0.33", "share of patches centred on a foreground class")
      .option("overlap", "0.5", "sliding-window overlap")
      .option("device", "auto", "cpu | cuda | auto")
      .option("out", "", "output folder (default runs/egcnn_table1 | runs/egcnn_table2); repeat the command to resume")
      .flag("paper", "the paper's protocol where it states one (batch 8, poly lr) and our choices where it lost them: "
                     "1 mm (BraTS) / 1.5 mm (KiTS), 128³ crops, lr 1e-4, 300 epochs of 250 steps, Milletari's and "
                     "Myronenko's widths (V-Net 16, SegResNet 32, U-Net 16, edge 16), Dice only, no time budget")
      .flag("no-figure", "skip Figs 2–3")
      .flag("describe", "print the models the options would train (JSON) and exit");
  try {
    if (!args.parse(argc, argv)) return 0;
    const int table = args.given("table") ? static_cast<int>(args.integer("table")) : (args.on("describe") ? 1 : 0);
    SEG_CHECK(table == 1 || table == 2, "--table: expected 1 (BraTS 2019) or 2 (KiTS 2019)", args.given("table") ? ", got " + args.str("table") : " (try --help)");
    const bool brats = table == 1;
    const bool real = !args.str("data").empty();
    if (!args.given("phantom-noise")) args.set("phantom-noise", brats ? "0.8" : "0");
    if (!args.given("spacing")) args.set("spacing", real ? (brats ? "2" : "3") : (brats ? "0" : "6"));
    if (!args.given("epochs")) args.set("epochs", brats ? "12" : "25");
    if (!args.given("max-minutes-per-run")) args.set("max-minutes-per-run", brats ? "5" : "8");
    if (!args.given("w-ce")) args.set("w-ce", brats ? "0" : "1");
    if (args.on("paper")) {
      args.set("spacing", brats ? "1" : "1.5");
      args.set("patch", "128");
      args.set("batch", "8");
      args.set("steps-per-epoch", "250");
      args.set("epochs", "300");
      args.set("lr", "1e-4");
      args.set("max-minutes-per-run", "0");
      args.set("width-unet3d", "16");
      args.set("width-vnet", "16");
      args.set("width-segresnet", "32");
      args.set("edge-width", "16");
      args.set("w-ce", "0");
    }
    const std::vector<std::string> backbones = split_list(args.str("backbones"));
    SEG_CHECK(!backbones.empty(), "--backbones: none given");
    for (const auto& b : backbones)
      SEG_CHECK(std::find(backbone_names().begin(), backbone_names().end(), b) != backbone_names().end(),
                "--backbones: unknown '", b, "' (expected unet3d, vnet, segresnet)");
    const std::vector<std::string> variants = split_list(args.str("variants"));
    SEG_CHECK(!variants.empty(), "--variants: none given");
    for (const auto& v : variants) SEG_CHECK(v == "none" || v == "eg-cnn", "--variants: expected none and/or eg-cnn, got '", v, "'");

    Paper3Setting base;
    base.table = table;
    base.edge_width = args.integer("edge-width");
    base.levels = static_cast<int>(args.integer("levels"));
    base.edge_per_class = args.on("edge-per-class");
    base.patch = args.integer("patch");
    base.batch = args.integer("batch");
    base.steps_per_epoch = args.integer("steps-per-epoch");
    base.epochs = static_cast<int>(args.integer("epochs"));
    base.lr = args.real("lr");
    base.schedule.kind = ScheduleSpec::Poly;
    base.schedule.power = 0.9;
    base.max_minutes = args.real("max-minutes-per-run");
    base.loss.main_dice = args.real("w-dice");
    base.loss.main_ce = args.real("w-ce");
    base.loss.edge_dice = args.real("w-edge-dice");
    base.loss.edge_bce = args.real("w-edge-bce");
    base.loss.dual = args.real("w-dual");
    base.loss.tau = args.real("tau");
    base.loss.hard = args.on("hard-gumbel");
    base.foreground_ratio = args.real("fg-ratio");
    base.overlap = args.real("overlap");
    base.device = parse_device(args.str("device"));
    SEG_CHECK(base.patch > 0 && base.batch > 0 && base.steps_per_epoch > 0 && base.epochs > 0,
              "--patch, --batch, --steps-per-epoch and --epochs must be positive");
    auto setting = [&](const std::string& b, bool edge) {
      Paper3Setting s = base;
      s.backbone = b;
      s.edge = edge;
      s.width = args.integer("width-" + b);
      return s;
    };
    const int64_t channels = brats ? 4 : 1;
    const int classes = brats ? 4 : 3;
    if (args.on("describe")) {
      std::vector<ModelDescription> d;
      for (const auto& v : variants)
        for (const auto& b : backbones) d.push_back(describe_paper3_model(setting(b, v == "eg-cnn"), channels, classes));
      std::printf("%s", describe_json(d).c_str());
      return 0;
    }
    const int64_t seeds = args.integer("seeds");
    SEG_CHECK(seeds >= 1, "--seeds must be at least 1, got ", seeds);

    // ---- data, loaded once for every run
    Paper3DataOptions dopt;
    dopt.table = table;
    dopt.data_dir = args.str("data");
    dopt.phantom_cases = static_cast<int>(args.integer("cases"));
    dopt.phantom_size = args.given("phantom-size") ? args.integer("phantom-size") : 0;
    dopt.phantom_noise = args.real("phantom-noise");
    dopt.spacing_mm = args.real("spacing");
    dopt.seed = static_cast<uint64_t>(args.integer("data-seed"));
    dopt.max_memory_mb = args.integer("max-memory-mb");
    Paper3Data data = load_paper3_data(dopt);
    std::printf("data: %s — %zu training / %zu validation cases (80/20 by patient, seed %llu)\n", data.source.c_str(),
                data.train.size(), data.val.size(), static_cast<unsigned long long>(dopt.seed));
    std::printf("labels: %s\npreprocessing: %s\n", data.scheme.describe().c_str(), data.pre.describe().c_str());
    if (!args.on("paper"))
      std::printf("protocol (CPU defaults; --paper for the paper's): %lld³ patches instead of 128³ crops, batch %lld "
                  "instead of 8, %d epochs of %lld steps%s instead of 300 of 250, lr %g instead of "
                  "1e-4, widths U-Net %lld, V-Net %lld, SegResNet %lld, edge stream %lld instead of 16 / 16 / 32 / 16%s%s\n",
                  static_cast<long long>(base.patch), static_cast<long long>(base.batch), base.epochs,
                  static_cast<long long>(base.steps_per_epoch),
                  base.max_minutes > 0 ? (" (at most " + std::to_string(base.max_minutes).substr(0, 4) + " min per run)").c_str() : "",
                  base.lr,
                  static_cast<long long>(args.integer("width-unet3d")), static_cast<long long>(args.integer("width-vnet")),
                  static_cast<long long>(args.integer("width-segresnet")), static_cast<long long>(base.edge_width),
                  base.loss.main_ce > 0 ? ", Dice + cross-entropy instead of Dice" : "",
                  real ? "" : ", a phantom instead of the data set");

    // ---- the grid
    GridSpec g;
    g.table = brats ? "1" : "2";
    g.title = std::string("Paper 3, Table ") + g.table + " — " + (brats ? "BraTS 2019" : "KiTS 2019") +
              ": 3-D backbones without / with the edge-gated stream (EG-CNN)";
    g.out_dir = !args.str("out").empty() ? args.str("out") : std::string("runs/egcnn_table") + g.table;
    for (int64_t k = 0; k < seeds; ++k) g.seeds.push_back(static_cast<uint64_t>(k));
    g.split = "validation";
    g.p_value_key = "p_value_vs_none";
    const std::string summary = data.scheme.summary;
    if (brats)
      g.columns = {{"dice_average", "dice", "", "Average Dice", 4}, {"dice_ET", "dice", "ET", "ET Dice", 4},
                   {"dice_TC", "dice", "TC", "TC Dice", 4}, {"dice_WT", "dice", "WT", "WT Dice", 4},
                   {"hd95_mm", "hd95_mm", "", "HD95 (mm)", 2}};
    else
      g.columns = {{"dice_kidney", "dice", "kidney", "Kidneys Dice", 4}, {"dice_tumour", "dice", "tumour", "Tumor Dice", 4},
                   {"dice_composite", "dice", "", "Composite Dice", 4}, {"hd95_mm", "hd95_mm", "", "HD95 (mm)", 2}};
    g.paper_columns = brats ? std::vector<std::string>{"average", "ET", "TC", "WT"}
                            : std::vector<std::string>{"kidney", "tumour", "composite"};
    g.paper = paper3_paper_table(table);
    const bool have_none = std::find(variants.begin(), variants.end(), "none") != variants.end();
    const nlohmann::json extra{{"data_seed", dopt.seed}};
    std::map<std::string, Paper3Setting> settings;
    for (const auto& v : variants)
      for (const auto& b : backbones) {
        const bool edge = v == "eg-cnn";
        GridRow row;
        row.key = b + "_" + v;
        row.labels = {{"architecture", paper3_backbone_label(b)}, {"edge_stream", edge ? "EG-CNN" : "None"}};
        row.baseline = have_none && edge ? b + "_none" : "";
        row.paper = paper3_paper_cell(table, b, edge);
        const Paper3Setting s = setting(b, edge);
        settings[row.key] = s;
        row.run = [s, &data, extra](uint64_t seed, const std::string& dir) {
          Paper3Setting t = s;
          t.seed = seed;
          return run_paper3(t, data, dir, "egcnn_tables", extra);
        };
        g.rows.push_back(row);
      }
    GridFigure f;
    f.stem = "curves";
    f.title = std::string("Validation Dice loss, ") + (brats ? "BraTS" : "KiTS") + " (Table " + g.table + ")";
    f.ylabel = "Dice loss (1 − soft Dice)";
    f.column = "val_dice_loss";
    for (const auto& r : g.rows) f.rows.push_back(r.key);
    g.figures.push_back(f);
    std::ostringstream notes;
    notes << "Data: " << data.source << "; " << data.train.size() << " training / " << data.val.size()
          << " validation cases (80/20 by patient). Labels: " << data.scheme.describe() << ". Preprocessing: "
          << data.pre.describe() << ".";
    if (!real) notes << " A generated phantom: the table checks the method end to end; it does not reproduce the paper's numbers.";
    notes << "\n\nProtocol: " << base.patch << "³ patches (" << base.foreground_ratio * 100
          << " % centred on a foreground class, flips, intensity scale/shift), batch " << base.batch << ", " << base.epochs
          << " epochs of " << base.steps_per_epoch << " steps"
          << (base.max_minutes > 0 ? " (at most " + std::to_string(base.max_minutes).substr(0, 4) + " min per run)" : std::string())
          << ", Adam lr " << base.lr << " · (1 − e/E)^0.9; loss " << base.loss.describe()
          << " (bracket: EG-CNN rows only); sliding-window inference with " << base.overlap
          << " overlap and Gaussian weights, scored on the original grid. The paper: batch 8, 80/20 split, Adam with the "
             "same decay; its spacing, crop size, initial lr, λ and τ were lost from the text (ours are options).\n\n"
          << "p: paired two-sided t-test of each EG-CNN row against the same backbone without the stream, on the "
             "per-patient values. The paper's ± is not defined (presumably over runs); ours is over patients.";
    g.notes_md = notes.str();
    const auto t0 = std::chrono::steady_clock::now();
    const nlohmann::json t = run_grid(g);
    const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60.0;

    // ---- differences EG-CNN − none, ours beside the paper's
    std::printf("\n%s\n", read_text(g.out_dir + "/table.md").c_str());
    const std::string key = brats ? "dice_average" : "dice_composite";
    std::printf("EG-CNN − none (%s Dice; p: paired t-test over patients):\n", summary.c_str());
    for (const auto& b : backbones) {
      const nlohmann::json *rn = nullptr, *re = nullptr;
      for (const auto& r : t["rows"]) {
        if (r["key"] == b + "_none") rn = &r;
        if (r["key"] == b + "_eg-cnn") re = &r;
      }
      if (!rn || !re) continue;
      const double ours = number_or_nan((*re)[key]["mean"]) - number_or_nan((*rn)[key]["mean"]);
      const double paper = paper3_paper_mean(table, b, true, summary) - paper3_paper_mean(table, b, false, summary);
      std::printf("  %-8s ours %+.4f (p %.3g)   paper %+.4f\n", paper3_backbone_label(b), ours,
                  number_or_nan((*re)[key]["p_value"]), paper);
    }
    std::printf("table: %s/table.md (.json, .csv), curves: %s/curves.svg/.png; %.1f min\n", g.out_dir.c_str(),
                g.out_dir.c_str(), minutes);

    // ---- Figs 2–3
    if (!args.on("no-figure")) {
      if (settings.count("segresnet_none") && settings.count("segresnet_eg-cnn")) {
        const std::string fig = g.out_dir + "/figure" + (brats ? "2" : "3") + ".png";
        write_figure(fig, settings["segresnet_none"], settings["segresnet_eg-cnn"], data,
                     g.out_dir + "/runs/segresnet_none/seed0", g.out_dir + "/runs/segresnet_eg-cnn/seed0");
      } else {
        std::printf("figure %s: skipped (needs the segresnet rows without and with EG-CNN)\n", brats ? "2" : "3");
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "egcnn_tables: error: %s\n", e.what());
    return 1;
  }
}
