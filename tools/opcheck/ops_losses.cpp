// opcheck entries for the project's losses (losses/*.h), as defined in the spec's second table.
// To add one: a line in register_losses_ops, t.add("name", [](const OpCall& c) { return loss(c.input("input"), ...); });
#include "tools/opcheck/opcheck.h"
#include "kernels/softmax.h"
#include "losses/descriptor_loss.h"
#include "losses/egcnn_losses.h"
#include "losses/size_penalty.h"

namespace seg::opcheck {

void register_losses_ops(OpTable& t) {
  t.add("size_penalty", [](const OpCall& c) { return size_penalty(c.input("input"), c.input("bounds")); });
  // Paper 3's composed losses: edge Dice of σ + balanced BCE; dual-task consistency with the Gumbel noise given.
  t.add("egcnn_edge_loss", [](const OpCall& c) {
    return edge_loss(c.input("input"), c.input("target"), c.number("w_dice", 1.0), c.number("w_bce", 1.0),
                     c.number("eps", 1e-5));
  });
  t.add("egcnn_dual_task", [](const OpCall& c) {
    return dual_task_loss_with_noise(c.input("input"), c.input("target"), c.input("noise"), c.number("tau", 0.5), false,
                                     c.number("eps", 1e-6));
  });
  // Paper 5's composed descriptor loss: softmax of the logits, then the log-barrier on size, centroid, distance,
  // length and length-ratio bounds (the bounds are inputs, as the loss receives them from the data).
  t.add("descriptor_loss", [](const OpCall& c) {
    const Tensor& x = c.input("input");
    SEG_CHECK(x.dim() == 4, "descriptor_loss: input must be (N, K, H, W) logits, got ", x.describe());
    DescriptorLossConfig cfg;
    cfg.classes = c.ints("classes");
    cfg.weight = c.number("weight", 1e-2);
    if (c.has("ratios"))
      for (const auto& r : c.attrs["ratios"]) {
        SEG_CHECK(r.is_array() && r.size() == 4, "descriptor_loss: each entry of attr 'ratios' is [num, den, lo, hi]");
        cfg.length_ratios.push_back({.num = r[0].get<int64_t>(), .den = r[1].get<int64_t>(), .lo = r[2].get<double>(),
                                     .hi = r[3].get<double>()});
      }
    DescriptorBounds b;
    b.classes = cfg.classes;
    b.height = x.size(2);
    b.width = x.size(3);
    b.size = c.input("size_bounds");
    b.centroid = c.input("centroid_bounds");
    b.spread = c.input("spread_bounds");
    b.length = c.input("length_bounds");
    b.present = c.input("present");
    b.ratio_active = c.input("ratio_active");
    return descriptor_loss(softmax(x, 1), b, cfg, c.number("t")).total;
  });
}

}  // namespace seg::opcheck
