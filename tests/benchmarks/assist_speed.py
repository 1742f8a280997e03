"""Speed of the assisted tools: GrabCut (box, then one refinement) and the magic wand.

Plain script (not collected by pytest):  python tests/benchmarks/assist_speed.py
Synthetic photos (noisy field, noisy tilted ellipse) at 1024×1024 and 4000×3000; the GrabCut box
is the ellipse's box plus 5 %. Prints one table row per measurement (median of the runs) with the
IoU against the drawn truth, so speed never hides a loss of quality.

Click to segment: the default promptable model (segstudio.model.sam.DEFAULT) with random weights of
its real configuration (nothing is downloaded), so its rows time the work but say nothing of
quality: the image embedding (one run per size: it is the slow part) and a click (prompt decoder
plus the best mask brought back to full resolution, median of the runs). Skipped without transformers.
ASSIST_TORCH_THREADS=1 sets torch's threads (on a busy 2-core machine 1 thread was faster).
Two runtimes side by side, timed alternately: eager PyTorch (the reference) and the image encoder on
ONNX Runtime with int8 weights and, for point prompts, the decoder on ONNX Runtime too (what the
window uses; exported once into a temporary cache here, its export time printed; boxes decode
there too, as two corner points). ONNX Runtime uses one thread per core, as the window does;
ASSIST_TORCH_THREADS does not change it. Skipped without onnxruntime.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from segstudio.core.assist.grabcut import grabcut_box, grabcut_refine
from segstudio.core.assist.wand import WandSession
from segstudio.core.errors import SegStudioError

SIZES = ((1024, 1024), (4000, 3000))
RUNS = 3


def scene(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    truth = np.zeros((height, width), np.uint8)
    cv2.ellipse(truth, (width // 2, height // 2), (width // 5, height // 6), 20, 0, 360, 1, -1)
    field = np.clip(rng.normal((40, 120, 60), 14, (height, width, 3)), 0, 255).astype(np.uint8)
    thing = np.clip(rng.normal((200, 60, 40), 14, (height, width, 3)), 0, 255).astype(np.uint8)
    return np.where(truth[:, :, None] == 1, thing, field), truth.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def median_ms(work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def sam_rows(image: np.ndarray, box: tuple[int, int, int, int], size: str, segmenters) -> list[tuple]:
    """Embedding and click times of each runtime of the promptable model on ``image``, alternating."""
    embed_ms = {}
    for segmenter in segmenters:
        start = time.perf_counter()
        segmenter.embed(size, image)
        embed_ms[segmenter] = (time.perf_counter() - start) * 1000
    rows = []
    for segmenter in segmenters:
        rows.extend(_click_rows(image, box, size, segmenter, embed_ms[segmenter]))
    return rows


def _click_rows(image, box, size: str, segmenter, embed_ms: float) -> list[tuple]:
    height, width = image.shape[:2]

    def preview(**prompt):
        proposal = segmenter.predict(size, **prompt)
        proposal.mask(0)  # the candidate the window shows, at full size
        return proposal

    ms, proposal = median_ms(lambda: preview(points=[(width // 2, height // 2)], labels=[1]))
    box_ms, _ = median_ms(lambda: preview(box=box))
    segmenter.forget(size)
    note = f"best of {len(proposal)} masks at full size, random weights"
    threads = f"torch threads {torch.get_num_threads()}" if segmenter.encoder is None else "a thread per core"
    name = f"{segmenter.family.model_type}, {segmenter.runtime}, {threads}"
    tag = "SAM torch" if segmenter.encoder is None else "SAM ORT"
    return [(size, f"{tag} embedding (1 run)", embed_ms, name),
            (size, f"{tag} click (point)", ms, note), (size, f"{tag} click (box)", box_ms, note)]


def default_segmenters():
    """The default promptable model with random weights, eager and (when onnxruntime is there) on
    ONNX Runtime; an empty list (and why) without transformers."""
    try:
        from segstudio.model.sam import DEFAULT, PromptableSegmenter
        from segstudio.model.sam.loader import build_random

        if os.environ.get("ASSIST_TORCH_THREADS"):
            torch.set_num_threads(int(os.environ["ASSIST_TORCH_THREADS"]))
        print(f"Promptable model: {DEFAULT.name} ({DEFAULT.hub_id}), random weights of its configuration")
        model, family = build_random(DEFAULT.config)
        segmenters = [PromptableSegmenter(model, family)]
    except (ImportError, SegStudioError) as error:
        return [], str(error)
    try:
        import onnxruntime  # noqa: F401
    except ImportError as error:
        print(f"ONNX Runtime rows skipped: {error}")
        return segmenters, ""
    with tempfile.TemporaryDirectory(prefix="segstudio-assist-speed-") as scratch:
        # the window's own path: a model folder, exported into a cache folder on first use
        os.environ["SEGSTUDIO_CACHE"] = str(Path(scratch) / "cache")
        model.save_pretrained(Path(scratch) / "model")
        start = time.perf_counter()
        fast = PromptableSegmenter.from_folder(Path(scratch) / "model", runtime="onnx")
        print(f"ONNX export of encoder (int8) and point decoder, once per model: {time.perf_counter() - start:.1f} s")
    segmenters.append(fast)
    return segmenters, ""


def main() -> None:
    rows = []
    segmenters, why_not = default_segmenters()
    for width, height in SIZES:
        image, truth = scene(width, height)
        ys, xs = np.nonzero(truth)
        pad_x, pad_y = width // 20, height // 20
        box = (xs.min() - pad_x, ys.min() - pad_y, xs.max() + pad_x, ys.max() + pad_y)
        ms, result = median_ms(lambda: grabcut_box(image, box))
        rows.append((f"{width}×{height}", "GrabCut box", ms, f"IoU {iou(result.mask, truth):.4f}, scale {result.scale:.2f}"))
        stroke = np.zeros_like(truth)
        stroke[height // 2, width // 2 - 20 : width // 2 + 20] = True
        ms, refined = median_ms(lambda: grabcut_refine(image, result, foreground=stroke))
        rows.append((f"{width}×{height}", "GrabCut refine (stroke)", ms, f"IoU {iou(refined.mask, truth):.4f}"))
        flat = image.copy()
        flat[truth] = (200, 60, 40)  # a flat object for the wand
        seed = (width // 2, height // 2)
        ms, session = median_ms(lambda: WandSession(flat, seed))
        rows.append((f"{width}×{height}", "wand click (distance map)", ms, ""))
        ms, region = median_ms(lambda: session.region(10))
        rows.append((f"{width}×{height}", "wand tolerance change", ms, f"IoU {iou(region, truth):.4f}"))
        if segmenters:
            rows.extend(sam_rows(image, box, f"{width}×{height}", segmenters))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPU(s), load average {load} (times scale with it); OpenCV threads {cv2.getNumThreads()}")
    if not segmenters:
        print(f"SAM rows skipped: {why_not}")
    print(f"{'image':<11} {'operation':<28} {'median ms':>10}  quality")
    for size, name, ms, note in rows:
        print(f"{size:<11} {name:<28} {ms:>10.1f}  {note}")


if __name__ == "__main__":
    main()
