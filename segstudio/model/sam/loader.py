"""Load a promptable model (SAM or SAM 2) from a local folder, importing transformers only then.

transformers is an optional extra (``pip install segstudio[assist]``): the window imports this
package at start-up, so the import happens in :func:`transformers_module`, and its absence is one
clear :class:`AssistUnavailableError` line naming the extra. A folder holds ``config.json`` and
``model.safetensors`` in transformers' layout (what the hub resolution downloads); pickled
``.bin`` weights are refused, and weights that leave part of the model random are an error, not
a silently useless model.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from safetensors import SafetensorError

from segstudio.core.errors import CheckpointError, SegStudioError
from segstudio.core.safe_read import SMALL_JSON_LIMIT, WEIGHTS_LIMIT, check_bounded_file, read_json

EXTRA_HINT = "pip install segstudio[assist]"
MIN_TRANSFORMERS = "4.56"  # the first release with Sam2Model


class AssistUnavailableError(SegStudioError):
    """The optional extra behind click-to-segment is not installed (or too old)."""


@dataclass(frozen=True)
class Family:
    """What differs between SAM and SAM 2 for us: the class to build and how the image is framed."""

    model_type: str
    model_class: str
    config_class: str
    letterbox: bool  # SAM pads a keep-aspect resize; SAM 2 stretches to the square


FAMILIES = {
    "sam": Family("sam", "SamModel", "SamConfig", letterbox=True),
    "sam2": Family("sam2", "Sam2Model", "Sam2Config", letterbox=False),
}


def transformers_module(*names: str) -> ModuleType:
    """transformers, checked to offer ``names``; :class:`AssistUnavailableError` otherwise."""
    try:
        module = importlib.import_module("transformers")
    except ImportError as error:
        raise AssistUnavailableError(
            f"Click to segment needs transformers, which is not installed ({error}): {EXTRA_HINT}"
        ) from None
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        version = getattr(module, "__version__", "?")
        raise AssistUnavailableError(
            f"Click to segment needs transformers >= {MIN_TRANSFORMERS} (found {version}, which lacks"
            f" {', '.join(missing)}): {EXTRA_HINT}"
        )
    return module


def family_of(folder: Path) -> Family:
    """The family named by ``folder/config.json``; :class:`CheckpointError` when unusable."""
    config = folder / "config.json"
    if not os.path.lexists(config):
        raise CheckpointError(f"{folder} holds no config.json (a promptable model folder needs one)")
    model_type = read_json(config, SMALL_JSON_LIMIT, CheckpointError, "model config").get("model_type")
    if not isinstance(model_type, str) or model_type not in FAMILIES:
        raise CheckpointError(
            f"{folder} holds a {model_type!r} model, not a promptable one ({', '.join(FAMILIES)})"
        )
    return FAMILIES[model_type]


def input_size(config) -> int:
    """The side of the model's square input, in the frame its prompt encoder expects."""
    size = config.prompt_encoder_config.image_size
    return int(size if isinstance(size, int) else size[0])


def load_model(folder: str | Path):
    """(model in eval mode, :class:`Family`) from a folder with config.json and model.safetensors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"not a model folder: {folder}")
    family = family_of(folder)
    weights = folder / "model.safetensors"
    if not os.path.lexists(weights):
        raise CheckpointError(f"{folder} holds no model.safetensors (pickled weights are not loaded)")
    check_bounded_file(weights, WEIGHTS_LIMIT, CheckpointError, "checkpoint")  # transformers opens it
    model_class = getattr(transformers_module(family.model_class), family.model_class)
    try:
        model, info = model_class.from_pretrained(
            folder, local_files_only=True, use_safetensors=True, output_loading_info=True
        )
    except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as error:
        raise CheckpointError(f"{folder}: cannot load the {family.model_type} model: {error}") from None
    missing = info.get("missing_keys") or []
    if missing:
        shown = ", ".join(sorted(missing)[:3])
        raise CheckpointError(f"{folder}: the weights lack {len(missing)} tensors of the model ({shown}…)")
    return model.eval(), family


def build_random(config: dict, seed: int = 0):
    """A model with random weights from a config dict (benchmarks and tests; nothing loaded)."""
    import torch

    family = FAMILIES[config["model_type"]]
    module = transformers_module(family.model_class, family.config_class)
    kwargs = {key: value for key, value in config.items() if key != "model_type"}
    torch.manual_seed(seed)
    model = getattr(module, family.model_class)(getattr(module, family.config_class)(**kwargs))
    return model.eval(), family
