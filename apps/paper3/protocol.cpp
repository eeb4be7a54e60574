// Paper 3's protocol (see protocol.h).
#include "apps/paper3/protocol.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "apps/paper3/figures.h"
#include "apps/paper3/paper_numbers.h"
#include "apps/toolkit/patch_sampler.h"
#include "apps/toolkit/volume_evaluator.h"
#include "engine/serialize.h"

namespace seg {

Net3dSpec paper3_net_spec(const Paper3Setting& s, int64_t in_channels, int classes) {
  return {.backbone = s.backbone, .in_channels = in_channels, .classes = classes, .width = s.width, .levels = s.levels,
          .edge = s.edge, .edge_width = s.edge_width, .edge_per_class = s.edge_per_class, .seed = s.seed};
}

ModelDescription describe_paper3_model(const Paper3Setting& s, int64_t in_channels, int classes) {
  const Net3d net(paper3_net_spec(s, in_channels, classes));
  return {s.backbone, (s.edge ? "eg-cnn: " : "none: ") + net.spec().describe(), net.num_parameters()};
}

const char* paper3_backbone_label(const std::string& b) {
  if (b == "unet3d") return "U-Net";
  if (b == "vnet") return "V-Net";
  if (b == "segresnet") return "Seg-Net";
  return "?";
}

namespace {

const paper3::PaperRow* paper_row(int table, const std::string& backbone, bool edge) {
  const auto& rows = table == 1 ? paper3::kTable1 : paper3::kTable2;
  for (const auto& r : rows)
    if (backbone == r.backbone && edge == r.edge) return &r;
  return nullptr;
}

std::vector<std::string> paper_columns(int table) {
  if (table == 1) return {paper3::kTable1Columns.begin(), paper3::kTable1Columns.end()};
  return {paper3::kTable2Columns.begin(), paper3::kTable2Columns.end()};
}

std::string cell_text(const paper3::PaperCell& c) {
  char b[64];
  std::snprintf(b, sizeof b, "%.4f ± %.4f", c.mean, c.sd);
  return b;
}

}  // namespace

nlohmann::json paper3_paper_cell(int table, const std::string& backbone, bool edge) {
  nlohmann::json j = nlohmann::json::object();
  const paper3::PaperRow* r = paper_row(table, backbone, edge);
  const auto cols = paper_columns(table);
  for (size_t i = 0; i < cols.size(); ++i) j[cols[i]] = r ? nlohmann::json(cell_text(r->cells[i])) : nlohmann::json(nullptr);
  return j;
}

double paper3_paper_mean(int table, const std::string& backbone, bool edge, const std::string& column) {
  const paper3::PaperRow* r = paper_row(table, backbone, edge);
  const auto cols = paper_columns(table);
  for (size_t i = 0; r && i < cols.size(); ++i)
    if (cols[i] == column) return r->cells[i].mean;
  return NAN;
}

nlohmann::json paper3_paper_table(int table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : table == 1 ? paper3::kTable1 : paper3::kTable2) {
    nlohmann::json j = paper3_paper_cell(table, r.backbone, r.edge);
    j["architecture"] = r.label;
    j["edge_stream"] = r.edge ? "EG-CNN" : "None";
    rows.push_back(j);
  }
  return {{"table", table == 1 ? "1" : "2"},
          {"dataset", table == 1 ? "BraTS 2019 (335 cases; T1, T1c, T2, FLAIR)" : "KiTS 2019 (300 patients; CT)"},
          {"metrics", table == 1 ? "Dice of ET, TC, WT and their average" : "Dice of kidneys (kidney ∪ tumour), tumour, composite (their mean)"},
          {"protocol", "PyTorch on 8 V100s, 80/20 split, batch 8, Adam, lr (1 − e/E)^0.9; isotropic resampling and "
                       "back; the text lost the spacing, crop size, initial lr, λ weights and τ"},
          {"plus_minus", "not defined by the paper (presumably over runs)"},
          {"rows", rows}};
}

ForwardFn paper3_forward(const Net3d& net) {
  const Net3d* m = &net;
  return [m](const Tensor& x) {
    const Net3d::Output o = m->forward(x);
    Outputs out{o.logits, {}};
    if (o.edge_logits.defined()) out.heads["edge"] = o.edge_logits;
    return out;
  };
}

std::unique_ptr<Net3d> load_paper3_model(const Paper3Setting& s, const Paper3Data& data, const std::string& dir) {
  auto net = std::make_unique<Net3d>(paper3_net_spec(s, data.channels, data.scheme.classes()));
  load_checkpoint(dir + "/best.safetensors", *net, nullptr);
  net->eval();
  return net;
}

RunResult run_paper3(const Paper3Setting& s, Paper3Data& data, const std::string& dir, const std::string& app,
                     const nlohmann::json& extra_config) {
  const int K = data.scheme.classes();
  const Net3dSpec ns = paper3_net_spec(s, data.channels, K);
  SEG_CHECK(s.patch > 0, "paper 3: the patch size must be positive");
  auto net = std::make_unique<Net3d>(ns);
  SEG_CHECK(s.patch % net->divisor() == 0, "paper 3: the patch (", s.patch, ") must be a multiple of ", net->divisor(),
            " for ", s.backbone, " with ", s.levels ? s.levels : (s.backbone == "vnet" ? 5 : 4), " resolutions");
  PatchConfig pc;
  pc.size = {s.patch, s.patch, s.patch};
  pc.foreground_ratio = s.foreground_ratio;
  pc.edges = s.edge;
  pc.edges_per_class = s.edge_per_class;
  PatchSampler sampler(*data.store, data.train, s.batch, s.steps_per_epoch, pc, s.seed);
  VolumeEvalOptions vo;
  vo.window.patch = {s.patch, s.patch, s.patch};
  vo.window.overlap = s.overlap;
  if (s.edge) vo.extra_head = "edge", vo.extra_channels = net->edge_channels();
  VolumeEvaluator val(*data.store, data.val, data.structures, vo);

  nlohmann::json cfg = extra_config;
  cfg["app"] = app;
  cfg["table"] = s.table;
  cfg["data"] = data.source;
  cfg["labels"] = data.scheme.describe();
  cfg["preprocessing"] = data.pre.describe();
  cfg["train_cases"] = nlohmann::json::array();
  for (size_t i : data.train) cfg["train_cases"].push_back(data.store->id(i));
  cfg["val_cases"] = nlohmann::json::array();
  for (size_t i : data.val) cfg["val_cases"].push_back(data.store->id(i));
  cfg["model"] = ns.describe();
  cfg["parameters"] = net->num_parameters();
  cfg["backbone"] = s.backbone;
  cfg["edge"] = s.edge;
  cfg["patch"] = s.patch;
  cfg["batch"] = s.batch;
  cfg["steps_per_epoch"] = s.steps_per_epoch;
  cfg["epochs"] = s.epochs;
  cfg["lr"] = s.lr;
  cfg["schedule"] = s.schedule.describe();
  cfg["max_minutes"] = s.max_minutes;
  cfg["loss"] = s.edge ? s.loss.describe() : s.loss.main_ce > 0 ? "Dice + CE" : "Dice";
  cfg["lambda"] = {{"main_dice", s.loss.main_dice}, {"main_ce", s.loss.main_ce}, {"edge_dice", s.loss.edge_dice},
                   {"edge_bce", s.loss.edge_bce}, {"dual", s.loss.dual}, {"tau", s.loss.tau}};
  cfg["sampling"] = sampler.describe();
  cfg["inference"] = vo.window.describe();
  cfg["seed"] = s.seed;
  cfg["device"] = device_name(s.device);

  Net3d* m = net.get();
  const ForwardFn forward = paper3_forward(*m);
  // The Gumbel noise of the dual-task loss: drawn from a generator seeded per run (a resumed run continues with a
  // fresh stream: only this noise, not the batches, differs from an uninterrupted run).
  auto gumbel = std::make_shared<Generator>(s.seed ^ 0x6B2Full);
  const EgcnnLossConfig lc = s.loss;
  const LossFn loss = [lc, gumbel](const Outputs& out, const Batch& b) {
    EgcnnTargets t;
    t.onehot = b.extra.at("onehot");
    t.labels = b.target;
    const auto e = out.heads.find("edge");
    const Tensor edge_logits = e == out.heads.end() ? Tensor() : e->second;
    if (edge_logits.defined()) t.edges = b.extra.at("edges");
    EgcnnLossTerms r = egcnn_loss(out.seg, edge_logits, t, lc, *gumbel);
    return LossTerms{r.total, r.parts};
  };

  RunSpec spec;
  spec.out_dir = dir;
  char title[256];
  std::snprintf(title, sizeof title, "%s — paper 3, Table %d (%s), %s%s", app.c_str(), s.table,
                s.table == 1 ? "BraTS 2019" : "KiTS 2019", paper3_backbone_label(s.backbone), s.edge ? " + EG-CNN" : "");
  spec.title = title;
  spec.config = cfg;
  spec.model = net.get();
  spec.forward = forward;
  spec.loss = loss;
  spec.train = &sampler;
  spec.validation = &val;
  spec.train_cfg.epochs = s.epochs;
  spec.train_cfg.optim.name = "adam";
  spec.train_cfg.optim.lr = s.lr;
  spec.train_cfg.optim.beta1 = 0.9;
  spec.train_cfg.optim.beta2 = 0.999;
  spec.train_cfg.schedule = s.schedule;
  spec.train_cfg.max_minutes = s.max_minutes;
  spec.train_cfg.select_metric = "dice";
  spec.train_cfg.device = s.device;
  spec.train_cfg.metadata = {{"app", app}, {"backbone", s.backbone}, {"edge", s.edge ? "eg-cnn" : "none"}};
  spec.report_metrics = {"dice", "jaccard", "hd95_mm", "hd_mm", "assd_mm", "soft_dice"};
  const VolumeEvaluator* vp = &val;
  const Device dev = s.device;
  const LabelScheme scheme = data.scheme;
  const bool edge = s.edge;
  spec.overlays = [vp, forward, dev, scheme, edge](const std::string& odir) {
    std::filesystem::create_directories(odir);
    for (size_t i = 0; i < std::min<size_t>(3, vp->cases()); ++i) {
      const VolumeEvaluator::Prediction p = vp->predict(forward, dev, i, edge);
      const auto c = vp->store().get(vp->case_indices()[i]);
      const int64_t z = busiest_axial_slice(c->label);
      std::vector<SlicePanel> panels{{SlicePanel::Image, nullptr}, {SlicePanel::Labels, &c->label},
                                     {SlicePanel::Labels, &p.classes}};
      if (edge) panels.push_back({SlicePanel::Edges, &p.extra});
      write_panels_png(odir + "/" + p.id + "_slice" + std::to_string(z) + ".png",
                       slice_panels(c->image, 0, z, panels, scheme));
    }
  };
  const Paper3Setting st = s;
  const Paper3Data* d = &data;
  spec.report = [st, d, vp](const RunResult& r, nlohmann::json& j, std::ostringstream& md) {
    const Scores& sc = r.validation;
    nlohmann::json dice = nlohmann::json::object();
    for (const auto& name : sc.structures) dice[name] = to_json(summarise(sc.values.at("dice").at(name)));
    dice[d->scheme.summary] = to_json(summarise(sc.per_case("dice")));
    j["dice"] = dice;
    nlohmann::json hd95 = nlohmann::json::object();
    for (const auto& name : sc.structures) hd95[name] = to_json(summarise(sc.values.at("hd95_mm").at(name)));
    j["hd95_mm"] = hd95;
    nlohmann::json mem = nlohmann::json::object();
    for (const auto& [id, m] : vp->memory()) mem[id] = m;
    j["inference_memory"] = mem;
    j["paper"] = paper3_paper_cell(st.table, st.backbone, st.edge);
    md << "\nData: " << d->source << "; " << d->train.size() << " training / " << d->val.size()
       << " validation cases. " << d->pre.describe() << ".\n\n| model |";
    for (const auto& name : sc.structures) md << " Dice " << name << " |";
    md << " " << d->scheme.summary << " | paper " << d->scheme.summary << " |\n|---|";
    for (size_t i = 0; i <= sc.structures.size() + 1; ++i) md << "---|";
    md << "\n| " << paper3_backbone_label(st.backbone) << (st.edge ? " + EG-CNN" : "") << " |";
    for (const auto& name : sc.structures) md << " " << mean_std(summarise(sc.values.at("dice").at(name)), 3) << " |";
    const nlohmann::json pc = paper3_paper_cell(st.table, st.backbone, st.edge);
    md << " " << mean_std(summarise(sc.per_case("dice")), 3) << " | "
       << (pc[d->scheme.summary].is_string() ? pc[d->scheme.summary].get<std::string>() : "—") << " |\n\n"
       << "Ours: mean ± std over validation cases on the original grid, measured on the restored best weights. "
          "Inference memory per volume (sliding window: tiles, the pipeline's buffers, the host allocator's peak "
          "above what was held before) is in results.json (inference_memory).\n";
    if (d->source.find("phantom") != std::string::npos)
      md << "\nThis run used a generated phantom, not the real data set: it checks the method end to end; it does not "
            "reproduce the paper's numbers. Point --data at the data set for that.\n";
  };
  std::printf("run: Table %d, %s%s, seed %llu → %s\n", s.table, paper3_backbone_label(s.backbone), s.edge ? " + EG-CNN" : "",
              static_cast<unsigned long long>(s.seed), dir.c_str());
  return run_experiment(spec);
}

}  // namespace seg
