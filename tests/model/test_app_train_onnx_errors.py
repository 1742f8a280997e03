"""An ONNX graph onnxruntime cannot load or run is an ExportError (one line in the CLI), not an
onnxruntime exception with a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.core.errors import ExportError
from segstudio.model.onnx_export import verify_onnx
from segstudio.model.segformer import SegFormer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_synth import tiny_config  # noqa: E402


@pytest.mark.parametrize("graph", [b"", b"not an onnx graph at all", b"\x08\x07" * 50])
def test_a_graph_onnxruntime_refuses_is_an_export_error(graph: bytes) -> None:
    pytest.importorskip("onnxruntime")
    model = SegFormer(tiny_config().with_labels(3)).eval()
    with pytest.raises(ExportError, match="onnxruntime cannot run"):
        verify_onnx(model, graph, sample_size=(32, 32))
