// NLL, cross entropy and MSE (kernels/nll.h): gradient checks for every reduction, with class weights and
// ignore_index; values and error paths.
#include <cmath>

#include "kernels/nll.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

static Tensor labels(const Shape& s, int64_t classes, uint64_t seed, int64_t ignore = -100, int every = 0) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>((i * 7 + seed * 3) % static_cast<uint64_t>(classes));
  if (every)
    for (size_t i = 0; i < v.size(); i += static_cast<size_t>(every)) v[i] = ignore;
  return Tensor::from_labels(v, s);
}

TEST(Gradcheck, CrossEntropyAndNll) {
  GradcheckOptions o;
  Tensor t = labels({2, 3, 5}, 4, 1, 255, 4);
  Tensor w = random_tensor({4}, 51, 0.5, 2.0, 0.1, false);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, w, 255, r); },
                     std::vector<Tensor>{random_tensor({2, 4, 3, 5}, 52)}, o);
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return nll_loss(in[0], t, Tensor(), 255, r); },
                     std::vector<Tensor>{random_tensor({2, 4, 3, 5}, 53)}, o);
  }
  Tensor t2 = labels({6}, 3, 2);
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t2); },
                   std::vector<Tensor>{random_tensor({6, 3}, 54)}, o);
}

TEST(Loss, CrossEntropyValueAndErrors) {
  Tensor x = Tensor::from_vector({0, 0, 1, 1}, {2, 2}, DType::Float64);  // rows: [0,0], [1,1]
  Tensor t = Tensor::from_labels({0, 1}, {2});
  EXPECT_NEAR(cross_entropy(x, t).item(), std::log(2.0), 1e-12);
  Tensor bad = Tensor::from_labels({0, 7}, {2});
  try {
    cross_entropy(x, bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("class 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cross_entropy(x, Tensor::from_labels({0, 1, 1}, {3})), Error);
  EXPECT_THROW(cross_entropy(x, Tensor::from_vector({0, 1}, {2})), Error);  // float target
}

TEST(Gradcheck, Mse) {
  GradcheckOptions o;
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    EXPECT_GRADCHECK([r](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], r); },
                     (std::vector<Tensor>{random_tensor({2, 3, 4}, 61), random_tensor({2, 3, 4}, 62)}), o);
}
