// Elementwise ops on the CPU and their autograd wiring. The formulas live in elementwise_math.h (shared with CUDA).
#include "kernels/elementwise.h"

#include <algorithm>
#include <type_traits>

#include "engine/autograd.h"
#include "kernels/elementwise_cuda.h"
#include "kernels/op_util.h"

namespace seg {

namespace {

// Calls f(std::integral_constant<Op, op>) — the op as a compile-time constant, so every loop below is compiled once per
// op with the formula's switch folded away and can be vectorised (a run-time switch per element cannot).
template <class Op, Op... Ops, class F>
void with_const_op(Op op, F&& f) {
  const bool found = ((op == Ops ? (f(std::integral_constant<Op, Ops>{}), true) : false) || ...);
  SEG_CHECK(found, "elementwise: unknown op ", static_cast<int>(op));
}
template <class F>
void with_unary_op(UnaryOp op, F&& f) {
  using U = UnaryOp;
  with_const_op<U, U::Neg, U::Exp, U::Log, U::Sqrt, U::Square, U::Abs, U::Relu, U::LeakyRelu, U::Sigmoid, U::Tanh,
                U::Scale, U::AddScalar, U::Clamp>(op, f);
}
template <class F>
void with_binary_op(BinaryOp op, F&& f) {
  with_const_op<BinaryOp, BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div>(op, f);
}

// Offset of output element `idx` in an operand with broadcast strides `st`.
inline int64_t operand_offset(int64_t idx, const Shape& out, const std::vector<int64_t>& st) {
  int64_t off = 0;
  for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
    const int64_t n = out[static_cast<size_t>(d)];
    off += (idx % n) * st[static_cast<size_t>(d)];
    idx /= n;
  }
  return off;
}

template <class T>
void binary_cpu(BinaryOp op, const T* a, const Shape& as, const T* b, const Shape& bs, T* y, const Shape& ys) {
  const int64_t n = shape_numel(ys);
  if (as == ys && bs == ys) {
    with_binary_op(op, [&](auto c) {
#pragma omp parallel for if (n > kParallelGrain)
      for (int64_t i = 0; i < n; ++i) y[i] = binary_forward(c.value, a[i], b[i]);
    });
  } else if (as == ys && shape_numel(bs) == 1) {
    const T bv = b[0];
    with_binary_op(op, [&](auto c) {
#pragma omp parallel for if (n > kParallelGrain)
      for (int64_t i = 0; i < n; ++i) y[i] = binary_forward(c.value, a[i], bv);
    });
  } else {
    const auto sa = broadcast_strides(as, ys), sb = broadcast_strides(bs, ys);
#pragma omp parallel for if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) y[i] = binary_forward(op, a[operand_offset(i, ys, sa)], b[operand_offset(i, ys, sb)]);
  }
}

// Gradient of operand `which` at the output's shape (before reduction to the operand's shape).
template <class T>
void binary_grad_cpu(BinaryOp op, int which, const T* a, const Shape& as, const T* b, const Shape& bs, const T* g,
                     T* out, const Shape& ys) {
  const int64_t n = shape_numel(ys);
  const auto sa = broadcast_strides(as, ys), sb = broadcast_strides(bs, ys);
  const bool plain = (as == ys && bs == ys);
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T av = plain ? a[i] : a[operand_offset(i, ys, sa)];
    const T bv = plain ? b[i] : b[operand_offset(i, ys, sb)];
    out[i] = binary_backward(op, which, av, bv, g[i]);
  }
}

template <class T>
void sum_to_cpu(const T* g, const Shape& gs, T* out, const Shape& os) {
  const int64_t n = shape_numel(gs), m = shape_numel(os);
  std::fill(out, out + m, T(0));
  const auto st = broadcast_strides(os, gs);
  for (int64_t i = 0; i < n; ++i) out[operand_offset(i, gs, st)] += g[i];
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SEG_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
              " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor out = Tensor::empty(shape, g.dtype(), g.device());
  on_device(
      g, "sum_to_shape", [&] { cuda::sum_to_shape(g, out); },
      [&](auto tag) {
        using T = decltype(tag);
        sum_to_cpu(g.data<T>(), g.shape(), out.data<T>(), shape);
      });
  return out;
}

static const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "binary";
}

static Tensor binary_grad(BinaryOp op, int which, const Tensor& a, const Tensor& b, const Tensor& g) {
  if ((op == BinaryOp::Add || (op == BinaryOp::Sub && which == 0))) return sum_to_shape(g, which ? b.shape() : a.shape());
  Tensor full = empty_like(g);
  on_device(
      g, binary_name(op), [&] { cuda::binary_grad(op, which, a, b, g, full); },
      [&](auto tag) {
        using T = decltype(tag);
        binary_grad_cpu(op, which, a.data<T>(), a.shape(), b.data<T>(), b.shape(), g.data<T>(), full.data<T>(),
                        g.shape());
      });
  return sum_to_shape(full, which ? b.shape() : a.shape());
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_float(a, name, "a");
  check_float(b, name, "b");
  check_same_dtype_device(a, b, name);
  const Shape ys = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor y = Tensor::empty(ys, a.dtype(), a.device());
  on_device(
      a, name, [&] { cuda::binary(op, a, b, y); },
      [&](auto tag) {
        using T = decltype(tag);
        binary_cpu(op, a.data<T>(), a.shape(), b.data<T>(), b.shape(), y.data<T>(), ys);
      });
  return record(name, y, {a, b}, [&] {
    const bool need_a = input_needs_grad(a), need_b = input_needs_grad(b);
    return [op, a = need_b || op != BinaryOp::Add ? a.detach() : Tensor(),
            b = need_a || op != BinaryOp::Add ? b.detach() : Tensor(), as = a.shape(), bs = b.shape(), need_a,
            need_b](const Tensor& g) -> std::vector<Tensor> {
      if (op == BinaryOp::Add)
        return {need_a ? sum_to_shape(g, as) : Tensor(), need_b ? sum_to_shape(g, bs) : Tensor()};
      return {need_a ? binary_grad(op, 0, a, b, g) : Tensor(), need_b ? binary_grad(op, 1, a, b, g) : Tensor()};
    };
  });
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }

static const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "square", "abs", "relu", "leaky_relu",
                                "sigmoid", "tanh", "scale", "add_scalar", "clamp"};
  return names[static_cast<int>(op)];
}

// Which of x (input) and y (output) the backward formula reads; only those are kept.
static bool backward_reads_output(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh;
}

Tensor unary(UnaryOp op, const Tensor& x, double p, double q) {
  const char* name = unary_name(op);
  check_float(x, name, "input");
  Tensor y = empty_like(x);
  const int64_t n = x.numel();
  on_device(
      x, name, [&] { cuda::unary_forward(op, x, y, p, q); },
      [&](auto tag) {
        using T = decltype(tag);
        const T* xp = x.data<T>();
        T* yp = y.data<T>();
        const T pp = static_cast<T>(p), qq = static_cast<T>(q);
        with_unary_op(op, [&](auto c) {
#pragma omp parallel for if (n > kParallelGrain)
          for (int64_t i = 0; i < n; ++i) yp[i] = unary_forward(c.value, xp[i], pp, qq);
        });
      });
  return record(name, y, {x}, [&] {
    const bool use_y = backward_reads_output(op);
    return [op, p, q, name, xs = use_y ? Tensor() : x.detach(),
            ys = use_y ? y.detach() : Tensor()](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = empty_like(g);
      on_device(
          g, name, [&] { cuda::unary_backward(op, xs, ys, g, dx, p, q); },
          [&](auto tag) {
            using T = decltype(tag);
            const int64_t m = g.numel();
            const T* xp = opt_data<T>(xs);
            const T* yp = opt_data<T>(ys);
            const T* gp = g.data<T>();
            T* dp = dx.data<T>();
            const T pp = static_cast<T>(p), qq = static_cast<T>(q);
            with_unary_op(op, [&](auto c) {
              if (xp) {  // backward reads the input
#pragma omp parallel for if (m > kParallelGrain)
                for (int64_t i = 0; i < m; ++i) dp[i] = unary_backward(c.value, xp[i], T(0), gp[i], pp, qq);
              } else {   // backward reads the output
#pragma omp parallel for if (m > kParallelGrain)
                for (int64_t i = 0; i < m; ++i) dp[i] = unary_backward(c.value, T(0), yp[i], gp[i], pp, qq);
              }
            });
          });
      return {dx};
    };
  });
}

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor leaky_relu(const Tensor& x, double slope) { return unary(UnaryOp::LeakyRelu, x, slope); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor scale(const Tensor& x, double s) { return unary(UnaryOp::Scale, x, s); }
Tensor add_scalar(const Tensor& x, double s) { return unary(UnaryOp::AddScalar, x, s); }
Tensor clamp(const Tensor& x, double lo, double hi) { return unary(UnaryOp::Clamp, x, lo, hi); }

void add_inplace(Tensor& acc, const Tensor& g) {
  check_same_shape(acc, g, "add_inplace");
  check_same_dtype_device(acc, g, "add_inplace");
  on_device(
      acc, "add_inplace", [&] { cuda::add_inplace(acc, g); },
      [&](auto tag) {
        using T = decltype(tag);
        const int64_t n = acc.numel();
        T* a = acc.data<T>();
        const T* b = g.data<T>();
#pragma omp parallel for if (n > kParallelGrain)
        for (int64_t i = 0; i < n; ++i) a[i] += b[i];
      });
}

}  // namespace seg
