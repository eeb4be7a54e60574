// segtool: the command-line face of data/ (formats, phantoms, transforms, metrics) and of trained models (predict,
// in apps/toolkit/predict_cli.h). Only a dispatcher: each sub-command lives in data/cli/ (commands.h) or the toolkit. Key decision: --help for every sub-command is answered here from one
// table, so help text and the list of commands cannot drift apart.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "apps/toolkit/predict_cli.h"
#include "data/cli/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* usage;
  const char* what;
};

const Command kCommands[] = {
    {"info", seg::cli::info, "segtool info FILE [--json]",
     "Print dims, spacing, datatype, min, max, mean and sum (after scl_slope/scl_inter) of an image or DICOM folder."},
    {"convert", seg::cli::convert, "segtool convert IN OUT [--datatype T]",
     "Convert between formats by extension (.nii/.nii.gz/.mha/.mhd/.nrrd/.png), keeping the geometry."},
    {"metrics", seg::cli::metrics, "segtool metrics PRED GT [--labels 1,2] [--dataset NAME] [--json]",
     "Dice, Jaccard, Hausdorff, HD95 and ASSD (mm) per label between a prediction and a ground truth on the same grid "
     "(dims, spacing, affine); label values checked against --dataset's set (segthor, acdc, brats19, kits19, ...)."},
    {"phantom", seg::cli::phantom, "segtool phantom NAME OUTDIR [--patients N] [--seed S]",
     "Write a procedural phantom data set in its official folder layout."},
    {"pseudo", seg::cli::pseudo,
     "segtool pseudo IMAGE LABELS OUTDIR [--patients N] [--seed S] [--map 1:2,2:4] [--spacing X,Y,Z] [--elastic-mm E] "
     "[--rotate-deg R] [--scale F] [--noise-sd N]",
     "Pseudo-patients in SegTHOR's layout (OUTDIR/train/Patient_XX/{Patient_XX,GT}.nii.gz) from one scan by random "
     "scaling, rotation, shift, elastic deformation and intensity change (default spacing: source in-plane, 2.5 mm slices)."},
    {"edt", seg::cli::edt, "segtool edt MASK OUT [--variant D1|D2|D3] [--label L]",
     "Exact Euclidean distance map of a mask (variants of paper 4)."},
    {"edges", seg::cli::edges, "segtool edges LABELS OUT", "Edges of the one-hot masks of a label map (Sobel)."},
    {"contour", seg::cli::contour, "segtool contour MASK OUT [--radius R]",
     "Contour map: the mask boundary dilated by a disk of radius R."},
    {"weak", seg::cli::weak, "segtool weak LABELS OUT [--label L] [--diameter 4] [--seed S]",
     "Weak seed labels drawn from a full label map."},
    {"predict", seg::cli::predict_command,
     "segtool predict MODEL INPUT... -o OUT_DIR [-i FOLDER] [--device cpu|cuda|auto] [--batch N] [--probabilities] "
     "[--keep-going] [--class-ids] [--no-reorient]",
     "Label maps of new scans from a trained model (best.safetensors of a run folder), each written in its input's "
     "format on its input's grid (NIfTI header kept; DICOM series → .nii.gz; PNG/JPEG → PNG); CASE_0000, CASE_0001 ... "
     "are one case's modalities; --probabilities adds one float map per class."},
    {"evaluate", seg::cli::evaluate, "segtool evaluate PRED_DIR GT_DIR [--labels 1,2,1+2] [-o summary.json]",
     "Dice, IoU/Jaccard, HD, HD95, ASSD (mm) and volumes per case and label of a folder of predictions against a folder "
     "of ground truths (matched by name), in nnU-Net's summary.json layout (default PRED_DIR/summary.json)."},
    {"degrade", seg::cli::degrade, "segtool degrade IMAGE OUT --noise S | --blur S | --shot C [--seed S]",
     "Test-time degradation of paper 2: Gaussian noise, Gaussian blur or shot noise."},
};

void print_overview(FILE* out) {
  std::fprintf(out, "usage: segtool COMMAND [ARGS...]   (segtool COMMAND --help for one command)\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-8s %s\n", c.name, c.what);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_overview(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    for (int i = 2; i < argc; ++i)
      if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
        std::printf("usage: %s\n\n%s\n", c.usage, c.what);
        return 0;
      }
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "segtool %s: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "segtool: unknown command '%s'\n\n", name.c_str());
  print_overview(stderr);
  return 2;
}
