// segthor_weak — paper 1, Table I (SegTHOR heart), one run: a fully residual U-Net with CoordConv at none / the first
// conv / every encoder conv / every conv and deconv, trained with weak labels (cross entropy on one 4-px seed disc per
// heart slice + λ·size constraint; the default) or full labels (cross entropy), evaluated per patient with 3-D Dice,
// Hausdorff and HD95 (mm). coordconv_tables runs the whole table; both use apps/paper1 on the experiment toolkit.
//
// Method (paper 1, §III–IV, and the authors' code as recorded in docs/reference_code.md):
//   data    whole CT volume min–max to [0, 1]; axial slices resized to S×S (bilinear image, nearest labels);
//           exact 90° turns, mirroring and flipping on the fly; split by patient through data/datasets (6 training /
//           4 validation; further patients of a --data folder are left out and listed); every slice is trained on,
//           slices without the heart carry size bounds [0, 0]
//   weak    L = H_partial(S) + λ·C(V_S), λ = 0.01 at 256², C = (V−a)² below a, (V−b)² above b, / (W·H), V = Σ softmax_heart;
//           at another size S, λ·(256/S)², which keeps the paper's balance between the two terms
//           [a, b] = smallest and largest heart area of the training slices at S×S; --paper: the paper's [210, 7800]
//   full    L = cross entropy on every pixel
//   optim   Adam (β 0.9, 0.99), lr 5e-4 (--paper; 2.5e-4 by default) halved after 20 epochs without improvement, batch 4;
//           under the CPU default's time budget the lr instead decays linearly to the end of the budget
//   eval    per validation patient on the restored best weights: 3-D Dice, symmetric Hausdorff and HD95 in mm on the
//           slice grid; Dice on heart slices; the same after keeping the largest connected component
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "apps/paper1/protocol.h"
#include "apps/toolkit/cli.h"
#include "engine/device.h"
#include "kernels/conv_onednn.h"

using namespace seg;

namespace {

std::string default_out_dir() {
  char b[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "runs/segthor_weak/%Y%m%d-%H%M%S", std::localtime(&t));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("segthor_weak",
                 "Paper 1, Table I: residual U-Net ± CoordConv on SegTHOR heart, weakly or fully supervised (one run).\n"
                 "Runs on a generated SegTHOR-like phantom unless --data points at SegTHOR's train/ layout.\n"
                 "The whole table (4 variants × 2 supervisions × seeds, t-tests, Fig 3): coordconv_tables --table 1.");
  args.option("supervision", "weak", "weak (seeds + size constraint) | full (cross entropy)")
      .option("coordconv", "none", "CoordConv placement: none | 1st | enc | all")
      .option("epochs", "12", "training epochs")
      .option("size", "64", "training size S (slices are S×S; a multiple of 16)")
      .option("batch", "4", "batch size")
      .option("lr", "2.5e-4", "Adam learning rate (the paper's 5e-4 with --paper; half of it is steadier in the short CPU run)")
      .option("lambda", "0.01", "weight of the size constraint at 256×256 (scaled by (256/S)² at size S)")
      .option("bounds", "", "size bounds a,b in pixels at S×S (default: from the training ground truth; --paper: the paper's)")
      .option("patients", "10", "phantom patients to generate (ignored with --data)")
      .option("phantom-slice-mm", "2.5", "slice spacing of the generated phantom in mm (ignored with --data)")
      .option("train-patients", "6", "training patients")
      .option("val-patients", "4", "validation patients (0: every patient not used for training)")
      .option("seed", "0", "seed of data generation, split, weak labels, init and augmentation")
      .option("data", "", "SegTHOR folder (DIR/train/Patient_XX/{Patient_XX,GT}.nii.gz)")
      .option("out", "", "run folder (default runs/segthor_weak/<timestamp>; an unfinished run there is resumed)")
      .option("resume", "", "checkpoint (last.safetensors of a killed run) to continue from; its folder is the output")
      .option("device", "auto", "cpu | cuda | auto (cuda when a GPU is present)")
      .option("max-minutes", "9", "training time budget: no epoch starts that would end past it (0: no budget)")
      .option("lr-schedule", "auto", "budget (linear decay over the time budget) | plateau (halve after 20 epochs without "
                                     "improvement, the paper's) | constant | auto (budget when there is a time budget)")
      .flag("paper", "the paper's setting: 256×256, batch 4, 200 epochs, lr 5e-4 plateau, bounds [210, 7800], 6/4 patients, no time budget")
      .flag("describe", "print the model this run would train (JSON) and exit");
  try {
    if (!args.parse(argc, argv)) return 0;
    const CoordPlacement coord = parse_coord_placement(args.str("coordconv"));
    if (args.on("describe")) {
      std::printf("%s", describe_json({describe_paper1_model(coord)}).c_str());
      return 0;
    }
    if (args.on("paper")) {
      args.set("size", "256");
      args.set("epochs", "200");
      args.set("batch", "4");
      args.set("max-minutes", "0");
      args.set("lr", "5e-4");
      args.set("lr-schedule", "plateau");
      args.set("train-patients", "6");
      args.set("val-patients", "4");
    }
    const std::string sup = args.str("supervision");
    SEG_CHECK(sup == "weak" || sup == "full", "--supervision: expected weak or full, got '", sup, "'");
    const int64_t S = args.integer("size");
    SEG_CHECK(S >= 16 && S % 16 == 0, "--size must be a positive multiple of 16 (four 2×2 poolings), got ", S);

    // ---- data: patients → normalised, resized slices with weak labels and size bounds
    Paper1DataOptions dopt;
    dopt.dataset = Paper1Dataset::SegTHOR;
    dopt.data_dir = args.str("data");
    dopt.phantom_patients = static_cast<int>(args.integer("patients"));
    dopt.phantom_slice_mm = args.real("phantom-slice-mm");
    dopt.train_patients = static_cast<int>(args.integer("train-patients"));
    dopt.val_patients = static_cast<int>(args.integer("val-patients"));
    dopt.size = S;
    dopt.seed = static_cast<uint64_t>(args.integer("seed"));
    if (args.given("bounds")) {
      auto b = args.reals("bounds");
      SEG_CHECK(b.size() == 2 && b[0] >= 0 && b[0] <= b[1], "--bounds: expected a,b with 0 <= a <= b, got '",
                args.str("bounds"), "'");
      dopt.bounds = {b[0], b[1]};
    } else if (args.on("paper")) {
      const double f = static_cast<double>(S * S) / (256.0 * 256.0);
      dopt.bounds = {paper1_bounds_256(Paper1Dataset::SegTHOR)[0] * f, paper1_bounds_256(Paper1Dataset::SegTHOR)[1] * f};
    }
    const Paper1Data data = load_paper1_data(dopt);
    std::printf("data: %s — %zu training patients (%lld slices), %zu validation patients; size bounds [%.0f, %.0f] px at %lldx%lld (%s)\n",
                data.source.c_str(), data.train.size(), static_cast<long long>(data.train_slices), data.val.size(),
                data.bounds[0], data.bounds[1], static_cast<long long>(S), static_cast<long long>(S), data.bounds_source.c_str());
    if (!data.left_out.empty()) std::printf("      %zu patients of the folder are in neither split (the paper used 6 + 4)\n", data.left_out.size());

    // ---- the run
    Paper1Setting s;
    s.dataset = Paper1Dataset::SegTHOR;
    s.coord = coord;
    s.weak = sup == "weak";
    s.size = S;
    s.batch = args.integer("batch");
    s.epochs = static_cast<int>(args.integer("epochs"));
    s.lr = args.real("lr");
    s.lambda_256 = args.real("lambda");
    s.max_minutes = args.real("max-minutes");
    s.seed = dopt.seed;
    s.device = parse_device(args.str("device"));
    const std::string sched = args.str("lr-schedule");
    s.schedule.kind = sched == "auto" ? (s.max_minutes > 0 ? ScheduleSpec::Budget : ScheduleSpec::Plateau) : parse_schedule(sched);
    s.schedule.patience = 20;
    s.schedule.factor = 0.5;
    SEG_CHECK(s.schedule.kind != ScheduleSpec::Budget || s.max_minutes > 0, "--lr-schedule budget needs a time budget (--max-minutes > 0)");
    SEG_CHECK(s.schedule.kind != ScheduleSpec::Poly, "--lr-schedule: paper 1 uses plateau (or budget on the CPU), not poly");
    if (!args.str("resume").empty() && !args.str("out").empty())
      SEG_CHECK(std::filesystem::weakly_canonical(std::filesystem::path(args.str("resume")).parent_path()) ==
                    std::filesystem::weakly_canonical(args.str("out")),
                "--resume ", args.str("resume"), " is not in --out ", args.str("out"), ": a run resumes in its own folder");
    const std::string out = !args.str("out").empty() ? args.str("out")
                            : !args.str("resume").empty() ? std::filesystem::path(args.str("resume")).parent_path().string()
                                                          : default_out_dir();
    std::printf("model: residual U-Net, CoordConv %s, %.2f M parameters; training on %s%s for up to %d epochs\n",
                coord_placement_name(coord), describe_paper1_model(coord).parameters / 1e6, device_name(s.device),
                s.device == Device::CPU ? (onednn::enabled() ? " (oneDNN convolutions)" : " (im2col convolutions)") : "", s.epochs);
    if (s.weak) std::printf("size constraint: λ = %g at 256×256 → %g at %lldx%lld\n", s.lambda_256,
                            s.lambda_256 * (256.0 / S) * (256.0 / S), static_cast<long long>(S), static_cast<long long>(S));
    const RunResult r = run_paper1(s, data, out, "segthor_weak", nlohmann::json{{"resume", args.str("resume")}});
    std::printf("validation Dice (volume) %.4f; results in %s (results.md, results.json, curve.csv/svg/png, overlays/, best.safetensors)\n",
                r.validation.mean("dice"), out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "segthor_weak: error: %s\n", e.what());
    return 1;
  }
}
