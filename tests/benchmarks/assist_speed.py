"""Speed of the assisted tools: GrabCut (box, then one refinement) and the magic wand.

Plain script (not collected by pytest):  python tests/benchmarks/assist_speed.py
Synthetic photos (noisy field, noisy tilted ellipse) at 1024×1024 and 4000×3000; the GrabCut box
is the ellipse's box plus 5 %. Prints one table row per measurement (median of the runs) with the
IoU against the drawn truth, so speed never hides a loss of quality.
"""

from __future__ import annotations

import os
import statistics
import time

import cv2
import numpy as np

from segstudio.core.assist.grabcut import grabcut_box, grabcut_refine
from segstudio.core.assist.wand import WandSession

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


def main() -> None:
    rows = []
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
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPU(s), load average {load} (times scale with it); OpenCV threads {cv2.getNumThreads()}")
    print(f"{'image':<11} {'operation':<28} {'median ms':>10}  quality")
    for size, name, ms, note in rows:
        print(f"{size:<11} {name:<28} {ms:>10.1f}  {note}")


if __name__ == "__main__":
    main()
