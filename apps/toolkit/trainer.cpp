// The training loop (see trainer.h).
#include "apps/toolkit/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "engine/autograd.h"
#include "engine/profiling.h"
#include "engine/serialize.h"

namespace seg {

std::string OptimizerSpec::describe() const {
  std::ostringstream o;
  if (name == "adam") o << "Adam lr " << lr << ", betas (" << beta1 << ", " << beta2 << "), eps " << eps;
  else o << "SGD lr " << lr << ", momentum " << momentum << (nesterov ? " (Nesterov)" : "");
  if (weight_decay > 0) o << ", weight decay " << weight_decay;
  return o.str();
}

std::string ScheduleSpec::describe() const {
  std::ostringstream o;
  switch (kind) {
    case Constant: o << "constant"; break;
    case Plateau: o << "× " << factor << " after " << patience << " epochs without validation improvement"; break;
    case Poly: o << "poly (1 − e/E)^" << power; break;
    case Budget: o << "linear decay over the time budget, lr·max(" << min_fraction << ", 1 − t/T)"; break;
  }
  return o.str();
}

ScheduleSpec::Kind parse_schedule(const std::string& s) {
  if (s == "constant") return ScheduleSpec::Constant;
  if (s == "plateau") return ScheduleSpec::Plateau;
  if (s == "poly") return ScheduleSpec::Poly;
  if (s == "budget") return ScheduleSpec::Budget;
  throw std::runtime_error("learning-rate schedule: expected constant, plateau, poly or budget, got '" + s + "'");
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& s, const Module& model) {
  SEG_CHECK(s.lr >= 0, "optimiser: the learning rate must be >= 0 (0 checks a run against a reference), got ", s.lr);
  if (s.name == "adam") return std::make_unique<Adam>(model.named_parameters(), s.lr, s.beta1, s.beta2, s.eps, s.weight_decay);
  if (s.name == "sgd") return std::make_unique<SGD>(model.named_parameters(), s.lr, s.momentum, s.weight_decay, s.nesterov);
  throw std::runtime_error("optimiser: expected adam or sgd, got '" + s.name + "'");
}

namespace {

std::string fmt(double v, int prec = 4) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

// best.safetensors / last.safetensors of a run folder, with the state that resuming needs in the metadata.
struct Checkpointer {
  std::string best, last;
  explicit Checkpointer(const std::string& dir) : best(dir + "/best.safetensors"), last(dir + "/last.safetensors") {}
};

}  // namespace

TrainResult train(Module& model, const ForwardFn& forward, const LossFn& loss_fn, Sampler& sampler,
                  const Evaluator& validation, const TrainConfig& cfg) {
  namespace fs = std::filesystem;
  SEG_CHECK(!cfg.out_dir.empty(), "training: no output folder");
  SEG_CHECK(cfg.epochs > 0, "training: epochs must be positive, got ", cfg.epochs);
  fs::create_directories(cfg.out_dir);
  model.to(cfg.device);
  std::unique_ptr<Optimizer> opt = make_optimizer(cfg.optim, model);
  const ScheduleSpec& sch = cfg.schedule;
  ReduceOnPlateau plateau(*opt, sch.patience, sch.factor);
  const bool budget_lr = sch.kind == ScheduleSpec::Budget;
  SEG_CHECK(!budget_lr || cfg.max_minutes > 0, "the budget learning-rate schedule needs a time budget (max minutes > 0)");
  const int64_t steps = sampler.steps_per_epoch();
  SEG_CHECK(steps > 0, "training: the training data give fewer samples than one batch");
  const Checkpointer ck(cfg.out_dir);
  TrainVars no_vars;
  TrainVars& vars = cfg.vars ? *cfg.vars : no_vars;

  TrainResult res;
  int start_epoch = 1;
  double best_metric = -1e300, base_seconds = 0;
  const std::string resume = !cfg.resume.empty() ? cfg.resume : (fs::exists(ck.last) ? ck.last : "");
  if (!resume.empty()) {
    const auto meta = load_checkpoint(resume, model, opt.get());
    auto need = [&](const char* k) -> const std::string& {
      const auto it = meta.find(k);
      SEG_CHECK(it != meta.end(), resume, ": not a checkpoint of this toolkit (no '", k, "' in its metadata)");
      return it->second;
    };
    const int done = std::stoi(need("epoch"));
    start_epoch = done + 1;
    opt->set_lr(std::stod(need("lr")));
    best_metric = std::stod(need("best_metric"));
    plateau.set_state(best_metric, std::stoi(need("bad_epochs")));
    res.best_epoch = std::stoi(need("best_epoch"));
    base_seconds = std::stod(need("seconds"));
    for (const auto& [k, v] : meta)
      if (k.rfind("var.", 0) == 0) vars[k.substr(4)] = std::stod(v);
    res.curve = Curve::read(cfg.out_dir);
    res.curve.truncate_after(done);
    res.resumed = true;
    std::printf("resumed from %s after epoch %d (lr %.3g, best epoch %d)\n", resume.c_str(), done, opt->lr(), res.best_epoch);
  }

  Progress prog(steps * std::max(0, cfg.epochs - start_epoch + 1),
                cfg.progress_every > 0 ? cfg.progress_every : std::max<int64_t>(1, steps / 20));
  if (cfg.max_minutes > 0) prog.set_budget(std::max(1.0, cfg.max_minutes * 60 - base_seconds));
  const double budget_s = cfg.max_minutes * 60.0;
  double epoch_start_s = 0;
  int64_t done_steps = 0;
  bool budget_hit = cfg.max_minutes > 0 && base_seconds >= budget_s;
  for (int epoch = start_epoch; epoch <= cfg.epochs && !budget_hit; ++epoch) {
    if (sch.kind == ScheduleSpec::Poly)
      opt->set_lr(cfg.optim.lr * std::pow(std::max(0.0, 1.0 - static_cast<double>(epoch - 1) / cfg.epochs), sch.power));
    model.train();
    sampler.start_epoch(epoch);
    double loss_sum = 0;
    std::map<std::string, double> term_sum;
    std::vector<std::string> term_order;
    int64_t steps_done = 0;
    for (int64_t s = 0; s < steps; ++s) {
      // the budget is a hard bound: on a machine slower than expected, stop inside the epoch (it is validated as is)
      if (cfg.max_minutes > 0 && s > 0 && base_seconds + prog.elapsed_s() > budget_s) {
        budget_hit = true;
        break;
      }
      Batch b;
      {
        NvtxRange r("data");
        b = sampler.next(cfg.device);
      }
      if (budget_lr)
        opt->set_lr(cfg.optim.lr * std::max(sch.min_fraction, 1.0 - (base_seconds + prog.elapsed_s()) / budget_s));
      Outputs out;
      {
        NvtxRange r("forward");
        out = forward(b.image);
      }
      LossTerms lt;
      {
        NvtxRange r("loss");
        lt = loss_fn(out, b);
      }
      const double lv = lt.total.item();
      SEG_CHECK(std::isfinite(lv), "training diverged: the loss is ", lv, " at epoch ", epoch, ", step ", s + 1,
                " (earlier outputs in ", cfg.out_dir, " are kept)");
      {
        NvtxRange r("backward");
        opt->zero_grad();
        lt.total.backward();
      }
      {
        NvtxRange r("optimiser");
        opt->step();
      }
      loss_sum += lv;
      ++steps_done;
      for (const auto& [k, v] : lt.parts) {
        if (!term_sum.count(k)) term_order.push_back(k);
        term_sum[k] += v;
      }
      ++done_steps;
      auto parts = lt.parts;
      parts.insert(parts.begin(), {"loss", lv});
      prog.update(epoch, cfg.epochs, done_steps, parts, s + 1 == steps);
    }
    if (budget_hit) {
      char b[200];
      std::snprintf(b, sizeof b, "time budget of %.1f min reached after %lld of %lld steps of epoch %d: validating it and stopping",
                    cfg.max_minutes, static_cast<long long>(steps_done), static_cast<long long>(steps), epoch);
      prog.line(b);
    }
    const double lr_used = opt->lr();
    model.eval();
    Scores sc;
    {
      NvtxRange r("validation");
      sc = validation.evaluate(forward, cfg.device);
    }
    const double metric_raw = sc.mean(cfg.select_metric);
    SEG_CHECK(sc.has(cfg.select_metric), "validation: the evaluator gives no metric '", cfg.select_metric, "'");
    const double metric = std::isfinite(metric_raw) ? metric_raw : 0.0;
    for (auto& h : cfg.hooks) h(epoch, vars, *opt);
    const double seconds = base_seconds + prog.elapsed_s();

    std::vector<std::pair<std::string, double>> row{{"train_loss", loss_sum / steps_done}};
    for (const auto& k : term_order) row.emplace_back("train_" + k, term_sum[k] / steps_done);
    row.emplace_back("train_steps", static_cast<double>(steps_done));
    row.emplace_back("lr", lr_used);
    for (const char* m : {"dice", "soft_dice", "hd_mm", "hd95_mm"})
      if (sc.has(m)) row.emplace_back(std::string("val_") + m, sc.mean(m));
    if (sc.has("soft_dice")) row.emplace_back("val_dice_loss", 1.0 - sc.mean("soft_dice"));
    if (sc.structures.size() > 1)
      for (const auto& st : sc.structures) row.emplace_back("val_dice_" + st, summarise(sc.values["dice"][st]).mean);
    for (const auto& [k, v] : vars) row.emplace_back("var_" + k, v);
    row.emplace_back("seconds", seconds);
    res.curve.add(epoch, row);

    std::string line = "epoch " + std::to_string(epoch) + "/" + std::to_string(cfg.epochs) + "  train loss " +
                       fmt(loss_sum / steps_done) + "  val Dice " + fmt(sc.mean("dice"));
    if (sc.has("hd95_mm")) line += "  HD95 " + fmt(sc.mean("hd95_mm"), 2) + " mm";
    if (sc.has("soft_dice")) line += "  Dice loss " + fmt(1.0 - sc.mean("soft_dice"));
    char lrb[32];
    std::snprintf(lrb, sizeof lrb, "  lr %.3g", lr_used);
    prog.line(line + lrb + "  (" + format_duration(seconds) + ")");

    std::map<std::string, std::string> meta = cfg.metadata;
    if (metric > best_metric || res.best_epoch == 0) {
      best_metric = metric;
      res.best_epoch = epoch;
      res.best = sc;  // measured on exactly the weights saved as best.safetensors (evaluation is deterministic)
      meta["epoch"] = std::to_string(epoch);
      save_checkpoint(ck.best, model, nullptr, meta);
    }
    if (sch.kind == ScheduleSpec::Plateau && plateau.step(metric)) {
      char b[160];
      std::snprintf(b, sizeof b, "  validation %s did not improve for %d epochs: learning rate × %g → %.3g",
                    cfg.select_metric.c_str(), sch.patience, sch.factor, opt->lr());
      prog.line(b);
    }
    meta["epoch"] = std::to_string(epoch);
    meta["lr"] = std::to_string(opt->lr());
    meta["best_metric"] = std::to_string(best_metric);
    meta["bad_epochs"] = std::to_string(plateau.bad_epochs());
    meta["best_epoch"] = std::to_string(res.best_epoch);
    meta["seconds"] = std::to_string(seconds);
    for (const auto& [k, v] : vars) meta["var." + k] = std::to_string(v);
    // the curve first: a kill between the two files leaves a curve one epoch ahead, which truncate_after() drops
    res.curve.write(cfg.out_dir);
    save_checkpoint(ck.last, model, opt.get(), meta);

    // stop when another epoch (as long as this one) would end past the budget
    const double epoch_s = prog.elapsed_s() - epoch_start_s;
    epoch_start_s = prog.elapsed_s();
    if (!budget_hit && cfg.max_minutes > 0 && seconds + epoch_s > budget_s && epoch < cfg.epochs) {
      char b[160];
      std::snprintf(b, sizeof b, "time budget of %.1f min: stopping after epoch %d (another epoch would end past it)",
                    cfg.max_minutes, epoch);
      prog.line(b);
      res.stopped_by_budget = true;
      budget_hit = true;
    }
  }
  if (budget_hit) res.stopped_by_budget = true;
  res.epochs_run = res.curve.empty() ? 0 : res.curve.epoch(res.curve.size() - 1);
  res.seconds = res.curve.empty() ? 0 : res.curve.last("seconds");
  SEG_CHECK(res.best_epoch > 0 && fs::exists(ck.best), "training: no epoch finished, so there is no best checkpoint in ",
            cfg.out_dir);
  // restore the best weights: everything reported, drawn or tested from here on uses them
  load_checkpoint(ck.best, model, nullptr);
  model.eval();
  if (res.best.cases.empty()) res.best = validation.evaluate(forward, cfg.device);  // best epoch was before a resume
  std::printf("best epoch %d of %d restored (validation %s %.4f)\n", res.best_epoch, res.epochs_run,
              cfg.select_metric.c_str(), res.best.mean(cfg.select_metric));
  return res;
}

}  // namespace seg
