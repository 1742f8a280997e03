"""Speed of the core editing path: brush dabs, undo/redo, flood fill, mask PNG I/O, confusion matrices.

Plain script (not collected by pytest):  python tests/benchmarks/core_speed.py
Prints one table row per measurement with its target. Figures are medians where repeated.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from segstudio.core import drawing
from segstudio.core.document import Document
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.overlay import colour_lut, colourize
from segstudio.core.palette import voc_palette

ROWS: list[tuple[str, str, str]] = []


def report(name: str, value: str, target: str = "") -> None:
    ROWS.append((name, value, target))
    print(f"  {name}: {value}", flush=True)


def _path(count: int, width: int, height: int, step: float = 6.0) -> np.ndarray:
    """A wavy mouse path with ``step`` pixels between events."""
    t = np.arange(count) * step
    xs = 500 + t
    ys = height / 2 + 400 * np.sin(t / 300)
    return np.stack([xs, ys], axis=1)


def bench_dabs(doc: Document, lut: np.ndarray, points: np.ndarray, segment: bool) -> tuple[float, float, float]:
    """(median, mean, max) ms per dab: paint (disk or capsule from the previous point) + recolour of the changed rect."""
    times = []
    doc.begin_stroke()
    previous = points[0]
    for x, y in points:
        start = time.perf_counter()
        if segment:
            rect = doc.brush_line(previous[0], previous[1], x, y, 20, 3)
        else:
            rect = doc.brush(x, y, 20, 3)
        if rect is not None:
            colourize(doc.label, lut, rect)
        times.append(time.perf_counter() - start)
        previous = (x, y)
    doc.end_stroke()
    return statistics.median(times) * 1000, float(np.mean(times)) * 1000, max(times) * 1000


def bench_editing() -> None:
    width, height = 8000, 6000
    label = np.zeros((height, width), np.uint8)
    start = time.perf_counter()
    doc = Document(label)
    report("Document() of 8000x6000 (copies the map)", f"{(time.perf_counter() - start) * 1000:.1f} ms")
    lut = colour_lut(voc_palette()[:21], opacity=0.5)
    med, mean, worst = bench_dabs(doc, lut, _path(500, width, height), segment=False)
    report("dab r=20 + recolour, 8000x6000 (500 dabs)", f"median {med:.3f} ms, mean {mean:.3f}, max {worst:.2f}", "< 2 ms")
    med, mean, worst = bench_dabs(doc, lut, _path(500, width, height) + (0, 900), segment=True)
    report("segment r=20 + recolour (500 moves, 6 px)", f"median {med:.3f} ms, mean {mean:.3f}, max {worst:.2f}", "< 2 ms")
    points = _path(200, width, height, step=25) + (0, -1500)
    doc.begin_stroke()
    for i, (x, y) in enumerate(points):
        doc.brush_line(*points[max(i - 1, 0)], x, y, 20, 5)
    doc.end_stroke()
    painted = doc.label.copy()
    start = time.perf_counter()
    doc.undo()
    undo_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    doc.redo()
    redo_ms = (time.perf_counter() - start) * 1000
    assert np.array_equal(doc.label, painted)
    report("undo of a 200-dab stroke", f"{undo_ms:.2f} ms")
    report("redo of a 200-dab stroke", f"{redo_ms:.2f} ms")
    report("history size after 3 strokes", f"{doc.history.nbytes / 2**20:.2f} MiB (budget 256 MiB)")
    start = time.perf_counter()
    buffer = colourize(doc.label, lut)
    report("full 8000x6000 colourize, new array", f"{(time.perf_counter() - start) * 1000:.0f} ms")
    start = time.perf_counter()
    colourize(doc.label, lut, out=buffer)
    report("full 8000x6000 colourize into a buffer", f"{(time.perf_counter() - start) * 1000:.0f} ms")


def bench_fill() -> None:
    label = np.zeros((6000, 8000), np.uint8)
    label[3000, :] = 1
    times = []
    for _ in range(5):
        start = time.perf_counter()
        drawing.flood_fill(label, 10, 10)
        times.append(time.perf_counter() - start)
    report("flood fill of half an 8000x6000 map", f"median {statistics.median(times) * 1000:.0f} ms", "< 500 ms")


def realistic_mask(width: int = 4000, height: int = 3000) -> np.ndarray:
    """A few large smooth regions, like a hand-labelled photo (not noise)."""
    rng = np.random.default_rng(0)
    label = np.zeros((height, width), np.uint8)
    for cls in range(1, 9):
        centre = rng.uniform((0, 0), (width, height))
        angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
        radii = rng.uniform(200, 900, 24)
        pts = centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1)
        cv2.fillPoly(label, [pts.astype(np.int32).reshape(-1, 1, 2)], cls)
    label[:40] = 255
    return label


def bench_png() -> None:
    label = realistic_mask()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mask.png"
        saves, loads = [], []
        for _ in range(5):
            start = time.perf_counter()
            write_mask(path, label)
            saves.append(time.perf_counter() - start)
            start = time.perf_counter()
            back = read_mask(path)
            loads.append(time.perf_counter() - start)
        assert np.array_equal(back, label)
        size_kib = path.stat().st_size / 1024
    report("palette PNG save 4000x3000 (atomic, fsync)", f"{statistics.median(saves) * 1000:.0f} ms ({size_kib:.0f} KiB)")
    report("palette PNG load 4000x3000", f"{statistics.median(loads) * 1000:.0f} ms", "< 100 ms")


def bench_confusion() -> None:
    try:
        from segstudio.core.metrics import confusion_matrix
    except ImportError:
        report("confusion matrix 100 x 1024x1024", "n/a (segstudio.core.metrics missing)", "< 1 s")
        return
    rng = np.random.default_rng(1)
    gts = [rng.integers(0, 21, (1024, 1024), dtype=np.uint8) for _ in range(100)]
    preds = [rng.integers(0, 21, (1024, 1024), dtype=np.uint8) for _ in range(100)]
    for gt in gts[::7]:
        gt[:16] = 255
    start = time.perf_counter()
    total = np.zeros((21, 21), np.int64)
    for gt, pred in zip(gts, preds):
        total += confusion_matrix(gt, pred, 21)
    elapsed = time.perf_counter() - start
    report("confusion matrix 100 x 1024x1024, 21 classes", f"{elapsed:.2f} s ({total.sum() / 1e6:.0f} M pixels counted)", "< 1 s")


def main() -> None:
    print("segstudio core speed (CPU may be shared; figures are noisy)")
    bench_editing()
    bench_fill()
    bench_png()
    bench_confusion()
    print()
    width = max(len(name) for name, _, _ in ROWS)
    vwidth = max(len(value) for _, value, _ in ROWS)
    print(f"{'measurement':<{width}}  {'result':<{vwidth}}  target")
    print("-" * (width + vwidth + 10))
    for name, value, target in ROWS:
        print(f"{name:<{width}}  {value:<{vwidth}}  {target}")


if __name__ == "__main__":
    main()
