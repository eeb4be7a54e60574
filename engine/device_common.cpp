// Device selection shared by every app (--device cpu|cuda|auto).
#include "engine/device.h"

namespace seg {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") {
    SEG_CHECK(cuda_available(), "--device cuda: no usable GPU: ", cuda_unavailable_reason());
    return Device::CUDA;
  }
  if (name == "auto" || name.empty()) return cuda_available() ? Device::CUDA : Device::CPU;
  fail("--device: expected cpu, cuda or auto, got '", name, "'");
}

}  // namespace seg
