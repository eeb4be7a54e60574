// Paper 2's protocol on the toolkit (see protocol.h).
#include "apps/paper2/protocol.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/toolkit/results.h"
#include "data/metrics/segmentation_metrics.h"
#include "engine/device.h"
#include "engine/serialize.h"
#include "kernels/nll.h"
#include "models/small_cnn.h"
#include "models/unet_bn.h"

namespace seg::paper2 {

namespace fs = std::filesystem;

namespace {

std::string lambda_text(double l) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", l);
  return b;
}

LossFn cross_entropy_loss() {
  return [](const Outputs& out, const Batch& b) {
    Tensor ce = cross_entropy(out.seg, b.target);
    return LossTerms{ce, {{"ce", ce.item()}}};
  };
}

const char* paper_dice(Dataset d, const std::string& row) {
  if (d == Dataset::Jsrt) {
    if (row == "average_hard") return "0.8124";
    if (row == "none") return "0.9673 ± 0.0011";
    if (row == "1") return "0.9649 ± 0.0012";
    if (row == "10") return "0.9637 ± 0.0003";
    if (row == "256") return "0.9599 ± 0.0023";
  } else {
    if (row == "average_hard") return "0.158";
    if (row == "none") return "0.8496 ± 0.0133";
    if (row == "1") return "0.8582 ± 0.0100";
    if (row == "10") return "0.8557 ± 0.0035";
    if (row == "256") return "0.8347 ± 0.0161";
  }
  return nullptr;
}

}  // namespace

std::string Variant::key(Dataset d) const {
  std::string k = std::string(dataset_name(d)) + "_" + (model == ModelKind::UNetBN ? "unet" : "cnn4") + "_" + padding +
                  "_pe" + lambda_text(pe);
  if (train_images > 0) k += "_n" + std::to_string(train_images);
  return k;
}

std::string Variant::label() const {
  std::string s = model == ModelKind::UNetBN ? "U-Net" : "4-layer CNN";
  s += pe > 0 ? " w/ PE (λ = " + lambda_text(pe) + ")" : " w/o PE";
  if (padding != "zeros") s += ", " + padding + " padding";
  if (train_images > 0) s += ", " + std::to_string(train_images) + " training images";
  return s;
}

Model make_model(const Variant& v, const Protocol& p, uint64_t seed) {
  Model m;
  if (v.model == ModelKind::UNetBN) {
    auto u = std::make_shared<UNetBN>(UNetBN::Config{.in_channels = 1, .classes = 4, .base_width = p.unet_width,
                                                     .pe_lambda = v.pe, .padding_mode = v.padding, .seed = seed});
    m.forward = [u](const Tensor& x) { return Outputs{u->forward(x), {}}; };
    m.module = u;
  } else {
    auto c = std::make_shared<SmallCNN>(SmallCNN::Config{.in_channels = 1, .classes = 4, .width = p.cnn_width,
                                                         .pe_lambda = v.pe, .padding_mode = v.padding, .seed = seed});
    m.forward = [c](const Tensor& x) { return Outputs{c->forward(x), {}}; };
    m.module = c;
  }
  return m;
}

ModelDescription describe_model(const Variant& v, const Protocol& p) {
  const Model m = make_model(v, p, 0);
  const int64_t w = v.model == ModelKind::UNetBN ? p.unet_width : p.cnn_width;
  return {v.model == ModelKind::UNetBN ? "U-Net-BN (paper 2, supplement Table 3)" : "4-layer CNN (paper 2, supplement Table 4)",
          (v.pe > 0 ? "PE λ " + lambda_text(v.pe) : std::string("no PE")) + ", " + v.padding + " padding, width " +
              std::to_string(w) + ", 1 input channel, 4 classes",
          m.module->num_parameters()};
}

std::vector<Structure> structures(Dataset d) { return foreground_structures(4, class_names(d)); }

std::vector<SliceSet> slice_sets(const std::vector<Case2D>& cases, const Normaliser& norm) {
  std::vector<SliceSet> out;
  out.reserve(cases.size());
  for (const auto& c : cases)
    out.push_back(make_slice_set(c.id, {norm.apply(c.image)}, c.labels, LabelMap{{1, 1}, {2, 2}, {3, 3}}, 4,
                                 c.image.ny(), c.image.nx(), Normalisation::None));
  return out;
}

PaperData prepare_data(Dataset d, const Split& split) {
  PaperData p;
  p.dataset = d;
  p.source = split.source;
  p.norm = fit_normaliser(d, split.train);
  p.test_cases = split.test;
  p.train = slice_sets(split.train, p.norm);
  p.val = slice_sets(split.val, p.norm);
  p.test = slice_sets(split.test, p.norm);
  p.average = averaged_mask(split.train, 4);
  return p;
}

std::map<std::string, double> dice_per_case(const ForwardFn& forward, const std::vector<SliceSet>& sets, Dataset d,
                                            int64_t batch, Device device,
                                            std::map<std::string, std::map<std::string, double>>* per_structure) {
  const auto st = structures(d);
  std::map<std::string, double> out;
  for (const SliceSet& s : sets) {
    const std::vector<uint8_t> pred = predict_labels(forward, s, batch, device);
    double sum = 0;
    std::vector<uint8_t> pm(pred.size()), gm(pred.size());
    for (const auto& x : st) {
      const int k = x.classes[0];
      for (size_t i = 0; i < pred.size(); ++i) pm[i] = pred[i] == k, gm[i] = s.labels[i] == k;
      const double v = dice_of(pm.data(), gm.data(), static_cast<int64_t>(pm.size()));
      sum += v;
      if (per_structure) (*per_structure)[x.name][s.id] = v;
    }
    out[s.id] = sum / static_cast<double>(st.size());
  }
  return out;
}

RunResult run_variant(const Variant& v, const Protocol& p, const PaperData& data, uint64_t seed, const std::string& dir,
                      const std::string& app, const nlohmann::json& extra) {
  nlohmann::json cfg = extra;
  cfg["app"] = app;
  cfg["dataset"] = dataset_name(data.dataset);
  cfg["data"] = data.source;
  auto ids = [](const std::vector<SliceSet>& s) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& c : s) a.push_back(c.id);
    return a;
  };
  cfg["train_cases"] = ids(data.train);
  cfg["val_cases"] = ids(data.val);
  cfg["test_cases"] = ids(data.test);
  cfg["model"] = v.model == ModelKind::UNetBN ? "unet_bn" : "small_cnn";
  cfg["width"] = v.model == ModelKind::UNetBN ? p.unet_width : p.cnn_width;
  cfg["pe_lambda"] = v.pe;
  cfg["padding"] = v.padding;
  cfg["size"] = p.size;
  // Table 2 trains on 10 or 5 images with batch 20: as PyTorch's DataLoader (drop_last False) does, an epoch is then
  // one batch of every training slice; our sampler drops the partial batch, so the batch is capped at the slices.
  int64_t train_slices = 0;
  for (const auto& s : data.train) train_slices += s.slices;
  const int64_t batch = std::min(p.batch, train_slices);
  cfg["batch"] = batch;
  cfg["epochs"] = p.epochs;
  cfg["lr"] = p.lr;
  cfg["max_minutes"] = p.max_minutes;
  cfg["normalisation"] = data.dataset == Dataset::Jsrt ? "z-score with the training set's mean " +
                                                             std::to_string(data.norm.mean) + " and std " +
                                                             std::to_string(data.norm.std)
                                                       : std::string("z-score per slice");
  cfg["augmentation"] = "none";
  cfg["seed"] = seed;
  cfg["device"] = device_name(p.device);

  Model model = make_model(v, p, seed);
  SliceSampler sampler(data.train, batch, seed, Augmentation{}, data.dataset == Dataset::Jsrt);
  const std::vector<Structure> st = structures(data.dataset);
  SliceEvaluator val(data.val, st, {p.eval_batch, false, false});
  SliceEvaluator test(data.test, st, {p.eval_batch, false, false});

  RunSpec spec;
  spec.out_dir = dir;
  spec.title = app + " — paper 2, " + dataset_name(data.dataset) + ", " + v.label() + ", seed " + std::to_string(seed);
  spec.config = cfg;
  spec.model = model.module.get();
  spec.forward = model.forward;
  spec.loss = cross_entropy_loss();
  spec.train = &sampler;
  spec.validation = &val;
  spec.test = &test;
  spec.train_cfg.epochs = p.epochs;
  spec.train_cfg.optim.name = "adam";
  spec.train_cfg.optim.lr = p.lr;
  spec.train_cfg.optim.beta1 = 0.9;
  spec.train_cfg.optim.beta2 = 0.999;  // PyTorch's default: the paper states only Adam and lr 1e-3
  spec.train_cfg.schedule.kind = ScheduleSpec::Constant;
  spec.train_cfg.max_minutes = p.max_minutes;
  spec.train_cfg.select_metric = "dice";
  spec.train_cfg.device = p.device;
  spec.train_cfg.metadata = {{"app", app}, {"variant", v.key(data.dataset)}};
  spec.report_metrics = {"dice", "jaccard", "hd_mm", "hd95_mm", "soft_dice"};
  const std::vector<SliceSet>* tsets = &data.test;
  const ForwardFn fwd = model.forward;
  const Device dev = p.device;
  const std::vector<Structure> sts = st;
  spec.overlays = [tsets, fwd, sts, dev](const std::string& odir) {
    for (size_t i = 0; i < tsets->size() && i < 3; ++i) {
      const auto pred = predict_labels(fwd, (*tsets)[i], 8, dev);
      for (const auto& s : sts) write_case_overlays(odir + "/" + s.name, (*tsets)[i], pred, s);
    }
  };
  std::printf("run: %s, %s, seed %llu → %s\n", dataset_name(data.dataset), v.label().c_str(),
              static_cast<unsigned long long>(seed), dir.c_str());
  return run_experiment(spec);
}

RunResult averaged_mask_run(const PaperData& data, bool soft, const std::string& dir) {
  auto scores = [&](const std::vector<SliceSet>& sets) {
    Scores sc;
    const auto st = structures(data.dataset);
    for (const auto& x : st) sc.structures.push_back(x.name);
    const Volume hard = data.average.argmax();
    const int64_t P = hard.nx() * hard.ny();
    for (const SliceSet& s : sets) {
      SEG_CHECK(s.pixels() == P, "averaged mask: case ", s.id, " has another size");
      sc.cases.push_back(s.id);
      for (const auto& x : st) {
        const int k = x.classes[0];
        double inter = 0, sp = 0, sg = 0;
        for (int64_t z = 0; z < s.slices; ++z)
          for (int64_t q = 0; q < P; ++q) {
            const double g = s.labels[static_cast<size_t>(z * P + q)] == k ? 1.0 : 0.0;
            const double pr = soft ? data.average.freq.data[static_cast<size_t>(k * P + q)]
                                   : (hard.data[static_cast<size_t>(q)] == static_cast<float>(k) ? 1.0 : 0.0);
            inter += pr * g, sp += pr, sg += g;
          }
        sc.values["dice"][x.name][s.id] = sp + sg > 0 ? 2 * inter / (sp + sg) : 1.0;  // dice_of's both-empty rule
      }
    }
    return sc;
  };
  RunResult r;
  r.dir = dir;
  r.validation = scores(data.val);
  r.test = scores(data.test);
  r.results = {{"complete", true},
               {"baseline", soft ? "averaged mask, soft (the class frequency as the prediction)"
                                 : "averaged mask (the most frequent class of the training masks at each pixel)"},
               {"dataset", dataset_name(data.dataset)},
               {"validation", r.validation.to_json()},
               {"test", r.test->to_json()}};
  fs::create_directories(dir);
  write_text_atomic(dir + "/results.json", r.results.dump(2) + "\n");
  return r;
}

nlohmann::json robustness(const Variant& v, const Protocol& p, const PaperData& data, const std::string& dir,
                          uint64_t seed, const std::vector<DegradationSpec>& degradations,
                          const std::vector<int64_t>& shifts) {
  nlohmann::json want = {{"size", p.size}, {"shifts", shifts}};
  for (const auto& d : degradations) want["levels"][d.key] = d.levels;
  const std::string path = dir + "/robustness.json";
  if (fs::exists(path)) {
    const nlohmann::json j = nlohmann::json::parse(read_text(path));
    if (j.value("spec", nlohmann::json()) == want) return j;
  }
  SEG_CHECK(fs::exists(dir + "/best.safetensors"), dir, ": no best.safetensors to evaluate (train the run first)");
  Model m = make_model(v, p, seed);
  load_checkpoint(dir + "/best.safetensors", *m.module, nullptr);
  m.module->to(p.device);
  m.module->eval();
  auto mean_dice = [&](const std::vector<SliceSet>& sets) {
    return summarise(dice_per_case(m.forward, sets, data.dataset, p.eval_batch, p.device)).mean;
  };
  nlohmann::json out = {{"spec", want}, {"variant", v.key(data.dataset)}, {"seed", seed}};
  const double clean = mean_dice(data.test);
  out["clean"] = clean;
  for (const auto& d : degradations) {
    std::vector<double> dice{clean};
    for (double level : d.levels) {
      std::vector<Case2D> deg;
      for (const auto& c : data.test_cases) deg.push_back(degrade(c, d.kind, level, 0xDE6ull));
      dice.push_back(mean_dice(slice_sets(deg, data.norm)));
    }
    out["degradations"][d.key] = {{"levels", d.levels}, {"dice", dice}};
  }
  std::vector<double> sd;
  for (int64_t dx : shifts) {
    std::vector<Case2D> moved;
    for (const auto& c : data.test_cases) moved.push_back(shift_horizontal(c, dx));
    sd.push_back(mean_dice(slice_sets(moved, data.norm)));
  }
  out["shifts"] = {{"dx", shifts}, {"dice", sd}};
  write_text_atomic(path, out.dump(2) + "\n");
  return out;
}

nlohmann::json paper_table1() {
  nlohmann::json t;
  for (Dataset d : {Dataset::Jsrt, Dataset::Acdc}) {
    nlohmann::json rows = nlohmann::json::object();
    for (const char* r : {"average_hard", "none", "1", "10", "256"}) rows[r] = paper_dice(d, r);
    t[dataset_name(d)] = rows;
  }
  t["notes"] = "Test Dice; ± over repeated trainings (the number of runs is not stated). Rows: averaged mask, U-Net "
               "without PE, with PE λ = 1, 10, 256. How the averaged mask is turned into a prediction is not stated.";
  return t;
}

nlohmann::json paper_table1_cell(Dataset d, const std::string& row) {
  const char* v = paper_dice(d, row);
  return {{"dice", v ? nlohmann::json(v) : nlohmann::json(nullptr)}};
}

nlohmann::json paper_table2() {
  return {{"156", {{"without_pe", "0.9673 ± 0.0011"}, {"with_pe", "0.9599 ± 0.0023"}}},
          {"10", {{"without_pe", "0.8813 ± 0.0175"}, {"with_pe", "0.9020 ± 0.0027"}}},
          {"5", {{"without_pe", "0.8700 ± 0.0170"}, {"with_pe", "0.8774 ± 0.0055"}}},
          {"notes", "JSRT, U-Net, test Dice, with PE λ = 256 (the 156-image row equals Table 1's λ = 256 row); the "
                    "reduced training sets are drawn at random from the 156 training images."}};
}

nlohmann::json paper_table2_cell(int64_t n, bool pe) {
  const nlohmann::json t = paper_table2();
  const std::string k = std::to_string(n);
  if (!t.contains(k)) return {{"dice", nullptr}};
  return {{"dice", t[k][pe ? "with_pe" : "without_pe"]}};
}

std::string paper_figure_text(int figure) {
  switch (figure) {
    case 2:
      return "Fig. 2 (U-Net, zero padding, PE λ = 1, 10, 256 at the input): without PE the Dice falls quickly with "
             "Gaussian and shot noise (less with blur) on both data sets; PE mitigates the fall, more with larger λ, "
             "while the largest λ costs some clean accuracy (clearer on ACDC). Curves only; no numbers in the text.";
    case 3:
      return "Fig. 3 (4-layer CNN, zero padding, PE λ = 256): without PE only slightly above 0.5 (JSRT) and below 0.1 "
             "(ACDC) on clean images; with PE about 0.9 and 0.55, better than the averaged mask (0.8124, 0.158), and "
             "more robust to the degradations.";
    case 4:
      return "Fig. 4 (U-Net, zero vs reflection padding, each without and with PE): the padding matters only on JSRT; "
             "without PE reflection padding is clearly less robust to noise than zero padding; with PE both reach "
             "the robustness of zero padding + PE; no difference on clean images. λ is not stated (we use 256).";
    case 5:
      return "Fig. 5 (U-Net without vs with PE, test images shifted along x): the model without PE is more robust to "
             "the shift; it still loses accuracy for large shifts. Data set, λ and shift range are not stated in the "
             "text we have (we show both data sets, λ = 256, ±64 px at 256²).";
    default: return "";
  }
}

}  // namespace seg::paper2
