"""Helpers of the test_cli_* robustness tests (not a test module): tiny models, images, checksums."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

TINY = dict(hidden_sizes=(16, 32, 48, 64), depths=(1, 1, 1, 1), num_heads=(1, 2, 3, 4),
            decoder_hidden_size=32)


def tiny_model(folder: Path, names=("background", "cat", "dog"), image_size: int = 64) -> Path:
    """A randomly initialised tiny SegFormer saved as our model folder."""
    import torch

    from segstudio.model.segformer import SegFormer, SegFormerConfig
    from segstudio.model.weights.checkpoints import ModelInfo, save_model

    torch.manual_seed(0)
    model = SegFormer(SegFormerConfig(num_labels=len(names), **TINY)).eval()
    save_model(folder, model, ModelInfo(variant=None, class_names=list(names), image_size=image_size))
    return folder


def photo(path: Path, size=(40, 48), seed: int = 0) -> Path:
    """A small random RGB image (format from the suffix)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def checksums(*folders: Path) -> dict[str, str]:
    """sha256 of every file under ``folders`` (keyed by path), to prove nothing was changed."""
    sums = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def error_line(err: str) -> str:
    """The single error line of stderr (asserts there is exactly one and no traceback)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]
