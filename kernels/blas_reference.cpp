// seg::gemm and the BLAS thread control (kernels/blas.h) on the compiled-in reference GEMM, for builds where CMake
// found no BLAS library (the gpu-check profile on a bare GPU node). CMake compiles this file instead of blas.cpp.
// Key decision: the thread count is one process-wide setting, as openblas_set_num_threads is, so the "one level of
// parallelism" rule of blas.h holds unchanged (BlasThreads(1) around OpenMP loops over samples).
#include <omp.h>

#include <atomic>

#include "engine/error.h"
#include "kernels/blas.h"
#include "kernels/gemm_reference.h"

namespace seg {

namespace {
std::atomic<int> g_threads{0};  // 0: all of OpenMP's threads
int blas_threads() {
  const int t = g_threads.load();
  return t > 0 ? t : omp_get_max_threads();
}
}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  SEG_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m = ", m, ", n = ", n, ", k = ", k);
  reference_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, blas_threads());
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  SEG_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m = ", m, ", n = ", n, ", k = ", k);
  reference_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, blas_threads());
}

int max_threads() { return omp_get_max_threads(); }

BlasThreads::BlasThreads(int n) : prev_(g_threads.load()) { g_threads.store(n); }
BlasThreads::~BlasThreads() { g_threads.store(prev_); }

}  // namespace seg
