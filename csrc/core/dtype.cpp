#include "core/dtype.h"

#include "core/error.h"

namespace tapegrad {

const char* dtype_name(DType d) {
  static const char* names[] = {"Bool",  "Int32", "Int64",  "Float16", "Float32", "Float64",   "Int8",
                                "Int16", "UInt8", "UInt16", "UInt32",  "UInt64",  "Complex64", "Complex128"};
  return names[static_cast<int>(d)];
}
const char* dtype_numpy_name(DType d) {
  static const char* names[] = {"bool",  "int32", "int64",  "float16", "float32", "float64",   "int8",
                                "int16", "uint8", "uint16", "uint32",  "uint64",  "complex64", "complex128"};
  return names[static_cast<int>(d)];
}

DType promote(DType a, DType b) {
  // numpy.promote_types over our dtypes, rows and columns in the enum's order (generated from
  // numpy 2 and checked against np.result_type over all pairs by tests/test_int_dtypes.py).
  using D = DType;
  // clang-format off
  static const D table[kNumDTypes][kNumDTypes] = {
      {D::Bool, D::Int32, D::Int64, D::Float16, D::Float32, D::Float64, D::Int8, D::Int16, D::UInt8, D::UInt16, D::UInt32, D::UInt64, D::Complex64, D::Complex128},
      {D::Int32, D::Int32, D::Int64, D::Float64, D::Float64, D::Float64, D::Int32, D::Int32, D::Int32, D::Int32, D::Int64, D::Float64, D::Complex128, D::Complex128},
      {D::Int64, D::Int64, D::Int64, D::Float64, D::Float64, D::Float64, D::Int64, D::Int64, D::Int64, D::Int64, D::Int64, D::Float64, D::Complex128, D::Complex128},
      {D::Float16, D::Float64, D::Float64, D::Float16, D::Float32, D::Float64, D::Float16, D::Float32, D::Float16, D::Float32, D::Float64, D::Float64, D::Complex64, D::Complex128},
      {D::Float32, D::Float64, D::Float64, D::Float32, D::Float32, D::Float64, D::Float32, D::Float32, D::Float32, D::Float32, D::Float64, D::Float64, D::Complex64, D::Complex128},
      {D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Complex128, D::Complex128},
      {D::Int8, D::Int32, D::Int64, D::Float16, D::Float32, D::Float64, D::Int8, D::Int16, D::Int16, D::Int32, D::Int64, D::Float64, D::Complex64, D::Complex128},
      {D::Int16, D::Int32, D::Int64, D::Float32, D::Float32, D::Float64, D::Int16, D::Int16, D::Int16, D::Int32, D::Int64, D::Float64, D::Complex64, D::Complex128},
      {D::UInt8, D::Int32, D::Int64, D::Float16, D::Float32, D::Float64, D::Int16, D::Int16, D::UInt8, D::UInt16, D::UInt32, D::UInt64, D::Complex64, D::Complex128},
      {D::UInt16, D::Int32, D::Int64, D::Float32, D::Float32, D::Float64, D::Int32, D::Int32, D::UInt16, D::UInt16, D::UInt32, D::UInt64, D::Complex64, D::Complex128},
      {D::UInt32, D::Int64, D::Int64, D::Float64, D::Float64, D::Float64, D::Int64, D::Int64, D::UInt32, D::UInt32, D::UInt32, D::UInt64, D::Complex128, D::Complex128},
      {D::UInt64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::UInt64, D::UInt64, D::UInt64, D::UInt64, D::Complex128, D::Complex128},
      {D::Complex64, D::Complex128, D::Complex128, D::Complex64, D::Complex64, D::Complex128, D::Complex64, D::Complex64, D::Complex64, D::Complex64, D::Complex128, D::Complex128, D::Complex64, D::Complex128},
      {D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128, D::Complex128},
  };
  // clang-format on
  return table[static_cast<int>(a)][static_cast<int>(b)];
}

int64_t int_min(DType d) {
  switch (d) {
    case DType::Int8: return INT8_MIN;
    case DType::Int16: return INT16_MIN;
    case DType::Int32: return INT32_MIN;
    case DType::Int64: return INT64_MIN;
    default: return 0;
  }
}
uint64_t int_max_u64(DType d) {
  switch (d) {
    case DType::Bool: return 1;
    case DType::Int8: return INT8_MAX;
    case DType::Int16: return INT16_MAX;
    case DType::Int32: return INT32_MAX;
    case DType::Int64: return INT64_MAX;
    case DType::UInt8: return UINT8_MAX;
    case DType::UInt16: return UINT16_MAX;
    case DType::UInt32: return UINT32_MAX;
    case DType::UInt64: return UINT64_MAX;
    default: return 0;
  }
}

void complex_unsupported(const char* op, DType d) {
  throw DTypeError(str_cat(op, ": not supported for ", dtype_numpy_name(d)));
}

DType promote_weak(DType t, ScalarKind k) {
  switch (k) {
    case ScalarKind::Bool: return t;
    case ScalarKind::Int: return t == DType::Bool ? DType::Int64 : t;
    case ScalarKind::Float: return is_inexact(t) ? t : DType::Float64;
    // NEP 50: a Python complex keeps the precision of a float or complex tensor (float32 ->
    // complex64); Bool and integer tensors give complex128.
    case ScalarKind::Complex:
      if (is_complex(t)) return t;
      return t == DType::Float16 || t == DType::Float32 ? DType::Complex64 : DType::Complex128;
  }
  return t;
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((man & 0x400u) == 0) {
        man <<= 1;
        --exp;
      }
      man &= 0x3ffu;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (absx < 0x38800000u) {  // subnormal or zero in half: round to nearest even
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t e = absx >> 23, m = (absx & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // half subnormal unit is 2^-24
    uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    uint32_t res = m >> shift;
    if (rem > half || (rem == half && (res & 1u))) ++res;
    return static_cast<uint16_t>(sign | res);
  }
  uint32_t e = (absx >> 23) - 127 + 15, m = absx & 0x7fffffu;
  uint32_t res = (e << 10) | (m >> 13), rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (res & 1u))) ++res;
  return static_cast<uint16_t>(sign | res);
}

}  // namespace tapegrad
