// Paper 5's protocol (see protocol.h).
#include "apps/paper5/protocol.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "kernels/nll.h"
#include "kernels/softmax.h"
#include "models/enet.h"
#include "models/residual_unet.h"

namespace seg {

Paper5Supervision parse_paper5_supervision(const std::string& s) {
  if (s == "ce") return Paper5Supervision::CrossEntropy;
  if (s == "descriptors") return Paper5Supervision::Descriptors;
  fail("--supervision: expected ce or descriptors, got '", s, "'");
}
const char* paper5_supervision_name(Paper5Supervision s) { return s == Paper5Supervision::CrossEntropy ? "ce" : "descriptors"; }
const char* paper5_supervision_title(Paper5Supervision s) {
  return s == Paper5Supervision::CrossEntropy ? "Cross-entropy (pixel-wise)" : "Shape descriptors";
}

Paper5Model make_paper5_model(Paper5Dataset d, uint64_t seed) {
  Paper5Model m;
  if (d == Paper5Dataset::ACDC) {
    auto net = std::make_unique<ENet>(ENet::Config{.in_channels = 1, .classes = 4, .seed = seed});
    ENet* p = net.get();
    m.forward = [p](const Tensor& x) { return Outputs{p->forward(x), {}}; };
    m.name = "ENet";
    m.module = std::move(net);
  } else {
    auto net = std::make_unique<ResidualUNet>(ResidualUNet::Config{.in_channels = 1, .classes = 2, .seed = seed});
    ResidualUNet* p = net.get();
    m.forward = [p](const Tensor& x) { return Outputs{p->forward(x), {}}; };
    m.name = "residual U-Net";
    m.module = std::move(net);
  }
  return m;
}

std::vector<ModelDescription> describe_paper5_models() {
  return {{"enet", "2 classes (the authors' count, two unused heads included)", ENet({.classes = 2}).num_parameters()},
          {"enet", "4 classes (ACDC)", ENet({.classes = 4}).num_parameters()},
          {"residual_unet", "2 classes (PROMISE12)", ResidualUNet({.classes = 2}).num_parameters()}};
}

namespace {

struct PaperCell {
  double mean, std;
};

// Table 1 of the paper: test DSC, mean (std).
nlohmann::json cell(PaperCell c) { return {{"mean", c.mean}, {"std", c.std}}; }

}  // namespace

nlohmann::json paper5_paper_row(Paper5Dataset d, Paper5Supervision s) {
  const bool ce = s == Paper5Supervision::CrossEntropy;
  if (d == Paper5Dataset::ACDC)
    return ce ? nlohmann::json{{"RV", cell({0.879, 0.066})}, {"Myo", cell({0.829, 0.074})}, {"LV", cell({0.919, 0.059})},
                               {"overall", cell({0.876, 0.076})}}
              : nlohmann::json{{"RV", cell({0.825, 0.107})}, {"Myo", cell({0.660, 0.114})}, {"LV", cell({0.819, 0.086})},
                               {"overall", cell({0.768, 0.128})}};
  return ce ? nlohmann::json{{"prostate", cell({0.871, 0.047})}} : nlohmann::json{{"prostate", cell({0.651, 0.098})}};
}

nlohmann::json paper5_paper_table() {
  nlohmann::json rows = nlohmann::json::array();
  for (Paper5Dataset d : {Paper5Dataset::ACDC, Paper5Dataset::PROMISE12})
    for (Paper5Supervision s : {Paper5Supervision::CrossEntropy, Paper5Supervision::Descriptors})
      rows.push_back({{"dataset", paper5_dataset_name(d)}, {"supervision", paper5_supervision_name(s)},
                      {"method", paper5_supervision_title(s)}, {"dice", paper5_paper_row(d, s)}});
  return {{"table", "1"},
          {"caption", "Average and standard deviation of DSC on the testing set, for both datasets"},
          {"metric", "3-D Dice per test case (the authors group slices per patient frame), mean (std); 'overall' over "
                     "every (case, class) pair"},
          {"protocol", "ACDC: ENet, batch 8, 200 epochs; PROMISE12: residual U-Net, batch 4, 300 epochs; Adam 5e-4 "
                       "(β 0.9, 0.99); 256²; blur, rotation, scale (and shift) augmentation"},
          {"rows", rows}};
}

std::vector<Structure> paper5_structures(const Paper5Data& data, Paper5Dataset d) {
  const std::vector<std::string> names = paper5_class_names(d);
  std::vector<Structure> out;
  for (int k = 1; k < paper5_classes(d); ++k)
    if (std::find(data.absent.begin(), data.absent.end(), k) == data.absent.end()) out.push_back({names[static_cast<size_t>(k)], {k}});
  return out;
}

namespace {

// The 2-D Dice of the batch's argmax per evaluated class, pooled over the batch (monitoring only; never in a loss).
std::vector<std::pair<std::string, double>> batch_dice(const Tensor& logits, const Tensor& target,
                                                       const std::vector<Structure>& structures) {
  const int64_t B = logits.size(0), K = logits.size(1), P = logits.size(2) * logits.size(3);
  const std::vector<double> lg = logits.to_vector();
  const std::vector<int64_t> t = target.to_labels();
  std::vector<double> inter(static_cast<size_t>(K), 0), sum(static_cast<size_t>(K), 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < P; ++i) {
      int64_t best = 0;
      for (int64_t k = 1; k < K; ++k)
        if (lg[static_cast<size_t>((b * K + k) * P + i)] > lg[static_cast<size_t>((b * K + best) * P + i)]) best = k;
      const int64_t g = t[static_cast<size_t>(b * P + i)];
      sum[static_cast<size_t>(best)] += 1;
      sum[static_cast<size_t>(g)] += 1;
      if (best == g) inter[static_cast<size_t>(g)] += 1;
    }
  std::vector<std::pair<std::string, double>> out;
  for (const Structure& st : structures) {
    const size_t k = static_cast<size_t>(st.classes.at(0));
    out.emplace_back("dice_" + st.name, sum[k] > 0 ? 2 * inter[k] / sum[k] : 1.0);
  }
  return out;
}

}  // namespace

RunResult run_paper5(const Paper5Setting& s, const Paper5Data& data, const std::string& dir, const std::string& app,
                     const nlohmann::json& extra_config) {
  const int64_t K = paper5_classes(s.dataset);
  const std::vector<Structure> structures = paper5_structures(data, s.dataset);
  SEG_CHECK(!structures.empty(), data.source, ": no foreground class occurs in the data set");
  const Augmentation aug = s.augment ? paper5_augmentation(s.size) : Augmentation{};
  DescriptorLossConfig dcfg = paper5_descriptor_config(paper5_dataset_name(s.dataset));
  dcfg.weight = s.weight;
  const bool desc = s.supervision == Paper5Supervision::Descriptors;

  nlohmann::json cfg = extra_config;
  cfg["app"] = app;
  cfg["dataset"] = paper5_dataset_name(s.dataset);
  cfg["data"] = data.source;
  for (const auto& [key, sets] : {std::pair<const char*, const std::vector<SliceSet>*>{"train_cases", &data.train},
                                  {"val_cases", &data.val}, {"test_cases", &data.test}}) {
    cfg[key] = nlohmann::json::array();
    for (const auto& c : *sets) cfg[key].push_back(c.id);
  }
  cfg["absent_classes"] = data.absent;
  cfg["size"] = s.size;
  cfg["batch"] = s.batch;
  cfg["epochs"] = s.epochs;
  cfg["lr"] = s.lr;
  cfg["max_minutes"] = s.max_minutes;
  cfg["supervision"] = paper5_supervision_name(s.supervision);
  if (desc) {
    cfg["descriptors"] = {{"size_margin", dcfg.size_margin}, {"length_margin", dcfg.length_margin},
                          {"centroid_margin_px_at_256", dcfg.centroid_margin_px},
                          {"distance_margin_px_at_256", dcfg.spread_margin_px}, {"weight", dcfg.weight},
                          {"t0", s.t0}, {"t_factor", s.t_factor},
                          {"same_centroid", dcfg.same_centroid.empty() ? "none" : "Myo takes the LV's centroid"},
                          {"length_ratio", dcfg.length_ratios.empty() ? "none" : "2 <= L(Myo)/L(LV) <= 3"}};
  }
  cfg["augmentation"] = aug.describe();
  cfg["seed"] = s.seed;
  cfg["device"] = device_name(s.device);

  Paper5Model model = make_paper5_model(s.dataset, s.seed);
  const ForwardFn forward = model.forward;
  SliceSampler sampler(data.train, s.batch, s.seed, aug);
  SliceEvaluator val(data.val, structures, {8, false, false});
  SliceEvaluator test(data.test, structures, {8, false, false});

  // the barrier's t lives in the trainer's variables: saved in checkpoints, multiplied after every epoch
  auto vars = std::make_shared<TrainVars>();
  if (desc) (*vars)["t"] = s.t0;
  LossFn loss;
  if (desc) {
    loss = [dcfg, K, vars, structures](const Outputs& out, const Batch& b) {
      const DescriptorBounds bounds = descriptor_bounds(b.target, K, dcfg);
      const DescriptorLossTerms L = descriptor_loss(softmax(out.seg, 1), bounds, dcfg, vars->at("t"));
      LossTerms lt{L.total, {{"size", L.size.item()}, {"centroid", L.centroid.item()}, {"distance", L.spread.item()},
                             {"length", L.length.item()}}};
      if (!dcfg.length_ratios.empty()) lt.parts.emplace_back("ratio", L.ratio.item());
      for (auto& d : batch_dice(out.seg, b.target, structures)) lt.parts.push_back(d);
      return lt;
    };
  } else {
    loss = [structures](const Outputs& out, const Batch& b) {
      Tensor ce = cross_entropy(out.seg, b.target);
      LossTerms lt{ce, {{"ce", ce.item()}}};
      for (auto& d : batch_dice(out.seg, b.target, structures)) lt.parts.push_back(d);
      return lt;
    };
  }

  RunSpec spec;
  spec.out_dir = dir;
  char title[256];
  std::snprintf(title, sizeof title, "%s — paper 5, Table 1: %s, %s, %s", app.c_str(), paper5_dataset_name(s.dataset),
                model.name.c_str(), paper5_supervision_title(s.supervision));
  spec.title = title;
  spec.config = cfg;
  spec.model = model.module.get();
  spec.forward = forward;
  spec.loss = loss;
  spec.train = &sampler;
  spec.validation = &val;
  spec.test = &test;
  spec.train_cfg.epochs = s.epochs;
  spec.train_cfg.optim.name = "adam";
  spec.train_cfg.optim.lr = s.lr;
  spec.train_cfg.optim.beta1 = 0.9;
  spec.train_cfg.optim.beta2 = 0.99;
  spec.train_cfg.schedule.kind = ScheduleSpec::Constant;
  spec.train_cfg.max_minutes = s.max_minutes;
  spec.train_cfg.select_metric = "dice";
  spec.train_cfg.device = s.device;
  spec.train_cfg.vars = vars.get();
  if (desc) {
    const double f = s.t_factor;
    spec.train_cfg.hooks.push_back([f](int, TrainVars& v, Optimizer&) { v["t"] *= f; });
  }
  spec.train_cfg.metadata = {{"app", app}, {"dataset", paper5_dataset_name(s.dataset)},
                             {"supervision", paper5_supervision_name(s.supervision)}};
  spec.report_metrics = {"dice", "jaccard", "hd_mm", "hd95_mm", "assd_mm"};
  const Paper5Dataset ds = s.dataset;
  const Paper5Supervision sup = s.supervision;
  const Paper5Data* d = &data;
  spec.report = [ds, sup, d, structures](const RunResult& r, nlohmann::json& j, std::ostringstream& md) {
    j["paper"] = paper5_paper_row(ds, sup);
    j["absent_classes"] = d->absent;
    md << "\nData: " << d->source << "; " << d->train.size() << " training / " << d->val.size() << " validation / "
       << d->test.size() << " test cases.";
    if (!d->absent.empty()) {
      md << " Absent from the data set (not evaluated; bounds [0, 0]):";
      for (int k : d->absent) md << " " << paper5_class_names(ds)[static_cast<size_t>(k)];
      md << ".";
    }
    md << "\n";
    if (!r.test) return;
    md << "\n| test 3-D Dice | ours | paper |\n|---|---|---|\n";
    const nlohmann::json paper = paper5_paper_row(ds, sup);
    for (const Structure& st : structures) {
      const MetricSummary m = summarise(r.test->values.at("dice").at(st.name));
      char p[64] = "—";
      if (paper.contains(st.name))
        std::snprintf(p, sizeof p, "%.3f (%.3f)", paper[st.name]["mean"].get<double>(), paper[st.name]["std"].get<double>());
      char o[64];
      std::snprintf(o, sizeof o, "%.3f (%.3f)", m.mean, m.std);
      md << "| " << st.name << " | " << o << " | " << p << " |\n";
    }
  };
  std::printf("run: %s, %s, %s supervision, seed %llu → %s\n", paper5_dataset_name(s.dataset), model.name.c_str(),
              paper5_supervision_name(s.supervision), static_cast<unsigned long long>(s.seed), dir.c_str());
  return run_experiment(spec);
}

}  // namespace seg
