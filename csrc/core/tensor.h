// TensorImpl (storage + offset + shape + strides + dtype) and the Tensor handle.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace tapegrad {

// What a transform level attaches to a tensor it tracks (defined in autodiff/). Core only owns
// and destroys it; see Note [Tape levels] in autodiff/levels.h.
struct AdMeta {
  virtual ~AdMeta() = default;
};

struct TensorImpl {
  std::atomic<int32_t> refcount_{1};
  DType dtype = DType::Float32;
  Device device = Device::CPU;
  bool contiguous = true;  // C-contiguous (strides == contiguous_strides(shape))
  Ref<Storage> storage;    // null only for batched wrappers (vmap), which have no single buffer
  int64_t offset = 0;      // in elements
  int64_t numel = 0;
  Shape shape;
  Strides strides;             // in elements
  std::unique_ptr<AdMeta> ad;  // non-null: this value is tracked by a transform level

  static void release(TensorImpl* t);
  static TensorImpl* create();
};

class Tensor;
namespace detail {
// Called when the data of a tracked tensor is read (set by autodiff: tg.jit turns such reads into
// guards, Note [Tape replay]).
extern void (*g_traced_read_hook)(const Tensor&);
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;
  // Note [Uninitialised tensors]
  // ~~~~~~~~~~~~~~~~~~~~~~~~~~~~
  // A Python Tensor made by Tensor.__new__ without __init__ has no C++ value; pybind11 then
  // allocates the value's memory on first use without constructing it. Memory from this operator
  // new starts zeroed, so such a value reads as a null handle (defined() is false), which the
  // bindings' Tensor caster refuses with a TypeError instead of following a garbage pointer.
  static void* operator new(size_t n) {
    void* p = ::operator new(n);
    std::memset(p, 0, n);
    return p;
  }
  static void operator delete(void* p) noexcept { ::operator delete(p); }
  static void* operator new(size_t, void* where) noexcept { return where; }  // placement
  static void operator delete(void*, void*) noexcept {}
  explicit Tensor(Ref<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A new contiguous tensor with uninitialised memory.
  static Tensor empty(const Shape& shape, DType dt, Device dev = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dt, Device dev = Device::CPU);
  static Tensor full(const Shape& shape, DType dt, double value, Device dev = Device::CPU);
  static Tensor scalar(double value, DType dt);  // 0-d
  static Tensor scalar_int(int64_t value);       // 0-d Int64, exact beyond 2**53
  static Tensor from_storage(Ref<Storage> st, int64_t offset, const Shape& shape, const Strides& strides, DType dt);

  bool defined() const { return bool(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  const Ref<TensorImpl>& ref() const { return impl_; }
  void reset() { impl_.reset(); }
  // Rebind this handle to another value (functional in-place update of a tracked tensor).
  void rebind(const Tensor& o) { impl_ = o.impl_; }

  const Shape& shape() const { return impl_->shape; }
  const Strides& strides() const { return impl_->strides; }
  int64_t ndim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t dim(int64_t i) const { return impl_->shape[i]; }
  int64_t numel() const { return impl_->numel; }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->device; }
  int64_t offset() const { return impl_->offset; }
  bool is_contiguous() const { return impl_->contiguous; }
  bool has_data() const { return bool(impl_->storage); }
  Storage* storage() const { return impl_->storage.get(); }
  bool tracked() const { return impl_->ad != nullptr; }
  AdMeta* ad() const { return impl_->ad.get(); }

  void* raw_data() const {
    if (__builtin_expect(impl_->ad != nullptr, 0) && detail::g_traced_read_hook) detail::g_traced_read_hook(*this);
    return static_cast<char*>(impl_->storage->data) + impl_->offset * int64_t(itemsize(impl_->dtype));
  }
  template <class T>
  T* data() const {
    return static_cast<T*>(raw_data());
  }
  // Element at flat C-order index `i`, as double (slow; tests and printing).
  double item_as_double(int64_t i = 0) const;

  // A view sharing storage.
  Tensor view_as(const Shape& shape, const Strides& strides, int64_t offset) const;
  // Same value, contiguous (a copy only when needed).
  Tensor contiguous() const;
  // Deep copy (contiguous).
  Tensor clone() const;
  // Copy with dtype conversion (a no-op returning *this when dt == dtype()).
  Tensor to(DType dt) const;
  // Contiguous copy on `dev` (*this when already there); needs the device's plugin (Note [Device
  // plugins] in core/storage.h). Not recorded by any tape: the ops layer refuses tracked tensors.
  Tensor to_device(Device dev) const;

  // Raw in-place write support: bumps the storage version and un-borrows the memory.
  void prepare_write() const;

 private:
  Ref<TensorImpl> impl_;
};

// Throws unless `t` carries data (batched wrappers do not). Use at boundaries that read values.
void check_has_data(const Tensor& t, const char* op);
// For an op's public entry: a tracked input is fine (the op goes through its transform level,
// whose rules see the values underneath); an untracked one must carry data.
inline void check_op_input(const Tensor& t, const char* op) {
  if (!t.tracked()) check_has_data(t, op);
}

}  // namespace tapegrad
