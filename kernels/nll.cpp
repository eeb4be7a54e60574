// NLL, cross entropy and MSE. Math: nll = −Σ w[t]·x[t] / Σ w[t] (mean) over non-ignored pixels; the gradient is
// −w[t]/Σw at the target class and 0 elsewhere. Cross entropy composes log_softmax and nll, whose backward together
// give the familiar (softmax − onehot)·w[t]/Σw.
#include "kernels/nll.h"

#include <algorithm>
#include <climits>

#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/nll_cuda.h"
#include "kernels/op_util.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"

namespace seg {

Reduction parse_reduction(const std::string& s) {
  if (s == "mean") return Reduction::Mean;
  if (s == "sum") return Reduction::Sum;
  if (s == "none") return Reduction::None;
  fail("reduction: expected 'mean', 'sum' or 'none', got '", s, "'");
}

namespace {

void check_target(const Tensor& input, const Tensor& target, const Tensor& weight, const char* op) {
  check_float(input, op, "input");
  check_defined(target, op, "target");
  SEG_CHECK(target.dtype() == DType::Int64, op, ": target must be int64 class ids, got ", target.describe());
  SEG_CHECK(input.dim() >= 2, op, ": input must be (N, C, ...), got ", input.describe());
  SEG_CHECK(target.device() == input.device(), op, ": target on ", device_name(target.device()), ", input on ",
            device_name(input.device()));
  Shape expect = input.shape();
  expect.erase(expect.begin() + 1);
  SEG_CHECK(target.shape() == expect, op, ": target ", target.describe(), " does not match input ", input.describe(),
            " (expected target shape ", shape_str(expect), ")");
  if (weight.defined()) {
    check_same_dtype_device(input, weight, op);
    SEG_CHECK(weight.dim() == 1 && weight.numel() == input.size(1), op, ": weight must have C = ", input.size(1),
              " elements, got ", weight.describe());
  }
}

template <class T>
void nll_forward_cpu(const T* x, const int64_t* t, const T* w, int64_t N, int64_t C, int64_t S, int64_t ignore, T* per,
                     double& wsum, int64_t& bad) {
  double ws = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t c = t[n * S + s];
      if (c == ignore) { per[n * S + s] = T(0); continue; }
      if (c < 0 || c >= C) { bad = c; per[n * S + s] = T(0); continue; }
      const T wc = w ? w[c] : T(1);
      per[n * S + s] = -wc * x[(n * C + c) * S + s];
      ws += wc;
    }
  wsum = ws;
}

template <class T>
void nll_backward_cpu(const int64_t* t, const T* w, int64_t N, int64_t C, int64_t S, int64_t ignore, const T* g,
                      bool per_elem, double factor, T* dx) {
  std::fill(dx, dx + N * C * S, T(0));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t c = t[n * S + s];
      if (c == ignore || c < 0 || c >= C) continue;
      const T wc = w ? w[c] : T(1);
      dx[(n * C + c) * S + s] = static_cast<T>(-wc * (per_elem ? g[n * S + s] : g[0]) * factor);
    }
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction reduction) {
  check_target(input, target, weight, "nll_loss");
  const int64_t N = input.size(0), C = input.size(1), S = input.numel() / std::max<int64_t>(1, N * C);
  Tensor per = Tensor::empty(target.shape(), input.dtype(), input.device());
  double wsum = 0;
  int64_t bad = INT64_MIN;
  bool has_bad = false;
  on_device(
      input, "nll_loss",
      [&] {
        Tensor ws = Tensor::empty({1}, input.dtype(), input.device());
        cuda::nll_forward(input, target, weight, ignore_index, per, ws, &bad);
        has_bad = bad != INT64_MIN;
        wsum = ws.item();
      },
      [&](auto tag) {
        using T = decltype(tag);
        int64_t b = INT64_MIN;
        nll_forward_cpu(input.data<T>(), target.data<int64_t>(), opt_data<T>(weight), N, C, S, ignore_index,
                        per.data<T>(), wsum, b);
        has_bad = b != INT64_MIN;
        bad = b;
      });
  SEG_CHECK(!has_bad, "nll_loss: target contains class ", bad, " outside [0, ", C, ") (ignore_index is ", ignore_index, ")");
  Tensor out;
  double factor = 1.0;
  {
    NoGradGuard ng;
    if (reduction == Reduction::None) {
      out = per;
    } else {
      out = sum_all(per);
      if (reduction == Reduction::Mean) {
        factor = 1.0 / wsum;  // 0/0 = NaN when every target is ignored, as PyTorch
        out = scale(out, factor);
      }
    }
  }
  const bool per_elem = reduction == Reduction::None;
  return record("nll_loss", out.detach(), {input}, [&] {
    return [t = target, w = saved(weight), ignore_index, per_elem, factor, N, C, S,
            xs = input.shape()](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = Tensor::empty(xs, g.dtype(), g.device());
      on_device(
          g, "nll_loss", [&] { cuda::nll_backward(t, w, ignore_index, g, per_elem, factor, dx); },
          [&](auto tag) {
            using T = decltype(tag);
            nll_backward_cpu(t.data<int64_t>(), opt_data<T>(w), N, C, S, ignore_index, g.data<T>(), per_elem, factor,
                             dx.data<T>());
          });
      return {dx};
    };
  });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     Reduction reduction) {
  check_target(logits, target, weight, "cross_entropy");
  return nll_loss(log_softmax(logits, 1), target, weight, ignore_index, reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_float(input, "mse_loss", "input");
  check_float(target, "mse_loss", "target");
  check_same_shape(input, target, "mse_loss");
  Tensor d = square(sub(input, target));
  if (reduction == Reduction::None) return d;
  return reduction == Reduction::Mean ? mean_all(d) : sum_all(d);
}

}  // namespace seg
