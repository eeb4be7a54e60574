// opcheck entry for PReLU (kernels/prelu.h): weight of 1 element (shared) or C elements (per channel).
#include "engine/opcheck.h"
#include "kernels/prelu.h"

namespace seg::opcheck {
namespace {

SEG_OPCHECK_OP("prelu", [](const OpCall& c) { return prelu(c.input("input"), c.input("weight")); });

}  // namespace
}  // namespace seg::opcheck
