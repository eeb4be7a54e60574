// Row-major GEMM on the CPU through CBLAS (OpenBLAS), for float and double, and control of BLAS threads.
// Key decision: we parallelise at one level only — either OpenMP over samples with single-threaded BLAS, or BLAS
// threads with serial surroundings — because two BLAS threads inside two OpenMP threads oversubscribe two cores.
#pragma once
#include <cstdint>

namespace seg {

// C (m×n) = alpha · op(A) · op(B) + beta · C, row-major; lda/ldb/ldc are row strides.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

int max_threads();  // OpenMP's thread count (the machine's cores unless OMP_NUM_THREADS says otherwise)

// Sets the BLAS thread count for a scope and restores it afterwards.
class BlasThreads {
 public:
  explicit BlasThreads(int n);
  ~BlasThreads();
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;
 private:
  int prev_;
};

}  // namespace seg
