// Prints which cuDNN header this file was compiled against and which library version the loader gave it (no GPU
// needed: cudnnGetVersion only reads the library).
#include <cudnn.h>

#include <cstdio>

int main() {
#ifdef SEG_CUDNN_WHEEL_COPY
  const char* header = "wheel-copy";
#else
  const char* header = "other";
#endif
  std::printf("header %s %d\nlibrary %zu\n", header, CUDNN_VERSION, cudnnGetVersion());
  return 0;
}
