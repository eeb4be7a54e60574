// opcheck entries for the papers' kernels (spec's second table): Sobel, moments, Laplacian quadratic form, balanced
// BCE, Dice, log-barrier. (coordconv2d/coordconv_transpose2d: ops_coordconv.cpp; size_penalty: ops_losses.cpp.)
#include "tools/opcheck/opcheck.h"
#include "kernels/fused_losses.h"
#include "kernels/laplacian.h"
#include "kernels/moments.h"
#include "kernels/sobel.h"

namespace seg::opcheck {

void register_project_ops(OpTable& t) {
  t.add("sobel2d", [](const OpCall& c) { return sobel2d(c.input("input")); });
  t.add("sobel3d", [](const OpCall& c) { return sobel3d(c.input("input")); });
  t.add("moments2d", [](const OpCall& c) { return moments2d(c.input("input")); });
  t.add("moments3d", [](const OpCall& c) { return moments3d(c.input("input")); });
  t.add("laplacian_quadratic", [](const OpCall& c) {
    return laplacian_quadratic(c.input("input"), static_cast<int>(c.integer("connectivity")));
  });
  t.add("balanced_bce_with_logits",
        [](const OpCall& c) { return balanced_bce_with_logits(c.input("input"), c.input("target")); });
  t.add("dice_loss", [](const OpCall& c) { return dice_loss(c.input("input"), c.input("target"), c.number("eps", 1e-6)); });
  t.add("log_barrier", [](const OpCall& c) { return log_barrier(c.input("input"), c.number("t")); });
}

}  // namespace seg::opcheck
