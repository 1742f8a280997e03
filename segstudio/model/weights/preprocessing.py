"""How a public checkpoint wants its images: size and normalisation from its ``preprocessor_config.json``.

A SegFormer fine-tuned by someone else is described by the image processor saved beside it
(transformers' ``SegformerImageProcessor``: ``size``, ``image_mean``, ``image_std``,
``do_normalize``). When that file is there and sound, prediction follows it (the input size and the
normalisation the model learnt with); otherwise, or for a value that is missing or out of range,
segstudio's own rule applies: the long side resized to 512 pixels, ImageNet mean and std. The
model's ``ModelInfo.preprocessing`` says in words which was used, for the run's notes.
A catalogue model's published evaluation recipe (mode, scale, windows) still comes first, and
``--mode/--tile/--scale`` override both. No torch.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from segstudio.core.errors import CheckpointError
from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json

PREPROCESSOR = "preprocessor_config.json"
OUR_RULE = "segstudio's rule"


def apply(info: Any, folder: Path) -> None:
    """Set ``info``'s image size, mean and std from ``folder``'s preprocessor config where it gives
    sound values, and ``info.preprocessing`` to where each came from."""
    path = Path(folder) / PREPROCESSOR
    if not os.path.lexists(path):
        info.preprocessing = (f"no {PREPROCESSOR}: {OUR_RULE} (long side {info.image_size} px, "
                              "ImageNet mean and std)")
        return
    try:
        data = read_json(path, SMALL_JSON_LIMIT, CheckpointError, "preprocessor config")
    except CheckpointError as exc:   # not JSON, not an object, too large, not a regular file
        info.preprocessing = f"{PREPROCESSOR} unusable ({exc}): {OUR_RULE}"
        return
    used = []
    size = image_size(data.get("size", data.get("crop_size")))
    if size is not None:
        info.image_size = size
        used.append(f"size {size} px")
    normalisation = _normalisation(data)
    if normalisation is not None:
        info.mean, info.std = normalisation
        used.append(f"mean {_short(info.mean)}, std {_short(info.std)}")
    kept = [] if size is not None else [f"long side {info.image_size} px"]
    kept += [] if normalisation is not None else ["ImageNet mean and std"]
    info.preprocessing = (f"{', '.join(used)} from its {PREPROCESSOR}" if used else f"its {PREPROCESSOR} "
                          "gives no usable size or normalisation")
    if kept:
        info.preprocessing += f"; {OUR_RULE} for the rest ({', '.join(kept)})"


def image_size(value: Any) -> int | None:
    """The long side an HF ``size`` asks for (an int, height/width, shortest/longest edge), or None."""
    if isinstance(value, dict):
        sides = [value.get(k) for k in ("height", "width", "shortest_edge", "longest_edge")]
        numbers = [v for v in sides if _whole(v)]
        value = max(numbers) if numbers else None
    return value if _whole(value) and 32 <= value <= 8192 else None


def _normalisation(data: dict) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    if data.get("do_normalize") is False:
        return (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    mean, std = data.get("image_mean"), data.get("image_std")
    if not (_three(mean) and _three(std)) or not all(v > 0 for v in std):
        return None
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _three(values: Any) -> bool:
    return (isinstance(values, list) and len(values) == 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values))


def _short(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{v:.3g}" for v in values) + "]"


def for_training(info: Any, start: str) -> str | None:
    """Training normalises every image with ImageNet's mean and std (the data pipeline's one rule),
    so a model trained from ``start`` records those; a note when ``start`` had learnt others."""
    from segstudio.model.data.augment import IMAGENET_MEAN, IMAGENET_STD
    before = (tuple(info.mean), tuple(info.std))
    info.mean, info.std = tuple(IMAGENET_MEAN), tuple(IMAGENET_STD)
    if all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(before[0] + before[1], IMAGENET_MEAN + IMAGENET_STD)):
        return None
    return (f"{start} was trained with mean {_short(before[0])}, std {_short(before[1])}; this run normalises "
            "with ImageNet's, as all segstudio training does, and its model records that")
