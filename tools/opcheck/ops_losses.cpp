// opcheck entries for the project's losses (losses/*.h), as defined in the spec's second table.
// To add one: a line in register_losses_ops, t.add("name", [](const OpCall& c) { return loss(c.input("input"), ...); });
#include "tools/opcheck/opcheck.h"
#include "losses/size_penalty.h"

namespace seg::opcheck {

void register_losses_ops(OpTable& t) {
  t.add("size_penalty", [](const OpCall& c) { return size_penalty(c.input("input"), c.input("bounds")); });
}

}  // namespace seg::opcheck
