// The model registry: every registered architecture is rebuilt from its config JSON with the same parameters and
// initial weights as direct construction, a built model is recognised back (name + config) by its type, and bad
// configs (unknown architecture, a key the model does not have, a value of the wrong kind) are errors naming them.
#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "models/registry.h"
#include "models/enet.h"
#include "models/residual_unet.h"
#include "models/small_cnn.h"
#include "models/unet_bn.h"

using namespace seg;
using json = nlohmann::json;

namespace {

void expect_same_weights(const Module& a, const Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    ASSERT_EQ(pa[i].first, pb[i].first);
    EXPECT_EQ(pa[i].second.to_vector(), pb[i].second.to_vector()) << pa[i].first;
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ModelRegistry, ListsTheModelsOnThisBranch) {
  const auto names = registered_architectures();
  EXPECT_NE(std::find(names.begin(), names.end(), "residual_unet"), names.end());
}

TEST(ModelRegistry, ResidualUNetFromJsonEqualsDirectConstruction) {
  const ResidualUNet::Config cfg{.in_channels = 2, .classes = 3, .base_width = 4, .coord = CoordPlacement::Encoder, .seed = 7};
  ResidualUNet direct(cfg);
  const auto rec = find_model_record(direct);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->architecture, "residual_unet");
  EXPECT_EQ(rec->config, (json{{"in_channels", 2}, {"classes", 3}, {"base_width", 4}, {"coord", "enc"}, {"seed", 7}}));
  const BuiltModel b = build_model(rec->architecture, rec->config);
  EXPECT_EQ(b.architecture, "residual_unet");
  EXPECT_EQ(b.spatial_dims, 2);
  EXPECT_EQ(b.divisor, 16);
  EXPECT_EQ(b.in_channels, 2);
  EXPECT_EQ(b.classes, 3);
  EXPECT_EQ(b.module->num_parameters(), direct.num_parameters());
  expect_same_weights(*b.module, direct);
  // the record of the rebuilt model is the config it was built from
  EXPECT_EQ(find_model_record(*b.module)->config, rec->config);
  // segment = forward: same logits on the same input
  direct.eval();
  NoGradGuard ng;
  Tensor x = Tensor::from_vector(std::vector<double>(2 * 16 * 32, 0.25), {1, 2, 16, 32});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 37) % 11) / 11.f;
  const Tensor y = b.segment(x);
  EXPECT_EQ(y.shape(), (Shape{1, 3, 16, 32}));
  EXPECT_EQ(y.to_vector(), direct.forward(x).to_vector());
}

TEST(ModelRegistry, MissingKeysTakeTheConfigDefaults) {
  const BuiltModel b = build_model("residual_unet", json{{"classes", 4}, {"base_width", 2}});
  const auto rec = find_model_record(*b.module);
  EXPECT_EQ(rec->config["in_channels"], 1);
  EXPECT_EQ(rec->config["coord"], "none");
  EXPECT_EQ(rec->config["classes"], 4);
}

TEST(ModelRegistry, BadConfigsAreErrorsNamingWhatIsWrong) {
  std::string e = error_of([] { build_model("resnet_unet", json::object()); });
  EXPECT_NE(e.find("unknown model architecture 'resnet_unet'"), std::string::npos) << e;
  EXPECT_NE(e.find("residual_unet"), std::string::npos) << e;  // lists the registered ones
  e = error_of([] { build_model("residual_unet", json{{"widths", json::array({8, 16})}}); });
  EXPECT_NE(e.find("config key 'widths' is not a field"), std::string::npos) << e;
  EXPECT_NE(e.find("base_width"), std::string::npos) << e;  // lists the fields
  e = error_of([] { build_model("residual_unet", json{{"classes", "two"}}); });
  EXPECT_NE(e.find("'classes' must be a number"), std::string::npos) << e;
  e = error_of([] { build_model("residual_unet", json{{"coord", "everywhere"}, {"base_width", 2}}); });
  EXPECT_NE(e.find("everywhere"), std::string::npos) << e;
  e = error_of([] { build_model("residual_unet", json::array()); });
  EXPECT_NE(e.find("must be a JSON object"), std::string::npos) << e;
}

TEST(ModelRegistry, AnUnregisteredModuleIsNamedByItsType) {
  struct NotAModelOfTheRegistry : Module {};
  NotAModelOfTheRegistry m;
  EXPECT_FALSE(find_model_record(m).has_value());
  EXPECT_NE(module_type_name(m).find("NotAModelOfTheRegistry"), std::string::npos) << module_type_name(m);
}

// ENet, U-Net-BN and the 4-layer CNN (papers 5 and 2): a non-default config survives record → JSON → build, with the
// same weights (same seed) and the same logits in eval mode.
TEST(ModelRegistry, PaperTwoAndFiveModelsRoundTrip) {
  const auto check = [](const Module& direct_mod, const std::function<Tensor(const Tensor&)>& direct_fwd,
                        const char* arch, int64_t in, int64_t classes, int64_t divisor, const Shape& xshape) {
    SCOPED_TRACE(arch);
    const auto rec = find_model_record(direct_mod);
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->architecture, arch);
    const BuiltModel b = build_model(rec->architecture, rec->config);
    EXPECT_EQ(b.divisor, divisor);
    EXPECT_EQ(b.in_channels, in);
    EXPECT_EQ(b.classes, classes);
    EXPECT_EQ(b.module->num_parameters(), direct_mod.num_parameters());
    expect_same_weights(*b.module, direct_mod);
    EXPECT_EQ(find_model_record(*b.module)->config, rec->config);
    b.module->eval();
    NoGradGuard ng;
    Tensor x = Tensor::empty(xshape);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 37) % 11) / 11.f;
    EXPECT_EQ(b.segment(x).to_vector(), direct_fwd(x).to_vector());
  };
  ENet enet({.in_channels = 2, .classes = 3, .base_width = 8, .spatial_dropout = false, .seed = 5});
  enet.eval();
  check(enet, [&](const Tensor& x) { return enet.forward(x); }, "enet", 2, 3, 8, {1, 2, 16, 24});
  UNetBN unet({.in_channels = 1, .classes = 4, .base_width = 2, .pe_lambda = 10, .padding_mode = "reflect", .seed = 3});
  unet.eval();
  check(unet, [&](const Tensor& x) { return unet.forward(x); }, "unet_bn", 1, 4, 16, {1, 1, 32, 32});
  SmallCNN cnn({.in_channels = 1, .classes = 4, .width = 3, .pe_lambda = 256, .seed = 9});
  cnn.eval();
  check(cnn, [&](const Tensor& x) { return cnn.forward(x); }, "small_cnn", 1, 4, 1, {1, 1, 9, 13});
}
