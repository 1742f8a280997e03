"""The resumable training state file and history.json, both written atomically.

The state (``training_state.pt``) holds model, optimiser and grad-scaler state, the epoch and step
counters, the torch RNG states (as tensors) and the history so far. It is read back with
``torch.load(weights_only=True)``: only tensors and plain containers, never arbitrary pickles, so a
state file from elsewhere cannot run code.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import torch

from segstudio.core.atomic import atomic_write_bytes, atomic_write_text
from segstudio.core.errors import CheckpointError

STATE_FILE = "training_state.pt"
HISTORY_FILE = "history.json"
STATE_VERSION = 1


def rng_state(device: torch.device) -> dict[str, Any]:
    """Torch RNG states (CPU and, if used, CUDA) as tensors."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_state(folder: Path, state: dict[str, Any]) -> Path:
    """Serialise ``state`` to ``folder/training_state.pt`` atomically."""
    buffer = io.BytesIO()
    torch.save({"version": STATE_VERSION, **state}, buffer)
    path = folder / STATE_FILE
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_state(folder: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read the state file of ``folder``; CheckpointError if missing, unsafe or from a newer version."""
    path = folder / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"nothing to resume: {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"cannot read training state {path} (damaged, or not a segstudio "
                              f"state): {reason}") from exc
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise CheckpointError(f"{path} is not a segstudio training state (version {STATE_VERSION})")
    return state


def _clean(value: Any) -> Any:
    """Non-finite floats (NaN, ±Infinity) -> None recursively, so the JSON is standard: Python
    writes them as the literals NaN and -Infinity, which other JSON readers reject."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_history(folder: Path, history: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    """``history.json``: ``{"epochs": [...], **extra}``, non-finite numbers written as null."""
    payload = {"epochs": history, **(extra or {})}
    atomic_write_text(folder / HISTORY_FILE, json.dumps(_clean(payload), indent=1, allow_nan=False))


def read_history(folder: Path) -> dict[str, Any] | None:
    """``history.json`` of ``folder`` with non-finite numbers as None, or None when absent or unusable.

    Reads the standard files written now and the older ones with NaN/-Infinity literals alike.
    """
    try:
        data = json.loads((Path(folder) / HISTORY_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("epochs"), list):
        return None
    return _clean(data)
