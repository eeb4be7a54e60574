// opcheck entries for paper 3's composed losses (losses/egcnn_losses.h), as defined in the spec's second table:
// egcnn_edge_loss (Dice of σ + balanced BCE) and egcnn_dual_task (Gumbel-softmax with the noise given, Sobel gradient
// magnitude, L1 against the ground truth's). Self-contained, so it moves with the opcheck entries as one file.
#include "engine/opcheck.h"
#include "losses/egcnn_losses.h"

namespace seg::opcheck {
namespace {

SEG_OPCHECK_OP("egcnn_edge_loss", [](const OpCall& c) {
  return edge_loss(c.input("input"), c.input("target"), c.number("w_dice", 1.0), c.number("w_bce", 1.0),
                   c.number("eps", 1e-5));
});
SEG_OPCHECK_OP("egcnn_dual_task", [](const OpCall& c) {
  return dual_task_loss_with_noise(c.input("input"), c.input("target"), c.input("noise"), c.number("tau", 0.5), false,
                                   c.number("eps", 1e-6));
});

}  // namespace
}  // namespace seg::opcheck
