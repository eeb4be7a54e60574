// NVTX ranges for Nsight Systems timelines: `NvtxRange r("forward");` marks a scope with a named range.
// Key decision: zero cost unless the binary has the CUDA backend AND the environment sets SEG_NVTX=1 (checked once),
// so ranges can stay in every op and training phase.
#pragma once

#ifdef SEG_WITH_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace seg {

bool nvtx_enabled();  // SEG_NVTX=1 in the environment and a CUDA build

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) {
#ifdef SEG_WITH_CUDA
    if (nvtx_enabled()) {
      nvtxRangePushA(name);
      pushed_ = true;
    }
#else
    (void)name;
#endif
  }
  ~NvtxRange() {
#ifdef SEG_WITH_CUDA
    if (pushed_) nvtxRangePop();
#endif
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace seg
