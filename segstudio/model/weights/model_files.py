"""Where a model's files are, without importing torch.

The window needs this at start-up (model list, prediction cache keys) where importing torch would
freeze it for a second; the checkpoint loader uses the same rule, so both agree on what a folder
holds.
"""

from __future__ import annotations

from pathlib import Path

from segstudio.core.errors import CheckpointError

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
HF_WEIGHTS = "pytorch_model.bin"     # a Hugging Face folder's weights when it has no safetensors
STATE_FILE = "training_state.pt"     # a run's resumable state (model_files.py: no torch needed to name it)
HISTORY_FILE = "history.json"        # a run's validation points (training/history.py reads and writes it)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt")


def locate(path: str | Path) -> tuple[Path, Path | None]:
    """(weights file, config.json or None) of a model folder or a checkpoint file.

    A folder's weights are ``model.safetensors``, else ``pytorch_model.bin``, else its only weights
    file; :class:`CheckpointError` when there is none or several.
    """
    path = Path(path)
    if path.is_dir():
        for name in (WEIGHTS, HF_WEIGHTS):
            if (path / name).is_file():
                weights = path / name
                break
        else:
            found = sorted(p.name for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES)
            if len(found) != 1:
                raise CheckpointError(f"{path} holds no model.safetensors or pytorch_model.bin"
                                      + (f" (found {', '.join(found)})" if found else ""))
            weights = path / found[0]
        folder = path
    else:
        weights, folder = path, path.parent
    config = folder / CONFIG
    return weights, (config if config.is_file() else None)


def weights_file(path: str | Path) -> Path | None:
    """The weights file of a model folder or checkpoint path, or None (for listings and cache keys)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return locate(path)[0]
    except (CheckpointError, OSError):
        return None
