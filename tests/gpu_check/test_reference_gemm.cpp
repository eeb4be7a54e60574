// The compiled-in reference GEMM (kernels/gemm_reference.h), which the gpu-check profile uses for every CPU
// convolution when the GPU node has no BLAS: against a plain double loop for every transpose combination, odd sizes
// across the tile edges, row strides wider than the matrices, alpha/beta (beta = 0 must not read C), k = 0, one and
// several threads; in builds with OpenBLAS also against it through seg::gemm.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <vector>

#include "engine/rng.h"
#include "kernels/blas.h"
#include "kernels/gemm_reference.h"

using namespace seg;

namespace {
template <class T>
std::vector<T> random_values(size_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(g.uniform() * 2 - 1);
  return v;
}

// C = alpha·op(A)·op(B) + beta·C in double (beta = 0: C ignored).
template <class T>
std::vector<double> naive(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const std::vector<T>& a,
                          int64_t lda, const std::vector<T>& b, int64_t ldb, double beta, const std::vector<T>& c,
                          int64_t ldc) {
  std::vector<double> out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += static_cast<double>(ta ? a[p * lda + i] : a[i * lda + p]) * static_cast<double>(tb ? b[j * ldb + p] : b[p * ldb + j]);
      out[i * n + j] = alpha * s + (beta == 0 ? 0.0 : beta * static_cast<double>(c[i * ldc + j]));
    }
  return out;
}

template <class T>
void check_case(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, double beta, int threads, bool via_blas) {
  SCOPED_TRACE(::testing::Message() << "ta " << ta << " tb " << tb << " m " << m << " n " << n << " k " << k << " alpha "
                                    << alpha << " beta " << beta << " threads " << threads << (via_blas ? " seg::gemm" : ""));
  const int64_t pad = 3;  // row strides wider than the rows
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  auto a = random_values<T>(static_cast<size_t>(std::max<int64_t>(ar * lda, 1)), 1);
  auto b = random_values<T>(static_cast<size_t>(std::max<int64_t>(br * ldb, 1)), 2);
  auto c = random_values<T>(static_cast<size_t>(std::max<int64_t>(m * ldc, 1)), 3);
  if (beta == 0) std::fill(c.begin(), c.end(), std::numeric_limits<T>::quiet_NaN());  // must not be read
  const auto want = naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  auto got = c;
  if (via_blas) {
    gemm(ta, tb, m, n, k, static_cast<T>(alpha), a.data(), lda, b.data(), ldb, static_cast<T>(beta), got.data(), ldc);
  } else {
    reference_gemm(ta, tb, m, n, k, static_cast<T>(alpha), a.data(), lda, b.data(), ldb, static_cast<T>(beta), got.data(),
                   ldc, threads);
  }
  const double tol = std::is_same_v<T, float> ? 1e-5 * std::sqrt(static_cast<double>(k) + 1) : 1e-13 * (k + 1);
  int bad = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double w = want[i * n + j], g = got[i * ldc + j];
      if (!(std::fabs(g - w) <= tol * (1 + std::fabs(w))) && bad++ < 3)
        ADD_FAILURE() << "C[" << i << "," << j << "] = " << g << ", expected " << w;
    }
    for (int64_t j = n; j < ldc; ++j)  // the padding after each row is untouched
      if (!(std::isnan(got[i * ldc + j]) && std::isnan(c[i * ldc + j])) && got[i * ldc + j] != c[i * ldc + j] && bad++ < 3)
        ADD_FAILURE() << "padding C[" << i << "," << j << "] was written";
  }
  EXPECT_EQ(bad, 0);
}

template <class T>
void check_all(bool via_blas) {
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    check_case<T>(ta, tb, 1, 1, 1, 1.0, 0.0, 1, via_blas);
    check_case<T>(ta, tb, 7, 5, 3, 1.0, 0.0, 1, via_blas);
    check_case<T>(ta, tb, 67, 259, 300, 1.5, 0.5, 2, via_blas);  // one past the 64×256 tile and the 256-deep panel
    check_case<T>(ta, tb, 130, 33, 515, -0.75, 1.0, 3, via_blas);
    check_case<T>(ta, tb, 5, 600, 9, 1.0, -2.0, 2, via_blas);
    check_case<T>(ta, tb, 4, 6, 0, 1.0, 0.5, 1, via_blas);  // k = 0: C = beta·C
    check_case<T>(ta, tb, 4, 6, 0, 1.0, 0.0, 1, via_blas);  // k = 0, beta = 0: C = 0
  }
  check_case<T>(false, false, 0, 5, 4, 1.0, 0.0, 2, via_blas);  // empty C
}
}  // namespace

TEST(ReferenceGemm, FloatMatchesDoubleLoop) { check_all<float>(false); }
TEST(ReferenceGemm, DoubleMatchesDoubleLoop) { check_all<double>(false); }

// seg::gemm is what the convolutions call: OpenBLAS in the full profile, the reference GEMM in a gpu-check build
// without BLAS (SEG_BLAS_REFERENCE); either way it must meet the same checks, also under BlasThreads(1).
TEST(ReferenceGemm, SegGemmOfThisBuild) {
#ifdef SEG_BLAS_REFERENCE
  std::printf("seg::gemm in this build: the compiled-in reference GEMM\n");
#else
  std::printf("seg::gemm in this build: OpenBLAS\n");
#endif
  check_all<float>(true);
  check_all<double>(true);
  BlasThreads one(1);
  check_case<float>(true, false, 67, 259, 300, 1.0, 0.0, 1, true);
}
