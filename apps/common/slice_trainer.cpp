// The slice training loop (see slice_trainer.h).
#include "apps/common/slice_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/metrics/segmentation_metrics.h"
#include "data/transforms/components.h"
#include "engine/autograd.h"
#include "engine/optim.h"
#include "engine/profiling.h"
#include "engine/serialize.h"

namespace seg {

std::vector<uint8_t> predict_patient(const ForwardFn& forward, const SliceSet& s, int64_t batch, Device device) {
  NoGradGuard ng;
  const int64_t P = s.size * s.size;
  std::vector<uint8_t> pred(static_cast<size_t>(s.slices * P));
  for (int64_t z0 = 0; z0 < s.slices; z0 += batch) {
    const int64_t n = std::min(batch, s.slices - z0);
    Tensor logits = forward(slice_batch(s, z0, n, device)).to(Device::CPU).to(DType::Float32);
    const int64_t K = logits.size(1);
    const float* l = logits.data<float>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < P; ++p) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; ++k)
          if (l[(b * K + k) * P + p] > l[(b * K + best) * P + p]) best = k;
        pred[static_cast<size_t>((z0 + b) * P + p)] = best == 1 ? 1 : 0;
      }
  }
  return pred;
}

PatientScores evaluate(const ForwardFn& forward, const std::vector<SliceSet>& val, int64_t batch, Device device) {
  PatientScores sc;
  for (const SliceSet& s : val) {
    const std::vector<uint8_t> pred = predict_patient(forward, s, batch, device);
    const std::array<int64_t, 3> dims{s.size, s.size, s.slices};
    const BinaryScores v = binary_scores(pred.data(), s.mask.data(), dims, s.spacing);
    sc.dice_volume[s.id] = v.dice;
    sc.hd_mm[s.id] = v.hd;
    sc.hd95_mm[s.id] = v.hd95;
    const std::vector<uint8_t> lcc = keep_largest_component(pred.data(), dims);
    const BinaryScores c = binary_scores(lcc.data(), s.mask.data(), dims, s.spacing);
    sc.lcc_dice_volume[s.id] = c.dice;
    sc.lcc_hd_mm[s.id] = c.hd;
    sc.lcc_hd95_mm[s.id] = c.hd95;
    // Dice over the slices that contain the organ (the paper's validation slices were heart slices)
    std::vector<uint8_t> p2, g2;
    const int64_t P = s.size * s.size;
    for (int64_t z = 0; z < s.slices; ++z)
      if (s.has_organ(z)) {
        p2.insert(p2.end(), pred.begin() + z * P, pred.begin() + (z + 1) * P);
        g2.insert(g2.end(), s.mask.begin() + z * P, s.mask.begin() + (z + 1) * P);
      }
    sc.dice_organ_slices[s.id] = dice_of(p2.data(), g2.data(), static_cast<int64_t>(p2.size()));
  }
  return sc;
}

namespace {
double mean_of(const std::map<std::string, double>& m) {
  return summarise(m).mean;
}
}  // namespace

TrainResult train_slices(Module& model, const ForwardFn& forward, const LossFn& loss_fn, const std::vector<SliceSet>& train,
                         const std::vector<SliceSet>& val, const TrainerConfig& cfg) {
  namespace fs = std::filesystem;
  fs::create_directories(cfg.out_dir);
  model.to(cfg.device);
  Adam opt(model.named_parameters(), cfg.lr, 0.9, 0.99);
  ReduceOnPlateau plateau(opt, cfg.patience, 0.5);
  SliceSampler sampler(train, cfg.batch, cfg.seed, true);
  const int64_t steps = sampler.steps_per_epoch();
  const bool budget_lr = cfg.schedule == LrSchedule::Budget;
  SEG_CHECK(!budget_lr || cfg.max_minutes > 0, "the budget learning-rate schedule needs a time budget (max_minutes > 0)");
  SEG_CHECK(steps > 0, "training: ", train.size(), " patients give fewer slices than one batch of ", cfg.batch);

  TrainResult res;
  int start_epoch = 1;
  const std::string last_ckpt = cfg.out_dir + "/last.safetensors", best_ckpt = cfg.out_dir + "/best.safetensors";
  if (!cfg.resume.empty()) {
    auto meta = load_checkpoint(cfg.resume, model, &opt);
    start_epoch = std::stoi(meta.at("epoch")) + 1;
    opt.set_lr(std::stod(meta.at("lr")));
    plateau.set_state(std::stod(meta.at("best_metric")), std::stoi(meta.at("bad_epochs")));
    res.best_epoch = std::stoi(meta.at("best_epoch"));
    if (fs::exists(cfg.out_dir + "/curve.json")) {
      // the curve so far lives beside the checkpoint
      std::FILE* f = std::fopen((cfg.out_dir + "/curve.json").c_str(), "r");
      if (f) {
        std::string s;
        char b[4096];
        size_t n;
        while ((n = std::fread(b, 1, sizeof b, f)) > 0) s.append(b, n);
        std::fclose(f);
        // non-finite values (an empty prediction has no Hausdorff distance) were written as null
        auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : NAN; };
        for (const auto& r : nlohmann::json::parse(s))
          res.curve.push_back({r["epoch"].get<int>(), num(r["train_loss"]), num(r["lr"]), num(r["val_dice_volume"]),
                               num(r["val_dice_heart_slices"]), num(r["val_hd_mm"]), num(r["seconds"])});
      }
    }
    std::printf("resumed from %s at epoch %d (lr %.3g)\n", cfg.resume.c_str(), start_epoch, opt.lr());
  }

  const double base_seconds = res.curve.empty() ? 0.0 : res.curve.back().seconds;  // time spent before a resume
  Progress prog(steps * (cfg.epochs - start_epoch + 1), std::max<int64_t>(1, steps / 20));
  if (cfg.max_minutes > 0) prog.set_budget(std::max(1.0, cfg.max_minutes * 60 - base_seconds));
  double best_metric = plateau.best();
  double epoch_start_s = 0;
  int64_t done = 0;
  for (int epoch = start_epoch; epoch <= cfg.epochs; ++epoch) {
    model.train();
    sampler.start_epoch(epoch);
    double loss_sum = 0;
    for (int64_t s = 0; s < steps; ++s) {
      Batch b;
      {
        NvtxRange r("data");
        b = sampler.next(cfg.device);
      }
      if (budget_lr)
        opt.set_lr(cfg.lr * std::max(0.05, 1.0 - (base_seconds + prog.elapsed_s()) / (cfg.max_minutes * 60.0)));
      Tensor logits;
      {
        NvtxRange r("forward");
        logits = forward(b.image);
      }
      LossTerms lt;
      {
        NvtxRange r("loss");
        lt = loss_fn(logits, b);
      }
      const double lv = lt.total.item();
      SEG_CHECK(std::isfinite(lv), "training diverged: the loss is ", lv, " at epoch ", epoch, ", step ", s + 1,
                " (earlier outputs in ", cfg.out_dir, " are kept)");
      {
        NvtxRange r("backward");
        opt.zero_grad();
        lt.total.backward();
      }
      {
        NvtxRange r("optimiser");
        opt.step();
      }
      loss_sum += lv;
      ++done;
      auto parts = lt.parts;
      parts.insert(parts.begin(), {"loss", lv});
      prog.update(epoch, cfg.epochs, done, parts, s + 1 == steps);
    }
    model.eval();
    PatientScores sc;
    {
      NvtxRange r("validation");
      sc = evaluate(forward, val, cfg.val_batch, cfg.device);
    }
    EpochRow row{epoch, loss_sum / steps, opt.lr(), mean_of(sc.dice_volume), mean_of(sc.dice_organ_slices),
                 mean_of(sc.hd_mm), base_seconds + prog.elapsed_s()};
    res.curve.push_back(row);
    char line[256];
    std::snprintf(line, sizeof line, "epoch %d/%d  train loss %.4f  val Dice (volume) %.4f  Dice (heart slices) %.4f  HD %.2f mm  lr %.2g",
                  epoch, cfg.epochs, row.train_loss, row.val_dice_volume, row.val_dice_heart_slices, row.val_hd_mm, opt.lr());
    prog.line(line);
    const double metric = std::isfinite(row.val_dice_volume) ? row.val_dice_volume : 0.0;
    std::map<std::string, std::string> meta = cfg.metadata;
    if (metric > best_metric || res.best_epoch == 0) {
      best_metric = metric;
      res.best = sc;
      res.best_epoch = epoch;
      meta["epoch"] = std::to_string(epoch);
      save_checkpoint(best_ckpt, model, nullptr, meta);
    }
    if (!budget_lr && plateau.step(metric)) prog.line("  validation Dice did not improve for " + std::to_string(cfg.patience) +
                                        " epochs: learning rate halved to " + std::to_string(opt.lr()));
    meta["epoch"] = std::to_string(epoch);
    meta["lr"] = std::to_string(opt.lr());
    meta["best_metric"] = std::to_string(best_metric);  // the trainer's (the plateau rule is idle under a budget)
    meta["bad_epochs"] = std::to_string(plateau.bad_epochs());
    meta["best_epoch"] = std::to_string(res.best_epoch);
    save_checkpoint(last_ckpt, model, &opt, meta);
    nlohmann::json cj = nlohmann::json::array();
    for (const auto& r : res.curve)
      cj.push_back({{"epoch", r.epoch}, {"train_loss", r.train_loss}, {"lr", r.lr}, {"val_dice_volume", r.val_dice_volume},
                    {"val_dice_heart_slices", r.val_dice_heart_slices}, {"val_hd_mm", r.val_hd_mm}, {"seconds", r.seconds}});
    write_text_atomic(cfg.out_dir + "/curve.json", cj.dump(1));
    write_curve_csv(cfg.out_dir + "/curve.csv", res.curve);
    // stop when another epoch (as long as the last one) would end past the budget
    const double epoch_s = prog.elapsed_s() - epoch_start_s;
    epoch_start_s = prog.elapsed_s();
    // (the budget counts the time before a resume too)
    if (cfg.max_minutes > 0 && base_seconds + prog.elapsed_s() + epoch_s > cfg.max_minutes * 60 && epoch < cfg.epochs) {
      char b[160];
      std::snprintf(b, sizeof b, "time budget of %.1f min: stopping after epoch %d (another epoch would end past it)",
                    cfg.max_minutes, epoch);
      prog.line(b);
      res.stopped_by_budget = true;
      break;
    }
  }
  res.seconds = prog.elapsed_s();
  if (res.best_epoch > 0 && res.best.dice_volume.empty()) {
    // resumed after the best epoch: re-evaluate the best checkpoint
    load_checkpoint(best_ckpt, model, nullptr);
    model.eval();
    res.best = evaluate(forward, val, cfg.val_batch, cfg.device);
  }
  return res;
}

}  // namespace seg
