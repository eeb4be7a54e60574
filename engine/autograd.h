// Autograd: a graph of Nodes built as ops run; backward walks it in reverse topological order.
// Key decisions: a Node owns only what its backward needs (captured in a closure that is freed after use, so a second
// backward through the same graph is a clear error, not silent garbage); edges point at the producer's Node (or at
// the leaf tensor), never at intermediate data; every op has exactly one differentiable output.
// The gradient convention, for everyone writing a backward: a backward returns FRESH gradients, one per input in the
// order the inputs were given (undefined where an input needs none). It never accumulates into an existing buffer
// (no `+=` into a .grad, no writing into grad_output): the engine does the summing. Where several paths reach one
// node their gradients are added into a new tensor; a leaf's .grad is a copy of the first gradient that reaches it and
// later ones are added to it in place. So a backward may hand grad_output itself, or one tensor to two inputs.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
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

namespace detail {
Tensor attach_backward(const char* op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward);
}

// Attaches a backward to `output` when grad mode is on and any of `inputs` requires a gradient; returns `output`.
// `make_backward` is a factory called only in that case; it returns the backward (a callable grad_output -> one
// gradient per input, see the convention above). So the closure and the tensors it saves (detach(), copies) are never
// built under NoGradGuard or for inputs that need no gradient:
//   return record(op, y, {x, w}, [&] {
//     return [xs = x.detach()](const Tensor& g) -> std::vector<Tensor> { ... };
//   });
template <class MakeBackward>
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs, MakeBackward&& make_backward) {
  static_assert(std::is_invocable_v<MakeBackward&>,
                "record: pass a factory, [&] { return [saved...](const Tensor& g) -> std::vector<Tensor> {...}; }");
  if (!any_requires_grad(inputs)) return output;
  return detail::attach_backward(op, std::move(output), inputs, BackwardFn(make_backward()));
}

// How many backward nodes this thread has recorded since it started (tests check that no-grad records none).
int64_t recorded_nodes();

// Whether input i of the node being differentiated needs its gradient (lets a backward skip work).
bool input_needs_grad(const Tensor& input);

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace seg
