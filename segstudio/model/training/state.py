"""The resumable training state file (``training_state.pt``), written atomically.

The state (``training_state.pt``) holds model, optimiser and grad-scaler state, the epoch and step
counters, the torch RNG states (as tensors) and the history so far. It is read back with
``torch.load(weights_only=True)``: only tensors and plain containers, never arbitrary pickles, so a
state file from elsewhere cannot run code.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from segstudio.core.atomic import atomic_write_bytes
from segstudio.core.errors import CheckpointError
from segstudio.core.safe_read import WEIGHTS_LIMIT, check_bounded_file
from segstudio.model.weights.model_files import STATE_FILE

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
    if not os.path.lexists(path):
        raise CheckpointError(f"nothing to resume: {path} does not exist")
    check_bounded_file(path, WEIGHTS_LIMIT, CheckpointError, "training state")  # torch.load opens it
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"cannot read training state {path} (damaged, or not a segstudio "
                              f"state): {reason}") from exc
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise CheckpointError(f"{path} is not a segstudio training state (version {STATE_VERSION})")
    return state
