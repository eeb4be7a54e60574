// Paper 4's protocol on the toolkit (see protocol.h).
#include "apps/paper4/protocol.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "data/formats/png_io.h"
#include "data/transforms/ellipse_fit.h"
#include "engine/autograd.h"
#include "kernels/shape_ops.h"
#include "losses/multitask.h"

namespace seg::paper4 {

namespace {

SliceSet slice_set(const Image& im, Target t, DistanceVariant d) {
  SliceSet s;
  s.id = im.id;
  s.slices = 1;
  s.channels = 3;
  s.height = s.width = im.size;
  s.classes = 2;
  s.image = im.rgb;
  s.labels = structure_mask(im.labels, t);
  const std::vector<uint8_t> c = contour_target(s.labels, im.size);
  s.extra["contour"] = SliceExtra{1, true, true, std::vector<float>(c.begin(), c.end())};
  s.extra["distance"] = SliceExtra{1, true, false, distance_target(s.labels, im.size, d)};
  return s;
}

// The predicted 0/1 mask of a (1, 2, H, W) log-probability map: class 1 where it is the more probable (p > 0.5).
std::vector<uint8_t> argmax_mask(const Tensor& logp, std::vector<double>* p1 = nullptr) {
  const std::vector<double> v = logp.to_vector();
  const size_t P = v.size() / 2;
  std::vector<uint8_t> m(P);
  if (p1) p1->resize(P);
  for (size_t i = 0; i < P; ++i) {
    m[i] = v[P + i] > v[i];
    if (p1) (*p1)[i] = std::exp(v[P + i]);
  }
  return m;
}

double overlap(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, bool jaccard) {
  double inter = 0, sa = 0, sb = 0;
  for (size_t i = 0; i < a.size(); ++i) inter += (a[i] && b[i]), sa += a[i] != 0, sb += b[i] != 0;
  if (sa + sb == 0) return 1.0;  // both empty
  return jaccard ? inter / (sa + sb - inter) : 2 * inter / (sa + sb);
}

LossFn composed_loss(AuxTask aux) {
  return [aux](const Outputs& out, const Batch& b) {
    const int64_t B = b.target.size(0), H = b.target.size(1), W = b.target.size(2);
    Tensor contour, ct, dist, dt;
    if (aux == AuxTask::Contour) {
      contour = out.heads.at("contour");
      ct = reshape(b.extra.at("contour"), {B, H, W}).to(DType::Int64);
    } else if (aux == AuxTask::Distance) {
      dist = out.heads.at("distance");
      dt = b.extra.at("distance");
    }
    const MultitaskLoss l = multitask_loss(out.seg, b.target, contour, ct, dist, dt);
    LossTerms t{l.total, {{"mask_nll", l.mask.item()}}};
    if (l.contour.defined()) t.parts.push_back({"contour_nll", l.contour.item()});
    if (l.distance.defined()) t.parts.push_back({"distance_mse", l.distance.item()});
    return t;
  };
}

}  // namespace

DataSplit make_split(Dataset d, std::vector<Image> images, const std::string& source, double train_fraction,
                     double val_fraction, uint64_t seed) {
  DataSplit s;
  s.dataset = d;
  s.source = source;
  s.images = std::move(images);
  auto [train, test] = split_train_test(s.images, train_fraction, seed);
  SEG_CHECK(train.size() >= 2 && !test.empty(), source, ": ", s.images.size(),
            " images are too few for a train / validation / test split (need at least 4)");
  // The validation part: a seeded pick of the training part (the split's own shuffle with another seed).
  std::vector<Image> tr;
  for (size_t i : train) tr.push_back(s.images[i]);
  const size_t nval = std::max<size_t>(1, static_cast<size_t>(std::lround(val_fraction * static_cast<double>(train.size()))));
  const auto [keep, held] = split_train_test(tr, 1.0 - static_cast<double>(nval) / static_cast<double>(train.size()), seed + 1);
  for (size_t i : keep) s.train.push_back(train[i]);
  for (size_t i : held) s.val.push_back(train[i]);
  s.test = test;
  return s;
}

StructureSets make_structure_sets(const DataSplit& split, Target t, DistanceVariant d) {
  StructureSets out;
  out.target = t;
  out.distance = d;
  for (size_t i : split.train) out.train.push_back(slice_set(split.images[i], t, d));
  for (size_t i : split.val) out.val.push_back(slice_set(split.images[i], t, d));
  for (size_t i : split.test) out.test.push_back(slice_set(split.images[i], t, d));
  return out;
}

std::unique_ptr<MultitaskUNet> make_paper4_model(MultitaskVariant v, int64_t base_width, uint64_t seed) {
  return std::make_unique<MultitaskUNet>(
      MultitaskUNet::Config{.variant = v, .in_channels = 3, .base_width = base_width, .seed = seed});
}

ModelDescription describe_paper4_model(MultitaskVariant v, int64_t base_width) {
  return {"multitask_unet", multitask_variant_key(v), make_paper4_model(v, base_width, 0)->num_parameters()};
}

Scores Paper4Evaluator::evaluate(const ForwardFn& forward, Device device) const {
  Scores sc;
  sc.structures = {structure_};
  NoGradGuard ng;
  for (const SliceSet& s : sets_) {
    sc.cases.push_back(s.id);
    const Outputs o = forward(slice_batch(s, 0, 1, device));
    std::vector<double> p1;
    std::vector<uint8_t> pred = argmax_mask(o.seg, &p1);
    if (ellipse_) pred = ellipse_fit_mask(pred.data(), s.width, s.height);
    double pg = 0, ps = 0, gs = 0;
    for (size_t i = 0; i < p1.size(); ++i) pg += p1[i] * s.labels[i], ps += p1[i], gs += s.labels[i];
    sc.values["dice"][structure_][s.id] = overlap(pred, s.labels, false);
    sc.values["jaccard"][structure_][s.id] = overlap(pred, s.labels, true);
    sc.values["soft_dice"][structure_][s.id] = ps + gs > 0 ? 2 * pg / (ps + gs) : 1.0;
  }
  return sc;
}

void write_paper4_figures(const std::string& dir, const std::vector<SliceSet>& sets, const std::vector<Image>& images,
                          const std::vector<size_t>& image_index, MultitaskUNet& model, bool ellipse_fit, int n,
                          Device device) {
  std::filesystem::create_directories(dir);
  NoGradGuard ng;
  model.eval();
  for (size_t k = 0; k < sets.size() && static_cast<int>(k) < n; ++k) {
    const SliceSet& s = sets[k];
    const Image& im = images.at(image_index.at(k));
    const int64_t S = s.width, P = S * S;
    const auto o = model.forward(slice_batch(s, 0, 1, device));
    std::vector<double> p1;
    std::vector<uint8_t> pred = argmax_mask(o.mask, &p1);
    if (ellipse_fit) pred = ellipse_fit_mask(pred.data(), S, S);
    // the fourth tile: P(contour), the distance map, or (mask only) P(mask)
    std::vector<double> aux = p1;
    if (o.contour.defined()) argmax_mask(o.contour, &aux);
    if (o.distance.defined()) aux = o.distance.to_vector();
    // Tiles of T = z·S pixels (nearest, z = ⌈128 / S⌉) so that small training sizes stay visible.
    const int64_t z = std::max<int64_t>(1, (128 + S - 1) / S), T = z * S;
    std::vector<uint8_t> rgb(static_cast<size_t>(4 * T * T * 3));
    auto put = [&](int tile, int64_t p, uint8_t r, uint8_t g, uint8_t b) {
      const int64_t y = p / S, x = p % S;
      for (int64_t dy = 0; dy < z; ++dy)
        for (int64_t dx = 0; dx < z; ++dx) {
          const size_t at = static_cast<size_t>(((y * z + dy) * 4 * T + tile * T + x * z + dx) * 3);
          rgb[at] = r, rgb[at + 1] = g, rgb[at + 2] = b;
        }
    };
    for (int64_t p = 0; p < P; ++p) {
      put(0, p, im.display[static_cast<size_t>(p)], im.display[static_cast<size_t>(P + p)], im.display[static_cast<size_t>(2 * P + p)]);
      const uint8_t g = s.labels[static_cast<size_t>(p)] ? 255 : 0, m = pred[static_cast<size_t>(p)] ? 255 : 0;
      put(1, p, g, g, g);
      put(2, p, m, m, m);
      const uint8_t a = static_cast<uint8_t>(std::lround(255 * std::clamp(aux[static_cast<size_t>(p)], 0.0, 1.0)));
      put(3, p, a, a, a);
    }
    write_png_rgb(dir + "/" + s.id + ".png", static_cast<int>(4 * T), static_cast<int>(T), rgb);
  }
  model.train();
}

RunResult run_paper4(const Paper4Setting& s, const DataSplit& split, const StructureSets& sets, const std::string& dir,
                     const nlohmann::json& paper_row, const nlohmann::json& extra_config) {
  const std::string structure = target_name(sets.target);
  const AuxTask aux = aux_task(s.variant);
  nlohmann::json cfg = extra_config;
  cfg["app"] = "multitask";
  cfg["dataset"] = split.dataset == Dataset::Polyp ? "polyp" : "fundus";
  cfg["data"] = split.source;
  cfg["structure"] = structure;
  cfg["variant"] = multitask_variant_key(s.variant);
  if (aux == AuxTask::Distance) cfg["distance_map"] = sets.distance == DistanceVariant::D1 ? "D1" : sets.distance == DistanceVariant::D2 ? "D2" : "D3";
  if (aux == AuxTask::Contour) cfg["contour_radius_px"] = contour_radius(s.size);
  auto ids = [&](const std::vector<size_t>& idx) {
    nlohmann::json a = nlohmann::json::array();
    for (size_t i : idx) a.push_back(split.images[i].id);
    return a;
  };
  cfg["train_images"] = ids(split.train);
  cfg["val_images"] = ids(split.val);
  cfg["test_images"] = ids(split.test);
  cfg["size"] = s.size;
  cfg["base_width"] = s.base_width;
  cfg["batch"] = std::min<int64_t>(s.batch, static_cast<int64_t>(sets.train.size()));
  cfg["epochs"] = s.epochs;
  cfg["lr"] = s.lr;
  cfg["schedule"] = s.schedule.describe();
  cfg["max_minutes"] = s.max_minutes;
  cfg["ellipse_fit"] = s.ellipse_fit;
  cfg["augmentation"] = "none";
  cfg["seed"] = s.seed;
  cfg["device"] = device_name(s.device);

  std::unique_ptr<MultitaskUNet> model = make_paper4_model(s.variant, s.base_width, s.seed);
  MultitaskUNet* m = model.get();
  const ForwardFn forward = [m](const Tensor& x) {
    const auto o = m->forward(x);
    Outputs out{o.mask, {}};
    if (o.contour.defined()) out.heads["contour"] = o.contour;
    if (o.distance.defined()) out.heads["distance"] = o.distance;
    return out;
  };
  // A folder with fewer training images than a batch (the 5 Kvasir samples) trains with smaller batches.
  const int64_t batch = std::min<int64_t>(s.batch, static_cast<int64_t>(sets.train.size()));
  if (batch < s.batch)
    std::printf("note: %zu training images, batch %lld instead of %lld\n", sets.train.size(), static_cast<long long>(batch),
                static_cast<long long>(s.batch));
  SliceSampler sampler(sets.train, batch, s.seed, Augmentation{});
  Paper4Evaluator val(sets.val, structure, s.ellipse_fit), test(sets.test, structure, s.ellipse_fit);

  RunSpec spec;
  spec.out_dir = dir;
  spec.title = std::string("multitask — paper 4, ") + multitask_variant_paper(s.variant) + ", " + structure;
  spec.config = cfg;
  spec.model = m;
  spec.forward = forward;
  spec.loss = composed_loss(aux);
  spec.train = &sampler;
  spec.validation = &val;
  spec.test = &test;
  spec.train_cfg.epochs = s.epochs;
  spec.train_cfg.optim.name = "adam";
  spec.train_cfg.optim.lr = s.lr;
  spec.train_cfg.optim.beta1 = 0.9;
  spec.train_cfg.optim.beta2 = 0.999;  // torch.optim.Adam's default, as the authors' script
  spec.train_cfg.schedule = s.schedule;
  spec.train_cfg.max_minutes = s.max_minutes;
  spec.train_cfg.select_metric = "dice";
  spec.train_cfg.device = s.device;
  spec.train_cfg.metadata = {{"app", "multitask"}, {"variant", multitask_variant_key(s.variant)}, {"structure", structure}};
  spec.report_metrics = {"dice", "jaccard", "soft_dice"};
  const DataSplit* sp = &split;
  const StructureSets* ss = &sets;
  const Paper4Setting st = s;
  spec.overlays = [m, sp, ss, st](const std::string& odir) {
    write_paper4_figures(std::filesystem::path(odir).parent_path().string() + "/figures", ss->test, sp->images, sp->test,
                         *m, st.ellipse_fit, st.figures, st.device);
  };
  spec.report = [paper_row, structure, st](const RunResult& r, nlohmann::json& j, std::ostringstream& md) {
    j["paper"] = paper_row;
    if (!r.test) return;
    const MetricSummary d = summarise(r.test->values.at("dice").at(structure)),
                        ja = summarise(r.test->values.at("jaccard").at(structure));
    j["dice"] = to_json(d);
    j["jaccard"] = to_json(ja);
    md << "\n| model | structure | Dice (test) | Jaccard (test) | paper Dice | paper Jaccard |\n|---|---|---|---|---|---|\n| "
       << multitask_variant_paper(st.variant) << " | " << structure << " | " << mean_std(d, 4) << " | " << mean_std(ja, 4)
       << " | " << (paper_row.contains("dice") ? paper_row["dice"].dump() : "—") << " | "
       << (paper_row.contains("jaccard") ? paper_row["jaccard"].dump() : "—") << " |\n\n"
       << "Test images: mean ± std over images" << (st.ellipse_fit ? ", after the ellipse fit" : "")
       << "; weights of the epoch chosen on the validation images.\n";
  };
  std::printf("run: %s, %s, seed %llu → %s\n", multitask_variant_paper(s.variant), structure.c_str(),
              static_cast<unsigned long long>(s.seed), dir.c_str());
  return run_experiment(spec);
}

}  // namespace seg::paper4
