// opcheck entries for normalisation (kernels/norm.h). batch_norm runs in training mode with batch statistics (the
// spec's case); with attr "training": false it uses the case's running_mean/running_var inputs (evaluation mode).
#include "tools/opcheck/opcheck.h"
#include "kernels/norm.h"

namespace seg::opcheck {

void register_norm_ops(OpTable& t) {
  t.add("batch_norm", [](const OpCall& c) {
    const bool training = c.flag("training", true);
    return batch_norm(c.input("input"), c.optional("weight"), c.optional("bias"),
                      training ? c.optional("running_mean") : c.input("running_mean"),
                      training ? c.optional("running_var") : c.input("running_var"), training, c.number("momentum", 0.1),
                      c.number("eps", 1e-5));
  });
  t.add("group_norm", [](const OpCall& c) {
    return group_norm(c.input("input"), c.integer("num_groups"), c.optional("weight"), c.optional("bias"),
                      c.number("eps", 1e-5));
  });
}

}  // namespace seg::opcheck
