// Optimisers and learning-rate schedules.
// Adam (PyTorch semantics, bias-corrected; the papers' betas 0.9/0.99) and SGD with momentum update parameters in
// place under no_grad; their state is exposed by name so checkpoints can save and resume it.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace seg {

class Optimizer {
 public:
  explicit Optimizer(std::vector<std::pair<std::string, Tensor>> params, double lr) : params_(std::move(params)), lr_(lr) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // State tensors by name ("<param>.exp_avg", ...) plus scalars ("step"), for checkpoints.
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;

 protected:
  std::vector<std::pair<std::string, Tensor>> params_;
  double lr_;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<std::pair<std::string, Tensor>> params, double lr, double beta1 = 0.9, double beta2 = 0.99,
       double eps = 1e-8, double weight_decay = 0.0);
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  int64_t steps() const { return step_; }

 private:
  double b1_, b2_, eps_, wd_;
  int64_t step_ = 0;
  std::vector<Tensor> m_, v_;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<std::pair<std::string, Tensor>> params, double lr, double momentum = 0.9, double weight_decay = 0.0,
      bool nesterov = false);
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;

 private:
  double momentum_, wd_;
  bool nesterov_;
  std::vector<Tensor> buf_;
};

// Halves (factor) the learning rate after `patience` epochs without improvement of a maximised metric.
class ReduceOnPlateau {
 public:
  ReduceOnPlateau(Optimizer& opt, int patience = 20, double factor = 0.5, double min_lr = 0.0)
      : opt_(opt), patience_(patience), factor_(factor), min_lr_(min_lr) {}
  // Returns true when the learning rate was reduced.
  bool step(double metric);
  double best() const { return best_; }
  int bad_epochs() const { return bad_; }
  void set_state(double best, int bad) { best_ = best; bad_ = bad; }

 private:
  Optimizer& opt_;
  int patience_;
  double factor_, min_lr_;
  double best_ = -1e300;
  int bad_ = 0;
};

// Polynomial decay: lr = base · (1 − epoch/epochs)^power (paper 3 uses power 0.9).
double poly_lr(double base, int epoch, int epochs, double power = 0.9);

}  // namespace seg
