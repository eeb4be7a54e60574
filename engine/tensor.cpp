// Tensor construction, copies between devices and dtypes, and the shared argument checks.
#include "engine/tensor.h"

#include <cstring>
#include <limits>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/device.h"

namespace seg {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}
const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
size_t dtype_size(DType d) { return d == DType::Float32 ? 4 : 8; }

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    SEG_CHECK(d >= 0, "shape ", shape_str(s), ": negative size");
    SEG_CHECK(d == 0 || n <= std::numeric_limits<int64_t>::max() / d, "shape ", shape_str(s), ": too many elements");
    n *= d;
  }
  return n;
}

Storage::Storage(size_t b, Device d) : bytes(b), device(d) {
  ptr = (d == Device::CPU) ? host_alloc(b) : cuda_alloc(b);
}
Storage::~Storage() {
  if (device == Device::CPU) host_free(ptr, bytes);
  else cuda_free(ptr, bytes);
}

const TensorImpl& Tensor::checked() const {
  SEG_CHECK(impl_ != nullptr, "use of an undefined tensor");
  return *impl_;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  SEG_CHECK(shape.size() <= 8, "Tensor::empty: at most 8 dimensions, got ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->device = device;
  const int64_t n = shape_numel(shape);
  const size_t esize = dtype_size(dtype);
  SEG_CHECK(static_cast<uint64_t>(n) <= std::numeric_limits<size_t>::max() / esize, "Tensor::empty: shape ",
            shape_str(shape), " of ", dtype_name(dtype), " needs more bytes than size_t holds");
  try {
    impl->storage = std::make_shared<Storage>(static_cast<size_t>(n) * esize, device);
  } catch (const Error& e) {  // the allocator names the size; add which tensor asked for it
    fail("Tensor::empty(", shape_str(shape), ", ", dtype_name(dtype), ", ", device_name(device), "): ", e.what());
  }
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device == Device::CPU) std::memset(t.raw(), 0, t.impl_->storage->bytes);
  else cuda_memset_zero(t.raw(), t.impl_->storage->bytes);
  return t;
}
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}
Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  SEG_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "Tensor::from_vector: ", values.size(),
            " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype);
  const int64_t n = t.numel();
  if (dtype == DType::Float32) for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(values[i]);
  else if (dtype == DType::Float64) for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = values[i];
  else for (int64_t i = 0; i < n; ++i) t.data<int64_t>()[i] = static_cast<int64_t>(values[i]);
  return t;
}

Tensor Tensor::from_labels(const std::vector<int64_t>& values, const Shape& shape) {
  SEG_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "Tensor::from_labels: ", values.size(),
            " values for shape ", shape_str(shape));
  Tensor t = empty(shape, DType::Int64);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  SEG_CHECK(d >= 0 && d < n, "Tensor::size: dimension ", d, " out of range for ", describe());
  return shape()[static_cast<size_t>(d)];
}

std::string Tensor::describe() const {
  if (!impl_) return "undefined tensor";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " on " + device_name(device());
}

Tensor& Tensor::set_requires_grad(bool on) {
  SEG_CHECK(!on || is_floating(), "requires_grad: only float tensors can require gradients, got ", describe());
  SEG_CHECK(is_leaf() || on, "requires_grad(false) on a non-leaf tensor: use detach()");
  impl_->requires_grad = on;
  return *this;
}

void Tensor::set_grad(const Tensor& g) { checked(); impl_->grad = g.impl_; }

void Tensor::zero_grad() {
  if (impl_) impl_->grad.reset();
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const { run_backward(*this, grad, retain_graph); }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = checked().storage;
  impl->shape = impl_->shape;
  impl->dtype = impl_->dtype;
  impl->device = impl_->device;
  return Tensor(impl);
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype(), device());
  t.copy_from_(*this);
  return t;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor t = empty(shape(), dtype(), d);
  t.copy_from_(*this);
  return t;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  Tensor t = empty(shape(), dt, device());
  t.copy_from_(*this);
  return t;
}

void Tensor::move_to_(Device d) {
  if (d == device()) return;
  Tensor moved = to(d);
  impl_->storage = moved.impl_->storage;
  impl_->device = d;
  if (impl_->grad) {
    Tensor g(impl_->grad);
    impl_->grad = g.to(d).impl_;
  }
}

void Tensor::convert_(DType dt) {
  if (dt == dtype()) return;
  SEG_CHECK(is_floating() && dt != DType::Int64, "Tensor::convert_: float types only, got ", dtype_name(dtype()), " to ",
            dtype_name(dt));
  Tensor c = to(dt);
  impl_->storage = c.impl_->storage;
  impl_->dtype = dt;
  if (impl_->grad) {
    Tensor g(impl_->grad);
    impl_->grad = g.to(dt).impl_;
  }
}

namespace {
template <class Dst, class Src>
void convert(Dst* d, const Src* s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(s[i]);
}
template <class Dst>
void convert_from(Dst* d, const void* s, DType st, int64_t n) {
  if (st == DType::Float32) convert(d, static_cast<const float*>(s), n);
  else if (st == DType::Float64) convert(d, static_cast<const double*>(s), n);
  else convert(d, static_cast<const int64_t*>(s), n);
}
}  // namespace

void Tensor::copy_from_(const Tensor& src) {
  SEG_CHECK(src.shape() == shape(), "copy_from_: shape ", shape_str(src.shape()), " into ", shape_str(shape()));
  const int64_t n = numel();
  if (src.dtype() == dtype()) {
    const size_t bytes = static_cast<size_t>(n) * dtype_size(dtype());
    if (bytes == 0) return;
    if (device() == Device::CPU && src.device() == Device::CPU) std::memcpy(raw(), src.raw(), bytes);
    else cuda_memcpy(raw(), device(), src.raw(), src.device(), bytes);
    return;
  }
  // dtype conversion goes through the host; it is for set-up and checks, not for training loops
  Tensor s = src.to(Device::CPU);
  Tensor d = (device() == Device::CPU) ? *this : Tensor::empty(shape(), dtype(), Device::CPU);
  if (dtype() == DType::Float32) convert_from(d.data<float>(), s.raw(), s.dtype(), n);
  else if (dtype() == DType::Float64) convert_from(d.data<double>(), s.raw(), s.dtype(), n);
  else convert_from(d.data<int64_t>(), s.raw(), s.dtype(), n);
  if (device() != Device::CPU) copy_from_(d);
}

void Tensor::fill_(double value) {
  const int64_t n = numel();
  Tensor host = (device() == Device::CPU) ? *this : Tensor::empty(shape(), dtype(), Device::CPU);
  if (dtype() == DType::Float32) { float v = static_cast<float>(value); float* p = host.data<float>(); for (int64_t i = 0; i < n; ++i) p[i] = v; }
  else if (dtype() == DType::Float64) { double* p = host.data<double>(); for (int64_t i = 0; i < n; ++i) p[i] = value; }
  else { int64_t v = static_cast<int64_t>(value); int64_t* p = host.data<int64_t>(); for (int64_t i = 0; i < n; ++i) p[i] = v; }
  if (device() != Device::CPU) copy_from_(host);
}

double Tensor::item() const {
  SEG_CHECK(numel() == 1, "item(): expected a one-element tensor, got ", describe());
  return to_vector()[0];
}

std::vector<double> Tensor::to_vector() const {
  Tensor h = to(Device::CPU);
  const int64_t n = h.numel();
  std::vector<double> v(static_cast<size_t>(n));
  convert_from(v.data(), h.raw(), h.dtype(), n);
  return v;
}

std::vector<int64_t> Tensor::to_labels() const {
  Tensor h = to(Device::CPU);
  const int64_t n = h.numel();
  std::vector<int64_t> v(static_cast<size_t>(n));
  convert_from(v.data(), h.raw(), h.dtype(), n);
  return v;
}

void check_defined(const Tensor& t, const char* op, const char* arg) {
  SEG_CHECK(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}
void check_float(const Tensor& t, const char* op, const char* arg) {
  check_defined(t, op, arg);
  SEG_CHECK(t.is_floating(), op, ": argument '", arg, "' must be float32 or float64, got ", t.describe());
}
void check_dim(const Tensor& t, int64_t dim, const char* op, const char* arg) {
  check_defined(t, op, arg);
  SEG_CHECK(t.dim() == dim, op, ": argument '", arg, "' must be ", dim, "-D, got ", t.describe());
}
void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  SEG_CHECK(a.shape() == b.shape(), op, ": shapes differ: ", a.describe(), " vs ", b.describe());
}
void check_same_dtype_device(const Tensor& a, const Tensor& b, const char* op) {
  SEG_CHECK(a.dtype() == b.dtype() && a.device() == b.device(), op, ": tensors must share dtype and device: ",
            a.describe(), " vs ", b.describe());
}

}  // namespace seg
