// Element types and numpy's promotion lattice over them.
#pragma once
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>

namespace tapegrad {

// The integer dtypes beyond Int32/Int64 come after Float64 so that the first six codes (and every
// table indexed by them) keep their values.
enum class DType : uint8_t {
  Bool = 0,
  Int32,
  Int64,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  UInt8,
  UInt16,
  UInt32,
  UInt64,
  Complex64,
  Complex128
};
constexpr int kNumDTypes = 14;

// IEEE half stored as bits; arithmetic goes through float.
struct Half {
  uint16_t bits;
};
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Bool: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float16: return 2;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int8: return 1;
    case DType::Int16: return 2;
    case DType::UInt8: return 1;
    case DType::UInt16: return 2;
    case DType::UInt32: return 4;
    case DType::UInt64: return 8;
    case DType::Complex64: return 8;
    case DType::Complex128: return 16;
  }
  return 0;
}
inline bool is_float(DType d) { return d == DType::Float16 || d == DType::Float32 || d == DType::Float64; }
inline bool is_unsigned(DType d) {
  return d == DType::UInt8 || d == DType::UInt16 || d == DType::UInt32 || d == DType::UInt64;
}
inline bool is_signed_int(DType d) {
  return d == DType::Int8 || d == DType::Int16 || d == DType::Int32 || d == DType::Int64;
}
// Complex64/Complex128: std::complex<float>/<double> storage (numpy's layout: real, imaginary).
inline bool is_complex(DType d) { return d == DType::Complex64 || d == DType::Complex128; }
// Float or complex: the dtypes derivatives flow through (and the results of float functions).
inline bool is_inexact(DType d) { return is_float(d) || is_complex(d); }
// The real dtype of a complex one's parts (Float32 for Complex64); other dtypes map to themselves.
inline DType real_dtype(DType d) {
  return d == DType::Complex64 ? DType::Float32 : d == DType::Complex128 ? DType::Float64 : d;
}
// Throws DTypeError "<op>: not supported for complex64": every generic dtype switch (TG_DISPATCH_*)
// ends in it for the complex dtypes, so a kernel without complex loops never skips its output.
[[noreturn]] void complex_unsupported(const char* op, DType d);
// Every integer dtype (not Bool).
inline bool is_int(DType d) { return is_signed_int(d) || is_unsigned(d); }
// The dtypes of the first generation (Int32/Int64): the only integer dtypes the SIMD-compiled
// loops, the CUDA plugin and BLAS glue carry; the others run plain loops (kernels/cpu/small_ints.cpp).
inline bool is_small_int(DType d) { return is_int(d) && d != DType::Int32 && d != DType::Int64; }
// The range of an integer dtype as int64 (UInt64's maximum does not fit: see int_max_u64).
int64_t int_min(DType d);
uint64_t int_max_u64(DType d);
const char* dtype_name(DType d);        // "Float32" (MindSpore spelling)
const char* dtype_numpy_name(DType d);  // "float32"
inline std::ostream& operator<<(std::ostream& os, DType d) { return os << dtype_name(d); }

// numpy.promote_types restricted to our dtypes.
DType promote(DType a, DType b);

// Kind of a Python scalar taking part in an op ("weak" types, NEP 50).
enum class ScalarKind : uint8_t { Bool, Int, Float, Complex };
// dtype of `tensor op python_scalar` under NEP 50.
DType promote_weak(DType t, ScalarKind k);

// Map C++ types to dtypes.
template <class T>
struct dtype_of;
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::Int32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct dtype_of<int8_t> {
  static constexpr DType value = DType::Int8;
};
template <>
struct dtype_of<int16_t> {
  static constexpr DType value = DType::Int16;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::UInt8;
};
template <>
struct dtype_of<uint16_t> {
  static constexpr DType value = DType::UInt16;
};
template <>
struct dtype_of<uint32_t> {
  static constexpr DType value = DType::UInt32;
};
template <>
struct dtype_of<uint64_t> {
  static constexpr DType value = DType::UInt64;
};
template <>
struct dtype_of<Half> {
  static constexpr DType value = DType::Float16;
};
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <>
struct dtype_of<std::complex<float>> {
  static constexpr DType value = DType::Complex64;
};
template <>
struct dtype_of<std::complex<double>> {
  static constexpr DType value = DType::Complex128;
};

// TG_DISPATCH(dtype, T, body): runs body with T bound to the C++ type of dtype.
#define TG_DISPATCH_CASE(D, TYPE, ...) \
  case ::tapegrad::DType::D: {         \
    using T = TYPE;                    \
    __VA_ARGS__;                       \
    break;                             \
  }
#define TG_DISPATCH_SMALL_INTS(...)               \
  TG_DISPATCH_CASE(Int8, int8_t, __VA_ARGS__)     \
  TG_DISPATCH_CASE(Int16, int16_t, __VA_ARGS__)   \
  TG_DISPATCH_CASE(UInt8, uint8_t, __VA_ARGS__)   \
  TG_DISPATCH_CASE(UInt16, uint16_t, __VA_ARGS__) \
  TG_DISPATCH_CASE(UInt32, uint32_t, __VA_ARGS__) \
  TG_DISPATCH_CASE(UInt64, uint64_t, __VA_ARGS__)
#define TG_DISPATCH_COMPLEX_UNSUPPORTED(dt) \
  case ::tapegrad::DType::Complex64:        \
  case ::tapegrad::DType::Complex128: ::tapegrad::complex_unsupported(__func__, dt);
#define TG_DISPATCH_ALL(dt, ...)                             \
  switch (dt) {                                              \
    TG_DISPATCH_COMPLEX_UNSUPPORTED(dt)                      \
    TG_DISPATCH_CASE(Bool, bool, __VA_ARGS__)                \
    TG_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)            \
    TG_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)            \
    TG_DISPATCH_SMALL_INTS(__VA_ARGS__)                      \
    TG_DISPATCH_CASE(Float16, ::tapegrad::Half, __VA_ARGS__) \
    TG_DISPATCH_CASE(Float32, float, __VA_ARGS__)            \
    TG_DISPATCH_CASE(Float64, double, __VA_ARGS__)           \
  }
// Arithmetic dtypes (float16 is computed in float32 by the caller, never here).
#define TG_DISPATCH_NUM(dt, ...)                   \
  switch (dt) {                                    \
    TG_DISPATCH_COMPLEX_UNSUPPORTED(dt)            \
    TG_DISPATCH_CASE(Bool, bool, __VA_ARGS__)      \
    TG_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)  \
    TG_DISPATCH_SMALL_INTS(__VA_ARGS__)            \
    TG_DISPATCH_CASE(Float32, float, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Float64, double, __VA_ARGS__) \
    default: break;                                \
  }
#define TG_DISPATCH_FLOAT(dt, ...)                 \
  switch (dt) {                                    \
    TG_DISPATCH_COMPLEX_UNSUPPORTED(dt)            \
    TG_DISPATCH_CASE(Float32, float, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Float64, double, __VA_ARGS__) \
    default: break;                                \
  }

}  // namespace tapegrad
