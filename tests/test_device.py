"""Devices (API.md section 8): CPU always; GPU only with the CUDA backend and a GPU."""

import pytest

import tapegrad as tg


def test_cpu_device_and_to():
    t = tg.arange(3.0)
    assert t.device == "CPU"
    assert t.to("CPU") is t and t.to("cpu") is t
    assert t.to(tg.float64).dtype == tg.float64


@pytest.mark.skipif(
    tg.cuda.is_available(), reason="a GPU is present: the CPU-only error does not apply"
)
def test_gpu_without_backend_is_a_clear_error():
    assert tg.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CUDA backend"):
        tg.ones(2).to("GPU")
