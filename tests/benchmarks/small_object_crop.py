"""Small objects in click to segment: what a crop gains and what it costs (the threshold's figures).

Plain script (not collected by pytest), from the repository root:
    PYTHONPATH=. python tests/benchmarks/small_object_crop.py [--no-embed] [--no-grid]

1. What the mask grid allows. SAM's masks come out at 256×256 over its 1024² input whatever the
   weights, so the best mask any decoder can draw of an object is measurable without real weights:
   an ideal decoder whose every low-resolution logit is the object's share of that mask pixel minus
   one half, brought to the image exactly as the segmenter does it (``Frame.mask``). The IoU of that
   mask with the object, on the full image and on the crop the window would take
   (``core.assist.small_objects.crop_around``, pasted back), for every connected object of the
   CamVid validation masks that people click (signs, cars, pedestrians, bicyclists) at CamVid's
   480×360 and scaled to 4000×3000, grouped by the object's longer side in 64×64 feature cells.
   Skipped with a line when ../shared/datasets/camvid-val is absent.
2. What a crop costs: the default model (random weights of its real configuration, eager PyTorch,
   nothing downloaded) embedding a 4000×3000 photo and a crop of it, alternately; the input is
   1024² either way, so only the resize differs. And the paste-back of a 300×300 crop's mask into a
   4000×3000 mask.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from segstudio.core.assist.small_objects import MASK_GRID, crop_around, feature_cells, paste

ROOT = Path(__file__).resolve().parents[2]
CAMVID = ROOT.parent / "shared" / "datasets" / "camvid-val"
CLASSES = {7: "sign", 9: "car", 10: "pedestrian", 11: "bicyclist"}  # masks/classes.txt, 1-based
BUCKETS = ((0, 2), (2, 4), (4, 6), (6, 8), (8, 12), (12, 16), (16, 32), (32, 65))


def ideal_mask(truth: np.ndarray) -> np.ndarray:
    """The best mask the 256² grid can draw of ``truth`` (SAM 2's stretched frame), at its size."""
    from segstudio.model.sam.frame import Frame

    height, width = truth.shape
    share = cv2.resize(truth.astype(np.float32), (MASK_GRID, MASK_GRID), interpolation=cv2.INTER_AREA)
    import torch

    return Frame(height, width, 1024, letterbox=False).mask(torch.from_numpy(share - 0.5))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def objects(scale: float):
    """(truth mask, object box) of every connected sign, car, pedestrian and bicyclist."""
    for path in sorted((CAMVID / "masks").glob("*.png")):
        labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if scale != 1:
            labels = cv2.resize(labels, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        for value in CLASSES:
            count, parts, stats, _ = cv2.connectedComponentsWithStats((labels == value).astype(np.uint8), 8)
            for index in range(1, count):
                x, y, w, h, _ = stats[index]
                yield parts == index, (x, y, x + w, y + h)


def grid_table(scale: float) -> None:
    rows: dict[tuple[int, int], list[tuple[float, float]]] = {bucket: [] for bucket in BUCKETS}
    for truth, box in objects(scale):
        height, width = truth.shape
        cells = max(feature_cells(box, width, height))
        crop = crop_around(box, width, height)
        on_crop = paste(ideal_mask(truth[crop.slices]), crop, height, width)
        bucket = next(b for b in BUCKETS if b[0] <= cells < b[1])
        rows[bucket].append((iou(ideal_mask(truth), truth), iou(on_crop, truth)))
    size = f"{round(480 * scale)}×{round(360 * scale)}"
    print(f"\nideal-decoder IoU, CamVid objects at {size} (median [10th percentile])")
    print(f"{'cells (longer side)':>20} {'objects':>8} {'full image':>18} {'on the crop':>18}")
    for (low, high), pairs in rows.items():
        if not pairs:
            continue
        full, crop = np.array(pairs).T
        print(f"{f'{low}-{high}':>20} {len(pairs):>8} {_stat(full):>18} {_stat(crop):>18}")


def _stat(values: np.ndarray) -> str:
    return f"{np.median(values):.3f} [{np.percentile(values, 10):.3f}]"


def embed_costs() -> None:
    try:
        import torch

        from segstudio.model.sam import DEFAULT
        from segstudio.model.sam.frame import Frame
        from segstudio.model.sam.loader import build_random
    except ImportError as exc:
        print(f"\nembedding times skipped: {exc}")
        return
    torch.set_num_threads(1)
    model, family = build_random(DEFAULT.config)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (3000, 4000, 3), np.uint8)
    crop = crop_around((1900, 1400, 2000, 1500), 4000, 3000)
    times: dict[str, list[float]] = {"full 4000×3000": [], f"crop {crop.width}×{crop.height}": []}
    resize: dict[str, list[float]] = {name: [] for name in times}
    for _ in range(2):  # alternately: a busy machine slows both alike
        for name, rgb in zip(times, (photo, np.ascontiguousarray(photo[crop.slices])), strict=True):
            start = time.perf_counter()
            pixels = Frame(rgb.shape[0], rgb.shape[1], 1024, family.letterbox).pixels(rgb)
            resized = time.perf_counter()
            with torch.inference_mode():
                model.get_image_embeddings(pixels)
            resize[name].append((resized - start) * 1000)
            times[name].append(time.perf_counter() - start)
    print(f"\n{DEFAULT.name}, random weights, eager PyTorch, 1 thread (2 runs each, alternating)")
    for name in times:
        print(f"  {name:>20}: embedding {statistics.median(times[name]):.2f} s "
              f"(resize {statistics.median(resize[name]):.0f} ms)")
    mask = rng.random((crop.height, crop.width)) > 0.5
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        paste(mask, crop, 3000, 4000)
        runs.append((time.perf_counter() - start) * 1000)
    print(f"  paste-back of the crop's mask into 4000×3000: {statistics.median(runs):.1f} ms")


def main() -> None:
    if "--no-grid" in sys.argv:
        pass
    elif (CAMVID / "masks").is_dir():
        grid_table(1.0)
        grid_table(4000 / 480)
    else:
        print(f"ideal-decoder table skipped: {CAMVID} is absent")
    if "--no-embed" not in sys.argv:
        embed_costs()


if __name__ == "__main__":
    main()
