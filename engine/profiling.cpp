// NVTX switch (see profiling.h).
#include "engine/profiling.h"

#include <cstdlib>
#include <cstring>

namespace seg {

bool nvtx_enabled() {
#ifdef SEG_WITH_CUDA
  static const bool on = [] {
    const char* v = std::getenv("SEG_NVTX");
    return v && std::strcmp(v, "0") != 0;
  }();
  return on;
#else
  return false;
#endif
}

}  // namespace seg
