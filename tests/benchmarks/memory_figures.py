"""Where the window's memory goes: at start, after many strokes on ordinary photos, with 24 MP photos.

    python tests/benchmarks/memory_figures.py [--strokes 1500] [--photos 10] [--big 6000x4000]

Runs the real window (offscreen Qt) in this process and prints, for each phase, the resident size
(VmRSS) and what the parts hold, in MB: the open image (pixels, display pyramid, mask, overlay),
its undo history, the undo histories kept for the images left, the neighbours loaded ahead
(prefetch), the mask layer's colour buffer, the predictions kept in memory; and next to each the
budget that bounds it (segstudio.core.budgets). Phases:

  start    the window with a folder of ordinary photos (1280x960) open
  strokes  after --strokes brush strokes of 20 moves, moving to the next photo every 150
  big      a folder of --big-photos photos of --big pixels (24 MP): the first shown, 40 strokes, then D
  review   the same folder with a (tiny, untrained) model active: every photo visited and predicted

The figures of the parts are the arrays' own sizes (an overlay of an unpainted image is zeros the
system has not handed over yet: counted here, not in RSS); RSS also holds Python, Qt, numpy's and
torch's code and what the allocator keeps for reuse. Nothing is asserted: compare runs (before and after a change)
side by side on the same machine.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's segstudio

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

MB = 1024 * 1024


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def photos(folder: Path, count: int, width: int, height: int, prefix: str) -> None:
    """``count`` photo-like JPEGs (smooth noise: they compress as photos do)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (max(2, height // 32), max(2, width // 32), 3), dtype=np.uint8)
    for i in range(count):
        picture = Image.fromarray(np.roll(small, i * 3, axis=1)).resize((width, height), Image.BILINEAR)
        picture.save(folder / f"{prefix}{i + 1:02d}.jpg", quality=90)
    (folder / "classes.txt").write_text("background\nroad\ncar\nsky\ntree\n")


def shown(window) -> bool:
    """The image asked for is on screen and the neighbours asked for are loaded ahead."""
    session = window.session
    ahead = session._queue._prefetch.values()
    return session.document is not None and not session.loading and all(f.done() for f in ahead)


def settle(app, until, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)
    for _ in range(20):
        app.processEvents()


def mouse(canvas, kind, x, y, buttons) -> None:
    pos = canvas.image_to_widget(x, y)
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), QPointF(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.viewport(), event)


def strokes(app, window, count: int, rng: np.random.Generator, moves: int = 20) -> None:
    doc = window.session.document
    left = Qt.MouseButton.LeftButton
    for _ in range(count):
        window.select_class(int(rng.integers(1, 5)))
        x, y = rng.uniform(0, doc.width), rng.uniform(0, doc.height)
        mouse(window.canvas, QEvent.Type.MouseButtonPress, x, y, left)
        for _ in range(moves):
            x = float(np.clip(x + rng.normal(0, doc.width / 60), 0, doc.width - 1))
            y = float(np.clip(y + rng.normal(0, doc.height / 60), 0, doc.height - 1))
            mouse(window.canvas, QEvent.Type.MouseMove, x, y, left)
        mouse(window.canvas, QEvent.Type.MouseButtonRelease, x, y, Qt.MouseButton.NoButton)
        app.processEvents()


def array_bytes(*arrays) -> int:
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def loaded_bytes(loaded) -> int:
    """What one loaded image holds: pixels, display pyramid, mask, overlay, its document's map."""
    if loaded is None:
        return 0
    total = array_bytes(loaded.rgb, loaded.label, loaded.overlay, loaded.pending, loaded.recovery)
    display = loaded.display
    if display is not None:
        total += sum(a.nbytes for a in getattr(display, "arrays", []) or [])
        full = getattr(display, "image", None)
        total += full.sizeInBytes() if full is not None and hasattr(full, "sizeInBytes") else 0
    if loaded.document is not None:
        total += loaded.document.label.nbytes
    return total


def figures(window) -> dict[str, tuple[float, str]]:
    """Each part's bytes (MB) and the budget that bounds it."""
    try:
        from segstudio.core import budgets
    except ImportError:  # before budgets were stated
        budgets = None

    def budget(name: str) -> str:
        return f"{getattr(budgets, name) // MB} MB" if budgets is not None else "none stated"

    session = window.session
    queue = session._queue
    ahead = [f.result() for f in queue._prefetch.values() if f.done() and not f.cancelled() and not f.exception()]
    doc = session.document
    service = window.model_features.review.service if hasattr(window.model_features.review, "service") else None
    memory = getattr(service, "_memory", {}) if service is not None else {}
    predictions = sum(r.labels.nbytes for r in memory.values())
    layer = window.mask_layer
    shown = window.model_features.prediction
    outline = getattr(shown, "_outline", None)
    prediction_layer = array_bytes(shown.labels, outline[1] if outline else None,
                                   getattr(shown.layer, "_buffer", None))
    return {
        "open image": (loaded_bytes(session.current) / MB, "one image"),
        "its undo history": ((doc.history.nbytes if doc else 0) / MB, budget("UNDO_BYTES")),
        "undo kept for images left": (session._undo.nbytes / MB, budget("KEPT_UNDO_BYTES")),
        f"prefetched ({len(ahead)} images)": (sum(loaded_bytes(a) for a in ahead) / MB,
                                               budget("PREFETCH_BYTES")),
        "mask layer buffer": (array_bytes(getattr(layer, "_buffer", None)) / MB, "one image"),
        f"predictions kept ({len(memory)})": (predictions / MB, budget("PREDICTION_BYTES")),
        "prediction shown (labels, outline, colours)": (prediction_layer / MB, "one image"),
    }


def report(phase: str, window) -> None:
    """The figures after a collection, with the heap's free memory handed back (glibc's malloc_trim):
    what is still held, not what the allocator happens to keep for reuse at that moment."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    torch = "torch loaded (importing it alone takes some 200 MB)" if "torch" in sys.modules else "torch not loaded"
    print(f"\n{phase}: RSS {resident_mb():.0f} MB; {torch}")
    for name, (mb, budget) in figures(window).items():
        print(f"  {name:<34} {mb:8.1f} MB   (budget {budget})")


def review(app, window, folder: Path, count: int) -> None:
    """A tiny model made active; every photo shown until its prediction has arrived."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
    from cli_helpers import tiny_model

    features = window.model_features
    model = tiny_model(folder / "models" / "tiny", names=("background", "road", "car", "sky", "tree"))
    features.models_dock.refresh()
    features.models_dock.set_active(model)
    service = features.review.service
    for _ in range(count):
        seen = len(service._memory)
        settle(app, lambda seen=seen: len(service._memory) > seen or features.prediction.available, 120)
        window.go(+1)
        settle(app, lambda: shown(window), 120)
    settle(app, lambda: features.prediction.available, 120)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strokes", type=int, default=1500)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--big", default="6000x4000")
    parser.add_argument("--big-photos", type=int, default=7)
    parser.add_argument("--photo-size", default="1280x960", help="the ordinary photos' size")
    args = parser.parse_args(argv)
    big_w, big_h = (int(v) for v in args.big.split("x"))
    app = QApplication.instance() or QApplication([])
    from segstudio.gui.window import dialogs
    from segstudio.gui.window.app_window import MainWindow
    from segstudio.gui.window.settings import Settings

    dialogs.error = lambda *a, **k: print("error:", a[1:])
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo_w, photo_h = (int(v) for v in args.photo_size.split("x"))
        photos(tmp / "photos", args.photos, photo_w, photo_h, "photo")
        photos(tmp / "big", args.big_photos, big_w, big_h, "big")
        print(f"RSS before the window: {resident_mb():.0f} MB")
        window = MainWindow(Settings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)))
        window.resize(1280, 820)
        window.show()
        window.open_project(tmp / "photos")
        settle(app, lambda: shown(window))
        report("start", window)
        done = 0
        while done < args.strokes:
            batch = min(150, args.strokes - done)
            strokes(app, window, batch, rng)
            done += batch
            if done < args.strokes:
                window.go(+1)
                settle(app, lambda: shown(window))
        settle(app, lambda: not window.session.loading)
        report(f"strokes ({done} on {1 + (done - 1) // 150} photos)", window)
        window.open_project(tmp / "big")
        settle(app, lambda: shown(window), 120)
        strokes(app, window, 40, rng)
        window.go(+1)
        settle(app, lambda: shown(window), 120)
        report(f"big ({big_w}x{big_h}, 40 strokes, then the next)", window)
        review(app, window, tmp / "big", args.big_photos)
        report(f"review (a model active, {args.big_photos} photos predicted)", window)
        window.session.autosave = True
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
