#include "core/tensor.h"

#include <cstring>
#include <new>
#include <vector>

#include "core/layer_hooks.h"
#include "core/tls.h"

namespace tapegrad {

namespace detail {
void (*g_traced_read_hook)(const Tensor&) = nullptr;
}

namespace {
// TensorImpl objects come from a per-thread free list: creating a result costs no malloc. The list
// is reached through one initial-exec pointer (Note [Per-thread caches] in core/tls.h).
struct ImplPool;
TG_TLS_FAST thread_local ImplPool* t_ipool = nullptr;
thread_local bool t_impl_pool_dead = false;
struct ImplPool {
  std::vector<void*> free;
  ImplPool() { t_ipool = this; }
  ~ImplPool() {
    t_ipool = nullptr;
    t_impl_pool_dead = true;
    for (void* p : free) ::operator delete(p);
  }
};
// The thread's pool; null once it was destroyed (thread exit).
__attribute__((noinline)) ImplPool* ipool_slow() {
  if (t_impl_pool_dead) return nullptr;
  thread_local ImplPool p;
  return &p;
}
inline ImplPool* ipool() {
  ImplPool* p = t_ipool;
  return __builtin_expect(p != nullptr, 1) ? p : ipool_slow();
}
}  // namespace

TensorImpl* TensorImpl::create() {
  void* mem = nullptr;
  if (ImplPool* p = ipool()) {
    if (!p->free.empty()) {
      mem = p->free.back();
      p->free.pop_back();
    }
  }
  if (!mem) mem = ::operator new(sizeof(TensorImpl));
  return new (mem) TensorImpl();
}

void TensorImpl::release(TensorImpl* t) {
  t->~TensorImpl();
  if (ImplPool* p = ipool()) {
    if (p->free.size() < 1024) {
      p->free.push_back(t);
      return;
    }
  }
  ::operator delete(t);
}

Tensor Tensor::from_storage(Ref<Storage> st, int64_t offset, const Shape& shape, const Strides& strides, DType dt) {
  TensorImpl* t = TensorImpl::create();
  t->dtype = dt;
  t->device = st ? st->device : Device::CPU;
  t->storage = std::move(st);
  t->offset = offset;
  t->shape = shape;
  t->strides = strides;
  t->numel = checked_numel(shape, itemsize(dt), "tensor");  // Note [Size arithmetic]
  Strides cs = contiguous_strides(shape);
  bool c = true;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1 && strides[i] != cs[i]) c = false;
  t->contiguous = c || t->numel == 0;
  return Tensor(Ref<TensorImpl>(t));
}

Tensor Tensor::empty(const Shape& shape, DType dt, Device dev) {
  const int64_t n = checked_numel(shape, itemsize(dt), "empty");  // Note [Size arithmetic]
  const size_t nbytes = size_t(n) * itemsize(dt);
  Ref<Storage> st;
  try {
    st = Storage::allocate(nbytes, dev);
  } catch (const std::bad_alloc&) {
    throw MemoryError(str_cat("Unable to allocate ", double(nbytes) / double(1 << 30), " GiB for a tensor of shape ",
                              shape_str(shape), " and dtype ", dtype_numpy_name(dt)));
  }
  TensorImpl* t = TensorImpl::create();
  t->dtype = dt;
  t->device = dev;
  t->shape = shape;
  t->strides = contiguous_strides(shape);
  t->numel = n;
  t->contiguous = true;
  t->storage = std::move(st);
  return Tensor(Ref<TensorImpl>(t));
}

Tensor Tensor::zeros(const Shape& shape, DType dt, Device dev) {
  Tensor t = empty(shape, dt, dev);
  if (dev == Device::CPU) std::memset(t.raw_data(), 0, size_t(t.numel()) * itemsize(dt));
  else g_kernel_hooks.fill(t, 0.0);  // device memory is not the host's to write
  return t;
}

Tensor Tensor::full(const Shape& shape, DType dt, double value, Device dev) {
  Tensor t = empty(shape, dt, dev);
  g_kernel_hooks.fill(t, value);
  return t;
}

Tensor Tensor::scalar(double value, DType dt) {
  Tensor t = empty(Shape{}, dt);
  switch (dt) {
    case DType::Bool: *t.data<bool>() = value != 0; break;
    case DType::Int32: *t.data<int32_t>() = int32_t(value); break;
    case DType::Int64: *t.data<int64_t>() = int64_t(value); break;
    case DType::Float16: t.data<Half>()->bits = float_to_half(float(value)); break;
    case DType::Float32: *t.data<float>() = float(value); break;
    case DType::Float64: *t.data<double>() = value; break;
    // Through a 64-bit integer: a negative double into an unsigned type directly is undefined.
    case DType::Int8: *t.data<int8_t>() = int8_t(int64_t(value)); break;
    case DType::Int16: *t.data<int16_t>() = int16_t(int64_t(value)); break;
    case DType::UInt8: *t.data<uint8_t>() = uint8_t(int64_t(value)); break;
    case DType::UInt16: *t.data<uint16_t>() = uint16_t(int64_t(value)); break;
    case DType::UInt32: *t.data<uint32_t>() = uint32_t(int64_t(value)); break;
    case DType::UInt64: *t.data<uint64_t>() = value < 0 ? uint64_t(int64_t(value)) : uint64_t(value); break;
    case DType::Complex64: *t.data<std::complex<float>>() = std::complex<float>(float(value), 0.0f); break;
    case DType::Complex128: *t.data<std::complex<double>>() = std::complex<double>(value, 0.0); break;
  }
  return t;
}

Tensor Tensor::scalar_int(int64_t value) {
  Tensor t = empty(Shape{}, DType::Int64);
  *t.data<int64_t>() = value;
  return t;
}

double Tensor::item_as_double(int64_t i) const {
  if (impl_->ad && detail::g_traced_read_hook) detail::g_traced_read_hook(*this);
  if (device() != Device::CPU) return to_device(Device::CPU).item_as_double(i);
  const Shape& s = shape();
  int64_t off = 0, rem = i;
  for (size_t d = s.size(); d-- > 0;) {
    off += (rem % s[d]) * strides()[d];
    rem /= s[d];
  }
  const char* p = static_cast<const char*>(impl_->storage->data) + (impl_->offset + off) * int64_t(itemsize(dtype()));
  switch (dtype()) {
    case DType::Bool: return *reinterpret_cast<const bool*>(p) ? 1.0 : 0.0;
    case DType::Int32: return *reinterpret_cast<const int32_t*>(p);
    case DType::Int64: return double(*reinterpret_cast<const int64_t*>(p));
    case DType::Float16: return half_to_float(reinterpret_cast<const Half*>(p)->bits);
    case DType::Float32: return *reinterpret_cast<const float*>(p);
    case DType::Float64: return *reinterpret_cast<const double*>(p);
    case DType::Int8: return *reinterpret_cast<const int8_t*>(p);
    case DType::Int16: return *reinterpret_cast<const int16_t*>(p);
    case DType::UInt8: return *reinterpret_cast<const uint8_t*>(p);
    case DType::UInt16: return *reinterpret_cast<const uint16_t*>(p);
    case DType::UInt32: return *reinterpret_cast<const uint32_t*>(p);
    case DType::UInt64: return double(*reinterpret_cast<const uint64_t*>(p));
    case DType::Complex64:
    case DType::Complex128:
      throw DTypeError(str_cat("cannot convert a ", dtype_numpy_name(dtype()),
                               " value to a real number (take real(z), imag(z) or abs(z) first)"));
  }
  return 0;
}

Tensor Tensor::view_as(const Shape& shape, const Strides& strides, int64_t offset) const {
  return from_storage(impl_->storage, offset, shape, strides, dtype());
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  check_has_data(*this, "copy");
  Tensor out = empty(shape(), dtype(), device());
  g_kernel_hooks.copy(out, *this);
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  check_has_data(*this, "astype");
  Tensor out = empty(shape(), dt, device());
  g_kernel_hooks.copy(out, *this);
  return out;
}

Tensor Tensor::to_device(Device dev) const {
  if (dev == device()) return *this;
  check_has_data(*this, "to");
  // One side is the CPU (two devices: CPU and GPU). The bytes move contiguous, in one copy.
  const Device other = dev == Device::CPU ? device() : dev;
  const DeviceAllocator* a = device_allocator(other);
  if (!a) throw Error(str_cat("to('", device_name(dev), "'): no ", device_name(other), " is available"));
  Tensor src = contiguous();  // on its own device
  Tensor out = empty(shape(), dtype(), dev);
  const size_t n = size_t(numel()) * itemsize(dtype());
  if (n > 0 && !a->copy(out.raw_data(), src.raw_data(), n, dev == Device::CPU ? kCopyToHost : kCopyFromHost))
    throw Error(str_cat("to('", device_name(dev), "'): the copy failed: ", a->error()));
  return out;
}

void Tensor::prepare_write() const {
  Storage* s = impl_->storage.get();
  s->make_writable();
  s->version.fetch_add(1, std::memory_order_relaxed);
}

void check_has_data(const Tensor& t, const char* op) {
  TG_CHECK_T(ValueError, t.has_data(), op,
             ": this tensor is batched by vmap and has no single value here; use it in tensor "
             "operations instead");
}

}  // namespace tapegrad
