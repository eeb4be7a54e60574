// The backward engine: topological order by iterative DFS, gradient accumulation per node and on leaves.
// Layering: the sums call kernels/elementwise.h (add, add_inplace), the engine's one call down into kernels/ besides
// the optimisers' (engine/optim.cpp): engine/ and kernels/ build into one library, and a gradient must be summed on
// its own device by the same kernels the ops use. Nothing in engine/ includes models/, losses/, apps/ or tools/.
#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "kernels/elementwise.h"

namespace seg {

namespace {
thread_local bool g_grad_enabled = true;
thread_local int64_t g_recorded_nodes = 0;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool input_needs_grad(const Tensor& input) { return input.defined() && input.requires_grad(); }

int64_t recorded_nodes() { return g_recorded_nodes; }

Tensor detail::attach_backward(const char* op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward) {
  ++g_recorded_nodes;
  auto node = std::make_shared<Node>();
  node->name = op;
  node->backward = std::move(backward);
  node->next.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    if (!in.defined() || !in.requires_grad()) continue;
    if (in.grad_fn()) node->next[i].fn = in.grad_fn();
    else node->next[i].leaf = in.impl_ptr();
  }
  output.impl()->grad_fn = node;
  output.impl()->requires_grad = true;
  return output;
}

namespace {

void accumulate_leaf(TensorImpl* leaf, const Tensor& g) {
  SEG_CHECK(g.shape() == leaf->shape, "backward: gradient ", g.describe(), " for a leaf of shape ",
            shape_str(leaf->shape));
  if (!leaf->grad) {
    leaf->grad = g.clone().impl_ptr();  // clone: backward functions may hand the same buffer to several inputs
  } else {
    Tensor acc(leaf->grad);
    add_inplace(acc, g);
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  SEG_CHECK(root.defined(), "backward: undefined tensor");
  SEG_CHECK(root.requires_grad(), "backward: the tensor does not require grad (", root.describe(),
            "); did its inputs have requires_grad set, and was grad mode on?");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    SEG_CHECK(root.numel() == 1, "backward: a gradient must be given for a non-scalar output ", root.describe());
    grad = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  SEG_CHECK(grad.shape() == root.shape(), "backward: gradient ", grad.describe(), " does not match output ",
            root.describe());
  NoGradGuard no_grad;  // backward functions may call differentiable ops; they must not record
  if (!root.grad_fn()) {
    accumulate_leaf(root.impl(), grad);
    return;
  }

  // Topological order: post-order DFS, reversed.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root.grad_fn().get(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->next.size()) {
      Node* child = node->next[i++].fn.get();
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  std::unordered_map<Node*, Tensor> pending;
  pending[root.grad_fn().get()] = grad;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) continue;  // no gradient reached it
    Tensor g = found->second;
    pending.erase(found);
    SEG_CHECK(node->backward, "backward: trying to backward through the graph a second time (at op '", node->name,
              "'); its saved tensors were freed. Pass retain_graph=true to the first backward if you need this.");
    std::vector<Tensor> grads = node->backward(g);
    SEG_CHECK(grads.size() == node->next.size(), "backward of '", node->name, "' returned ", grads.size(),
              " gradients for ", node->next.size(), " inputs");
    if (!retain_graph) node->backward = nullptr;
    for (size_t i = 0; i < grads.size(); ++i) {
      const Edge& e = node->next[i];
      if (!e.active() || !grads[i].defined()) continue;
      if (e.leaf) {
        accumulate_leaf(e.leaf.get(), grads[i]);
      } else {
        auto p = pending.find(e.fn.get());
        if (p == pending.end()) pending.emplace(e.fn.get(), grads[i]);
        else p->second = add(p->second, grads[i]);
      }
    }
  }
}

}  // namespace seg
