// opcheck entries for max pooling and unpooling (kernels/pool.h): the case's output is the pooled tensor (the indices
// are not compared: PyTorch's choice among equal maxima is not part of the contract).
#include "tools/opcheck/opcheck.h"
#include "kernels/pool.h"

namespace seg::opcheck {
namespace {

// The engine pools without padding or dilation, in floor mode.
void check_plain(const OpCall& c) {
  for (int64_t v : c.ints("padding", {0}))
    if (v != 0) throw Unsupported(c.op + ": padding is not implemented");
  for (int64_t v : c.ints("dilation", {1}))
    if (v != 1) throw Unsupported(c.op + ": dilation is not implemented");
  if (c.flag("ceil_mode", false)) throw Unsupported(c.op + ": ceil_mode is not implemented");
}

}  // namespace

void register_pool_ops(OpTable& t) {
  t.add("max_pool2d", [](const OpCall& c) {
    check_plain(c);
    return max_pool2d(c.input("input"), c.ints("kernel_size"), c.ints("stride", {})).output;
  });
  t.add("max_pool3d", [](const OpCall& c) {
    check_plain(c);
    return max_pool3d(c.input("input"), c.ints("kernel_size"), c.ints("stride", {})).output;
  });
  // The indices come from the case (PyTorch's max_pool with return_indices: flat offsets in each (n, c) plane).
  t.add("max_unpool2d", [](const OpCall& c) {
    return max_unpool2d(c.input("input"), c.input("indices"), c.ints("output_size"));
  });
  t.add("max_unpool3d", [](const OpCall& c) {
    return max_unpool3d(c.input("input"), c.input("indices"), c.ints("output_size"));
  });
}

}  // namespace seg::opcheck
