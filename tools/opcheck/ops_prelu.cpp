// opcheck entry for PReLU (kernels/prelu.h): weight of 1 element (shared) or C elements (per channel).
#include "tools/opcheck/opcheck.h"
#include "kernels/prelu.h"

namespace seg::opcheck {

void register_prelu_ops(OpTable& t) {
  t.add("prelu", [](const OpCall& c) { return prelu(c.input("input"), c.input("weight")); });
}

}  // namespace seg::opcheck
