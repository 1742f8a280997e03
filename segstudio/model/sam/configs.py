"""The promptable models we know by name: their hub ids and real configurations.

The configurations are those of the published checkpoints (sizes only; transformers' defaults fill
the rest), so a model with random weights built from one runs exactly as long as the real one:
that is how tests/benchmarks/assist_speed.py times them without downloading anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownModel:
    name: str
    hub_id: str
    config: dict
    note: str


SAM2_1_HIERA_TINY = KnownModel(
    "sam2.1-hiera-tiny", "facebook/sam2.1-hiera-tiny",
    {"model_type": "sam2"},  # transformers' Sam2Config defaults are the hiera-tiny sizes
    "SAM 2.1, Hiera-T encoder, 31.4 M parameters in Sam2Model",
)
SLIMSAM_77 = KnownModel(
    "slimsam-77", "nielsr/slimsam-77-uniform",
    {"model_type": "sam", "vision_config": {"hidden_size": 168, "mlp_dim": 696}},
    "SAM ViT-B pruned by 77 %, 9.7 M parameters",
)
SLIMSAM_50 = KnownModel(
    "slimsam-50", "nielsr/slimsam-50-uniform",
    {"model_type": "sam", "vision_config": {"hidden_size": 384, "mlp_dim": 1536}},
    "SAM ViT-B pruned by 50 %, 28.0 M parameters",
)
SAM_VIT_BASE = KnownModel(
    "sam-vit-base", "facebook/sam-vit-base", {"model_type": "sam"}, "SAM ViT-B, 93.7 M parameters",
)

DEFAULT = SAM2_1_HIERA_TINY
KNOWN = {model.name: model for model in (SAM2_1_HIERA_TINY, SLIMSAM_77, SLIMSAM_50, SAM_VIT_BASE)}
