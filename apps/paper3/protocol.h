// Paper 3's protocol on the toolkit, used by egcnn_tables: a 3-D backbone (U-Net, V-Net, SegResNet — the paper's
// "Seg-Net" — with GroupNorm) without or with the EG-CNN edge stream (models/egcnn.h), trained on 3-D patches with the
// paper's losses (losses/egcnn_losses.h: Dice; + edge Dice + balanced BCE against the Sobel edges of the ground truth
// + the dual-task consistency for the EG-CNN rows), Adam with the poly schedule (1 − e/E)^0.9, validated per patient
// by sliding-window inference on the original grid (region Dice, HD95), and the paper's numbers beside ours.
// Key decisions: the model is built in one function (paper3_net_spec → Net3d); every protocol choice is a field of
// Paper3Setting that the app fills visibly from its options; the EG-CNN's edge logits go to the loss as
// Outputs::heads["edge"] and are averaged by the evaluator for the overlays.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "apps/paper3/data.h"
#include "apps/toolkit/describe.h"
#include "apps/toolkit/run.h"
#include "losses/egcnn_losses.h"
#include "models/egcnn.h"

namespace seg {

struct Paper3Setting {
  int table = 1;
  std::string backbone = "segresnet";  // unet3d | vnet | segresnet
  bool edge = false;
  int64_t width = 8;                   // U-Net: w-2w-4w-8w; V-Net: base width; SegResNet: init filters
  int levels = 0;                      // 0: the backbone's default (4; V-Net 5)
  int64_t edge_width = 8;              // C_e
  bool edge_per_class = false;
  int64_t patch = 32;                  // cubic training patch (voxels)
  int64_t batch = 2;
  int64_t steps_per_epoch = 40;
  int epochs = 12;
  double lr = 3e-3;
  ScheduleSpec schedule;               // the paper: poly, power 0.9
  double max_minutes = 0;              // time budget of the run (0: none)
  EgcnnLossConfig loss;
  double foreground_ratio = 0.33;
  double overlap = 0.5;                // sliding-window inference
  uint64_t seed = 0;
  Device device = Device::CPU;
};

Net3dSpec paper3_net_spec(const Paper3Setting& s, int64_t in_channels, int classes);
ModelDescription describe_paper3_model(const Paper3Setting& s, int64_t in_channels, int classes);
const char* paper3_backbone_label(const std::string& backbone);  // "U-Net" | "V-Net" | "Seg-Net"

// The paper's cell for a row as text by column key: Table 1 {"average", "ET", "TC", "WT"}, Table 2 {"kidney",
// "tumour", "composite"}: "0.8305 ± 0.0035"; and the whole table as data.
nlohmann::json paper3_paper_cell(int table, const std::string& backbone, bool edge);
nlohmann::json paper3_paper_table(int table);
// Numbers of a cell (mean) for the differences the app prints; NaN when absent.
double paper3_paper_mean(int table, const std::string& backbone, bool edge, const std::string& column);

// Trains (or resumes, or reads back) one run into dir.
RunResult run_paper3(const Paper3Setting& s, Paper3Data& data, const std::string& dir, const std::string& app,
                     const nlohmann::json& extra_config = nlohmann::json::object());

// The network of a finished run with its best weights (dir/best.safetensors).
std::unique_ptr<Net3d> load_paper3_model(const Paper3Setting& s, const Paper3Data& data, const std::string& dir);
// Outputs of a Net3d as the toolkit's ForwardFn (heads["edge"] when it has the stream).
ForwardFn paper3_forward(const Net3d& net);

}  // namespace seg
