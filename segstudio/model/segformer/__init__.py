"""SegFormer (Mix Transformer encoder + all-MLP decoder), written for this project.

Laid out as Hugging Face and timm lay out their models:

* :mod:`.config` -- :class:`SegFormerConfig`, the published variants B0-B5, :func:`config_for`,
  :func:`variant_of`. Imports no torch, so a config can be read and checked without it.
* :mod:`.encoder` -- the MiT encoder: overlapping patch embeddings, efficient self-attention
  (K/V from a spatially reduced copy), Mix-FFN (a depthwise 3x3 conv instead of positional
  encodings), transformer blocks with stochastic depth, one LayerNorm per stage.
* :mod:`.head` -- the all-MLP decoder, in a textbook (``mode="plain"``) and a cheaper but equal
  order (``mode="fast"``, the default) that folds the fuse conv and, in eval mode, the BatchNorm
  into the per-stage projections.
* :mod:`.ops` -- the shared tensor helpers behind that speed: token/map views, 1x1 projections,
  linear layers and convolutions on oneDNN's fused CPU kernels (GELU and residual adds in the
  same pass), the classifier with its own backward, dropout, export detection.
* :mod:`.model` -- :class:`SegFormer` (encoder + decoder, weight init) and
  :func:`count_parameters`.

State-dict keys are exactly those of the Hugging Face Hub files (transformers 4 naming, e.g.
``segformer.encoder.block.{i}.{j}.attention.self.query`` and ``decode_head.linear_c.{i}.proj``;
208 tensors for B0), so public ``segformer-b*`` files load with ``load_state_dict(strict=True)``.
Other namings (transformers 5, NVlabs' original ``.pth``) are renamed onto these in
:mod:`segstudio.model.weights.checkpoint_keys`.

The model returns logits at 1/4 resolution. All reshape sizes come from runtime tensor shapes, so
ONNX exports keep a dynamic height and width. The torch parts are imported on first use (see
``_LAZY`` below); ``tests/benchmarks/model_speed.py`` measures speed against transformers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import VARIANTS, SegFormerConfig, config_for, variant_of

if TYPE_CHECKING:
    from .encoder import Block, DropPath, EfficientSelfAttention, MixFFN, MixTransformer, OverlapPatchEmbed
    from .head import AllMLPHead
    from .model import SegFormer, count_parameters

# The torch parts, imported on first use so that reading a config needs no torch.
_LAZY: dict[str, str] = {
    "OverlapPatchEmbed": "encoder", "EfficientSelfAttention": "encoder", "MixFFN": "encoder",
    "Block": "encoder", "MixTransformer": "encoder", "DropPath": "encoder",
    "AllMLPHead": "head", "SegFormer": "model", "count_parameters": "model",
}


def __getattr__(name: str) -> Any:
    """Load a torch part (:data:`_LAZY`) the first time it is asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "SegFormerConfig", "VARIANTS", "config_for", "variant_of", "OverlapPatchEmbed",
    "EfficientSelfAttention", "MixFFN", "Block", "MixTransformer", "AllMLPHead", "SegFormer",
    "DropPath", "count_parameters",
]
