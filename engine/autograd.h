// Autograd: a graph of Nodes built as ops run; backward walks it in reverse topological order.
// Key decisions: a Node owns only what its backward needs (captured in a closure that is freed after use, so a second
// backward through the same graph is a clear error, not silent garbage); edges point at the producer's Node (or at
// the leaf tensor), never at intermediate data; every op has exactly one differentiable output.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace seg {

// Gradients for each input of an op, in the order the inputs were given (undefined where not needed).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Edge {
  std::shared_ptr<Node> fn;            // producer of the input (non-leaf)
  std::shared_ptr<TensorImpl> leaf;    // or the leaf tensor itself, when it requires grad
  bool active() const { return fn || leaf; }
};

struct Node {
  std::string name;
  std::vector<Edge> next;  // one per input
  BackwardFn backward;     // reset after use unless the graph is retained
  Shape output_shape;
};

// Grad mode: ops record the graph only while enabled. NoGradGuard disables it in a scope (evaluation, optimisers).
bool grad_enabled();
struct NoGradGuard {
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;
 private:
  bool prev_;
};

// True when grad mode is on and any of `inputs` requires a gradient.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches a backward to `output` when any input requires grad; returns output.
// `backward` gets the output's gradient and returns one gradient per input (undefined where not needed).
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward);

// Whether input i of the node being differentiated needs its gradient (lets a backward skip work).
bool input_needs_grad(const Tensor& input);

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace seg
