// DLPack: Tensor.__dlpack__ / __dlpack_device__ (export) and tapegrad.from_dlpack (import).
// The structs below are written from the DLPack specification (dlpack.h, v1.x; the Python
// protocol of the array API standard); their layout is the ABI every producer and consumer shares.
#include <cctype>
#include <cstring>
#include <utility>
#include <vector>

#include "bindings/buffer.h"
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Docstrings of the functions, methods and properties bound in this file. Every `>>>` example
// runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in scope;
// `...` in an output stands for digits that may differ in the last place between SIMD paths.
namespace docs {

inline constexpr char Tensor___dlpack__[] =
    R"doc(The DLPack protocol: a capsule sharing this tensor's memory, for `numpy.from_dlpack`,
`torch.from_dlpack` and `tg.from_dlpack`.

>>> x = tg.tensor([1.0, 2.0])
>>> np.from_dlpack(x)
array([1., 2.], dtype=float32)
)doc";

inline constexpr char Tensor___dlpack_device__[] =
    R"doc(The DLPack device of the memory: (1, 0) is the CPU.

>>> tg.zeros(1).__dlpack_device__()
(1, 0)
)doc";

inline constexpr char from_dlpack[] =
    R"doc(A Tensor sharing the memory of any object with __dlpack__ (numpy arrays, torch tensors,
...) or of a DLPack capsule; `copy=True` copies.

>>> a = np.arange(3.0)
>>> t = tg.from_dlpack(a)
>>> t
Tensor(shape=[3], dtype=Float64, value= [ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00])
>>> a[0] = 7.0  # the same memory
>>> print(t)
[7. 1. 2.]
)doc";

}  // namespace docs

namespace {
namespace dl {

enum DeviceType : int32_t { kCPU = 1, kCUDA = 2, kCUDAHost = 3 };
struct Device {
  int32_t device_type;
  int32_t device_id;
};
enum TypeCode : uint8_t { kInt = 0, kUInt = 1, kFloat = 2, kOpaqueHandle = 3, kBfloat = 4, kComplex = 5, kBool = 6 };
struct DataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct Tensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means compact row-major
  uint64_t byte_offset;
};
// The pre-1.0 capsule payload ("dltensor").
struct ManagedTensor {
  Tensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(ManagedTensor* self);
};
struct PackVersion {
  uint32_t major;
  uint32_t minor;
};
// The 1.x capsule payload ("dltensor_versioned").
struct ManagedTensorVersioned {
  PackVersion version;
  void* manager_ctx;
  void (*deleter)(ManagedTensorVersioned* self);
  uint64_t flags;
  Tensor dl_tensor;
};
constexpr uint64_t kFlagReadOnly = uint64_t(1) << 0;
constexpr uint64_t kFlagIsCopied = uint64_t(1) << 1;
constexpr uint32_t kMajor = 1, kMinor = 0;

}  // namespace dl

constexpr const char* kCapsule = "dltensor";
constexpr const char* kCapsuleUsed = "used_dltensor";
constexpr const char* kCapsuleV = "dltensor_versioned";
constexpr const char* kCapsuleVUsed = "used_dltensor_versioned";

// ---- export -----------------------------------------------------------------------------------

// Note [Exported buffers]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A DLPack view hands a consumer our memory, and consumers write through it (PyTorch ignores
// DLPack's read-only flag), bumping no version counter: a value a pending reverse sweep saved
// could change under it and give a wrong gradient. Three rules keep "works or raises" (Note
// [Borrowed buffers] is the same problem for numpy-lent memory):
//  - a tensor that a transform is tracking (a value inside a differentiated function) is exported
//    as a copy: a write through the view could never be part of its derivative;
//  - exporting any other tensor counts as a write (its storage's version is bumped), so a record
//    that saved it before the export raises in the reverse sweep instead of reading a changed
//    value; the message says the export may be why;
//  - while a consumer holds a view (Storage::ext_views > 0), records copy what they save from that
//    storage, so writes made through the view after the record cannot reach the saved value.
// Owns what an exported DLTensor points at: the memory's keeper (Note [Borrowed buffers]), the
// storage whose live views it counts, and the shape/stride arrays.
struct ExportCtx {
  PyObject* owner = nullptr;
  Ref<Storage> watched;
  std::vector<int64_t> shape, strides;
  dl::ManagedTensor legacy{};
  dl::ManagedTensorVersioned versioned{};
};

void free_ctx(ExportCtx* c) {
  if (c->watched) c->watched->ext_views.fetch_sub(1, std::memory_order_relaxed);
  if (Py_IsInitialized()) {
    py::gil_scoped_acquire g;
    c->watched.reset();  // releasing borrowed memory calls into Python
    if (c->owner) Py_DECREF(c->owner);
  } else {
    new (&c->watched) Ref<Storage>();  // at exit: leave the storage rather than call Python
  }
  delete c;
}
void delete_legacy(dl::ManagedTensor* m) { free_ctx(static_cast<ExportCtx*>(m->manager_ctx)); }
void delete_versioned(dl::ManagedTensorVersioned* m) { free_ctx(static_cast<ExportCtx*>(m->manager_ctx)); }

dl::DataType to_dl(DType d) {
  switch (d) {
    case DType::Bool: return {dl::kBool, 8, 1};
    case DType::Int32: return {dl::kInt, 32, 1};
    case DType::Int64: return {dl::kInt, 64, 1};
    case DType::Float16: return {dl::kFloat, 16, 1};
    case DType::Float32: return {dl::kFloat, 32, 1};
    case DType::Float64: return {dl::kFloat, 64, 1};
    case DType::Int8: return {dl::kInt, 8, 1};
    case DType::Int16: return {dl::kInt, 16, 1};
    case DType::UInt8: return {dl::kUInt, 8, 1};
    case DType::UInt16: return {dl::kUInt, 16, 1};
    case DType::UInt32: return {dl::kUInt, 32, 1};
    case DType::UInt64: return {dl::kUInt, 64, 1};
    case DType::Complex64: return {dl::kComplex, 64, 1};
    case DType::Complex128: return {dl::kComplex, 128, 1};
  }
  return {dl::kFloat, 32, 1};
}

// A capsule the consumer has not taken is freed with its payload.
void capsule_destructor(PyObject* cap) {
  // Runs during garbage collection, possibly with an exception set: keep it.
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (PyCapsule_IsValid(cap, kCapsule)) {
    auto* m = static_cast<dl::ManagedTensor*>(PyCapsule_GetPointer(cap, kCapsule));
    if (m && m->deleter) m->deleter(m);
  } else if (PyCapsule_IsValid(cap, kCapsuleV)) {
    auto* m = static_cast<dl::ManagedTensorVersioned*>(PyCapsule_GetPointer(cap, kCapsuleV));
    if (m && m->deleter) m->deleter(m);
  }
  PyErr_Restore(type, value, tb);
}

// A Python int (not a bool, which is an int to Python but never a device code or a version) that
// fits in int64.
bool small_int(py::handle v, int64_t& out) {
  if (!PyLong_Check(v.ptr()) || PyBool_Check(v.ptr())) return false;
  int overflow = 0;
  out = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  return overflow == 0 && !(out == -1 && PyErr_Occurred());
}

// The (a, b) pair of ints of DLPack's `dl_device`, `device` and `max_version` arguments (a tuple;
// a list is taken too), or a TypeError naming the argument: the cast errors of a str or a float
// in it named nothing.
std::pair<int64_t, int64_t> int_pair(py::handle v, const char* what) {
  int64_t a = 0, b = 0;
  const bool seq = py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v);
  TG_CHECK_TYPE(seq && py::len(v) == 2 && small_int(py::reinterpret_borrow<py::sequence>(v)[0], a) &&
                    small_int(py::reinterpret_borrow<py::sequence>(v)[1], b),
                what, " must be a tuple of two integers, got ", std::string(py::repr(v)));
  return {a, b};
}

bool is_cpu_device(py::handle dev, const char* what) {
  const auto d = int_pair(dev, what);
  return d.first == dl::kCPU && d.second == 0;
}

// DLPack's `copy`: None, True or False (numpy's bool and the ints 0 and 1 as numpy takes them).
bool copy_flag(py::handle copy, const char* what) {
  if (copy.is_none()) return false;
  int64_t i = 0;
  const bool ok = PyBool_Check(copy.ptr()) || py::isinstance(copy, py::module_::import("numpy").attr("bool_")) ||
                  (small_int(copy, i) && (i == 0 || i == 1));
  TG_CHECK_TYPE(ok, what, ": copy must be True, False or None, got ", std::string(py::repr(copy)));
  return py::cast<bool>(copy);
}

py::object export_dlpack(const Tensor& t0, py::handle stream, py::handle max_version, py::handle dl_device,
                         py::handle copy) {
  Tensor t = ops::stop_gradient(t0);
  check_has_data(t, "__dlpack__");
  if (t.device() != Device::CPU)
    throw py::buffer_error(
        "__dlpack__: GPU tensors are not exported through DLPack yet (kDLCUDA); use .to(\"CPU\") first");
  // CPU memory: there is no stream to synchronise with; an integer (a consumer's stream handle or
  // -1) is ignored, anything else is a mistake.
  int64_t stream_id = 0;
  TG_CHECK_TYPE(stream.is_none() || small_int(stream, stream_id), "__dlpack__: stream must be None or an integer, got ",
                std::string(py::repr(stream)));
  if (!dl_device.is_none() && !is_cpu_device(dl_device, "__dlpack__: dl_device"))
    throw py::buffer_error(
        str_cat("__dlpack__: cannot export a CPU tensor to device ", std::string(py::repr(dl_device))));
  // A tracked value (inside a differentiated function) goes out as a copy (Note [Exported buffers]);
  // copy=False forbids one, so it is refused there, as DLPack asks of a producer that must copy.
  const bool asked_copy = copy_flag(copy, "__dlpack__");
  if (t0.tracked() && !asked_copy && !copy.is_none())
    throw py::buffer_error(
        "__dlpack__: a value a transform is tracking (inside grad, vjp, jit, ...) is exported only as a "
        "copy, and copy=False was given");
  const bool copied = asked_copy || t0.tracked();
  if (copied) t = t.clone();
  bool versioned = false;
  if (!max_version.is_none()) versioned = int_pair(max_version, "__dlpack__: max_version").first >= 1;

  auto* c = new ExportCtx();
  c->owner = buffer_owner(t).release().ptr();
  if (!copied) {
    // The consumer may write: counts as a write now, and records copy while the view lives.
    Storage* st = t.storage();
    c->watched = Ref<Storage>(st, true);
    st->ext_views.fetch_add(1, std::memory_order_relaxed);
    st->exported.store(true, std::memory_order_relaxed);
    st->version.fetch_add(1, std::memory_order_relaxed);
  }
  const int64_t nd = t.ndim();
  for (int64_t i = 0; i < nd; ++i) {
    c->shape.push_back(t.shape()[size_t(i)]);
    c->strides.push_back(t.strides()[size_t(i)]);
  }
  dl::Tensor dt{};
  dt.data = t.raw_data();
  dt.device = {dl::kCPU, 0};
  dt.ndim = int32_t(nd);
  dt.dtype = to_dl(t.dtype());
  dt.shape = c->shape.data();
  dt.strides = c->strides.data();
  dt.byte_offset = 0;

  PyObject* cap;
  if (versioned) {
    c->versioned.version = {dl::kMajor, dl::kMinor};
    c->versioned.manager_ctx = c;
    c->versioned.deleter = delete_versioned;
    // A tensor is a value: consumers get a read-only view unless they asked for their own copy
    // (writes through a view would bypass the version counters that protect saved values).
    c->versioned.flags = copied ? dl::kFlagIsCopied : dl::kFlagReadOnly;
    c->versioned.dl_tensor = dt;
    cap = PyCapsule_New(&c->versioned, kCapsuleV, capsule_destructor);
  } else {
    c->legacy.manager_ctx = c;
    c->legacy.deleter = delete_legacy;
    c->legacy.dl_tensor = dt;
    cap = PyCapsule_New(&c->legacy, kCapsule, capsule_destructor);
  }
  if (!cap) {
    free_ctx(c);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(cap);
}

// ---- import -----------------------------------------------------------------------------------

// Element of a DLPack dtype we can read, and the dtype we hold it as.
bool from_dl(dl::DataType t, DType& out) {
  if (t.lanes != 1) return false;
  switch (t.code) {
    case dl::kBool:
      if (t.bits == 8) {
        out = DType::Bool;
        return true;
      }
      return false;
    case dl::kInt:
    case dl::kUInt: {
      const bool u = t.code == dl::kUInt;
      switch (t.bits) {
        case 8: out = u ? DType::UInt8 : DType::Int8; return true;
        case 16: out = u ? DType::UInt16 : DType::Int16; return true;
        case 32: out = u ? DType::UInt32 : DType::Int32; return true;
        case 64: out = u ? DType::UInt64 : DType::Int64; return true;
        default: return false;
      }
    }
    case dl::kFloat:
      if (t.bits == 16) {
        out = DType::Float16;
        return true;
      }
      if (t.bits == 32) {
        out = DType::Float32;
        return true;
      }
      if (t.bits == 64) {
        out = DType::Float64;
        return true;
      }
      return false;
    case dl::kComplex:
      if (t.bits == 64 || t.bits == 128) {
        out = t.bits == 64 ? DType::Complex64 : DType::Complex128;
        return true;
      }
      return false;
    default: return false;
  }
}

// Copy a strided DLPack tensor element by element into a new contiguous tensor (used when the
// data is not aligned for its type).
Tensor copy_in(const char* base, const Shape& shape, const Strides& st, dl::DataType t, DType d) {
  Tensor out = Tensor::empty(shape, d);
  const int64_t n = out.numel(), nd = int64_t(shape.size());
  const int64_t src_isz = (t.bits + 7) / 8, isz = int64_t(itemsize(d));
  std::vector<int64_t> idx(size_t(nd), 0);
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (int64_t k = 0; k < nd; ++k) off += idx[size_t(k)] * st[size_t(k)];
    const char* p = base + off * src_isz;
    std::memcpy(dst + i * isz, p, size_t(isz));
    for (int64_t k = nd - 1; k >= 0; --k) {
      if (++idx[size_t(k)] < shape[size_t(k)]) break;
      idx[size_t(k)] = 0;
    }
  }
  return out;
}

// The owner of a consumed DLPack tensor: a capsule whose destructor calls the producer's deleter.
template <class M>
py::object owner_of(M* m) {
  py::capsule c(m, "tapegrad.dlpack_owner", [](PyObject* cap) {
    auto* mm = static_cast<M*>(PyCapsule_GetPointer(cap, "tapegrad.dlpack_owner"));
    if (mm && mm->deleter) mm->deleter(mm);
  });
  return std::move(c);
}

Tensor import_capsule(py::handle cap) {
  PyObject* p = cap.ptr();
  dl::Tensor* t = nullptr;
  bool readonly = false;
  py::object owner;
  if (PyCapsule_IsValid(p, kCapsuleV)) {
    auto* m = static_cast<dl::ManagedTensorVersioned*>(PyCapsule_GetPointer(p, kCapsuleV));
    if (m->version.major != dl::kMajor)
      throw py::buffer_error(str_cat("from_dlpack: DLPack version ", m->version.major, ".", m->version.minor,
                                     " is not supported (this build reads 1.x)"));
    if (PyCapsule_SetName(p, kCapsuleVUsed) != 0) throw py::error_already_set();
    owner = owner_of(m);  // from here on we own it: released with `owner`
    t = &m->dl_tensor;
    readonly = (m->flags & dl::kFlagReadOnly) != 0;
  } else if (PyCapsule_IsValid(p, kCapsule)) {
    auto* m = static_cast<dl::ManagedTensor*>(PyCapsule_GetPointer(p, kCapsule));
    if (PyCapsule_SetName(p, kCapsuleUsed) != 0) throw py::error_already_set();
    owner = owner_of(m);
    t = &m->dl_tensor;
  } else {
    throw TypeError("from_dlpack: expected a DLPack capsule that has not been consumed yet");
  }
  TG_CHECK_TYPE(t->device.device_type == dl::kCPU || t->device.device_type == dl::kCUDAHost,
                "from_dlpack: only CPU memory can be imported, got DLPack device type ", t->device.device_type);
  DType d;
  TG_CHECK_TYPE(from_dl(t->dtype, d), "from_dlpack: DLPack dtype (code ", int(t->dtype.code), ", bits ",
                int(t->dtype.bits), ", lanes ", t->dtype.lanes, ") is not supported (supported: bool, int8-64, ",
                "uint8-64, float16, float32, float64, complex64, complex128)");
  TG_CHECK(t->ndim >= 0 && t->ndim <= 32, "from_dlpack: bad number of dimensions ", t->ndim);
  Shape shape;
  for (int32_t i = 0; i < t->ndim; ++i) {
    TG_CHECK(t->shape[i] >= 0, "from_dlpack: negative dimension in the DLPack shape");
    shape.push_back(t->shape[i]);
  }
  Strides strides = t->strides ? Strides(t->strides, t->strides + t->ndim) : contiguous_strides(shape);
  const int64_t n = numel(shape);
  if (n == 0) return Tensor::empty(shape, d);
  const int64_t src_isz = (t->dtype.bits + 7) / 8;
  const char* base = static_cast<const char*>(t->data) + t->byte_offset;
  if (reinterpret_cast<uintptr_t>(base) % uintptr_t(src_isz) != 0) return copy_in(base, shape, strides, t->dtype, d);
  // Borrow: the Storage starts at the lowest address an element uses.
  int64_t lo = 0, hi = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) continue;
    const int64_t span = strides[i] * (shape[i] - 1);
    (span < 0 ? lo : hi) += span;
  }
  const size_t nbytes = size_t((hi - lo + 1) * src_isz);
  Ref<Storage> st = borrow_from_python(const_cast<char*>(base) + lo * src_isz, nbytes, owner, readonly);
  return Tensor::from_storage(std::move(st), -lo, shape, strides, d);
}

py::object from_dlpack(py::handle obj, py::handle device, py::handle copy) {
  bool cpu = device.is_none();
  if (py::isinstance<py::str>(device)) {  // "CPU" as Tensor.device says, or "cpu" as numpy does
    std::string d = py::cast<std::string>(device);
    for (char& ch : d) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    cpu = d == "CPU";
  } else if (!cpu) {
    cpu = is_cpu_device(device, "from_dlpack: device");
  }
  TG_CHECK_TYPE(cpu, "from_dlpack: device must be None, 'CPU' or (1, 0), got ", std::string(py::repr(device)));
  const bool want_copy = copy_flag(copy, "from_dlpack");
  if (is_tensor(obj)) return want_copy ? py::cast(ops::copy(as_tensor(obj))) : py::reinterpret_borrow<py::object>(obj);
  if (PyCapsule_CheckExact(obj.ptr())) return py::cast(import_capsule(obj));
  if (!PyObject_HasAttrString(obj.ptr(), "__dlpack__"))
    throw TypeError(str_cat("from_dlpack: an object of type ",
                            std::string(py::str(py::type::handle_of(obj).attr("__name__"))),
                            " does not support the DLPack protocol (no __dlpack__)"));
  if (PyObject_HasAttrString(obj.ptr(), "__dlpack_device__")) {
    py::tuple dev = obj.attr("__dlpack_device__")();
    const int type = py::cast<int>(dev[0]);
    TG_CHECK_TYPE(type == dl::kCPU || type == dl::kCUDAHost,
                  "from_dlpack: only CPU memory can be imported, the object is on DLPack device type ", type);
  }
  py::object cap;
  try {
    cap =
        obj.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(dl::kMajor, dl::kMinor), py::arg("copy") = copy);
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    cap = obj.attr("__dlpack__")();  // a producer from before DLPack 1.0
  }
  Tensor t = import_capsule(cap);
  return py::cast(want_copy ? t.clone() : t);
}

}  // namespace

void bind_dlpack(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(reinterpret_cast<PyObject*>(g_tensor_type));
  cls.def("__dlpack__", &export_dlpack, py::arg("stream") = py::none(), py::kw_only(),
          py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(), py::arg("copy") = py::none(),
          docs::Tensor___dlpack__);
  cls.def(
      "__dlpack_device__",
      [](const Tensor& t) { return py::make_tuple(int(t.device() == Device::CPU ? dl::kCPU : dl::kCUDA), 0); },
      docs::Tensor___dlpack_device__);
  m.def("from_dlpack", &from_dlpack, py::arg("x"), py::kw_only(), py::arg("device") = py::none(),
        py::arg("copy") = py::none(), docs::from_dlpack);
}

}  // namespace bind
}  // namespace tapegrad
