"""The hyper-parameters of a SegFormer and the published B0-B5 variants (no torch imported).

Kept free of torch so that code which only needs to read, check or describe a model (a config
file, a variant name, a class count) can do so without loading torch.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class SegFormerConfig:
    """Hyper-parameters of one SegFormer; frozen so it can be shared and hashed safely.

    Field names follow Hugging Face's ``SegformerConfig`` so a Hub ``config.json`` maps onto it.
    Every size is checked on construction: a damaged or hostile file fails with one line instead
    of building a model that exhausts memory.
    """

    hidden_sizes: tuple[int, ...] = (32, 64, 160, 256)
    depths: tuple[int, ...] = (2, 2, 2, 2)
    num_heads: tuple[int, ...] = (1, 2, 5, 8)
    sr_ratios: tuple[int, ...] = (8, 4, 2, 1)
    decoder_hidden_size: int = 256
    num_labels: int = 150
    mlp_ratio: int = 4
    drop_path_rate: float = 0.1
    classifier_dropout: float = 0.1
    layer_norm_eps: float = 1e-5
    patch_sizes: tuple[int, ...] = (7, 3, 3, 3)
    strides: tuple[int, ...] = (4, 2, 2, 2)
    num_channels: int = 3
    initializer_range: float = 0.02

    def __post_init__(self) -> None:
        for name in ("hidden_sizes", "depths", "num_heads", "sr_ratios", "patch_sizes", "strides"):
            object.__setattr__(self, name, tuple(_whole(v, name) for v in getattr(self, name)))
        for name in ("decoder_hidden_size", "num_labels", "mlp_ratio", "num_channels"):
            object.__setattr__(self, name, _whole(getattr(self, name), name))
        n = len(self.hidden_sizes)
        if not 1 <= n <= 8:
            raise ValueError(f"SegFormerConfig has {n} stages (1 to 8 are possible)")
        for name in ("depths", "num_heads", "sr_ratios", "patch_sizes", "strides"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"SegFormerConfig.{name} must have {n} entries (one per stage)")
        for name, (low, high) in _LIMITS.items():
            values = getattr(self, name)
            for v in values if isinstance(values, tuple) else (values,):
                if not low <= v <= high:
                    raise ValueError(f"{name} {v} is out of range ({low} to {high})")
        for c, h in zip(self.hidden_sizes, self.num_heads):
            if c % h:
                raise ValueError(f"hidden size {c} is not divisible by {h} heads")
        for name in ("drop_path_rate", "classifier_dropout"):
            if not 0.0 <= float(getattr(self, name)) < 1.0:
                raise ValueError(f"{name} must be in [0, 1) (got {getattr(self, name)})")
        if not 0.0 < float(self.layer_norm_eps) < 1.0 or not 0.0 <= float(self.initializer_range) < 10.0:
            raise ValueError("layer_norm_eps must be in (0, 1) and initializer_range in [0, 10)")

    @property
    def num_stages(self) -> int:
        return len(self.hidden_sizes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegFormerConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored so newer files still load."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_labels(self, num_labels: int) -> SegFormerConfig:
        return replace(self, num_labels=int(num_labels))


# Sane bounds of each size (inclusive), far beyond the published B0-B5 (widest 512, deepest 40),
# so that a damaged or hostile config.json fails with one line instead of exhausting memory.
_LIMITS: dict[str, tuple[int, int]] = {
    "hidden_sizes": (1, 4096), "depths": (1, 128), "num_heads": (1, 256), "sr_ratios": (1, 64),
    "patch_sizes": (1, 31), "strides": (1, 32), "decoder_hidden_size": (1, 8192),
    "num_labels": (1, 255), "mlp_ratio": (1, 16), "num_channels": (1, 16),
}


def _whole(value: Any, name: str) -> int:
    """``value`` as an int; ValueError for fractions, text and booleans (a damaged config)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value != int(value)):
        raise ValueError(f"{name} must be whole numbers, not {value!r}")
    return int(value)


_WIDE = (64, 128, 320, 512)
VARIANTS: dict[str, SegFormerConfig] = {
    "b0": SegFormerConfig(),
    "b1": SegFormerConfig(hidden_sizes=_WIDE),
    "b2": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 4, 6, 3), decoder_hidden_size=768),
    "b3": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 4, 18, 3), decoder_hidden_size=768),
    "b4": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 8, 27, 3), decoder_hidden_size=768),
    "b5": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 6, 40, 3), decoder_hidden_size=768),
}


def config_for(variant: str, num_labels: int) -> SegFormerConfig:
    """The published architecture ``variant`` ("b0".."b5", case-insensitive) with ``num_labels``."""
    key = variant.strip().lower().removeprefix("mit-").removeprefix("mit_").removeprefix("segformer-")
    if key not in VARIANTS:
        raise ValueError(f"unknown SegFormer variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    return VARIANTS[key].with_labels(num_labels)


def variant_of(config: SegFormerConfig) -> str | None:
    """The variant name whose architecture equals ``config`` (labels/dropouts ignored), else None."""
    for name, ref in VARIANTS.items():
        if _arch(ref) == _arch(config):
            return name
    return None


def _arch(c: SegFormerConfig) -> tuple:
    return (c.hidden_sizes, c.depths, c.num_heads, c.sr_ratios, c.decoder_hidden_size,
            c.mlp_ratio, c.patch_sizes, c.strides, c.num_channels)
