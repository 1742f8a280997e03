"""Export a SegFormer to ONNX with dynamic batch, height and width, and check it with onnxruntime.

The model derives every reshape size from runtime tensor shapes, so the graph stays dynamic (a size
computed in Python would be traced as a constant and break other input sizes). The TorchScript-based
exporter is used because it needs no extra package (``onnxscript``); the graph takes
``pixel_values`` (B, 3, H, W) normalised float32 and returns ``logits`` (B, K, ceil(H/4),
ceil(W/4)).
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path

import torch

from segstudio.core.atomic import atomic_write_bytes
from segstudio.core.errors import ExportError
from segstudio.model.data.augment import IMAGENET_MEAN, IMAGENET_STD

from .segformer import SegFormer


def opset_range() -> tuple[int, int]:
    """The ONNX opsets the TorchScript exporter of this torch writes (inclusive)."""
    try:
        from torch.onnx import _constants
        return (int(_constants.ONNX_MIN_OPSET),
                int(getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", _constants.ONNX_MAX_OPSET)))
    except (ImportError, AttributeError):
        return 9, 17


def export_onnx(model: SegFormer, path: str | Path, opset: int = 17, verify: bool = True,
                sample_size: tuple[int, int] = (256, 320), atol: float = 1e-3,
                class_names: list[str] | None = None) -> float | None:
    """Write ``model`` as ONNX to ``path`` (atomically, and only once it passed the check).

    Returns the max abs difference between onnxruntime and torch on a random input of
    ``sample_size`` when ``verify`` and onnxruntime is importable, else None. Raises
    :class:`ExportError` for an opset this torch cannot write, a failed export, or a difference
    above ``atol`` (then nothing is written).
    """
    low, high = opset_range()
    if not low <= opset <= high:
        raise ExportError(f"ONNX opset {opset} is not supported: choose {low} to {high} (default 17)")
    model = copy.deepcopy(model).float().cpu().eval()
    sample = torch.randn(1, model.config.num_channels, *sample_size)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer chatter about shape-derived Python ints
            torch.onnx.export(
                model, (sample,), buffer, dynamo=False, opset_version=opset,
                input_names=["pixel_values"], output_names=["logits"],
                dynamic_axes={"pixel_values": {0: "batch", 2: "height", 3: "width"},
                              "logits": {0: "batch", 2: "height_4", 3: "width_4"}},
                do_constant_folding=True)
    except Exception as exc:  # noqa: BLE001 - the exporter raises many types; name it in one line
        raise ExportError(f"ONNX export at opset {opset} failed: {type(exc).__name__}: "
                          f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from exc
    data = with_metadata(buffer.getvalue(), class_names or [f"class_{i}" for i in range(model.config.num_labels)])
    diff = None
    if verify:
        diff = verify_onnx(model, data, sample_size=(sample_size[0] + 37, sample_size[1] - 21),
                           atol=atol)
    atomic_write_bytes(path, data)
    return diff


def with_metadata(data: bytes, class_names: list[str]) -> bytes:
    """The graph with what a consumer needs to use it: class names, the input normalisation and
    the layout, as ONNX ``metadata_props`` (read with ``onnx.load(...).metadata_props`` or
    onnxruntime's ``get_modelmeta().custom_metadata_map``), and a fixed class axis on ``logits``.
    Without the ``onnx`` package the graph is returned as exported."""
    try:
        import onnx
    except ImportError:
        return data
    graph = onnx.load_from_string(data)
    entries = {
        "class_names": json.dumps(list(class_names), ensure_ascii=False),
        "image_mean": json.dumps(list(IMAGENET_MEAN)),
        "image_std": json.dumps(list(IMAGENET_STD)),
        "input": "pixel_values: float32 (batch, 3, height, width), RGB scaled to 0..1 then (x - mean) / std",
        "output": "logits: float32 (batch, classes, ceil(height/4), ceil(width/4)); upsample, then argmax",
        "producer": "segstudio",
    }
    for key, value in entries.items():
        graph.metadata_props.add(key=key, value=value)
    # The tracer leaves the class axis symbolic although it never changes: state it, so that
    # consumers can allocate the output and read the class count from the graph.
    graph.graph.output[0].type.tensor_type.shape.dim[1].dim_value = len(class_names)
    return graph.SerializeToString()


def verify_onnx(model: SegFormer, onnx_model: bytes | str | Path,
                sample_size: tuple[int, int] = (293, 299), batch: int = 1,
                atol: float = 1e-3) -> float | None:
    """Max abs logit difference onnxruntime vs torch at ``sample_size``; None without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    if isinstance(onnx_model, (str, Path)):
        onnx_model = Path(onnx_model).read_bytes()
    x = torch.randn(batch, model.config.num_channels, *sample_size)
    with torch.inference_mode():
        expected = model.eval()(x).float().numpy()
    try:
        session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
        got = session.run(["logits"], {"pixel_values": x.numpy()})[0]
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types (Fail, InvalidGraph...)
        raise ExportError(f"onnxruntime cannot run the exported graph ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:300]}); nothing written") from exc
    if got.shape != expected.shape:
        raise ExportError(f"ONNX output shape {got.shape} differs from torch {expected.shape}")
    diff = float(abs(got - expected).max())
    if diff > atol:
        raise ExportError(f"ONNX output differs from torch by {diff:.3g} (> {atol}); nothing written")
    return diff
