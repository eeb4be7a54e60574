// Sobel (kernels/sobel.h): forward against the definition as grouped filters through the engine's conv, ramps,
// gradient checks, the edge map, error paths.
#include <functional>

#include "kernels/conv.h"
#include "kernels/sobel.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {
Tensor values(const Shape& s, const std::function<double(int64_t)>& f) {
  Tensor t = Tensor::empty(s, DType::Float64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = f(i);
  return t;
}
}  // namespace

// ---------------------------------------------------------------- Sobel
TEST(Sobel, MatchesDepthwiseConvDefinition) {
  // The definition as grouped filters through the engine's conv: one output channel per (input channel, axis).
  const double d[3] = {-1, 0, 1}, s[3] = {1, 2, 1};
  const Tensor x = random_tensor({2, 3, 5, 7}, 1, -1, 1, 0, false);
  const Tensor y = sobel2d(x);
  ASSERT_EQ(y.shape(), (Shape{2, 6, 5, 7}));
  for (int axis = 0; axis < 2; ++axis) {
    const Tensor w = values({1, 1, 3, 3}, [&](int64_t i) { return axis == 0 ? d[i / 3] * s[i % 3] : s[i / 3] * d[i % 3]; });
    ConvOptions o;
    o.padding = {1};
    for (int64_t c = 0; c < 3; ++c) {
      const Tensor xc = values({2, 1, 5, 7}, [&](int64_t i) { return x.data<double>()[((i / 35) * 3 + c) * 35 + i % 35]; });
      const Tensor ref = conv2d(xc, w, Tensor(), o);
      const Tensor got = values({2, 1, 5, 7}, [&](int64_t i) { return y.data<double>()[((i / 35) * 6 + 2 * c + axis) * 35 + i % 35]; });
      EXPECT_LT(max_abs_diff(got, ref), 1e-13) << "channel " << c << " axis " << axis;
    }
  }
  const Tensor x3 = random_tensor({1, 2, 4, 5, 3}, 2, -1, 1, 0, false);
  const Tensor y3 = sobel3d(x3);
  ASSERT_EQ(y3.shape(), (Shape{1, 6, 4, 5, 3}));
  for (int axis = 0; axis < 3; ++axis) {
    const Tensor w = values({1, 1, 3, 3, 3}, [&](int64_t i) {
      const int64_t a = i / 9, b = (i / 3) % 3, c = i % 3;
      return (axis == 0 ? d[a] : s[a]) * (axis == 1 ? d[b] : s[b]) * (axis == 2 ? d[c] : s[c]);
    });
    ConvOptions o;
    o.padding = {1};
    for (int64_t c = 0; c < 2; ++c) {
      const Tensor xc = values({1, 1, 4, 5, 3}, [&](int64_t i) { return x3.data<double>()[c * 60 + i]; });
      const Tensor got = values({1, 1, 4, 5, 3}, [&](int64_t i) { return y3.data<double>()[(3 * c + axis) * 60 + i]; });
      EXPECT_LT(max_abs_diff(got, conv3d(xc, w, Tensor(), o)), 1e-13) << "channel " << c << " axis " << axis;
    }
  }
}

TEST(Sobel, Ramp) {
  // x = 2·column + 3·row: interior gx = 2·(1+2+1)·2 = 16, gy = 3·4·2 = 24.
  const Tensor x = values({1, 1, 5, 6}, [](int64_t i) { return 2.0 * static_cast<double>(i % 6) + 3.0 * static_cast<double>(i / 6); });
  const Tensor y = sobel2d(x);
  const double* p = y.data<double>();
  for (int64_t r = 1; r < 4; ++r)
    for (int64_t c = 1; c < 5; ++c) {
      EXPECT_DOUBLE_EQ(p[r * 6 + c], 24.0);
      EXPECT_DOUBLE_EQ(p[30 + r * 6 + c], 16.0);
    }
  // 3-D ramp along z: gz = 5·16·2 = 160 inside, gy = gx = 0.
  const Tensor z = values({1, 1, 4, 4, 4}, [](int64_t i) { return 5.0 * static_cast<double>(i / 16); });
  const Tensor g = sobel3d(z);
  EXPECT_DOUBLE_EQ(g.data<double>()[21], 160.0);       // (1,1,1) of gz
  EXPECT_DOUBLE_EQ(g.data<double>()[64 + 21], 0.0);    // gy
  EXPECT_DOUBLE_EQ(g.data<double>()[128 + 21], 0.0);   // gx
}

TEST(SobelGradcheck, Sobel2dAnd3d) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return sobel2d(in[0]); },
                   std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 3)}, GradcheckOptions{});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return sobel2d(in[0]); },
                   std::vector<Tensor>{random_tensor({1, 1, 1, 4}, 4)}, GradcheckOptions{});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return sobel3d(in[0]); },
                   std::vector<Tensor>{random_tensor({1, 2, 3, 5, 4}, 5)}, GradcheckOptions{});
}

TEST(Sobel, EdgeMap) {
  // A 2×2 square of class 1 in a 6×6 image; class 0 is the complement.
  Tensor m = Tensor::zeros({1, 2, 6, 6}, DType::Float64);
  double* p = m.data<double>();
  for (int64_t i = 0; i < 36; ++i) {
    const int64_t r = i / 6, c = i % 6;
    const bool in = r >= 2 && r <= 3 && c >= 2 && c <= 3;
    p[i] = in ? 0 : 1;
    p[36 + i] = in ? 1 : 0;
  }
  const Tensor e = edge_map(m);
  EXPECT_FALSE(e.requires_grad());
  const double* q = e.data<double>();
  for (int64_t i = 0; i < 36; ++i) {
    const int64_t r = i / 6, c = i % 6;
    const bool near = r >= 1 && r <= 4 && c >= 1 && c <= 4;  // within one pixel (8-neighbourhood) of the boundary
    EXPECT_EQ(q[36 + i], near ? 1.0 : 0.0) << r << "," << c;
    const bool border = r == 0 || r == 5 || c == 0 || c == 5;  // class 0 touches the zero padding
    EXPECT_EQ(q[i], (near || border) ? 1.0 : 0.0) << r << "," << c;
  }
  Tensor m3 = Tensor::zeros({1, 1, 5, 5, 5}, DType::Float32);
  m3.data<float>()[2 * 25 + 2 * 5 + 2] = 1;
  const Tensor e3 = edge_map(m3);
  double s = 0;
  for (double v : e3.to_vector()) s += v;
  EXPECT_EQ(s, 26.0);  // the voxel's 26 neighbours (its own gradient is 0 by symmetry)
}

TEST(Sobel, Errors) {
  EXPECT_SEG_ERROR(sobel2d(Tensor::zeros({1, 2, 3}, DType::Float64)), "sobel2d");
  EXPECT_SEG_ERROR(sobel3d(Tensor::zeros({1, 2, 3, 3}, DType::Float64)), "sobel3d");
  EXPECT_SEG_ERROR(edge_map(Tensor::zeros({2, 3}, DType::Float64)), "edge_map");
  EXPECT_SEG_ERROR(sobel2d(Tensor::from_labels({0, 1, 2, 3}, {1, 1, 2, 2})), "sobel2d");
}
