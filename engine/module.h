// Module: a named tree of parameters, buffers (e.g. BatchNorm running statistics) and sub-modules.
// Key decision: parameters are plain Tensors registered by name ("enc1.conv.weight"), so checkpoints, optimisers and
// parameter counts all walk the same tree; moving to a device changes every tensor in place, so handles held by the
// layers stay valid.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace seg {

class Module {
 public:
  virtual ~Module() = default;

  std::vector<std::pair<std::string, Tensor>> named_parameters(const std::string& prefix = "") const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void to(Device device);   // moves parameters, gradients and buffers in place
  void to(DType dtype);     // converts float parameters, gradients and buffers in place (float32 <-> float64)
  void zero_grad();

 protected:
  Tensor register_parameter(const std::string& name, Tensor t);  // sets requires_grad
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace seg
