// Paper 1's protocol on the toolkit, shared by segthor_weak (one run) and coordconv_tables (Tables I–II, Figs 3–4):
// the residual U-Net with CoordConv none / 1st / enc / all, full supervision (cross entropy) or weak supervision
// (partial cross entropy on the seed discs + λ·size penalty), Adam (β 0.9, 0.99), the paper's rotation/mirroring/
// flipping, validation per patient (3-D Dice, HD, HD95 in mm), and the paper's numbers beside ours.
// Key decision: the model is built in one function (make_paper1_model), so a change of the model's constructor touches
// one line; every protocol choice is a field of Paper1Setting that the apps fill visibly from their options.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "apps/paper1/data.h"
#include "apps/toolkit/describe.h"
#include "apps/toolkit/run.h"
#include "models/residual_unet.h"

namespace seg {

struct Paper1Setting {
  Paper1Dataset dataset = Paper1Dataset::SegTHOR;
  CoordPlacement coord = CoordPlacement::None;
  bool weak = false;
  int64_t size = 64, batch = 4;
  int epochs = 12;
  double lr = 5e-4;
  ScheduleSpec schedule;           // the paper: plateau, patience 20, factor 0.5
  double max_minutes = 0;          // CPU time budget of the run (0: none)
  double lambda_256 = 0.01;        // size-loss weight at 256²; scaled by (256/S)² at size S
  bool augment = true;             // the paper's rotation / mirroring / flipping
  uint64_t seed = 0;               // initial weights and batch order / augmentation
  Device device = Device::CPU;
};

std::unique_ptr<ResidualUNet> make_paper1_model(CoordPlacement coord, uint64_t seed);
ModelDescription describe_paper1_model(CoordPlacement coord);

const char* paper1_row_name(CoordPlacement c);  // "U-Net (no CoordConv)", "U-Net+CoordConv-1st", ...
// The paper's Table I / II cell for a row: {"dice": "0.86 ± 0.24", "hausdorff": "3.50 ± 1.19"} (null where the
// paper's text gives none).
nlohmann::json paper1_paper_cell(Paper1Dataset d, CoordPlacement c, bool weak);
nlohmann::json paper1_paper_table(Paper1Dataset d);  // the whole table as data, with its caveats

// Trains (or resumes, or reads back) one run of the setting on the data into dir; `app` names the caller in the
// run's config and results.
RunResult run_paper1(const Paper1Setting& s, const Paper1Data& data, const std::string& dir, const std::string& app,
                     const nlohmann::json& extra_config = nlohmann::json::object());

}  // namespace seg
