"""The image encoder of a SAM / SAM 2 model under ONNX Runtime: exported once, then reused.

Why: the embedding is the slow half of click to segment, and on the project's 2-core CPU (AVX2, no
AVX-512/VNNI) ONNX Runtime with dynamic int8 weights runs the SAM 2.1 Hiera-tiny encoder faster
than eager PyTorch (tests/benchmarks/sam_runtime_speed.py measures it). SAM 2's prompt decoder
has its own graph (:mod:`.onnx_decoder`, fp32, points and boxes); SAM (v1) prompts decode on
PyTorch.

The export happens once per model and runtime version into a cache folder outside every project
(:mod:`.onnx_cache`, shared with the decoder), named by the sha256 of the weights, so a changed
model is exported again, and written atomically, so a crash never leaves half a graph to be loaded
later. :func:`folder_runtime` gives the window both graphs; the decoder never imports this module.
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .interrupt import Interrupt
from .onnx_cache import OPSET, cached_graph, cpu_session, export_name
from .onnx_decoder import cached_decoder


class EncoderGraph(nn.Module):
    """``model.get_image_embeddings`` as a module with a tuple output (what the exporter traces)."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model.get_image_embeddings(pixel_values)
        return tuple(out) if isinstance(out, (list, tuple)) else (out,)


def export_encoder(model, size: int) -> bytes:
    """The encoder of ``model`` as ONNX bytes for a fixed (1, 3, size, size) input."""
    graph = EncoderGraph(copy.deepcopy(model).float().cpu().eval()).eval()
    sample = torch.zeros(1, 3, size, size)
    with torch.no_grad():
        count = len(graph(sample))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about shape-derived Python ints
        torch.onnx.export(
            graph, (sample,), buffer, dynamo=False, opset_version=OPSET,
            input_names=["pixel_values"], output_names=[f"embedding_{i}" for i in range(count)],
            do_constant_folding=True)
    return buffer.getvalue()


def quantize_int8(data: bytes) -> bytes:
    """Dynamic int8 quantization of the graph's weight MatMuls (activations stay float), but for
    the deepest fifth: their error reaches the embeddings undamped, and on SAM 2.1 Hiera-tiny
    keeping the last stage in fp32 costs nothing measurable while the click masks agree better
    with eager fp32 (IoU 0.951 → 0.962 on random weights, tests/benchmarks/sam_runtime_speed.py)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="segstudio-sam-onnx-") as scratch:
        source, target = Path(scratch) / "fp32.onnx", Path(scratch) / "int8.onnx"
        source.write_bytes(data)
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"],
                         nodes_to_exclude=deepest_weight_matmuls(data, KEEP_FP32),
                         extra_options={"MatMulConstBOnly": True})
        return target.read_bytes()


KEEP_FP32 = 0.2  # the share of weight MatMuls, deepest first, left in fp32


def deepest_weight_matmuls(data: bytes, share: float) -> list[str]:
    """The names of the last ``share`` of the MatMul/Gemm nodes with a weight (initializer) input."""
    import onnx

    graph = onnx.load_from_string(data).graph
    weights = {init.name for init in graph.initializer}
    names = [node.name for node in graph.node
             if node.op_type in ("MatMul", "Gemm") and any(name in weights for name in node.input)]
    keep = round(len(names) * share)
    return names[len(names) - keep:] if keep else []


class OrtEncoder:
    """An ONNX Runtime session that maps (1, 3, S, S) pixels to the model's image embeddings."""

    def __init__(self, source: bytes | str | Path, threads: int | None = None) -> None:
        self.session = cpu_session(source, threads)
        self.outputs = [output.name for output in self.session.get_outputs()]

    def __call__(self, pixel_values: torch.Tensor, interrupt: Interrupt | None = None) -> list[torch.Tensor]:
        """The embeddings; :class:`.interrupt.Interrupted` when ``interrupt`` stops the run."""
        pixels = np.ascontiguousarray(pixel_values.detach().float().cpu().numpy())
        options = None if interrupt is None else interrupt.run_options()
        try:
            outputs = self.session.run(self.outputs, {"pixel_values": pixels}, options)
        except Exception:
            if interrupt is not None:
                interrupt.check()  # a terminated run fails with ONNX Runtime's own error type
            raise
        return [torch.from_numpy(out) for out in outputs]


def cached_encoder(model, digest: str, size: int, int8: bool = True, cache: Path | None = None,
                   threads: int | None = None, before_export: Callable[[], None] | None = None) -> OrtEncoder:
    """The ONNX Runtime encoder of ``model`` (whose weights hash to ``digest``), exported into
    ``cache`` on first use. Raises ImportError without onnxruntime, other errors on a failed export."""
    import onnxruntime  # noqa: F401 - fail before the (slow) export when it is missing

    def make() -> bytes:
        data = export_encoder(model, size)
        return quantize_int8(data) if int8 else data

    name = export_name(digest, size, "int8" if int8 else "fp32")
    return OrtEncoder(cached_graph(name, make, cache, before_export), threads)


RUNTIMES = ("auto", "onnx", "torch")
RUNTIME_ENV = "SEGSTUDIO_SAM_RUNTIME"


def requested_runtime(runtime: str | None) -> str:
    """``runtime``, else ``$SEGSTUDIO_SAM_RUNTIME``, else ``auto`` (ONNX Runtime, torch if it fails)."""
    chosen = (runtime or os.environ.get(RUNTIME_ENV) or "auto").strip().lower()
    if chosen not in RUNTIMES:
        raise ValueError(f"unknown click-to-segment runtime {chosen!r} (choose {', '.join(RUNTIMES)})")
    return chosen


EXPORT_NOTE = "Click to segment: preparing the model for this computer (once per model, about 20 s)…"


def folder_runtime(model, digest: str, size: int, runtime: str | None = None, point_decoder: bool = False,
                   announce: Callable[[str], None] | None = None):
    """(encoder, point decoder, note) for the model loaded from a folder whose weights file has the
    sha256 ``digest`` (the exported graphs are cached under it; the caller hashes the weights once,
    for this and for its own embeddings' key); each may be None.

    None means eager PyTorch: asked for (``torch``), or the ONNX path failed, which the note says
    in one line (``auto``); with ``onnx`` a failure is raised instead of falling back. The point
    decoder (SAM 2 only: ``point_decoder``) is exported with the shapes the encoder gives.
    ``announce(EXPORT_NOTE)`` is called before a first export, which takes tens of seconds.
    """
    chosen = requested_runtime(runtime)
    if chosen == "torch":
        return None, None, None
    try:
        encoder = cached_encoder(model, digest, size,
                                 before_export=None if announce is None else lambda: announce(EXPORT_NOTE))
        decoder = None
        if point_decoder:
            def shapes() -> list[tuple[int, ...]]:
                declared = [out.shape for out in encoder.session.get_outputs()]
                if all(isinstance(d, int) for shape in declared for d in shape):
                    return [tuple(shape) for shape in declared]  # fixed input: known without a run
                return [tuple(out.shape) for out in encoder(torch.zeros(1, 3, size, size))]
            decoder = cached_decoder(model, digest, size, shapes)
        return encoder, decoder, None
    except ImportError as error:
        if chosen == "onnx":
            raise
        return None, None, f"Click to segment runs on PyTorch (slower): onnxruntime is missing ({error})"
    except Exception as error:  # noqa: BLE001 - the exporter and runtime raise many types
        if chosen == "onnx":
            raise
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return None, None, (f"Click to segment runs on PyTorch (slower): the ONNX export failed"
                            f" ({type(error).__name__}: {first})")
