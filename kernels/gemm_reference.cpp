// The compiled-in reference GEMM (see gemm_reference.h).
#include "kernels/gemm_reference.h"

#include <omp.h>

#include <algorithm>
#include <vector>

namespace seg {
namespace {

// Tile sizes: one tile of C (kMB × kNB) accumulates over panels of kKB; the packed A panel (64 KiB in float) and
// B panel (256 KiB) stay in L2; four rows of the C tile (4 KiB) stay in L1 across a panel.
constexpr int64_t kMB = 64, kNB = 256, kKB = 256, kRows = 4;

// Per-thread packing buffers, kept between calls (OpenMP's threads persist), so small GEMMs allocate nothing.
template <class T>
struct Tile {
  std::vector<T> ap, bp, acc;
  static Tile& for_this_thread() {
    thread_local Tile t;
    if (t.acc.empty()) {
      t.ap.resize(static_cast<size_t>(kMB * kKB));
      t.bp.resize(static_cast<size_t>(kKB * kNB));
      t.acc.resize(static_cast<size_t>(kMB * kNB));
    }
    return t;
  }
};

// acc (mb × nb, row stride nb) += ap (mb × kb, row-major) · bp (kb × nb, row-major). Four rows of acc at a time: each
// row of bp is loaded once for four rows, and the loop over j is contiguous, so the compiler vectorises it.
template <class T>
void multiply_panel(const T* ap, const T* bp, T* acc, int64_t mb, int64_t nb, int64_t kb) {
  int64_t i = 0;
  for (; i + kRows <= mb; i += kRows) {
    T* __restrict c0 = acc + i * nb;
    T* __restrict c1 = c0 + nb;
    T* __restrict c2 = c1 + nb;
    T* __restrict c3 = c2 + nb;
    for (int64_t p = 0; p < kb; ++p) {
      const T a0 = ap[i * kb + p], a1 = ap[(i + 1) * kb + p], a2 = ap[(i + 2) * kb + p], a3 = ap[(i + 3) * kb + p];
      const T* __restrict brow = bp + p * nb;
      for (int64_t j = 0; j < nb; ++j) {
        const T bj = brow[j];
        c0[j] += a0 * bj;
        c1[j] += a1 * bj;
        c2[j] += a2 * bj;
        c3[j] += a3 * bj;
      }
    }
  }
  for (; i < mb; ++i) {
    T* __restrict crow = acc + i * nb;
    for (int64_t p = 0; p < kb; ++p) {
      const T av = ap[i * kb + p];
      const T* __restrict brow = bp + p * nb;
      for (int64_t j = 0; j < nb; ++j) crow[j] += av * brow[j];
    }
  }
}

template <class T>
void gemm_tile(bool ta, bool tb, int64_t i0, int64_t mb, int64_t j0, int64_t nb, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, Tile<T>& t) {
  T* acc = t.acc.data();
  std::fill(acc, acc + mb * nb, T(0));
  for (int64_t p0 = 0; p0 < k; p0 += kKB) {
    const int64_t kb = std::min(kKB, k - p0);
    T* ap = t.ap.data();
    T* bp = t.bp.data();
    for (int64_t i = 0; i < mb; ++i)
      for (int64_t p = 0; p < kb; ++p) ap[i * kb + p] = ta ? a[(p0 + p) * lda + i0 + i] : a[(i0 + i) * lda + p0 + p];
    for (int64_t p = 0; p < kb; ++p)
      for (int64_t j = 0; j < nb; ++j) bp[p * nb + j] = tb ? b[(j0 + j) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + j];
    multiply_panel(ap, bp, acc, mb, nb, kb);
  }
  for (int64_t i = 0; i < mb; ++i) {
    T* crow = c + (i0 + i) * ldc + j0;
    const T* arow = acc + i * nb;
    if (beta == T(0)) {
      for (int64_t j = 0; j < nb; ++j) crow[j] = alpha * arow[j];
    } else {
      for (int64_t j = 0; j < nb; ++j) crow[j] = alpha * arow[j] + beta * crow[j];
    }
  }
}

template <class T>
void gemm_impl(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
               int64_t ldb, T beta, T* c, int64_t ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  const int64_t tm = (m + kMB - 1) / kMB, tn = (n + kNB - 1) / kNB;
  // Threads only pay off above ~1 MFLOP and with at least two tiles.
  const bool parallel = threads > 1 && tm * tn > 1 && m * n * std::max<int64_t>(k, 1) > (int64_t(1) << 19);
#pragma omp parallel num_threads(parallel ? threads : 1)
  {
    Tile<T>& tile = Tile<T>::for_this_thread();
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t ti = 0; ti < tm; ++ti)
      for (int64_t tj = 0; tj < tn; ++tj) {
        const int64_t i0 = ti * kMB, j0 = tj * kNB;
        gemm_tile(ta, tb, i0, std::min(kMB, m - i0), j0, std::min(kNB, n - j0), k, alpha, a, lda, b, ldb, beta, c, ldc,
                  tile);
      }
  }
}

}  // namespace

void reference_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
}

void reference_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                    const double* b, int64_t ldb, double beta, double* c, int64_t ldc, int threads) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
}

}  // namespace seg
