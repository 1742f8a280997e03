"""First click on a prepared image against an unprepared one (Tools > Prepare the whole folder).

Plain script (not collected by pytest):  python tests/benchmarks/prepared_click.py
The window's own path: the default promptable model with random weights of its real configuration,
from a model folder under ONNX Runtime (exported once into a temporary cache, as assist_speed.py),
with the project's embedding store (``.segstudio/sam-embeddings`` of a temporary project). A first
click is ``embed`` (nothing in memory) + the prompt decoder + the best mask at full size, as
``SegmentTool`` runs it: on a prepared image the embedding is read from disk, on an unprepared one
computed (and written, as the window does). Runs alternate; medians of RUNS. Synthetic photos of
assist_speed.py at 480×360 (CamVid's size) and 4000×3000. Times scale with the machine's load.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assist_speed import default_segmenters, scene  # noqa: E402

from segstudio.core.assist.embedding_store import EmbeddingStore  # noqa: E402

SIZES = ((480, 360), (4000, 3000))
RUNS = 5


def first_click(segmenter, key: tuple, image, point) -> float:
    segmenter.forget()  # nothing in memory: a fresh window, or an image the memory cache let go
    start = time.perf_counter()
    segmenter.embed(key, image)
    segmenter.predict(key, [point], [1]).mask(0)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    segmenters, why = default_segmenters()
    if len(segmenters) < 2:
        print(f"needs transformers and onnxruntime: {why}")
        return
    segmenter = segmenters[-1]  # ONNX Runtime, from a folder: the window's path
    print(f"load average {os.getloadavg()[0]:.1f}; model id {segmenter.model_id}")
    print(f"{'image':>10}  {'first click, prepared':>22}  {'first click, unprepared':>24}  {'ratio':>6}  file")
    with tempfile.TemporaryDirectory(prefix="segstudio-prepared-") as scratch:
        for width, height in SIZES:
            image, _ = scene(width, height)
            point = (width * 0.5, height * 0.5)
            prepared_store = EmbeddingStore(Path(scratch) / f"prepared-{width}", lambda: True)
            segmenter.disk = prepared_store
            segmenter.prepare(("prepared", width), image)
            prepared, unprepared = [], []
            for run in range(RUNS):
                segmenter.disk = prepared_store
                prepared.append(first_click(segmenter, ("prepared", width), image, point))
                segmenter.disk = EmbeddingStore(Path(scratch) / f"empty-{width}-{run}", lambda: True)
                unprepared.append(first_click(segmenter, ("unprepared", width, run), image, point))
            size = sum(p.stat().st_size for p in (Path(scratch) / f"prepared-{width}").rglob("*.emb"))
            a, b = statistics.median(prepared), statistics.median(unprepared)
            print(f"{width}×{height:<5}  {a:>19.0f} ms  {b:>21.0f} ms  {b / a:>5.1f}×  {size / 2**20:.1f} MB")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
