// multitask — paper 4 complete: the U-Net with parallel mask + contour/distance heads against the two-decoder designs.
//   --table 1: the five variants (1Enc1Dec M, 1Enc2Dec MC/MD, 1Enc1Dec+Conv MC/MD) on cup, disc and polyp — Dice and
//              Jaccard on the test images beside the paper's, paired t-tests against 1Enc1Dec M of the same structure;
//   --table 2: parameters and inference milliseconds per 256² image (batch 1, warm, median) of the five variants, on
//              the CPU and on CUDA when a GPU is present, beside the paper's GTX 1060 figures;
//   --table 3: 1Enc1Dec+Conv MD with the distance maps D1, D2, D3.
// Each training run is a toolkit run folder under --out (a repeated command reads finished runs back and resumes an
// interrupted one); tables as table.json / table.md / table.csv; figures image | GT | predicted mask | predicted
// contour or distance map per run (figures/<image>.png).
// Protocol (apps/paper4/protocol.h; the paper's with --paper): 256², batch 4, 150 epochs, Adam lr 1e-4 (PyTorch's
// betas), constant, no augmentation, 70/30 split. CPU defaults (no --paper), sized to finish a table on the phantoms
// on a 2-core machine in well under an hour: 64², at most 2 minutes and 40 epochs per run, lr 5e-4 decayed linearly
// over the run's time budget, 80 phantom images per data set. What differs is printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/paper4/paper.h"
#include "apps/paper4/protocol.h"
#include "apps/toolkit/cli.h"
#include "apps/toolkit/grid.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/rng.h"
#include "kernels/blas.h"

using namespace seg;
using namespace seg::paper4;

namespace {

using cli::split_list;

Target parse_target(const std::string& s) {
  if (s == "cup") return Target::Cup;
  if (s == "disc") return Target::Disc;
  if (s == "polyp") return Target::Polyp;
  fail("--structures: expected cup, disc and/or polyp, got '", s, "'");
}

const char* dist_name(DistanceVariant d) {
  return d == DistanceVariant::D1 ? "D1" : d == DistanceVariant::D2 ? "D2" : "D3";
}

double bench_ms(MultitaskUNet& m, int64_t size, int reps, Device dev) {
  m.to(dev);
  m.eval();
  Generator g(1);
  Tensor x = Tensor::empty({1, 3, size, size});
  fill_uniform(x, g, -2, 2);
  x = x.to(dev);
  std::vector<double> t;
  NoGradGuard ng;
  for (int i = 0; i < 3 + reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    (void)m.forward(x).mask;
    if (dev == Device::CUDA) cuda_synchronize();
    if (i >= 3) t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Table 2: parameters and inference time of each variant; no training.
void table2(const std::string& out, int64_t size, int reps) {
  std::filesystem::create_directories(out);
  const bool gpu = cuda_available();
  nlohmann::json rows = nlohmann::json::array();
  std::ostringstream md;
  md << "# Paper 4, Table 2 — parameters and inference time per image\n\n"
     << "| model | parameters (ours) | parameters (paper) | CPU ms/image | " << (gpu ? "CUDA ms/image | " : "")
     << "paper ms/image (GTX 1060) |\n|---|---|---|---|" << (gpu ? "---|" : "") << "---|\n";
  for (MultitaskVariant v : all_multitask_variants()) {
    auto m = make_paper4_model(v, 32, 0);
    const int64_t params = m->num_parameters();
    std::printf("%-18s %10lld parameters, timing %d passes of 1×3×%lld² on the CPU ...\n", multitask_variant_paper(v),
                static_cast<long long>(params), reps, static_cast<long long>(size));
    std::fflush(stdout);
    const double cpu = bench_ms(*m, size, reps, Device::CPU);
    double cuda = 0;
    if (gpu) cuda = bench_ms(*m, size, std::max(reps, 50), Device::CUDA);
    nlohmann::json r{{"variant", multitask_variant_key(v)}, {"model", multitask_variant_paper(v)}, {"parameters", params},
                     {"paper_parameters", paper_table2_parameters(v)}, {"cpu_ms", cpu},
                     {"paper_ms_gtx1060", paper_table2_ms(v)}, {"parameters_equal_paper", params == paper_table2_parameters(v)}};
    if (gpu) r["cuda_ms"] = cuda;
    rows.push_back(r);
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %lld | %lld | %.1f | ", multitask_variant_paper(v), static_cast<long long>(params),
                  static_cast<long long>(paper_table2_parameters(v)), cpu);
    md << line;
    if (gpu) {
      std::snprintf(line, sizeof line, "%.2f | ", cuda);
      md << line;
    }
    std::snprintf(line, sizeof line, "%.4f |\n", paper_table2_ms(v));
    md << line;
  }
  md << "\nInference: one " << size << "×" << size << " RGB image, forward pass without autograd, warm (3 passes first), "
     << "median of " << reps << " (CUDA: of " << std::max(reps, 50) << ")"
     << (gpu ? "" : "; no GPU here (" + cuda_unavailable_reason() + "), so no CUDA column") << ". CPU: " << max_threads()
     << " threads. The paper's figures are on a GTX 1060 (6 GB); compare the ratios between rows, not the absolute "
        "times. Parameters: bias-free convolutions, no normalisation, 3×3 heads (models/multitask_unet.h).\n";
  nlohmann::json j{{"table", 2}, {"size", size}, {"reps", reps}, {"threads", max_threads()}, {"cuda", gpu}, {"rows", rows}};
  write_text_atomic(out + "/table.json", j.dump(2) + "\n");
  write_text_atomic(out + "/table.md", md.str());
  std::printf("\n%s\ntable: %s/table.md (.json)\n", md.str().c_str(), out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("multitask",
                 "Paper 4: multi-task U-Net (mask + contour or distance) — Table 1 (five variants on cup, disc, polyp),\n"
                 "Table 2 (parameters, inference time), Table 3 (distance maps D1/D2/D3). Phantom data by default;\n"
                 "--data-polyp / --data-fundus point at images/ + masks/ folders (GIANA or Kvasir-SEG; ORIGA with mask ids\n"
                 "0/1 rim/2 cup, or disc-only 0/255 masks such as DRIONS).");
  args.option("table", "", "1 | 2 | 3")
      .option("data-polyp", "", "polyp folder: images/ + masks/ (RGB JPEG or PNG; masks 0/255)")
      .option("data-fundus", "", "fundus folder: images/ + masks/ (ids 0 background, 1 disc rim, 2 cup; or 0/255 disc)")
      .option("structures", "cup,disc,polyp", "structures to train, comma-separated (cup, disc, polyp)")
      .option("variants", "m,2dec-mc,2dec-md,conv-mc,conv-md", "Table 1 variants, comma-separated")
      .option("distance-maps", "D1,D2,D3", "Table 3 distance maps, comma-separated")
      .option("distance", "D3", "Table 1: the distance map of the MD variants")
      .option("seeds", "1", "training seeds per row (0..K-1: initial weights and batch order)")
      .option("data-seed", "0", "seed of the phantoms and of the 70/30 split (the same for every run)")
      .option("images", "80", "phantom images per data set (the paper: GIANA 912, ORIGA 650)")
      .option("size", "64", "training size S (a multiple of 32)")
      .option("width", "32", "base width w of the U-Net (widths w..16w; the paper: 32)")
      .option("batch", "4", "batch size")
      .option("epochs", "40", "epochs per run (the time budget may stop a run earlier)")
      .option("lr", "5e-4", "Adam learning rate")
      .option("lr-schedule", "auto", "constant | budget | auto (budget when there is a time budget, else constant)")
      .option("max-minutes-per-run", "2", "time budget of each run in minutes (0: none)")
      .option("infer-size", "256", "Table 2: inference image size")
      .option("infer-reps", "20", "Table 2: timed passes per variant")
      .option("figures", "3", "test images drawn per run")
      .option("device", "auto", "cpu | cuda | auto")
      .option("out", "", "output folder (default runs/multitask_table<N>); repeat the command to resume")
      .flag("no-ellipse", "disc and cup: report the thresholded masks without the ellipse fit")
      .flag("paper", "the paper's protocol: 256², batch 4, 150 epochs, Adam lr 1e-4 constant, no time budget; "
                     "phantoms of the paper's sizes (912 polyp, 650 fundus images)")
      .flag("describe", "print the five models with their exact parameter counts (JSON) and exit");
  try {
    if (!args.parse(argc, argv)) return 0;
    std::vector<MultitaskVariant> variants;
    for (const auto& v : split_list(args.str("variants"))) variants.push_back(parse_multitask_variant(v));
    SEG_CHECK(!variants.empty(), "--variants: no variant given");
    const int64_t width = args.integer("width");
    if (args.on("describe")) {
      std::vector<ModelDescription> d;
      for (MultitaskVariant v : all_multitask_variants()) d.push_back(describe_paper4_model(v, width));
      std::printf("%s", describe_json(d).c_str());
      return 0;
    }
    SEG_CHECK(args.given("table"), "give --table 1|2|3 or --describe (try --help)");
    const int table = static_cast<int>(args.integer("table"));
    SEG_CHECK(table >= 1 && table <= 3, "--table: expected 1, 2 or 3, got ", table);
    const std::string out = !args.str("out").empty() ? args.str("out") : "runs/multitask_table" + std::to_string(table);
    if (table == 2) {
      table2(out, args.integer("infer-size"), static_cast<int>(args.integer("infer-reps")));
      return 0;
    }
    if (args.on("paper")) {
      args.set("size", "256");
      args.set("batch", "4");
      args.set("epochs", "150");
      args.set("lr", "1e-4");
      args.set("lr-schedule", "constant");
      args.set("max-minutes-per-run", "0");
      args.set("width", "32");
    }
    const int64_t S = args.integer("size"), seeds = args.integer("seeds");
    SEG_CHECK(S > 0 && S % 32 == 0, "--size must be a positive multiple of 32 (three 2×2 pools and a 4×4 one), got ", S);
    SEG_CHECK(seeds >= 1, "--seeds must be at least 1, got ", seeds);
    std::vector<Target> targets;
    for (const auto& s : split_list(args.str("structures"))) targets.push_back(parse_target(s));
    SEG_CHECK(!targets.empty(), "--structures: nothing given");
    const uint64_t data_seed = static_cast<uint64_t>(args.integer("data-seed"));

    // ---- data, loaded once per data set
    auto load = [&](Dataset d) {
      const std::string dir = args.str(d == Dataset::Polyp ? "data-polyp" : "data-fundus");
      std::vector<Image> ims;
      std::string source;
      if (!dir.empty()) {
        ims = load_folder(d, dir, S);
        source = dir;
      } else {
        const int n = args.on("paper") && !args.given("images") ? (d == Dataset::Polyp ? 912 : 650)
                                                                : static_cast<int>(args.integer("images"));
        ims = phantom_images(d, n, data_seed, S);
        source = std::string(d == Dataset::Polyp ? "polyp" : "fundus") + " phantom (seed " + std::to_string(data_seed) +
                 ", " + std::to_string(n) + " images)";
      }
      DataSplit sp = make_split(d, std::move(ims), source, 0.7, 0.1, data_seed);
      std::printf("data: %s — %zu training / %zu validation / %zu test images at %lld²\n", sp.source.c_str(),
                  sp.train.size(), sp.val.size(), sp.test.size(), static_cast<long long>(S));
      return sp;
    };
    const bool need_polyp = std::find(targets.begin(), targets.end(), Target::Polyp) != targets.end();
    const bool need_fundus = std::find(targets.begin(), targets.end(), Target::Disc) != targets.end() ||
                             std::find(targets.begin(), targets.end(), Target::Cup) != targets.end();
    DataSplit polyp, fundus;
    if (need_polyp) polyp = load(Dataset::Polyp);
    if (need_fundus) fundus = load(Dataset::Fundus);
    std::vector<std::string> skipped;
    std::vector<Target> present;
    for (Target t : targets) {
      const DataSplit& sp = t == Target::Polyp ? polyp : fundus;
      if (has_structure(sp.images, t)) present.push_back(t);
      else skipped.push_back(std::string(target_name(t)) + " (no " + target_name(t) + " label in " + sp.source + ")");
    }
    for (const auto& s : skipped) std::printf("skipped: %s\n", s.c_str());
    SEG_CHECK(!present.empty(), "no structure to train: ", skipped.empty() ? "" : skipped[0]);

    Paper4Setting base;
    base.size = S;
    base.batch = args.integer("batch");
    base.base_width = width;
    base.epochs = static_cast<int>(args.integer("epochs"));
    base.lr = args.real("lr");
    base.max_minutes = args.real("max-minutes-per-run");
    const std::string sched = args.str("lr-schedule");
    base.schedule.kind = sched == "auto" ? (base.max_minutes > 0 ? ScheduleSpec::Budget : ScheduleSpec::Constant) : parse_schedule(sched);
    SEG_CHECK(base.schedule.kind != ScheduleSpec::Budget || base.max_minutes > 0, "--lr-schedule budget needs --max-minutes-per-run > 0");
    base.device = parse_device(args.str("device"));
    base.figures = static_cast<int>(args.integer("figures"));
    if (!args.on("paper"))
      std::printf("protocol (CPU defaults; --paper for the paper's): %lld² instead of 256², lr %g with %s instead of 1e-4 "
                  "constant, at most %d epochs%s instead of 150 epochs%s%s\n",
                  static_cast<long long>(S), base.lr, base.schedule.describe().c_str(), base.epochs,
                  base.max_minutes > 0 ? (" and " + std::to_string(base.max_minutes).substr(0, 4) + " min per run").c_str() : "",
                  width != 32 ? (", base width " + std::to_string(width) + " instead of 32").c_str() : "",
                  (need_polyp && args.str("data-polyp").empty()) || (need_fundus && args.str("data-fundus").empty())
                      ? ("; phantom sets of " + std::to_string(args.integer("images")) + " images instead of 912 / 650").c_str()
                      : "");

    // ---- the structure sets (one per structure and distance map), shared by the runs
    const DistanceVariant t1_dist = parse_distance_variant(args.str("distance"));
    std::vector<DistanceVariant> dists;
    if (table == 3)
      for (const auto& d : split_list(args.str("distance-maps"))) dists.push_back(parse_distance_variant(d));
    else
      dists = {t1_dist};
    SEG_CHECK(!dists.empty(), "--distance-maps: nothing given");
    std::map<std::string, StructureSets> sets;  // key: structure_Dk
    for (Target t : present)
      for (DistanceVariant d : dists)
        sets.emplace(std::string(target_name(t)) + "_" + dist_name(d),
                     make_structure_sets(t == Target::Polyp ? polyp : fundus, t, d));

    GridSpec g;
    g.table = std::to_string(table);
    g.out_dir = out;
    for (int64_t k = 0; k < seeds; ++k) g.seeds.push_back(static_cast<uint64_t>(k));
    g.split = "test";
    g.columns = {{"dice", "dice", "", "Dice", 4}, {"jaccard", "jaccard", "", "Jaccard", 4}};
    g.paper_columns = {"dice", "jaccard"};
    const nlohmann::json extra{{"data_seed", data_seed}};
    nlohmann::json paper_rows = nlohmann::json::array();
    for (Target t : present) {
      const std::string tn = target_name(t);
      const bool ellipse = t != Target::Polyp && !args.on("no-ellipse");
      const DataSplit* sp = t == Target::Polyp ? &polyp : &fundus;
      if (table == 1) {
        g.p_value_key = "p_value_vs_m";
        for (MultitaskVariant v : variants) {
          GridRow row;
          row.key = tn + "_" + multitask_variant_key(v);
          row.labels = {{"structure", tn}, {"variant", multitask_variant_paper(v)}};
          const bool have_m = std::find(variants.begin(), variants.end(), MultitaskVariant::M) != variants.end();
          row.baseline = have_m && v != MultitaskVariant::M ? tn + "_m" : "";
          const DiceJaccard p = paper_table1(v, tn);
          row.paper = {{"dice", p.dice}, {"jaccard", p.jaccard}};
          paper_rows.push_back({{"structure", tn}, {"variant", multitask_variant_paper(v)}, {"dice", p.dice}, {"jaccard", p.jaccard}});
          Paper4Setting s = base;
          s.variant = v;
          s.ellipse_fit = ellipse;
          const StructureSets* ss = &sets.at(tn + "_" + dist_name(t1_dist));
          const nlohmann::json prow = row.paper;
          row.run = [s, sp, ss, prow, extra](uint64_t seed, const std::string& dir) {
            Paper4Setting x = s;
            x.seed = seed;
            return run_paper4(x, *sp, *ss, dir, prow, extra);
          };
          g.rows.push_back(row);
        }
      } else {
        g.p_value_key = "p_value_vs_d3";
        for (DistanceVariant d : dists) {
          GridRow row;
          row.key = tn + "_" + dist_name(d);
          row.labels = {{"structure", tn}, {"distance_map", dist_name(d)}};
          const bool have_d3 = std::find(dists.begin(), dists.end(), DistanceVariant::D3) != dists.end();
          row.baseline = have_d3 && d != DistanceVariant::D3 ? tn + "_D3" : "";
          const DiceJaccard p = paper_table3(d, tn);
          row.paper = {{"dice", p.dice}, {"jaccard", p.jaccard}};
          paper_rows.push_back({{"structure", tn}, {"distance_map", dist_name(d)}, {"dice", p.dice}, {"jaccard", p.jaccard}});
          Paper4Setting s = base;
          s.variant = MultitaskVariant::ConvMD;
          s.ellipse_fit = ellipse;
          const StructureSets* ss = &sets.at(tn + "_" + dist_name(d));
          const nlohmann::json prow = row.paper;
          row.run = [s, sp, ss, prow, extra](uint64_t seed, const std::string& dir) {
            Paper4Setting x = s;
            x.seed = seed;
            return run_paper4(x, *sp, *ss, dir, prow, extra);
          };
          g.rows.push_back(row);
        }
      }
    }
    g.title = table == 1 ? "Paper 4, Table 1 — Dice and Jaccard of the five variants (test images)"
                         : "Paper 4, Table 3 — 1Enc1Dec+Conv MD with the distance maps D1, D2, D3 (test images)";
    g.paper = {{"table", table}, {"rows", paper_rows},
               {"protocol", "ORIGA (650 fundus images, disc and cup) and GIANA 2018 polyp (912 images, 70/30); 256², "
                            "batch 4, 150 epochs, Adam lr 1e-4; disc and cup thresholded and ellipse-fitted"}};
    std::ostringstream notes;
    notes << "Data: " << (need_polyp ? polyp.source : std::string()) << (need_polyp && need_fundus ? "; " : "")
          << (need_fundus ? fundus.source : std::string()) << ". Split 70 % train / 30 % test (seed " << data_seed
          << "); the reported epoch is chosen on 10 % of the training part held out.";
    for (const auto& s : skipped) notes << " Skipped: " << s << ".";
    if ((need_polyp && polyp.source.find("phantom") != std::string::npos) ||
        (need_fundus && fundus.source.find("phantom") != std::string::npos))
      notes << " Generated phantoms: the table checks the method end to end; it does not reproduce the paper's numbers.";
    notes << "\n\nProtocol: " << S << "², batch " << base.batch << ", at most " << base.epochs << " epochs"
          << (base.max_minutes > 0 ? " and " + std::to_string(base.max_minutes).substr(0, 4) + " min per run" : std::string())
          << ", Adam lr " << base.lr << " (β 0.9, 0.999), schedule " << base.schedule.describe()
          << ", no augmentation, base width " << width << "; the paper: 256², batch 4, 150 epochs, lr 1e-4. Loss: mask NLL"
          << " + contour NLL (boundary dilated by a disk of radius " << contour_radius(S) << " px, 5 at 256²) or + distance"
          << " MSE (map / max|map|, D3 → (D3 + 1)/2), weights 1, each a mean over pixels. Disc and cup: "
          << (args.on("no-ellipse") ? "thresholded masks (--no-ellipse)" : "threshold 0.5, largest component, filled least-squares ellipse")
          << ". Ours: mean ± std over test images (per image, averaged over seeds first); p: paired two-sided t-test against "
          << (table == 1 ? "1Enc1Dec M" : "D3") << " of the same structure on the per-image Dice. The paper reports means only.";
    g.notes_md = notes.str();
    nlohmann::json t = run_grid(g);
    // The row format beside the toolkit's: the data set of each row, and per_image (the toolkit's per-case
    // values are keyed per_patient; here every case is one image).
    for (auto& r : t.at("rows")) {
      r["dataset"] = r.value("structure", "") == "polyp" ? "polyp" : "fundus";
      for (const char* m : {"dice", "jaccard"})
        if (r.contains(m) && r[m].contains("per_patient")) r[m]["per_image"] = r[m]["per_patient"];
    }
    write_text_atomic(out + "/table.json", t.dump(2) + "\n");
    std::printf("\n%s\ntable: %s/table.md (.json, .csv); figures: %s/runs/<row>/seed<k>/figures/\n",
                read_text(out + "/table.md").c_str(), out.c_str(), out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "multitask: error: %s\n", e.what());
    return 1;
  }
}
