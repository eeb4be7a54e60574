// CBLAS wrappers (see blas.h).
#include "kernels/blas.h"

#include <cblas.h>
#include <omp.h>

#include "engine/error.h"

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
}

namespace seg {

namespace {
int to_int(int64_t v, const char* what) {
  SEG_CHECK(v >= 0 && v <= 0x7fffffff, "gemm: ", what, " = ", v, " exceeds the BLAS int range");
  return static_cast<int>(v);
}
}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, to_int(m, "m"),
              to_int(n, "n"), to_int(k, "k"), alpha, a, to_int(lda, "lda"), b, to_int(ldb, "ldb"), beta, c,
              to_int(ldc, "ldc"));
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, to_int(m, "m"),
              to_int(n, "n"), to_int(k, "k"), alpha, a, to_int(lda, "lda"), b, to_int(ldb, "ldb"), beta, c,
              to_int(ldc, "ldc"));
}

int max_threads() { return omp_get_max_threads(); }

BlasThreads::BlasThreads(int n) : prev_(openblas_get_num_threads()) {
  if (n != prev_) openblas_set_num_threads(n);
}
BlasThreads::~BlasThreads() {
  if (openblas_get_num_threads() != prev_) openblas_set_num_threads(prev_);
}

}  // namespace seg
