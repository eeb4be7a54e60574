// A compiled-in reference GEMM for builds without a BLAS library (the gpu-check build profile, where the GPU node has
// no OpenBLAS: the CPU halves of the CUDA tests run small shapes). Row-major, the same contract as seg::gemm.
// Key decision: simple and obviously right first — blocked (cache-sized tiles of C, A and B packed per tile), a 4-row
// register block whose inner loop the compiler vectorises, OpenMP over the tiles of C; it is compiled into every
// build so tests/gpu_check compares it with OpenBLAS, and kernels/blas_reference.cpp routes seg::gemm to it when
// CMake finds no BLAS.
#pragma once
#include <cstdint>

namespace seg {

// C (m×n) = alpha · op(A) · op(B) + beta · C with up to `threads` OpenMP threads (≤ 1: serial). beta = 0 never reads
// C (it may hold NaN), as in BLAS.
void reference_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads);
void reference_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                    int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc, int threads);

}  // namespace seg
