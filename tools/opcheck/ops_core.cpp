// opcheck entries for the core ops (elementwise activations, softmax, losses, cat, convolutions): one small function
// per op name, mapping the case's attrs (torch.nn.functional names) to the engine call.
// To add an op: one line in its family's register_<family>_ops, e.g.
//   t.add("name", [](const OpCall& c) { return engine_call(c.input("input"), c.number("x")); });
#include "tools/opcheck/opcheck.h"
#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "kernels/softmax.h"

namespace seg::opcheck {
namespace {

ConvOptions conv_options(const OpCall& c, bool transposed) {
  if (c.integer("groups", 1) != 1) throw Unsupported(c.op + ": groups != 1 is not implemented");
  ConvOptions o;
  o.stride = c.ints("stride", {1});
  o.padding = c.ints("padding", {0});
  o.dilation = c.ints("dilation", {1});
  if (transposed) {
    o.output_padding = c.ints("output_padding", {0});
  } else {
    o.padding_mode = c.text("padding_mode", "zeros");
  }
  return o;
}

Tensor conv_call(const OpCall& c, Tensor (*f)(const Tensor&, const Tensor&, const Tensor&, const ConvOptions&),
                 bool transposed) {
  return f(c.input("input"), c.input("weight"), c.optional("bias"), conv_options(c, transposed));
}

Reduction reduction(const OpCall& c) { return parse_reduction(c.text("reduction", "mean")); }

}  // namespace

void register_core_ops(OpTable& t) {
  t.add("conv2d", [](const OpCall& c) { return conv_call(c, conv2d, false); });
  t.add("conv3d", [](const OpCall& c) { return conv_call(c, conv3d, false); });
  t.add("conv_transpose2d", [](const OpCall& c) { return conv_call(c, conv_transpose2d, true); });
  t.add("conv_transpose3d", [](const OpCall& c) { return conv_call(c, conv_transpose3d, true); });
  t.add("relu", [](const OpCall& c) { return relu(c.input("input")); });
  t.add("sigmoid", [](const OpCall& c) { return sigmoid(c.input("input")); });
  t.add("tanh", [](const OpCall& c) { return seg::tanh(c.input("input")); });
  t.add("leaky_relu",
        [](const OpCall& c) { return leaky_relu(c.input("input"), c.number("negative_slope", 0.01)); });
  t.add("softmax", [](const OpCall& c) { return softmax(c.input("input"), c.integer("dim")); });
  t.add("log_softmax", [](const OpCall& c) { return log_softmax(c.input("input"), c.integer("dim")); });
  t.add("cross_entropy", [](const OpCall& c) {
    if (c.number("label_smoothing", 0.0) != 0.0) throw Unsupported("cross_entropy: label_smoothing is not implemented");
    return cross_entropy(c.input("input"), c.input("target"), c.optional("weight"), c.integer("ignore_index", -100),
                         reduction(c));
  });
  t.add("nll_loss", [](const OpCall& c) {
    return nll_loss(c.input("input"), c.input("target"), c.optional("weight"), c.integer("ignore_index", -100),
                    reduction(c));
  });
  t.add("mse_loss", [](const OpCall& c) { return mse_loss(c.input("input"), c.input("target"), reduction(c)); });
  t.add("cat", [](const OpCall& c) { return cat(c.numbered("input"), c.integer("dim", 0)); });
  // Beyond the spec's table: binary ops (broadcasting), sum and mean (no "dim": over everything).
  t.add("add", [](const OpCall& c) { return add(c.input("input"), c.input("other")); });
  t.add("sub", [](const OpCall& c) { return sub(c.input("input"), c.input("other")); });
  t.add("mul", [](const OpCall& c) { return mul(c.input("input"), c.input("other")); });
  t.add("div", [](const OpCall& c) { return div(c.input("input"), c.input("other")); });
  t.add("sum", [](const OpCall& c) {
    return c.has("dim") ? sum(c.input("input"), c.ints("dim"), c.flag("keepdim", false)) : sum_all(c.input("input"));
  });
  t.add("mean", [](const OpCall& c) {
    return c.has("dim") ? mean(c.input("input"), c.ints("dim"), c.flag("keepdim", false)) : mean_all(c.input("input"));
  });
}

}  // namespace seg::opcheck
