"""The device list and choice on each kind of machine, switched here: Apple silicon (MPS), a CUDA
machine, a plain CPU (Windows and Linux laptops)."""

from __future__ import annotations

import pytest
import torch

from segstudio.model import device


@pytest.fixture
def apple_silicon(monkeypatch):
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def plain_cpu(monkeypatch):
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_mps_is_offered_and_chosen_on_apple_silicon(apple_silicon):
    assert device.available_devices() == ["mps", "cpu"]
    assert device.pick_device("auto") == torch.device("mps")
    assert device.pick_device("MPS ") == torch.device("mps")
    assert device.pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"no CUDA GPU is available \(available: mps, cpu\)"):
        device.pick_device("cuda")
    assert device.autocast_dtype("mps") == torch.float16  # prediction; training stays fp32 there
    assert device.describe_device("mps") == "Apple MPS"


def test_a_plain_cpu_offers_the_cpu_only(plain_cpu):
    assert device.available_devices() == ["cpu"]
    assert device.pick_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"Apple MPS is not available \(available: cpu\)"):
        device.pick_device("mps")
    assert device.autocast_dtype("cpu") is None


def test_a_torch_without_the_mps_backend_is_no_mac(monkeypatch):
    monkeypatch.delattr(torch.backends, "mps", raising=False)
    assert device._mps_available() is False


@pytest.mark.parametrize("native", [True, False])
def test_training_on_a_cpu_uses_bf16_only_where_the_cpu_has_it(monkeypatch, plain_cpu, native):
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: native)
    assert device.training_autocast_dtype("cpu") == (torch.bfloat16 if native else None)
    assert device.training_autocast_dtype("mps") is None  # MPS trains in fp32
    assert device.autocast_dtype("cpu") is None  # prediction stays float32 on every CPU


def test_the_cpu_bf16_question_never_raises(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    assert device.cpu_has_native_bf16() is False
