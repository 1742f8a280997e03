"""SAM 2's prompt encoder and mask decoder for point prompts under ONNX Runtime (fp32).

Why: a click runs only the decoder, and on the project's 2-core CPU eager PyTorch takes 170–190 ms
for it (small matrices, many copies), ONNX Runtime about half that with the same logits (no
quantization here: the mask must be the one PyTorch gives). Points, any number of them, go this
way, and so do boxes: SAM 2 embeds a box as its two corners with point labels 2 and 3 followed by
the same padding point a points-only prompt gets, so the segmenter passes a box as two more
points (:func:`.segmenter._as_points`). SAM (v1) prompts stay on PyTorch.

The graph takes the three embeddings of :class:`.onnx_encoder.OrtEncoder`, ``points`` (1, 1, N, 2)
in the input frame and ``labels`` (1, 1, N), and returns ``pred_masks`` and ``iou_scores`` as
``Sam2Model`` does; it is cached beside the encoder's export, keyed the same way (:mod:`.onnx_cache`).
"""

from __future__ import annotations

import copy
import io
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .onnx_cache import OPSET, cached_graph, cpu_session, export_name


class PointDecoderGraph(nn.Module):
    """``Sam2Model`` on precomputed embeddings and points: what the exporter traces."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        *embeddings, points, labels = inputs
        out = self.model(image_embeddings=list(embeddings), input_points=points, input_labels=labels,
                         multimask_output=True)
        return out.pred_masks, out.iou_scores


def export_decoder(model, shapes: list[tuple[int, ...]]) -> bytes:
    """The point decoder of ``model`` as ONNX bytes, for embeddings of ``shapes`` and any N points."""
    graph = PointDecoderGraph(copy.deepcopy(model).float().cpu().eval()).eval()
    names = [f"embedding_{i}" for i in range(len(shapes))]
    sample = (*(torch.zeros(shape) for shape in shapes),
              torch.tensor([[[[10.0, 20.0], [30.0, 40.0]]]]), torch.tensor([[[1, 0]]]))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about shape-derived Python ints
        torch.onnx.export(
            graph, sample, buffer, dynamo=False, opset_version=OPSET,
            input_names=[*names, "points", "labels"], output_names=["pred_masks", "iou_scores"],
            dynamic_axes={"points": {2: "points"}, "labels": {2: "points"}}, do_constant_folding=True)
    return buffer.getvalue()


class OrtPointDecoder:
    """An ONNX Runtime session: (embeddings, points, labels) → (pred_masks, iou_scores)."""

    def __init__(self, source: bytes | str | Path, threads: int | None = None) -> None:
        self.session = cpu_session(source, threads)
        self.embeddings = [item.name for item in self.session.get_inputs()][:-2]

    def __call__(self, embeddings, points: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feeds = {name: np.ascontiguousarray(e.detach().float().cpu().numpy())
                 for name, e in zip(self.embeddings, embeddings)}
        feeds["points"] = points.detach().float().cpu().numpy()
        feeds["labels"] = labels.detach().to(torch.int64).cpu().numpy()
        masks, scores = self.session.run(["pred_masks", "iou_scores"], feeds)
        return torch.from_numpy(masks), torch.from_numpy(scores)


def cached_decoder(model, digest: str, size: int, shapes: Callable[[], list[tuple[int, ...]]],
                   cache: Path | None = None, threads: int | None = None) -> OrtPointDecoder:
    """The ONNX Runtime point decoder of the SAM 2 ``model`` (weights hashing to ``digest``),
    exported into the cache on first use; ``shapes()`` gives the embeddings' shapes then."""
    name = export_name(digest, size, "decoder")
    return OrtPointDecoder(cached_graph(name, lambda: export_decoder(model, shapes()), cache), threads)
