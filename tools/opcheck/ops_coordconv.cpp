// opcheck entries for CoordConv (spec: conv of cat([input, Y, X])), run through the model layers' own forward
// (models/layers.h Conv2d / ConvTranspose2d with a CoordSpec) with the case's weight, bias and conv options, so the
// check covers the code path the models use. attrs: those of conv2d / conv_transpose2d plus coord_range [lo, hi].
#include "tools/opcheck/opcheck.h"
#include "models/layers.h"

namespace seg::opcheck {
namespace {

CoordSpec coord_spec(const OpCall& c) {
  const std::vector<double> r = c.numbers("coord_range", {-1.0, 1.0});
  SEG_CHECK(r.size() == 2, c.op, ": coord_range must be [lo, hi]");
  return CoordSpec{true, r[0], r[1]};
}

// The case's weight, bias and conv options put into the layer, then the layer's own forward.
template <class Layer>
Tensor run_layer(Layer& layer, const OpCall& c) {
  layer.weight = c.input("weight");
  layer.bias = c.optional("bias");
  layer.opt.stride = c.ints("stride", {1});
  layer.opt.padding = c.ints("padding", {0});
  layer.opt.dilation = c.ints("dilation", {1});
  return layer.forward(c.input("input"));
}

}  // namespace

void register_coordconv_ops(OpTable& t) {
  t.add("coordconv2d", [](const OpCall& c) {
    const Tensor& w = c.input("weight");  // (C_out, C_in + 2, kh, kw)
    SEG_CHECK(w.dim() == 4 && w.size(1) >= 2, "coordconv2d: weight must be (C_out, C_in + 2, kh, kw)");
    Generator gen(0);
    Conv2d layer(w.size(1) - 2, w.size(0),
                 {.kernel = {1}, .padding = {0}, .bias = false, .padding_mode = c.text("padding_mode", "zeros"),
                  .coord = coord_spec(c)},
                 gen);
    return run_layer(layer, c);
  });
  t.add("coordconv_transpose2d", [](const OpCall& c) {
    const Tensor& w = c.input("weight");  // (C_in + 2, C_out, kh, kw)
    SEG_CHECK(w.dim() == 4 && w.size(0) >= 2, "coordconv_transpose2d: weight must be (C_in + 2, C_out, kh, kw)");
    Generator gen(0);
    ConvTranspose2d layer(w.size(0) - 2, w.size(1), {.kernel = {1}, .padding = {0}, .bias = false, .coord = coord_spec(c)},
                          gen);
    layer.opt.output_padding = c.ints("output_padding", {0});
    return run_layer(layer, c);
  });
}

}  // namespace seg::opcheck
