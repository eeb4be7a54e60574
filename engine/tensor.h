// Tensor: a contiguous, reference-counted n-d array (up to 5-D: N,C,H,W or N,C,D,H,W) on the CPU or a CUDA device,
// with the autograd fields (requires_grad, grad, grad_fn).
// Key decisions: always contiguous with no views (every op writes a fresh buffer, so kernels need no stride logic);
// sizes and offsets are int64 (a batch of 3-D volumes passes 2^31 elements); float32/float64 for values (the gradient
// checks run in float64), int64 for labels and pooling indices.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/error.h"

namespace seg {

enum class DType : uint8_t { Float32, Float64, Int64 };
enum class Device : uint8_t { CPU, CUDA };

using Shape = std::vector<int64_t>;

const char* dtype_name(DType d);
const char* device_name(Device d);
size_t dtype_size(DType d);
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);  // checks for negative sizes and int64 overflow

// A buffer from the caching allocator of its device.
struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  Device device = Device::CPU;
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::Float32;
  Device device = Device::CPU;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;   // accumulated by backward on leaves
  std::shared_ptr<Node> grad_fn;      // the op that made this tensor (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction ----
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor scalar(double value, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype = DType::Float32);
  static Tensor from_labels(const std::vector<int64_t>& values, const Shape& shape);

  // ---- inspection ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().device; }
  bool is_cuda() const { return device() == Device::CUDA; }
  bool is_floating() const { return dtype() != DType::Int64; }
  std::string describe() const;  // "float32[4, 1, 64, 64] on cpu"

  template <class T>
  T* data() const;  // checks that T matches dtype
  void* raw() const { return checked().storage ? checked().storage->ptr : nullptr; }

  // ---- autograd ----
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  Tensor& set_requires_grad(bool on);
  Tensor grad() const { return (impl_ && impl_->grad) ? Tensor(impl_->grad) : Tensor(); }
  void set_grad(const Tensor& g);
  void zero_grad();
  const std::shared_ptr<Node>& grad_fn() const { return checked().grad_fn; }
  bool is_leaf() const { return !grad_fn(); }
  // Backpropagates from this tensor: a scalar uses gradient 1; otherwise pass `grad` of the same shape.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same storage, no history

  // ---- copies and conversion (not differentiable) ----
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  void move_to_(Device device);           // in place: every handle to this tensor follows (module parameters)
  void convert_(DType dtype);             // in place, float types only (a float64 model for gradchecks)
  void copy_from_(const Tensor& src);      // same shape; any devices/dtypes
  void fill_(double value);
  double item() const;                     // a one-element tensor's value
  std::vector<double> to_vector() const;   // values as double (copies from the device when needed)
  std::vector<int64_t> to_labels() const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <>
struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <>
struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };

template <class T>
T* Tensor::data() const {
  SEG_CHECK(checked().dtype == dtype_of<T>::value, "Tensor::data: tensor is ", dtype_name(checked().dtype),
            ", accessed as ", dtype_name(dtype_of<T>::value));
  return static_cast<T*>(raw());
}

// Calls f(T{}) with T = float or double according to dtype; other dtypes are an error naming `op`.
template <class F>
void dispatch_float(DType dtype, const char* op, F&& f) {
  if (dtype == DType::Float32) {
    f(float{});
  } else if (dtype == DType::Float64) {
    f(double{});
  } else {
    fail(op, ": expected a float32 or float64 tensor, got ", dtype_name(dtype));
  }
}

// Argument checks shared by the ops; each names the op and the argument.
void check_defined(const Tensor& t, const char* op, const char* arg);
void check_float(const Tensor& t, const char* op, const char* arg);
void check_dim(const Tensor& t, int64_t dim, const char* op, const char* arg);
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
void check_same_dtype_device(const Tensor& a, const Tensor& b, const char* op);

}  // namespace seg
