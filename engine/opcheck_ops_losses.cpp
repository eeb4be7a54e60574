// opcheck entries for the project's losses (losses/*.h), as defined in the spec's second table.
// To add one: SEG_OPCHECK_OP("dice_loss", [](const OpCall& c) { return dice_loss(c.input("input"), ...); });
#include "engine/opcheck.h"
#include "losses/size_penalty.h"

namespace seg::opcheck {
namespace {

SEG_OPCHECK_OP("size_penalty", [](const OpCall& c) { return size_penalty(c.input("input"), c.input("bounds")); });

}  // namespace
}  // namespace seg::opcheck
