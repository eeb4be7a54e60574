// Adam, SGD and the schedules (see optim.h). Updates run under no_grad, in place, per parameter tensor.
// The update arithmetic is kernels/adam_math.h (shared with its CUDA launcher kernels/adam.cu) and
// kernels/elementwise.h: optimisers sit on top of the kernels, like the autograd's gradient sums (engine/autograd.cpp).
#include "engine/optim.h"

#include <cmath>

#include "engine/autograd.h"
#include "kernels/adam_cuda.h"
#include "kernels/adam_math.h"
#include "kernels/elementwise.h"

namespace seg {

void Optimizer::zero_grad() {
  for (auto& [n, p] : params_) p.zero_grad();
}

Adam::Adam(std::vector<std::pair<std::string, Tensor>> params, double lr, double b1, double b2, double eps, double wd)
    : Optimizer(std::move(params), lr), b1_(b1), b2_(b2), eps_(eps), wd_(wd) {
  for (auto& [n, p] : params_) {
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
}

void Adam::step() {
  NoGradGuard ng;
  ++step_;
  const double bc1 = 1 - std::pow(b1_, static_cast<double>(step_)), bc2 = 1 - std::pow(b2_, static_cast<double>(step_));
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (m_[i].device() != p.device()) {  // the model moved after the optimiser was made
      m_[i].move_to_(p.device());
      v_[i].move_to_(p.device());
    }
    if (p.is_cuda()) {
      cuda::adam_step(p, g, m_[i], v_[i], lr_, b1_, b2_, eps_, wd_, step_);
      continue;
    }
    const int64_t n = p.numel();
    dispatch_float(p.dtype(), "Adam", [&](auto tag) {
      using T = decltype(tag);
      T* pp = p.data<T>();
      const T* gp = g.data<T>();
      T* mp = m_[i].data<T>();
      T* vp = v_[i].data<T>();
#pragma omp parallel for if (n > 65536)
      for (int64_t k = 0; k < n; ++k) adam_update(pp[k], gp[k], mp[k], vp[k], lr_, b1_, b2_, eps_, wd_, bc1, bc2);
    });
  }
}

std::map<std::string, Tensor> Adam::state() const {
  std::map<std::string, Tensor> s;
  for (size_t i = 0; i < params_.size(); ++i) {
    s[params_[i].first + ".exp_avg"] = m_[i];
    s[params_[i].first + ".exp_avg_sq"] = v_[i];
  }
  s["step"] = Tensor::scalar(static_cast<double>(step_), DType::Float64);
  return s;
}

void Adam::load_state(const std::map<std::string, Tensor>& s) {
  auto get = [&](const std::string& k) -> const Tensor& {
    auto it = s.find(k);
    SEG_CHECK(it != s.end(), "Adam::load_state: missing '", k, "' in the checkpoint");
    return it->second;
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& m = get(params_[i].first + ".exp_avg");
    const Tensor& v = get(params_[i].first + ".exp_avg_sq");
    SEG_CHECK(m.shape() == m_[i].shape() && v.shape() == v_[i].shape(), "Adam::load_state: state of '", params_[i].first,
              "' has shape ", shape_str(m.shape()), ", parameter has ", shape_str(m_[i].shape()));
    m_[i].copy_from_(m);
    v_[i].copy_from_(v);
  }
  step_ = static_cast<int64_t>(get("step").item());
}

SGD::SGD(std::vector<std::pair<std::string, Tensor>> params, double lr, double momentum, double wd, bool nesterov)
    : Optimizer(std::move(params), lr), momentum_(momentum), wd_(wd), nesterov_(nesterov) {
  for (auto& [n, p] : params_) buf_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
}

void SGD::step() {
  NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (buf_[i].device() != p.device()) buf_[i].move_to_(p.device());
    // d = g + wd·p; buf = μ·buf + d; step = nesterov ? d + μ·buf : buf; p −= lr·step (PyTorch semantics)
    Tensor d = wd_ != 0 ? add(g, scale(p, wd_)) : g;
    Tensor b = add(scale(buf_[i], momentum_), d);
    buf_[i].copy_from_(b);
    Tensor upd = nesterov_ ? add(d, scale(b, momentum_)) : b;
    p.copy_from_(sub(p, scale(upd, lr_)));
  }
}

std::map<std::string, Tensor> SGD::state() const {
  std::map<std::string, Tensor> s;
  for (size_t i = 0; i < params_.size(); ++i) s[params_[i].first + ".momentum_buffer"] = buf_[i];
  return s;
}

void SGD::load_state(const std::map<std::string, Tensor>& s) {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto it = s.find(params_[i].first + ".momentum_buffer");
    SEG_CHECK(it != s.end(), "SGD::load_state: missing momentum buffer of '", params_[i].first, "'");
    buf_[i].copy_from_(it->second);
  }
}

bool ReduceOnPlateau::step(double metric) {
  if (metric > best_) {
    best_ = metric;
    bad_ = 0;
    return false;
  }
  if (++bad_ < patience_) return false;
  bad_ = 0;
  const double lr = std::max(opt_.lr() * factor_, min_lr_);
  const bool changed = lr < opt_.lr();
  opt_.set_lr(lr);
  return changed;
}

double poly_lr(double base, int epoch, int epochs, double power) {
  SEG_CHECK(epochs > 0, "poly_lr: epochs must be positive");
  const double f = 1.0 - static_cast<double>(epoch) / static_cast<double>(epochs);
  return base * std::pow(std::max(f, 0.0), power);
}

}  // namespace seg
