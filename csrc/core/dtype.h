// Element types and numpy's promotion lattice over them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>

namespace tapegrad {

enum class DType : uint8_t { Bool = 0, Int32, Int64, Float16, Float32, Float64 };
constexpr int kNumDTypes = 6;

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
  }
  return 0;
}
inline bool is_float(DType d) { return d == DType::Float16 || d == DType::Float32 || d == DType::Float64; }
inline bool is_int(DType d) { return d == DType::Int32 || d == DType::Int64; }
const char* dtype_name(DType d);        // "Float32" (MindSpore spelling)
const char* dtype_numpy_name(DType d);  // "float32"
inline std::ostream& operator<<(std::ostream& os, DType d) { return os << dtype_name(d); }

// numpy.promote_types restricted to our dtypes.
DType promote(DType a, DType b);

// Kind of a Python scalar taking part in an op ("weak" types, NEP 50).
enum class ScalarKind : uint8_t { Bool, Int, Float };
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

// TG_DISPATCH(dtype, T, body): runs body with T bound to the C++ type of dtype.
#define TG_DISPATCH_CASE(D, TYPE, ...) \
  case ::tapegrad::DType::D: {         \
    using T = TYPE;                    \
    __VA_ARGS__;                       \
    break;                             \
  }
#define TG_DISPATCH_ALL(dt, ...)                             \
  switch (dt) {                                              \
    TG_DISPATCH_CASE(Bool, bool, __VA_ARGS__)                \
    TG_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)            \
    TG_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)            \
    TG_DISPATCH_CASE(Float16, ::tapegrad::Half, __VA_ARGS__) \
    TG_DISPATCH_CASE(Float32, float, __VA_ARGS__)            \
    TG_DISPATCH_CASE(Float64, double, __VA_ARGS__)           \
  }
// Arithmetic dtypes (float16 is computed in float32 by the caller, never here).
#define TG_DISPATCH_NUM(dt, ...)                   \
  switch (dt) {                                    \
    TG_DISPATCH_CASE(Bool, bool, __VA_ARGS__)      \
    TG_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Float32, float, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Float64, double, __VA_ARGS__) \
    default: break;                                \
  }
#define TG_DISPATCH_FLOAT(dt, ...)                 \
  switch (dt) {                                    \
    TG_DISPATCH_CASE(Float32, float, __VA_ARGS__)  \
    TG_DISPATCH_CASE(Float64, double, __VA_ARGS__) \
    default: break;                                \
  }

}  // namespace tapegrad
