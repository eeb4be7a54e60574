// PReLU's per-element formulas, shared by the CPU (prelu.cpp) and CUDA (prelu.cu) kernels. Written in the forms that
// GCC 12 -O3 vectorises branch-free (checked with -fopt-info-vec): a select between a value and a constant followed
// by arithmetic, or a 0/1 step. "x > 0 ? x : a·x" and "g·(x > 0 ? 1 : a)" compile to branches, which random signs
// mispredict every other element (the backward ran 10x slower).
#pragma once
#include "engine/hd.h"

namespace seg {

template <class T>
SEG_HD T prelu_forward(T x, T a) {
  const T pos = x > T(0) ? x : T(0), neg = x > T(0) ? T(0) : x;
  return pos + a * neg;
}

template <class T>
SEG_HD T prelu_dx(T x, T g, T a) {
  const T step = static_cast<T>(x > T(0));  // 1 or 0
  return g * (a + (T(1) - a) * step);
}

// This element's term of dL/da = Σ_{x ≤ 0} g·x.
template <class T>
SEG_HD T prelu_dweight_term(T x, T g) {
  const T neg = x > T(0) ? T(0) : x;
  return g * neg;
}

}  // namespace seg
