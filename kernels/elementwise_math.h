// The per-element formulas of the unary and binary ops and their derivatives, shared by CPU and CUDA.
#pragma once
#include <cmath>

#include "engine/hd.h"

namespace seg {

enum class UnaryOp : int { Neg, Exp, Log, Sqrt, Square, Abs, Relu, LeakyRelu, Sigmoid, Tanh, Scale, AddScalar, Clamp };
enum class BinaryOp : int { Add, Sub, Mul, Div };

// p, q: the op's scalar parameters (LeakyRelu slope; Scale factor; AddScalar value; Clamp [p, q]).
template <class T>
SEG_HD T unary_forward(UnaryOp op, T x, T p, T q) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Abs: return x < T(0) ? -x : x;
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? x : p * x;
    case UnaryOp::Sigmoid: return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
    case UnaryOp::Tanh: return tanh(x);
    case UnaryOp::Scale: return p * x;
    case UnaryOp::AddScalar: return x + p;
    case UnaryOp::Clamp: return x < p ? p : (x > q ? q : x);
  }
  return x;
}

// dL/dx from the input x, the output y and the output gradient g.
template <class T>
SEG_HD T unary_backward(UnaryOp op, T x, T y, T g, T p, T q) {
  switch (op) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g / (T(2) * y);
    case UnaryOp::Square: return T(2) * x * g;
    case UnaryOp::Abs: return x > T(0) ? g : (x < T(0) ? -g : T(0));
    case UnaryOp::Relu: return x > T(0) ? g : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? g : p * g;
    case UnaryOp::Sigmoid: return g * y * (T(1) - y);
    case UnaryOp::Tanh: return g * (T(1) - y * y);
    case UnaryOp::Scale: return p * g;
    case UnaryOp::AddScalar: return g;
    case UnaryOp::Clamp: return (x >= p && x <= q) ? g : T(0);
  }
  return g;
}

template <class T>
SEG_HD T binary_forward(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
}

// Partial derivatives of a∘b times g, for a (which=0) and for b (which=1).
template <class T>
SEG_HD T binary_backward(BinaryOp op, int which, T a, T b, T g) {
  switch (op) {
    case BinaryOp::Add: return g;
    case BinaryOp::Sub: return which == 0 ? g : -g;
    case BinaryOp::Mul: return which == 0 ? g * b : g * a;
    case BinaryOp::Div: return which == 0 ? g / b : -g * a / (b * b);
  }
  return g;
}

}  // namespace seg
