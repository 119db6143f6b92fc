"""Tests for tapegrad._repr.format_tensor_repr (MindSpore 2.x repr format)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_REPR_PATH = Path(__file__).resolve().parent.parent / "python" / "tapegrad" / "_repr.py"
_spec = importlib.util.spec_from_file_location("tapegrad_repr_under_test", _REPR_PATH)
_repr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_repr)
format_tensor_repr = _repr.format_tensor_repr


def f32(x):
    return np.asarray(x, dtype=np.float32)


# --------------------------------------------------------------------------
# Examples that must match exactly.
# --------------------------------------------------------------------------


def test_known_float32_vector():
    assert format_tensor_repr(np.arange(4, dtype=np.float32), "Float32") == (
        "Tensor(shape=[4], dtype=Float32, value= "
        "[ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00,  3.00000000e+00])"
    )


def test_known_float32_scalar():
    assert format_tensor_repr(np.array(28.0, dtype=np.float32), "Float32") == (
        "Tensor(shape=[], dtype=Float32, value= 28)"
    )


def test_known_bool_vector():
    assert format_tensor_repr(np.ones(4, dtype=bool), "Bool") == (
        "Tensor(shape=[4], dtype=Bool, value= [ True,  True,  True,  True])"
    )


def test_known_bool_scalar():
    assert format_tensor_repr(np.array(True), "Bool") == "Tensor(shape=[], dtype=Bool, value= True)"


# --------------------------------------------------------------------------
# Outputs quoted in MindSpore docstrings / docs.
# --------------------------------------------------------------------------


def test_doc_float32_vector_rounding():
    # float32(10/3) prints as 3.33333325e+00
    out = format_tensor_repr(f32([2.5, 10.0 / 3.0]), "Float32")
    assert out == "Tensor(shape=[2], dtype=Float32, value= [ 2.50000000e+00,  3.33333325e+00])"


def test_doc_float32_matrix():
    out = format_tensor_repr(np.ones((2, 3), dtype=np.float32), "Float32")
    assert out == (
        "Tensor(shape=[2, 3], dtype=Float32, value=\n"
        "[[ 1.00000000e+00,  1.00000000e+00,  1.00000000e+00],\n"
        " [ 1.00000000e+00,  1.00000000e+00,  1.00000000e+00]])"
    )


@pytest.mark.parametrize(
    "data, body",
    [
        ([[1, 2, 3], [12, 13, 14]], "[[ 1,  2,  3],\n [12, 13, 14]]"),
        ([[-1, 0, 1], [8, 9, 10]], "[[-1,  0,  1],\n [ 8,  9, 10]]"),
        ([[0, 1, 2], [5, 5, 6]], "[[0, 1, 2],\n [5, 5, 6]]"),
    ],
)
def test_doc_int32_matrices(data, body):
    out = format_tensor_repr(np.array(data, dtype=np.int32), "Int32")
    assert out == "Tensor(shape=[2, 3], dtype=Int32, value=\n" + body + ")"


def test_doc_float_scalar_six_significant_digits():
    out = format_tensor_repr(np.float32(0.663754), "Float32")
    assert out == "Tensor(shape=[], dtype=Float32, value= 0.663754)"


# --------------------------------------------------------------------------
# Floats.
# --------------------------------------------------------------------------


def test_negative_floats_use_sign_column():
    out = format_tensor_repr(f32([-1.5, 2.0, -0.0]), "Float32")
    assert out == (
        "Tensor(shape=[3], dtype=Float32, value= "
        "[-1.50000000e+00,  2.00000000e+00, -0.00000000e+00])"
    )


def test_float32_is_printed_at_its_exact_value():
    out = format_tensor_repr(f32([0.1]), "Float32")
    assert out == "Tensor(shape=[1], dtype=Float32, value= [ 1.00000001e-01])"


def test_float64_array():
    out = format_tensor_repr(np.array([0.1, -123456.789]), "Float64")
    assert out == "Tensor(shape=[2], dtype=Float64, value= [ 1.00000000e-01, -1.23456789e+05])"


def test_float16_array_uses_width_11_precision_4():
    out = format_tensor_repr(np.array([0.0, 1.0, -2.5, 1.0 / 3.0], dtype=np.float16), "Float16")
    assert out == (
        "Tensor(shape=[4], dtype=Float16, value= "
        "[ 0.0000e+00,  1.0000e+00, -2.5000e+00,  3.3325e-01])"
    )


def test_three_digit_exponent_is_not_truncated():
    # 15 is a minimum width: a positive 3-digit exponent fills it exactly, a
    # negative one overflows it.
    out = format_tensor_repr(np.array([1e100, -1e-100]), "Float64")
    assert out == "Tensor(shape=[2], dtype=Float64, value= [1.00000000e+100, -1.00000000e-100])"


def test_nan_and_inf_in_arrays():
    neg_nan = np.copysign(np.float32(np.nan), np.float32(-1.0))
    data = np.array([np.nan, np.inf, -np.inf, neg_nan], dtype=np.float32)
    out = format_tensor_repr(data, "Float32")
    assert out == (
        "Tensor(shape=[4], dtype=Float32, value= "
        "[            nan,             inf,            -inf,            -nan])"
    )


def test_nan_and_inf_in_float16_arrays():
    out = format_tensor_repr(np.array([np.nan, -np.inf], dtype=np.float16), "Float16")
    assert out == "Tensor(shape=[2], dtype=Float16, value= [        nan,        -inf])"


@pytest.mark.parametrize(
    "value, text",
    [
        (28.0, "28"),
        (-0.5, "-0.5"),
        (0.0, "0"),
        (1e-7, "1e-07"),
        (1234567.0, "1.23457e+06"),
        (100000.0, "100000"),
        (0.0001, "0.0001"),
        (np.inf, "inf"),
        (-np.inf, "-inf"),
        (np.nan, "nan"),
    ],
)
def test_float_scalars_use_percent_g(value, text):
    out = format_tensor_repr(np.array(value, dtype=np.float32), "Float32")
    assert out == f"Tensor(shape=[], dtype=Float32, value= {text})"


def test_float64_scalar():
    out = format_tensor_repr(np.array(3.141592653589793), "Float64")
    assert out == "Tensor(shape=[], dtype=Float64, value= 3.14159)"


def test_float16_scalar():
    out = format_tensor_repr(np.array(0.5, dtype=np.float16), "Float16")
    assert out == "Tensor(shape=[], dtype=Float16, value= 0.5)"


# --------------------------------------------------------------------------
# Integers and booleans.
# --------------------------------------------------------------------------


def test_int_vector_padding_is_global():
    out = format_tensor_repr(np.array([1, -20, 300], dtype=np.int64), "Int64")
    assert out == "Tensor(shape=[3], dtype=Int64, value= [  1, -20, 300])"


def test_int_scalars():
    assert format_tensor_repr(np.array(-7, dtype=np.int32), "Int32") == (
        "Tensor(shape=[], dtype=Int32, value= -7)"
    )
    assert format_tensor_repr(np.array(2**40, dtype=np.int64), "Int64") == (
        "Tensor(shape=[], dtype=Int64, value= 1099511627776)"
    )


def test_small_int_types_print_as_numbers():
    out = format_tensor_repr(np.array([65, -1], dtype=np.int8), "Int8")
    assert out == "Tensor(shape=[2], dtype=Int8, value= [65, -1])"
    out = format_tensor_repr(np.array([7, 200], dtype=np.uint8), "UInt8")
    assert out == "Tensor(shape=[2], dtype=UInt8, value= [  7, 200])"


def test_uint64_large_value():
    out = format_tensor_repr(np.array([2**64 - 1, 0], dtype=np.uint64), "UInt64")
    assert (
        out
        == "Tensor(shape=[2], dtype=UInt64, value= [18446744073709551615,                    0])"
    )


def test_bool_vector_mixed_and_scalar_false():
    out = format_tensor_repr(np.array([True, False, True]), "Bool")
    assert out == "Tensor(shape=[3], dtype=Bool, value= [ True, False,  True])"
    assert (
        format_tensor_repr(np.array(False), "Bool") == "Tensor(shape=[], dtype=Bool, value= False)"
    )


def test_bool_matrix():
    out = format_tensor_repr(np.array([[True, False], [False, True]]), "Bool")
    assert out == "Tensor(shape=[2, 2], dtype=Bool, value=\n[[ True, False],\n [False,  True]])"


# --------------------------------------------------------------------------
# Layout.
# --------------------------------------------------------------------------


def test_single_element_vector_is_not_a_scalar():
    out = format_tensor_repr(f32([5.0]), "Float32")
    assert out == "Tensor(shape=[1], dtype=Float32, value= [ 5.00000000e+00])"


def test_single_element_matrix():
    out = format_tensor_repr(np.array([[7]], dtype=np.int32), "Int32")
    assert out == "Tensor(shape=[1, 1], dtype=Int32, value=\n[[7]])"


def test_three_dimensional_layout():
    out = format_tensor_repr(np.arange(12, dtype=np.int32).reshape(2, 3, 2), "Int32")
    assert out == (
        "Tensor(shape=[2, 3, 2], dtype=Int32, value=\n"
        "[[[ 0,  1],\n"
        "  [ 2,  3],\n"
        "  [ 4,  5]],\n"
        " [[ 6,  7],\n"
        "  [ 8,  9],\n"
        "  [10, 11]]])"
    )


def test_float_vector_breaks_line_after_12_elements():
    out = format_tensor_repr(np.arange(13, dtype=np.float32), "Float32")
    first = ",  ".join(f"{i:.8e}" for i in range(12))
    assert out == ("Tensor(shape=[13], dtype=Float32, value= [ " + first + ", \n  1.20000000e+01])")


def test_float_vector_of_exactly_12_puts_bracket_on_new_line():
    out = format_tensor_repr(np.arange(12, dtype=np.float32), "Float32")
    first = ",  ".join(f"{i:.8e}" for i in range(12))
    assert out == "Tensor(shape=[12], dtype=Float32, value= [ " + first + "\n ])"


def test_bool_vector_breaks_line_after_12_elements():
    out = format_tensor_repr(np.ones(13, dtype=bool), "Bool")
    assert out == (
        "Tensor(shape=[13], dtype=Bool, value= [" + ", ".join([" True"] * 12) + ", \n  True])"
    )


def test_int_vector_breaks_line_after_24_elements():
    out = format_tensor_repr(np.arange(25, dtype=np.int64), "Int64")
    first = ", ".join(f"{i:2d}" for i in range(24))
    assert out == "Tensor(shape=[25], dtype=Int64, value= [" + first + ", \n 24])"


def test_int_vector_multiple_line_breaks():
    out = format_tensor_repr(np.arange(50, dtype=np.int32), "Int32")
    line1 = ", ".join(f"{i:2d}" for i in range(24))
    line2 = ", ".join(f"{i:2d}" for i in range(24, 48))
    assert out == (
        "Tensor(shape=[50], dtype=Int32, value= [" + line1 + ", \n " + line2 + ", \n 48, 49])"
    )


def test_matrix_rows_never_break():
    out = format_tensor_repr(np.zeros((1, 6), dtype=np.float32), "Float32")
    assert out == (
        "Tensor(shape=[1, 6], dtype=Float32, value=\n[["
        + ", ".join([" 0.00000000e+00"] * 6)
        + "]])"
    )


# --------------------------------------------------------------------------
# Summarisation.
# --------------------------------------------------------------------------


def test_matrix_summarised_in_both_dimensions():
    out = format_tensor_repr(np.arange(64, dtype=np.int64).reshape(8, 8), "Int64")
    assert out == (
        "Tensor(shape=[8, 8], dtype=Int64, value=\n"
        "[[ 0,  1,  2 ...  5,  6,  7],\n"
        " [ 8,  9, 10 ... 13, 14, 15],\n"
        " [16, 17, 18 ... 21, 22, 23],\n"
        " ...\n"
        " [40, 41, 42 ... 45, 46, 47],\n"
        " [48, 49, 50 ... 53, 54, 55],\n"
        " [56, 57, 58 ... 61, 62, 63]])"
    )


def test_summarised_float_row():
    out = format_tensor_repr(np.arange(7, dtype=np.float32).reshape(1, 7), "Float32")
    assert out == (
        "Tensor(shape=[1, 7], dtype=Float32, value=\n"
        "[[ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00 ...  4.00000000e+00,  "
        "5.00000000e+00,  6.00000000e+00]])"
    )


def test_int_padding_ignores_hidden_elements():
    data = np.array([[1, 2, 3, 12345, 4, 5, 6]], dtype=np.int32)
    out = format_tensor_repr(data, "Int32")
    assert out == "Tensor(shape=[1, 7], dtype=Int32, value=\n[[1, 2, 3 ... 4, 5, 6]])"


def test_six_rows_are_not_summarised():
    out = format_tensor_repr(np.arange(6, dtype=np.int32).reshape(6, 1), "Int32")
    assert out == (
        "Tensor(shape=[6, 1], dtype=Int32, value=\n[[0],\n [1],\n [2],\n [3],\n [4],\n [5]])"
    )


def test_outer_dimension_summarised_in_3d():
    out = format_tensor_repr(np.arange(8, dtype=np.int32).reshape(8, 1, 1), "Int32")
    assert out == (
        "Tensor(shape=[8, 1, 1], dtype=Int32, value=\n"
        "[[[0]],\n [[1]],\n [[2]],\n ...\n [[5]],\n [[6]],\n [[7]]])"
    )


def test_middle_dimension_summarised_in_3d():
    out = format_tensor_repr(np.arange(14, dtype=np.int32).reshape(1, 7, 2), "Int32")
    assert out == (
        "Tensor(shape=[1, 7, 2], dtype=Int32, value=\n"
        "[[[ 0,  1],\n"
        "  [ 2,  3],\n"
        "  [ 4,  5],\n"
        "  ...\n"
        "  [ 8,  9],\n"
        "  [10, 11],\n"
        "  [12, 13]]])"
    )


def test_vector_of_1000_is_printed_in_full():
    out = format_tensor_repr(np.zeros(1000, dtype=bool), "Bool")
    assert "..." not in out
    assert out.count("False") == 1000


def test_long_vector_summarised():
    out = format_tensor_repr(np.arange(2000, dtype=np.int64), "Int64")
    assert (
        out == "Tensor(shape=[2000], dtype=Int64, value= [   0,    1,    2 ... 1997, 1998, 1999])"
    )


def test_long_float_vector_summarised_without_line_breaks():
    out = format_tensor_repr(np.arange(1001, dtype=np.float32), "Float32")
    assert out == (
        "Tensor(shape=[1001], dtype=Float32, value= [ 0.00000000e+00,  1.00000000e+00,  "
        "2.00000000e+00 ...  9.98000000e+02,  9.99000000e+02,  1.00000000e+03])"
    )


def test_long_vector_unsummarised_legacy_mode():
    out = format_tensor_repr(np.arange(1001, dtype=np.int64), "Int64", summarize_1d=False)
    assert "..." not in out
    assert out.endswith(" 999, 1000])")
    assert out.count("\n") == 1001 // 24


# --------------------------------------------------------------------------
# Empty tensors, conversions, other dtypes.
# --------------------------------------------------------------------------


def test_empty_vector():
    out = format_tensor_repr(np.zeros(0, dtype=np.float32), "Float32")
    assert out == "Tensor(shape=[0], dtype=Float32, value= )"


def test_empty_matrix():
    out = format_tensor_repr(np.zeros((0, 3), dtype=np.int64), "Int64")
    assert out == "Tensor(shape=[0, 3], dtype=Int64, value=\n)"


def test_data_is_converted_to_dtype_name():
    out = format_tensor_repr([1, 2], "Float32")
    assert out == "Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])"
    out = format_tensor_repr(np.array([1.0, 0.0]), "Bool")
    assert out == "Tensor(shape=[2], dtype=Bool, value= [ True, False])"


def test_complex_values():
    out = format_tensor_repr(np.array([1 + 2j, 0.5 - 1j], dtype=np.complex64), "Complex64")
    assert out == "Tensor(shape=[2], dtype=Complex64, value= [1+2j, 0.5-1j])"
    out = format_tensor_repr(np.array(3 + 0j), "Complex128")
    assert out == "Tensor(shape=[], dtype=Complex128, value= 3+0j)"


def test_unknown_dtype_name_rejected():
    with pytest.raises(ValueError):
        format_tensor_repr(np.zeros(2), "float32")
