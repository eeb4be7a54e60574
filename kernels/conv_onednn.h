// The CPU fast path for float32 convolutions through oneDNN (Debian's libdnnl, the library PyTorch's CPU convolutions
// use), beside the im2col + BLAS reference in conv.cpp — the CPU counterpart of cuDNN beside our CUDA kernels.
// Key decision: oneDNN is an accelerator, never the definition: float64 (the gradient-check suite), reflection padding
// and any geometry oneDNN declines go to im2col, and tests/cpu_paths compares the two paths on random shapes.
// SEG_CPU_CONV=im2col in the environment (or set_enabled(false)) turns the fast path off.
#pragma once
#include "engine/tensor.h"
#include "kernels/conv_geom.h"

namespace seg::onednn {

bool built();                      // compiled against oneDNN
bool enabled();                    // built() and not switched off (SEG_CPU_CONV=im2col or set_enabled(false))
bool set_enabled(bool on);         // returns the previous setting; for tests and benchmarks
int64_t calls();                   // convolution calls (forward or backward) that oneDNN has run; for tests
// True when the call can go through oneDNN: enabled, float32 CPU tensors, zero padding, and a geometry oneDNN accepts.
bool usable(const ConvGeom& g, int64_t N, int64_t other_channels, bool transposed, DType dtype, bool has_bias);

// Same contracts as the im2col paths in conv.cpp (outputs preallocated; undefined dx/dw/db are skipped; x is read
// only when dw is wanted). `cout`/`cin` is the channel count not in g (g.C is the image grid's channels); has_bias
// says whether the forward call had a bias (it selects the same plan).
void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g, int64_t cout);
void conv_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                   const ConvGeom& g, int64_t cout, bool has_bias);
void conv_transpose_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g,
                            int64_t cin);
void conv_transpose_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                             const ConvGeom& g, int64_t cin, bool has_bias);

}  // namespace seg::onednn
