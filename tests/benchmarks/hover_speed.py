"""Speed of click to segment's hover preview: what one resting of the cursor costs.

Plain script (not collected by pytest):  python tests/benchmarks/hover_speed.py
The window's own path, on the default promptable model with random weights of its real
configuration under ONNX Runtime (exported once into a temporary cache, as in assist_speed.py), on
the synthetic photos of assist_speed.py at 480×360 (CamVid's size), 1024² and 4000×3000:

* worker: the hover decode (prompt decoder at the point, the best mask at full size, the outline
  map coloured for the layer: ``SegmentTool._decode_hover`` with ``AssistTools._hover_picture``),
  next to a click's decode (decoder and best mask: ``SegmentTool._run``), timed alternately;
* GUI thread: showing the answer (``AssistTools._set_hover``: the layer takes the coloured buffer);
* the hover decode again while another image is embedded on a second thread (the next image
  embedded ahead, which a hover, unlike a click, does not pause).

Medians of RUNS, hover points spread over the image (each a new decode). With random weights the
masks mean nothing; the times are the work. The times scale with the machine's load, printed.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from assist_speed import default_segmenters, scene  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from segstudio.gui.canvas.assist_tools import AssistTools  # noqa: E402

SIZES = ((480, 360), (1024, 1024), (4000, 3000))
RUNS = 9


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1000, result


def busy_hovers(segmenter, key: str, tools, points, image) -> float:
    """Median hover decode while another image is embedded on a second thread (the window embeds
    the next image ahead as soon as the one on screen is ready; a hover does not pause that)."""
    other = np.ascontiguousarray(image[::-1])
    times: list[float] = []
    thread = threading.Thread(target=lambda: [segmenter.embed(("ahead", n), other) or segmenter.forget(("ahead", n))
                                              for n in range(3)])
    thread.start()
    while thread.is_alive() and len(times) < 50:
        for point in points:
            ms, _ = timed(lambda: tools._hover_picture(segmenter.predict(key, [point], [1]).mask(0)))
            times.append(ms)
    thread.join()
    return statistics.median(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])  # noqa: F841 - the layer's QImage needs it
    segmenters, why_not = default_segmenters()
    if not segmenters or segmenters[-1].encoder is None:
        print(f"skipped: no ONNX Runtime segmenter ({why_not})")
        return
    segmenter = segmenters[-1]
    tools = AssistTools(pool=None)
    rows = []
    for width, height in SIZES:
        image, _ = scene(width, height)
        key = f"{width}×{height}"
        embed_ms, _ = timed(lambda: segmenter.embed(key, image))
        rng = np.random.default_rng(0)
        points = [(float(rng.uniform(0, width)), float(rng.uniform(0, height))) for _ in range(RUNS)]
        hover, click, show = [], [], []
        for point in points:  # alternately: a click's decode, then a hover's at the same point
            ms, _ = timed(lambda: segmenter.predict(key, [point], [1]).mask(0))
            click.append(ms)
            ms, picture = timed(lambda: tools._hover_picture(segmenter.predict(key, [point], [1]).mask(0)))
            hover.append(ms)
            ms, _ = timed(lambda: tools._set_hover(picture))
            show.append(ms)
        beside = busy_hovers(segmenter, key, tools, points, image)
        segmenter.forget(key)
        rows += [(key, "embedding (1 run, hover waits for it)", embed_ms),
                 (key, "click decode, worker (decoder + best mask)", statistics.median(click)),
                 (key, "hover decode, worker (+ outline map coloured)", statistics.median(hover)),
                 (key, "hover shown, GUI thread (layer takes the buffer)", statistics.median(show)),
                 (key, "hover decode while the next image embeds ahead", beside)]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPU(s), load average {load}; {segmenter.runtime}, random weights, median of {RUNS}")
    print(f"| {'image':<10} | {'step':<50} | {'ms':>8} |")
    print(f"|{'-' * 12}|{'-' * 52}|{'-' * 10}|")
    for size, what, ms in rows:
        print(f"| {size:<10} | {what:<50} | {ms:8.1f} |")


if __name__ == "__main__":
    main()
