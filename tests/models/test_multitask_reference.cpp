// Paper 4's multi-task U-Net against its PyTorch twin (profiling/multitask_torch.py), all five variants: parameter
// names, shapes and order first, then the heads' outputs, the composed loss and its gradients with respect to the
// input, the first conv's weight and the mask head's weight, from tests/models/multitask_reference (written by
// tools/opcheck/gen_multitask_reference.py in float64; the weights are a formula, see there).
// Key decision: the engine runs its float32 training path (oneDNN or im2col convolutions), so the comparison allows
// float32 rounding through 18+ layers: |ours − torch| ≤ 1e-5·max|torch| + 1e-7 per tensor (measured: ≤ 3e-7·max).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/npy.h"
#include "kernels/nll.h"
#include "losses/multitask.h"
#include "models/multitask_unet.h"

using namespace seg;

namespace {
const std::string kDir = std::string(SEG_SOURCE_DIR) + "/tests/models/multitask_reference/";

Tensor load(const std::string& f) { return load_npy(kDir + f); }

void expect_close(const Tensor& ours, const Tensor& ref, const std::string& what) {
  ASSERT_EQ(ours.shape(), ref.shape()) << what;
  const auto a = ours.to_vector(), b = ref.to_vector();
  double scale = 0, err = 0;
  for (double v : b) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < a.size(); ++i) err = std::max(err, std::fabs(a[i] - b[i]));
  EXPECT_LE(err, 1e-5 * scale + 1e-7) << what << ": max |ours − torch| " << err << " (max |torch| " << scale << ")";
}
}  // namespace

TEST(MultitaskUNetReference, AllVariantsMatchPyTorch) {
  std::ifstream f(kDir + "manifest.json");
  ASSERT_TRUE(f.good()) << "missing " << kDir << "manifest.json (run tools/opcheck/gen_multitask_reference.py)";
  const nlohmann::json man = nlohmann::json::parse(f);
  ASSERT_EQ(man.at("cases").size(), 5u);
  const Tensor x = load("input.npy").to(DType::Float32);
  const Tensor tm = load("mask_target.npy"), tc = load("contour_target.npy");
  const Tensor td = load("distance_target.npy").to(DType::Float32);
  for (const auto& c : man.at("cases")) {
    const std::string v = c.at("variant");
    SCOPED_TRACE(v);
    MultitaskUNet m({.variant = parse_multitask_variant(v), .in_channels = 3, .base_width = man.at("base_width")});
    const auto params = m.named_parameters();
    ASSERT_EQ(params.size(), c.at("params").size());
    for (size_t k = 0; k < params.size(); ++k) {
      const auto& [name, p] = params[k];
      ASSERT_EQ(name, c.at("params")[k][0].get<std::string>()) << "parameter " << k;
      ASSERT_EQ(p.shape(), c.at("params")[k][1].get<Shape>()) << name;
      const int64_t fan_in = p.size(1) * p.size(2) * p.size(3);
      float* w = p.data<float>();
      for (int64_t j = 0; j < p.numel(); ++j)
        w[j] = static_cast<float>(2.0 / std::sqrt(static_cast<double>(fan_in)) *
                                  std::sin(1.7 * static_cast<double>(j) + 0.9 * static_cast<double>(k) + 0.3));
    }
    Tensor xi = x.clone().set_requires_grad(true);
    const auto o = m.forward(xi);
    const auto& files = c.at("files");
    expect_close(o.mask, load(files.at("mask")), "mask");
    if (files.contains("contour")) expect_close(o.contour, load(files.at("contour")), "contour");
    if (files.contains("distance")) expect_close(o.distance, load(files.at("distance")), "distance");
    const MultitaskLoss l = multitask_loss(o.mask, tm, o.contour, o.contour.defined() ? tc : Tensor(), o.distance,
                                           o.distance.defined() ? td : Tensor());
    expect_close(l.total, load(files.at("loss")), "loss");
    l.total.backward();
    expect_close(xi.grad(), load(files.at("grad_input")), "d loss / d input");
    expect_close(params.front().second.grad(), load(files.at("grad_first_conv")), "d loss / d down1.conv1.conv.weight");
    for (const auto& [name, p] : params)
      if (name == "mask_head.weight") expect_close(p.grad(), load(files.at("grad_mask_head")), "d loss / d mask_head.weight");
  }
}
