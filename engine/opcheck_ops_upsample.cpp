// opcheck entries for resizing (kernels/upsample.h), torch.nn.functional.interpolate semantics: attrs scale_factor
// (one value or one per spatial dim) and align_corners (not for nearest), or "size" (the output's spatial size).
#include "engine/opcheck.h"
#include "kernels/upsample.h"

namespace seg::opcheck {
namespace {

std::vector<int64_t> out_size(const OpCall& c, size_t nd) {
  std::vector<int64_t> s = c.ints("size");
  if (s.size() == 1) s.assign(nd, s[0]);
  SEG_CHECK(s.size() == nd, c.op, ": \"size\" needs 1 or ", nd, " values");
  return s;
}

SEG_OPCHECK_OP("upsample_bilinear2d", [](const OpCall& c) {
  const Tensor& x = c.input("input");
  const bool ac = c.flag("align_corners", false);
  if (c.has("size")) {
    auto s = out_size(c, 2);
    return upsample_bilinear2d(x, s[0], s[1], ac);
  }
  return upsample_bilinear2d_scale(x, c.numbers("scale_factor", {}), ac);
});
SEG_OPCHECK_OP("upsample_trilinear3d", [](const OpCall& c) {
  const Tensor& x = c.input("input");
  const bool ac = c.flag("align_corners", false);
  if (c.has("size")) {
    auto s = out_size(c, 3);
    return upsample_trilinear3d(x, s[0], s[1], s[2], ac);
  }
  return upsample_trilinear3d_scale(x, c.numbers("scale_factor", {}), ac);
});
SEG_OPCHECK_OP("upsample_nearest2d", [](const OpCall& c) {
  if (c.has("size")) {
    auto s = out_size(c, 2);
    return upsample_nearest2d(c.input("input"), s[0], s[1]);
  }
  return upsample_nearest2d_scale(c.input("input"), c.numbers("scale_factor", {}));
});
SEG_OPCHECK_OP("upsample_nearest3d", [](const OpCall& c) {
  if (c.has("size")) {
    auto s = out_size(c, 3);
    return upsample_nearest3d(c.input("input"), s[0], s[1], s[2]);
  }
  return upsample_nearest3d_scale(c.input("input"), c.numbers("scale_factor", {}));
});

}  // namespace
}  // namespace seg::opcheck
