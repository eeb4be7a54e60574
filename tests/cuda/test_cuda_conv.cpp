// CUDA vs CPU: convolutions (the cuDNN default path, or im2col when SEG_CONV_IMPL=im2col; reflection padding always
// takes the im2col path), hand-written transposed convolutions, and fused CoordConv. Each comparison also asserts
// which path ran, through cuDNN's call counter (a build that silently lost cuDNN fails here, not in a benchmark).
#include "cuda_test_util.h"
#include "kernels/conv.h"
#include "kernels/conv_cuda.h"
#include "kernels/coordconv.h"

using namespace seg;
using namespace seg::cudatest;
using V = std::vector<Tensor>;

namespace {
const Tol kConvTol{1e-3, 1e-4};  // sums of a few hundred float32 products in different orders
ConvOptions opts(std::vector<int64_t> s, std::vector<int64_t> p, std::vector<int64_t> d, std::string mode = "zeros",
                 std::vector<int64_t> op = {0}) {
  ConvOptions o;
  o.stride = std::move(s);
  o.padding = std::move(p);
  o.dilation = std::move(d);
  o.padding_mode = std::move(mode);
  o.output_padding = std::move(op);
  return o;
}

// For its scope: cuDNN must have run when `cudnn_expected` (zero-padded plain convolution) and cuDNN is selected
// (built, not SEG_CONV_IMPL=im2col); otherwise it must not have run; it must never have fallen back to im2col. The
// CPU half has no CUDA side to check.
class ExpectPath {
 public:
  explicit ExpectPath(bool cudnn_expected) {
    if (kCpuHalf) return;
    expect_cudnn_ = cudnn_expected && cuda::cudnn_selected();
    calls_ = cuda::cudnn_conv_calls();
    fallbacks_ = cuda::cudnn_conv_fallbacks();
  }
  ~ExpectPath() {
    if (kCpuHalf) return;
    const int64_t ran = cuda::cudnn_conv_calls() - calls_;
    EXPECT_EQ(cuda::cudnn_conv_fallbacks() - fallbacks_, 0) << "cuDNN had no working algorithm (its message is on stderr)";
    if (expect_cudnn_) EXPECT_GT(ran, 0) << "cuDNN is selected (" << cuda::conv_path() << ") but did not run";
    else EXPECT_EQ(ran, 0) << "cuDNN ran where the im2col path was expected (" << cuda::conv_path() << ")";
  }
  ExpectPath(const ExpectPath&) = delete;
  ExpectPath& operator=(const ExpectPath&) = delete;

 private:
  bool expect_cudnn_ = false;
  int64_t calls_ = 0, fallbacks_ = 0;
};
}  // namespace

TEST(CudaConv, Conv2dZerosAndReflect) {
  SEG_REQUIRE_GPU();
  for (const auto& o : {opts({1}, {1}, {1}), opts({2}, {0}, {1}), opts({1, 2}, {2, 1}, {2, 1}), opts({1}, {1}, {1}, "reflect"),
                        opts({2}, {2}, {1}, "reflect")}) {
    ExpectPath path(o.padding_mode == "zeros");
    compare_devices([o](const V& v) { return conv2d(v[0], v[1], v[2], o); },
                    {rand_tensor({2, 3, 13, 11}, 1), rand_tensor({5, 3, 3, 3}, 2), rand_tensor({5}, 3)}, kConvTol);
  }
  ExpectPath path(true);
  // 1×1 (the pointwise shortcut of the im2col path), no bias
  compare_devices([](const V& v) { return conv2d(v[0], v[1]); }, {rand_tensor({3, 4, 8, 9}, 4), rand_tensor({6, 4, 1, 1}, 5)},
                  kConvTol);
  // input gradient only (weight frozen): the backward gets no input tensor
  Tensor w = rand_tensor({4, 3, 3, 3}, 6, -1, 1, false);
  compare_devices([w](const V& v) { return conv2d(v[0], on_side(w), Tensor(), opts({1}, {1}, {1})); },
                  {rand_tensor({2, 3, 7, 7}, 7)}, kConvTol);
}

TEST(CudaConv, Conv3d) {
  SEG_REQUIRE_GPU();
  for (const auto& o : {opts({1}, {1}, {1}), opts({2, 1, 2}, {1, 0, 1}, {1}), opts({1}, {1}, {1}, "reflect")}) {
    ExpectPath path(o.padding_mode == "zeros");
    compare_devices([o](const V& v) { return conv3d(v[0], v[1], v[2], o); },
                    {rand_tensor({2, 2, 5, 7, 6}, 10), rand_tensor({3, 2, 3, 3, 3}, 11), rand_tensor({3}, 12)}, kConvTol);
  }
}

TEST(CudaConv, TransposedConv) {
  SEG_REQUIRE_GPU();
  ExpectPath path(false);  // hand-written: cuBLAS GEMM + gather col2vol
  for (const auto& o : {opts({2}, {0}, {1}), opts({2}, {1}, {1}, "zeros", {1}), opts({1}, {1}, {2})}) {
    compare_devices([o](const V& v) { return conv_transpose2d(v[0], v[1], v[2], o); },
                    {rand_tensor({2, 4, 6, 5}, 20), rand_tensor({4, 3, 3, 3}, 21), rand_tensor({3}, 22)}, kConvTol);
  }
  compare_devices([](const V& v) { return conv_transpose3d(v[0], v[1], v[2], opts({2}, {1}, {1}, "zeros", {1})); },
                  {rand_tensor({1, 3, 3, 4, 5}, 23), rand_tensor({3, 2, 3, 3, 3}, 24), rand_tensor({2}, 25)}, kConvTol);
  // input gradient only
  Tensor w = rand_tensor({4, 2, 2, 2}, 26, -1, 1, false);
  compare_devices([w](const V& v) { return conv_transpose2d(v[0], on_side(w), Tensor(), opts({2}, {0}, {1})); },
                  {rand_tensor({2, 4, 5, 5}, 27)}, kConvTol);
}

TEST(CudaConv, CoordConv) {
  SEG_REQUIRE_GPU();
  ExpectPath path(false);  // fused kernels of their own
  compare_devices([](const V& v) { return coordconv2d(v[0], v[1], v[2], opts({1}, {1}, {1})); },
                  {rand_tensor({2, 3, 9, 10}, 30), rand_tensor({4, 5, 3, 3}, 31), rand_tensor({4}, 32)}, kConvTol);
  compare_devices([](const V& v) { return coordconv2d(v[0], v[1], v[2], opts({2}, {1}, {1}, "reflect")); },
                  {rand_tensor({2, 3, 9, 10}, 33), rand_tensor({4, 5, 3, 3}, 34), rand_tensor({4}, 35)}, kConvTol);
  compare_devices([](const V& v) { return coordconv_transpose2d(v[0], v[1], v[2], opts({2}, {1}, {1}, "zeros", {1})); },
                  {rand_tensor({2, 3, 5, 6}, 36), rand_tensor({5, 4, 3, 3}, 37), rand_tensor({4}, 38)}, kConvTol);
  compare_devices([](const V& v) { return coordconv3d(v[0], v[1], v[2], opts({1}, {1}, {1})); },
                  {rand_tensor({1, 2, 4, 5, 6}, 39), rand_tensor({3, 5, 3, 3, 3}, 40), rand_tensor({3}, 41)}, kConvTol);
}
