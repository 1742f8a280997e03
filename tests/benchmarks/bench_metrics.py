"""Speed of the confusion matrix: ours (uint16 code + one bincount) against the plain formula.

Run: ``python tests/benchmarks/bench_metrics.py`` — prints a table (100 masks of 1024×1024, 21 classes).
"""

from __future__ import annotations

import time

import numpy as np

from segstudio.core.metrics import ConfusionMatrix


def naive(gt: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    valid = gt != 255
    return np.bincount(n * gt[valid].astype(np.int64) + pred[valid], minlength=n * n).reshape(n, n)


def main() -> None:
    rng = np.random.default_rng(0)
    pairs = [(rng.integers(0, 21, (1024, 1024), dtype=np.uint8), rng.integers(0, 21, (1024, 1024), dtype=np.uint8))
             for _ in range(4)]
    for gt, _ in pairs:
        gt[:100] = 255
    rows = []
    cm = ConfusionMatrix(21)
    start = time.perf_counter()
    for i in range(100):
        cm.update(*pairs[i % 4])
    rows.append(("ConfusionMatrix.update", time.perf_counter() - start))
    total = np.zeros((21, 21), np.int64)
    start = time.perf_counter()
    for i in range(100):
        total += naive(*pairs[i % 4], 21)
    rows.append(("n*gt+pred over gt!=255 (int64)", time.perf_counter() - start))
    assert np.array_equal(total, cm.matrix)
    print(f"{'method (100 masks 1024x1024, 21 classes)':<44}{'seconds':>10}")
    for name, seconds in rows:
        print(f"{name:<44}{seconds:>10.3f}")


if __name__ == "__main__":
    main()
