// Dropout (differentiable w.r.t. the input), PyTorch semantics: kept values are scaled by 1/(1 − p); identity (the
// input itself is returned) when not training or p = 0. The mask comes from `gen` (it reserves the draws, so two
// calls differ and a run is reproducible from the generator's seed); CPU and CUDA draw the same mask (dropout_math.h).
#pragma once
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/dropout_math.h"

namespace seg {

// Elementwise: each element dropped with probability p.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

// Channel ("spatial") dropout, nn.Dropout2d / nn.Dropout3d: each whole (n, c) plane dropped with probability p.
// dropout2d takes (N, C, H, W), dropout3d (N, C, D, H, W); channel_dropout any (N, C, ...).
Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen);
Tensor dropout3d(const Tensor& x, double p, bool training, Generator& gen);
Tensor channel_dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace seg
