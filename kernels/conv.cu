// CUDA convolutions (kernels/conv_cuda.h), two paths behind the same launchers:
//  * cuDNN (default): forward, backward data, backward filter through the legacy convolution API (deprecated in
//    cuDNN 9 but supported); candidate algorithms from cudnnGet*Algorithm_v7, cached per shape; workspace from
//    the caching allocator. As in PyTorch, an algorithm that fails (not supported, execution failed) or whose
//    workspace cannot be allocated is dropped and the next one tried, then im2col (kernels/conv_cudnn_algo.h has the
//    rules, tested on the CPU); tensors beyond the descriptors' 32-bit range go to im2col. FP32 runs in FMA math (no
//    TF32) unless SEG_TF32=1, so it matches the CPU at float32 tolerances; set SEG_TF32=1 for speed (PyTorch's
//    default allows TF32 for convolutions). Every cuDNN call that ran is counted (cudnn_conv_calls), so tests assert
//    which path ran.
//  * im2col + cuBLAS (SEG_CONV_IMPL=im2col, and always for reflection padding, which cuDNN lacks): per sample
//    col = vol2col(x) (the reflection folded into the source index by conv_source_index), y = W·col, and the
//    adjoints dW += dy·colᵀ, dx = col2vol(Wᵀ·dy). Also the fallback when cuDNN has no algorithm for a shape/dtype.
// Transposed convolutions are hand-written, as on the CPU: y[n] = col2vol(Wᵀ·x[n]) with cuBLAS for the GEMM and a
// gather col2vol kernel (each image element sums the column entries that land on it: no atomics, deterministic).
// Bias add and bias gradient are small kernels shared by every path.
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/conv_cuda.h"
#include "kernels/conv_cudnn_algo.h"
#include "kernels/cuda_util.cuh"

namespace seg::cuda {
namespace {

// ---------------------------------------------------------------- GEMM (row-major, through column-major cuBLAS)
int to_int(int64_t v, const char* op) {
  SEG_CHECK(v >= 0 && v <= INT_MAX, op, ": dimension ", v, " exceeds cuBLAS/cuDNN's int range");
  return static_cast<int>(v);
}

// C (m×n) = alpha·op(A)·op(B) + beta·C, row-major: computed as Cᵀ = op(B)ᵀ·op(A)ᵀ in column-major.
void gemm_rm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
             const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const char* op) {
  SEG_CUBLAS_CHECK(cublasSgemm(cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, to_int(n, op),
                               to_int(m, op), to_int(k, op), &alpha, b, to_int(ldb, op), a, to_int(lda, op), &beta, c,
                               to_int(ldc, op)),
                   op);
}
void gemm_rm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
             const double* b, int64_t ldb, double beta, double* c, int64_t ldc, const char* op) {
  SEG_CUBLAS_CHECK(cublasDgemm(cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, to_int(n, op),
                               to_int(m, op), to_int(k, op), &alpha, b, to_int(ldb, op), a, to_int(lda, op), &beta, c,
                               to_int(ldc, op)),
                   op);
}

// ---------------------------------------------------------------- im2col kernels
// col (K × L), K = C·kd·kh·kw rows, L = OD·OH·OW columns; consecutive threads write consecutive columns.
// The image element that column entry i (row r = (c, kz, ky, kx), column l = (oz, oy, ox)) reads; -1 in zero padding.
__device__ __forceinline__ int64_t col_source(int64_t i, const ConvGeom& g) {
  const int64_t L = g.OD * g.OH * g.OW, r = i / L, l = i - r * L;
  const int64_t kx = r % g.kw, ky = (r / g.kw) % g.kh, kz = (r / (g.kw * g.kh)) % g.kd, c = r / (g.kw * g.kh * g.kd);
  const int64_t ox = l % g.OW, oy = (l / g.OW) % g.OH, oz = l / (g.OW * g.OH);
  const int64_t iz = conv_source_index(oz, kz, g.sd, g.pd, g.dd, g.D, g.reflect);
  const int64_t iy = conv_source_index(oy, ky, g.sh, g.ph, g.dh, g.H, g.reflect);
  const int64_t ix = conv_source_index(ox, kx, g.sw, g.pw, g.dw, g.W, g.reflect);
  return (iz < 0 || iy < 0 || ix < 0) ? -1 : ((c * g.D + iz) * g.H + iy) * g.W + ix;
}

template <class T>
__global__ void vol2col_kernel(const T* img, T* col, ConvGeom g) {
  SEG_GRID_STRIDE(i, g.rows() * g.cols()) {
    const int64_t src = col_source(i, g);
    col[i] = src < 0 ? T(0) : img[src];
  }
}

// img (C, D, H, W) = col2vol(col), zero padding: a gather over the taps (no atomics).
template <class T>
__global__ void col2vol_gather_kernel(const T* col, T* img, ConvGeom g) {
  const int64_t L = g.OD * g.OH * g.OW, S = g.D * g.H * g.W;
  SEG_GRID_STRIDE(i, g.C * S) {
    const int64_t ix = i % g.W, iy = (i / g.W) % g.H, iz = (i / (g.W * g.H)) % g.D, c = i / S;
    double acc = 0;
    for (int64_t kz = 0; kz < g.kd; ++kz) {
      const int64_t oz = conv_column_index(iz, kz, g.sd, g.pd, g.dd, g.OD);
      if (oz < 0) continue;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t oy = conv_column_index(iy, ky, g.sh, g.ph, g.dh, g.OH);
        if (oy < 0) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ox = conv_column_index(ix, kx, g.sw, g.pw, g.dw, g.OW);
          if (ox < 0) continue;
          const int64_t r = ((c * g.kd + kz) * g.kh + ky) * g.kw + kx;
          acc += static_cast<double>(col[r * L + (oz * g.OH + oy) * g.OW + ox]);
        }
      }
    }
    img[i] = static_cast<T>(acc);
  }
}

// img += col2vol(col) for reflection padding (several taps fold onto one element): atomics into a zeroed image.
template <class T>
__global__ void col2vol_atomic_kernel(const T* col, T* img, ConvGeom g) {
  SEG_GRID_STRIDE(i, g.rows() * g.cols()) {
    const int64_t src = col_source(i, g);
    if (src >= 0) atomicAdd(img + src, col[i]);
  }
}

// y[n, c, :] += b[c] over (N, C, L).
template <class T>
__global__ void add_bias_kernel(T* y, const T* b, int64_t C, int64_t L, int64_t n) {
  SEG_GRID_STRIDE(i, n) y[i] += b[(i / L) % C];
}

// db[c] = Σ_n Σ_l dy[n, c, l]: one block per channel.
template <class T>
__global__ void bias_grad_kernel(const T* dy, T* db, int64_t N, int64_t C, int64_t L) {
  __shared__ typename BlockSum::TempStorage tmp;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* p = dy + (n * C + c) * L;
      for (int64_t l = threadIdx.x; l < L; l += blockDim.x) acc += static_cast<double>(p[l]);
    }
    const double s = block_sum(acc, tmp);
    if (threadIdx.x == 0) db[c] = static_cast<T>(s);
  }
}

template <class T>
void launch_vol2col(const T* img, T* col, const ConvGeom& g, const char* op) {
  vol2col_kernel<T><<<grid_for(g.rows() * g.cols()), kThreads, 0, stream()>>>(img, col, g);
  SEG_LAUNCH_CHECK(op);
}

// img = col2vol(col) (overwritten).
template <class T>
void launch_col2vol(const T* col, T* img, const ConvGeom& g, const char* op) {
  if (!g.reflect) {
    col2vol_gather_kernel<T><<<grid_for(g.C * g.image_size()), kThreads, 0, stream()>>>(col, img, g);
  } else {
    SEG_CUDA_CHECK(cudaMemsetAsync(img, 0, static_cast<size_t>(g.C * g.image_size()) * sizeof(T), stream()), op);
    col2vol_atomic_kernel<T><<<grid_for(g.rows() * g.cols()), kThreads, 0, stream()>>>(col, img, g);
  }
  SEG_LAUNCH_CHECK(op);
}

template <class T>
void launch_add_bias(T* y, const Tensor& b, int64_t N, int64_t C, int64_t L, const char* op) {
  if (!b.defined() || N * C * L == 0) return;
  add_bias_kernel<T><<<grid_for(N * C * L), kThreads, 0, stream()>>>(y, b.data<T>(), C, L, N * C * L);
  SEG_LAUNCH_CHECK(op);
}

template <class T>
void launch_bias_grad(const T* dy, Tensor& db, int64_t N, int64_t C, int64_t L, const char* op) {
  if (!db.defined() || C == 0) return;
  bias_grad_kernel<T><<<grid_items(C), kThreads, 0, stream()>>>(dy, db.data<T>(), N, C, L);
  SEG_LAUNCH_CHECK(op);
}

bool is_pointwise(const ConvGeom& g) {
  return g.ksize() == 1 && g.sd == 1 && g.sh == 1 && g.sw == 1 && g.pd == 0 && g.ph == 0 && g.pw == 0;
}

// ---------------------------------------------------------------- im2col path (plain convolution)
template <class T>
void im2col_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g) {
  const char* op = "conv forward (cuda, im2col)";
  const int64_t N = x.size(0), Cout = w.size(0), K = g.rows(), L = g.cols(), S = g.C * g.image_size();
  const bool pw = is_pointwise(g);
  DeviceBuffer col(pw ? 0 : static_cast<size_t>(K * L) * sizeof(T));
  for (int64_t n = 0; n < N; ++n) {
    const T* xn = x.data<T>() + n * S;
    const T* cp = xn;
    if (!pw) {
      launch_vol2col(xn, col.as<T>(), g, op);
      cp = col.as<T>();
    }
    gemm_rm(false, false, Cout, L, K, T(1), w.data<T>(), K, cp, L, T(0), y.data<T>() + n * Cout * L, L, op);
  }
  launch_add_bias<T>(y.data<T>(), b, N, Cout, L, op);
}

template <class T>
void im2col_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, const ConvGeom& g) {
  const char* op = "conv backward (cuda, im2col)";
  const int64_t N = dy.size(0), Cout = w.size(0), K = g.rows(), L = g.cols(), S = g.C * g.image_size();
  const bool pw = is_pointwise(g);
  DeviceBuffer col(pw ? 0 : static_cast<size_t>(K * L) * sizeof(T));
  for (int64_t n = 0; n < N; ++n) {
    const T* dyn = dy.data<T>() + n * Cout * L;
    if (dw.defined()) {
      const T* xn = x.data<T>() + n * S;
      const T* cp = xn;
      if (!pw) {
        launch_vol2col(xn, col.as<T>(), g, op);
        cp = col.as<T>();
      }
      gemm_rm(false, true, Cout, K, L, T(1), dyn, L, cp, L, n == 0 ? T(0) : T(1), dw.data<T>(), K, op);
    }
    if (dx.defined()) {
      T* dxn = dx.data<T>() + n * S;
      if (pw) {
        gemm_rm(true, false, K, L, Cout, T(1), w.data<T>(), K, dyn, L, T(0), dxn, L, op);
      } else {
        gemm_rm(true, false, K, L, Cout, T(1), w.data<T>(), K, dyn, L, T(0), col.as<T>(), L, op);
        launch_col2vol(col.as<T>(), dxn, g, op);
      }
    }
  }
  if (dw.defined() && N == 0) SEG_CUDA_CHECK(cudaMemsetAsync(dw.raw(), 0, dw.numel() * sizeof(T), stream()), op);
}

// ---------------------------------------------------------------- cuDNN path
std::atomic<int64_t> g_cudnn_calls{0}, g_cudnn_fallbacks{0};

bool im2col_forced() {
  static const bool on = [] {
    const char* v = std::getenv("SEG_CONV_IMPL");
    return v && std::strcmp(v, "im2col") == 0;
  }();
  return on;
}

#ifdef SEG_WITH_CUDNN
static_assert(conv_algo::kStatusSuccess == CUDNN_STATUS_SUCCESS && conv_algo::kStatusNotSupported == CUDNN_STATUS_NOT_SUPPORTED &&
                  conv_algo::kStatusInternalError == CUDNN_STATUS_INTERNAL_ERROR &&
                  conv_algo::kStatusCompilationFailed == CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED &&
                  conv_algo::kStatusHostAllocFailed == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED &&
                  conv_algo::kStatusDeviceAllocFailed == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED &&
                  conv_algo::kStatusExecutionFailed == CUDNN_STATUS_EXECUTION_FAILED,
              "cuDNN's status codes differ from kernels/conv_cudnn_algo.h (cuDNN 9 is required)");

bool tf32_allowed() {
  static const bool on = [] {
    const char* v = std::getenv("SEG_TF32");
    return v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

// Descriptors of one convolution (x, w, y at the plain convolution's shapes), destroyed with the object. Callers
// check conv_algo::fits_legacy_descriptors first, so the int conversions cannot fail.
struct CudnnConv {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  std::string key;
  CudnnConv(int64_t N, int64_t Cout, const ConvGeom& g, int nd, cudnnDataType_t dt, const char* op) {
    SEG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x), op);
    SEG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y), op);
    SEG_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w), op);
    SEG_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv), op);
    const int sp = nd - 2;
    int xd[5], yd[5], wd[5], xs[5], ys[5], pad[3], str[3], dil[3];
    const int64_t in[3] = {g.D, g.H, g.W}, out[3] = {g.OD, g.OH, g.OW}, k[3] = {g.kd, g.kh, g.kw};
    const int64_t p[3] = {g.pd, g.ph, g.pw}, s[3] = {g.sd, g.sh, g.sw}, d[3] = {g.dd, g.dh, g.dw};
    xd[0] = yd[0] = to_int(N, op);
    xd[1] = wd[1] = to_int(g.C, op);
    yd[1] = wd[0] = to_int(Cout, op);
    for (int i = 0; i < sp; ++i) {
      const int a = 3 - sp + i;
      xd[2 + i] = to_int(in[a], op);
      yd[2 + i] = to_int(out[a], op);
      wd[2 + i] = to_int(k[a], op);
      pad[i] = to_int(p[a], op);
      str[i] = to_int(s[a], op);
      dil[i] = to_int(d[a], op);
    }
    xs[nd - 1] = ys[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; --i) {
      xs[i] = to_int(static_cast<int64_t>(xs[i + 1]) * xd[i + 1], op);
      ys[i] = to_int(static_cast<int64_t>(ys[i + 1]) * yd[i + 1], op);
    }
    SEG_CUDNN_CHECK(cudnnSetTensorNdDescriptor(x, dt, nd, xd, xs), op);
    SEG_CUDNN_CHECK(cudnnSetTensorNdDescriptor(y, dt, nd, yd, ys), op);
    SEG_CUDNN_CHECK(cudnnSetFilterNdDescriptor(w, dt, CUDNN_TENSOR_NCHW, nd, wd), op);
    SEG_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(conv, sp, pad, str, dil, CUDNN_CROSS_CORRELATION, dt), op);
    const bool tc = dt == CUDNN_DATA_FLOAT && tf32_allowed();
    SEG_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, tc ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), op);
    key = std::to_string(dt);
    for (int i = 0; i < nd; ++i) key += "," + std::to_string(xd[i]) + "," + std::to_string(yd[i]) + "," + std::to_string(wd[i]);
    for (int i = 0; i < sp; ++i) key += ";" + std::to_string(pad[i]) + "," + std::to_string(str[i]) + "," + std::to_string(dil[i]);
    key += tc ? "t" : "f";
  }
  ~CudnnConv() {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;
};

// Per (direction, shape): the candidates still worth trying, the one that last worked first (conv_algo rules). An
// empty list means cuDNN has no working algorithm for the problem; the im2col path runs instead.
std::mutex g_algo_mu;
std::map<std::string, std::vector<conv_algo::Candidate>> g_algo_cache;

constexpr size_t kMaxWorkspace = size_t(1) << 30;

// direction 0: forward, 1: backward data, 2: backward filter. FP32 takes no tensor-op math unless TF32 is allowed;
// FP64 tensor cores are IEEE-exact, so double may.
std::vector<conv_algo::Candidate> candidates(const CudnnConv& d, int direction, bool is_double, const char* op) {
  const std::string key = std::to_string(direction) + "|" + d.key;
  {
    std::lock_guard<std::mutex> lock(g_algo_mu);
    auto it = g_algo_cache.find(key);
    if (it != g_algo_cache.end()) return it->second;
  }
  const bool tensor_ops = is_double || tf32_allowed();
  const std::initializer_list<int> tensor_math = {CUDNN_TENSOR_OP_MATH, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION};
  std::vector<conv_algo::Candidate> list;
  int n = 0;
  if (direction == 0) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    SEG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(cudnn(), d.x, d.w, d.conv, d.y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf), op);
    list = conv_algo::usable_candidates(perf, n, tensor_ops, kMaxWorkspace, tensor_math, CUDNN_FMA_MATH);
  } else if (direction == 1) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    SEG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnn(), d.w, d.y, d.conv, d.x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf), op);
    list = conv_algo::usable_candidates(perf, n, tensor_ops, kMaxWorkspace, tensor_math, CUDNN_FMA_MATH);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    SEG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnn(), d.x, d.y, d.conv, d.w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf), op);
    list = conv_algo::usable_candidates(perf, n, tensor_ops, kMaxWorkspace, tensor_math, CUDNN_FMA_MATH);
  }
  if (list.empty())
    std::fprintf(stderr, "%s: cuDNN suggests no usable algorithm for %s (direction %d); using im2col + cuBLAS\n", op,
                 d.key.c_str(), direction);
  std::lock_guard<std::mutex> lock(g_algo_mu);
  g_algo_cache[key] = list;
  return list;
}

// Runs one direction with the first candidate that works (`run(candidate, workspace)` returns cuDNN's status): a
// candidate whose workspace cannot be allocated or whose status means "not this algorithm" is dropped and the next
// tried; other statuses throw. Returns false (and says so once per problem) when none worked: im2col runs instead.
template <class Run>
bool run_cudnn(const CudnnConv& d, int direction, bool is_double, const char* op, Run run) {
  std::vector<conv_algo::Candidate> list = candidates(d, direction, is_double, op);
  const size_t before = list.size();
  const bool ran = conv_algo::run_first_working(list, [&](const conv_algo::Candidate& c) {
    std::optional<DeviceBuffer> ws;
    try {
      ws.emplace(c.workspace);
    } catch (const Error& e) {
      // engine/device.cu's out-of-memory message (pinned by CudaDevice.OutOfMemoryIsAClearError); anything else is real
      if (std::string(e.what()).find("out of GPU memory") == std::string::npos) throw;
      return conv_algo::Outcome::TryNext;
    }
    SEG_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, static_cast<cudnnMathType_t>(c.math)), op);
    const cudnnStatus_t st = run(c, ws->get());
    if (st == CUDNN_STATUS_SUCCESS) return conv_algo::Outcome::Ran;
    if (!conv_algo::try_next_after(static_cast<int>(st)))
      check_failed(op, "cudnnConvolution* (algorithm from cudnnGet*Algorithm_v7)", cudnnGetErrorString(st), __FILE__,
                   __LINE__);
    (void)cudaGetLastError();  // a failed launch inside cuDNN must not be reported by our next launch check
    return conv_algo::Outcome::TryNext;
  });
  if (list.size() != before) {
    const std::string key = std::to_string(direction) + "|" + d.key;
    std::lock_guard<std::mutex> lock(g_algo_mu);
    g_algo_cache[key] = list;
    if (!ran)
      std::fprintf(stderr, "%s: no cuDNN algorithm worked for %s (direction %d); using im2col + cuBLAS\n", op,
                   d.key.c_str(), direction);
  }
  if (ran) g_cudnn_calls++;
  else g_cudnn_fallbacks++;
  return ran;
}

// cuDNN is wanted for this convolution: built, not switched off, zero padding (cuDNN has no reflection padding).
bool use_cudnn(const ConvGeom& g) { return !g.reflect && !im2col_forced(); }

// The legacy descriptors are 32-bit: larger problems go to im2col (64-bit indices, GEMMs per sample).
bool fits_cudnn(int64_t N, int64_t Cout, const ConvGeom& g) {
  return conv_algo::fits_legacy_descriptors(N * g.C * g.image_size(), Cout * g.rows(), N * Cout * g.cols());
}

cudnnDataType_t cudnn_type(DType t) { return t == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT; }

// Runs the forward through cuDNN; false when no cuDNN algorithm worked (nothing was written).
template <class T>
bool cudnn_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g) {
  const char* op = "conv forward (cuda, cuDNN)";
  const int64_t N = x.size(0), Cout = w.size(0);
  if (!fits_cudnn(N, Cout, g)) {
    g_cudnn_fallbacks++;
    return false;
  }
  CudnnConv d(N, Cout, g, static_cast<int>(x.dim()), cudnn_type(x.dtype()), op);
  const T one = 1, zero = 0;
  const bool ok = run_cudnn(d, 0, std::is_same_v<T, double>, op, [&](const conv_algo::Candidate& c, void* ws) {
    return cudnnConvolutionForward(cudnn(), &one, d.x, x.data<T>(), d.w, w.data<T>(), d.conv,
                                   static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), ws, c.workspace, &zero, d.y,
                                   y.data<T>());
  });
  if (ok) launch_add_bias<T>(y.data<T>(), b, N, Cout, g.cols(), op);
  return ok;
}

// dx and/or dw through cuDNN; a gradient that no cuDNN algorithm could compute keeps its flag false (im2col then).
template <class T>
void cudnn_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, const ConvGeom& g,
                    bool& dx_done, bool& dw_done) {
  const char* op = "conv backward (cuda, cuDNN)";
  const int64_t N = dy.size(0), Cout = w.size(0);
  if (!fits_cudnn(N, Cout, g)) {
    g_cudnn_fallbacks += int(dx.defined()) + int(dw.defined());
    return;
  }
  CudnnConv d(N, Cout, g, static_cast<int>(dy.dim()), cudnn_type(dy.dtype()), op);
  const T one = 1, zero = 0;
  const bool dbl = std::is_same_v<T, double>;
  if (dx.defined())
    dx_done = run_cudnn(d, 1, dbl, op, [&](const conv_algo::Candidate& c, void* ws) {
      return cudnnConvolutionBackwardData(cudnn(), &one, d.w, w.data<T>(), d.y, dy.data<T>(), d.conv,
                                          static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws, c.workspace, &zero,
                                          d.x, dx.data<T>());
    });
  if (dw.defined())
    dw_done = run_cudnn(d, 2, dbl, op, [&](const conv_algo::Candidate& c, void* ws) {
      return cudnnConvolutionBackwardFilter(cudnn(), &one, d.x, x.data<T>(), d.y, dy.data<T>(), d.conv,
                                            static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws, c.workspace,
                                            &zero, d.w, dw.data<T>());
    });
}
#endif

}  // namespace

// ---------------------------------------------------------------- plain convolution
void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g) {
  NvtxRange r("conv_forward");
  if (y.numel() == 0) return;
  dispatch_float(x.dtype(), "conv forward (cuda)", [&](auto tag) {
    using T = decltype(tag);
#ifdef SEG_WITH_CUDNN
    if (use_cudnn(g) && x.numel() > 0 && cudnn_forward<T>(x, w, b, y, g)) return;
#endif
    im2col_forward<T>(x, w, b, y, g);
  });
}

void conv_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                   const ConvGeom& g) {
  NvtxRange r("conv_backward");
  SEG_CHECK(!dw.defined() || x.defined(), "conv backward (cuda): the weight gradient needs the input");
  dispatch_float(dy.dtype(), "conv backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    const int64_t N = dy.size(0), Cout = w.size(0), L = g.cols();
    bool dx_done = false, dw_done = false;
#ifdef SEG_WITH_CUDNN
    if (use_cudnn(g) && N > 0) cudnn_backward<T>(x, w, dy, dx, dw, g, dx_done, dw_done);
#endif
    Tensor dx_rest = dx_done ? Tensor() : dx, dw_rest = dw_done ? Tensor() : dw;
    if (dx_rest.defined() || dw_rest.defined()) im2col_backward<T>(x, w, dy, dx_rest, dw_rest, g);
    launch_bias_grad<T>(dy.data<T>(), db, N, Cout, L, "conv backward (cuda, bias)");
  });
}

// ---------------------------------------------------------------- transposed convolution (hand-written)
void conv_transpose_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g) {
  NvtxRange r("conv_transpose_forward");
  const char* op = "conv_transpose forward (cuda)";
  if (y.numel() == 0) return;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const int64_t N = x.size(0), Cin = w.size(0), K = g.rows(), L = g.cols(), Cout = g.C, S = g.image_size();
    DeviceBuffer col(static_cast<size_t>(K * L) * sizeof(T));
    for (int64_t n = 0; n < N; ++n) {
      gemm_rm(true, false, K, L, Cin, T(1), w.data<T>(), K, x.data<T>() + n * Cin * L, L, T(0), col.as<T>(), L, op);
      launch_col2vol(col.as<T>(), y.data<T>() + n * Cout * S, g, op);
    }
    launch_add_bias<T>(y.data<T>(), b, N, Cout, S, op);
  });
}

void conv_transpose_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                             const ConvGeom& g) {
  NvtxRange r("conv_transpose_backward");
  const char* op = "conv_transpose backward (cuda)";
  SEG_CHECK(!dw.defined() || x.defined(), op, ": the weight gradient needs the input");
  dispatch_float(dy.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // N from dy: x is undefined when only dx/db are needed.
    const int64_t N = dy.size(0), Cin = w.size(0), K = g.rows(), L = g.cols(), Cout = g.C, S = g.image_size();
    if (dx.defined() || dw.defined()) {
      DeviceBuffer col(static_cast<size_t>(K * L) * sizeof(T));
      for (int64_t n = 0; n < N; ++n) {
        launch_vol2col(dy.data<T>() + n * Cout * S, col.as<T>(), g, op);
        if (dx.defined())
          gemm_rm(false, false, Cin, L, K, T(1), w.data<T>(), K, col.as<T>(), L, T(0), dx.data<T>() + n * Cin * L, L, op);
        if (dw.defined())
          gemm_rm(false, true, Cin, K, L, T(1), x.data<T>() + n * Cin * L, L, col.as<T>(), L, n == 0 ? T(0) : T(1),
                  dw.data<T>(), K, op);
      }
      if (dw.defined() && N == 0) SEG_CUDA_CHECK(cudaMemsetAsync(dw.raw(), 0, dw.numel() * sizeof(T), stream()), op);
    }
    launch_bias_grad<T>(dy.data<T>(), db, N, Cout, S, op);
  });
}

// ---------------------------------------------------------------- which path runs
#ifdef SEG_WITH_CUDNN
bool cudnn_built() { return true; }
#else
bool cudnn_built() { return false; }
#endif
bool cudnn_selected() { return cudnn_built() && !im2col_forced(); }
int64_t cudnn_conv_calls() { return g_cudnn_calls.load(); }
int64_t cudnn_conv_fallbacks() { return g_cudnn_fallbacks.load(); }

std::string conv_path() {
  std::string s;
#ifdef SEG_WITH_CUDNN
  const size_t v = cudnnGetVersion();
  s = "cuDNN " + std::to_string(CUDNN_MAJOR) + "." + std::to_string(CUDNN_MINOR) + "." + std::to_string(CUDNN_PATCHLEVEL) +
      " (library loaded: " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100) +
      ", math " + (tf32_allowed() ? "TF32 allowed (SEG_TF32)" : "FP32 FMA") + ")";
  s += im2col_forced() ? ", switched off by SEG_CONV_IMPL=im2col: im2col + cuBLAS" : "; im2col + cuBLAS for reflection padding";
#else
  s = "im2col + cuBLAS (built without cuDNN)";
#endif
  return s;
}

}  // namespace seg::cuda
