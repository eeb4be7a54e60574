// Implementation of the gradient checker (see gradcheck.h).
#include "tests/support/gradcheck.h"

#include <cmath>
#include <sstream>

#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace seg::testing {

Tensor random_tensor(const Shape& shape, uint64_t seed, double lo, double hi, double min_abs, bool requires_grad) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, DType::Float64);
  fill_uniform(t, gen, lo, hi);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::fabs(p[i]) < min_abs) p[i] = p[i] < 0 ? -min_abs : min_abs;
  t.set_requires_grad(requires_grad);
  return t;
}

namespace {
// Scalar objective: Σ w ⊙ f(inputs) with fixed weights w (or f itself when it is already a scalar).
double objective(const GradFn& f, const std::vector<Tensor>& inputs, const Tensor& w) {
  NoGradGuard ng;
  Tensor y = f(inputs);
  const double* yp = y.data<double>();
  const double* wp = w.data<double>();
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += yp[i] * wp[i];
  return s;
}
}  // namespace

GradcheckResult gradcheck(const GradFn& f, std::vector<Tensor> inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  for (auto& t : inputs)
    if (t.defined()) {
      SEG_CHECK(t.dtype() == DType::Float64 || t.dtype() == DType::Int64, "gradcheck: inputs must be float64");
      t.zero_grad();
    }
  Tensor y = f(inputs);
  SEG_CHECK(y.dtype() == DType::Float64, "gradcheck: the function must return float64, got ", y.describe());
  Tensor w = random_tensor(y.shape(), opt.seed, 0.5, 1.5, 0.0, false);
  if (y.numel() == 1) w.fill_(1.0);
  SEG_CHECK(y.requires_grad(), "gradcheck: output does not require grad");
  y.backward(w);

  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor analytic = x.grad();
    if (!analytic.defined()) analytic = Tensor::zeros(x.shape(), DType::Float64);
    const double* ga = analytic.data<double>();
    double* xp = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = xp[i];
      xp[i] = orig + opt.eps;
      const double fp = objective(f, inputs, w);
      xp[i] = orig - opt.eps;
      const double fm = objective(f, inputs, w);
      xp[i] = orig;
      const double numeric = (fp - fm) / (2 * opt.eps);
      const double err = std::fabs(ga[i] - numeric);
      res.max_abs_err = std::max(res.max_abs_err, err);
      if (res.ok && !(err <= opt.atol + opt.rtol * std::fabs(numeric))) {
        res.ok = false;
        std::ostringstream os;
        os.precision(10);
        os << "input " << k << " " << x.describe() << " element " << i << ": analytic " << ga[i] << " numeric "
           << numeric << " (abs err " << err << ")";
        res.message = os.str();
      }
    }
  }
  return res;
}

}  // namespace seg::testing
