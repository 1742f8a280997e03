"""Choose the compute device once (CUDA, then Apple MPS, then CPU) and its mixed-precision type."""

from __future__ import annotations

import contextlib

import torch

from segstudio.model.training.options import DEVICE_CHOICES as _CHOICES  # the names the CLI and the window offer


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(preference: str | torch.device | None = "auto") -> torch.device:
    """The device to use for ``preference`` ("auto", "cuda", "cuda:1", "mps" or "cpu").

    "auto" takes the first of CUDA, MPS, CPU that works. Asking for a device that is absent is a
    ``ValueError`` whose message says what is available, rather than a late CUDA error.
    """
    if isinstance(preference, torch.device):
        preference = str(preference)
    pref = (preference or "auto").strip().lower()
    kind = pref.split(":", 1)[0]
    if kind not in _CHOICES:
        raise ValueError(f"unknown device {preference!r}; choose one of {', '.join(_CHOICES)}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {preference!r} was requested but no CUDA GPU is available "
                             f"(available: {', '.join(available_devices())})")
        device = torch.device(pref)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {preference!r} does not exist: "
                             f"{torch.cuda.device_count()} CUDA GPU(s) found")
        return device
    if kind == "mps" and not _mps_available():
        raise ValueError(f"device 'mps' was requested but Apple MPS is not available "
                         f"(available: {', '.join(available_devices())})")
    return torch.device(pref)


def available_devices() -> list[str]:
    """Names a user may pass to :func:`pick_device` on this machine."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names[:0] = ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.insert(0, "mps")
    return names


def autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """bf16 on CUDA GPUs that support it, else fp16 on CUDA and MPS; None (fp32) on CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return None


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 matrix products in hardware (AVX512-BF16 or AMX), where
    they run at about twice float32's rate; elsewhere torch emulates bf16 and it is slower."""
    cpu = getattr(torch, "cpu", None)
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


def training_autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """The mixed precision a training run uses: bf16 (or fp16) on CUDA as :func:`autocast_dtype`,
    bf16 on a CPU with native bf16 (a B0 step at 128² batch 8 in 0.7-0.87x float32's time), and
    None (float32) on MPS and on other CPUs."""
    device = torch.device(device)
    if device.type == "cuda":
        return autocast_dtype(device)
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


def inference_dtype(device: torch.device | str) -> torch.dtype | None:
    """The precision a prediction runs in: :func:`autocast_dtype` on CUDA and MPS, bf16 on a CPU
    with native bf16, None (float32) on other CPUs.

    On such a CPU the predictor runs a bf16 copy of the model through oneDNN's bf16 kernels (CPU
    autocast would take the plain ops instead): B0 at 512² took 37.5 ms against 45.6 ms in float32
    on 2 threads, each in a process of its own (``tests/benchmarks/inference_processes.py``), and a
    B0 trained on CamVid gave the same label to 99.96 % of the pixels of 40 held-out photos, mIoU
    0.6196 against 0.6197, review scores within 0.0008 (``predict_precision.py``)."""
    device = torch.device(device)
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else None
    return autocast_dtype(device)


def autocast_in(device: torch.device | str, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """``torch.autocast`` at ``dtype`` on ``device``'s type, or no context at all when ``dtype`` is
    None (float32): the one way training, live mode and prediction enter their precision."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def describe_device(device: torch.device | str) -> str:
    """A human-readable name: "CUDA 0: NVIDIA H100 80GB HBM3 (79.2 GiB)", "Apple MPS", "CPU (2 threads)"."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return f"CUDA {index}: {props.name} ({props.total_memory / 2**30:.1f} GiB)"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
