// opcheck entries for resizing (kernels/upsample.h), torch.nn.functional.interpolate semantics: attrs scale_factor
// (one value or one per spatial dim) and align_corners (not for nearest), or "size" (the output's spatial size).
#include "tools/opcheck/opcheck.h"
#include "kernels/op_util.h"
#include "kernels/upsample.h"

namespace seg::opcheck {
namespace {

std::vector<int64_t> out_size(const OpCall& c, int64_t nd) { return per_spatial_dim(c.ints("size"), nd, c.op.c_str(), "size"); }

}  // namespace

void register_upsample_ops(OpTable& t) {
  t.add("upsample_bilinear2d", [](const OpCall& c) {
    const Tensor& x = c.input("input");
    const bool ac = c.flag("align_corners", false);
    if (c.has("size")) {
      auto s = out_size(c, 2);
      return upsample_bilinear2d(x, s[0], s[1], ac);
    }
    return upsample_bilinear2d_scale(x, c.numbers("scale_factor", {}), ac);
  });
  t.add("upsample_trilinear3d", [](const OpCall& c) {
    const Tensor& x = c.input("input");
    const bool ac = c.flag("align_corners", false);
    if (c.has("size")) {
      auto s = out_size(c, 3);
      return upsample_trilinear3d(x, s[0], s[1], s[2], ac);
    }
    return upsample_trilinear3d_scale(x, c.numbers("scale_factor", {}), ac);
  });
  t.add("upsample_nearest2d", [](const OpCall& c) {
    if (c.has("size")) {
      auto s = out_size(c, 2);
      return upsample_nearest2d(c.input("input"), s[0], s[1]);
    }
    return upsample_nearest2d_scale(c.input("input"), c.numbers("scale_factor", {}));
  });
  t.add("upsample_nearest3d", [](const OpCall& c) {
    if (c.has("size")) {
      auto s = out_size(c, 3);
      return upsample_nearest3d(c.input("input"), s[0], s[1], s[2]);
    }
    return upsample_nearest3d_scale(c.input("input"), c.numbers("scale_factor", {}));
  });
}

}  // namespace seg::opcheck
