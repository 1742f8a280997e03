"""SegFormer (MiT encoder + all-MLP decoder), written for this project.

The module tree mirrors the Hugging Face Hub key names (transformers <= 4 naming, see
``reference/segformer.md`` 3.1) so that public ``segformer-b*`` files load with
``load_state_dict(strict=True)``; other namings are mapped onto it in :mod:`checkpoints`.

Speed notes (CPU first, measured with torch.profiler, see tests/benchmarks/model_speed.py):

* Token tensors ``(B, N, C)`` and NCHW maps are views of each other: every NCHW map we build is
  a *channels_last* view of contiguous tokens, so the reshapes between the transformer parts and
  the convolutions never copy.
* K and V come from one ``F.linear`` on the concatenated weights (and Q too where there is no
  spatial reduction); attention is ``F.scaled_dot_product_attention``.
* The decoder's 1x1 fuse conv is linear and commutes with bilinear upsampling (whose weights sum
  to one), so each stage is projected straight to the decoder width at its own resolution with
  the product ``fuse_slice @ linear_c`` (:class:`AllMLPHead`, ``mode="fast"``). In eval mode the
  BatchNorm is folded in as well and the folded weights are cached. The 4D->D conv at 1/4
  resolution, about half of B0's FLOPs, disappears. ``mode="plain"`` keeps the textbook order.

All reshape sizes come from runtime tensor shapes, so ONNX exports keep dynamic height/width.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import VARIANTS, SegFormerConfig, config_for, variant_of

if TYPE_CHECKING:
    from .encoder import (Block, DropPath, EfficientSelfAttention, MixFFN, MixTransformer,
                          OverlapPatchEmbed)
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
