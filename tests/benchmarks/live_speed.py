"""Live training from scribbles: first overlay, held-out mIoU over time, longest GUI-thread block.

Plain script (not collected by pytest):

    python tests/benchmarks/live_speed.py [--kind colour] [--seconds 120] [--init auto]

Drives the session layer without a screen, the way the window does: a worker thread runs
``LiveSession`` cycles (a burst of training on the scribbled images, then a prediction of the
image "on screen"), while the main thread plays the GUI: a 60 Hz timer that also paints a stroke
into the on-screen scribbles now and then. It prints when the first overlay arrived, the held-out
mIoU every 15 s, and the longest and 99th-percentile gap of the GUI timer (what a user feels); each
cycle also scores one held-out image's uncertainty, as live mode does with the other images. At the
end the model is kept as turning live mode off does, written on a worker, and the GUI timer's
longest gap meanwhile is printed (written on the GUI thread, a B0 held the window 135-153 ms).

The set is the loop benchmark's generator (tests/model/loop_sets.py): 8 training images whose
scribbles are thin strokes through each object and the background (at most 5 % of the pixels),
and 8 held-out images scored on every pixel.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from loop_sets import CLASS_NAMES, make_sample  # noqa: E402

from segstudio.core.metrics import ConfusionMatrix  # noqa: E402
from segstudio.core.palette import IGNORE_INDEX  # noqa: E402


def scribbles_of(label: np.ndarray, rng: np.random.Generator, share: float = 0.04) -> np.ndarray:
    """Thin horizontal strokes through every class region, at most ``share`` of the pixels."""
    out = np.full(label.shape, IGNORE_INDEX, np.uint8)
    budget = int(label.size * share)
    rows = rng.permutation(label.shape[0])
    for row in rows:
        if (out != IGNORE_INDEX).sum() >= budget:
            break
        line = label[row]
        for value in np.unique(line):
            cols = np.flatnonzero(line == value)
            if len(cols) > 6:
                cols = cols[2:-2]  # away from the boundary, as a person paints
                out[row, cols[: max(1, len(cols) // 2)]] = value
    return out


class FakeProject:
    """What LiveSession asks of a project, held in memory (no masks on disk: all is on screen); its
    entries are the held-out images, whose uncertainty each cycle scores one at a time."""

    def __init__(self, images: list[np.ndarray]) -> None:
        self.entries = [SimpleNamespace(image_path=Path(f"held-{i}.png"), stem=f"held-{i}", rgb=rgb)
                        for i, rgb in enumerate(images)]
        self.save_dir = Path(tempfile.mkdtemp())  # where the kept model goes

    def labelled_entries(self):
        return []

    def load_image(self, entry) -> np.ndarray:
        return entry.rgb


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="colour")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--init", default="auto", help="auto, b0, a model folder…")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=None, help="the trainer's rate (default: live mode's own)")
    args = parser.parse_args(argv)
    import torch

    from segstudio.application.live.live_session import LiveSession
    from segstudio.model.training.live import LiveTrainer

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    train = [make_sample(args.kind, 160, rng) for _ in range(8)]
    held = [make_sample(args.kind, 160, rng) for _ in range(8)]
    scribbled = [(rgb, scribbles_of(label, rng)) for rgb, label in train]
    share = np.mean([(s != IGNORE_INDEX).mean() for _, s in scribbled])
    project = FakeProject([rgb for rgb, _ in held])
    session = LiveSession(project, lambda: LiveTrainer(CLASS_NAMES, init=args.init, size=args.size,
                                                       save_dir=tempfile.mkdtemp(), lr=args.lr))
    session.samples = lambda current, rgb, label: [(rgb, label)] + scribbled[1:]  # all on "screen"
    stop = threading.Event()
    log: list[tuple[float, str, float]] = []
    started = time.perf_counter()

    scores: list[tuple[float, int, float]] = []

    def worker() -> None:  # cycles, and a held-out score every 15 s (between bursts: one model user)
        next_score = 15.0
        while not stop.is_set():
            result = session.cycle(None, scribbled[0][0], scribbled[0][1], stop.is_set)
            log.append((time.perf_counter() - started, "cycle", result.loss))
            if time.perf_counter() - started >= next_score:
                scores.append((time.perf_counter() - started, session.trainer.steps,
                               held_out_miou(session.trainer, held)))
                next_score += 15.0

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    gaps, last, shown = [], time.perf_counter(), 0
    print(f"{args.kind} set: 8 training images, scribbles on {100 * share:.1f} % of their pixels; "
          f"start {args.init}, crops {args.size}, lr {args.lr or 'default'}")
    first_overlay = None
    while time.perf_counter() - started < args.seconds:
        time.sleep(1 / 60)
        now = time.perf_counter()
        gaps.append(now - last - 1 / 60)
        last = now
        if first_overlay is None and log:
            first_overlay = log[0][0]
            print(f"first overlay after {first_overlay:.1f} s")
        while shown < len(scores):
            at, steps, miou = scores[shown]
            print(f"{at:5.0f} s  steps {steps:4d}  held-out mIoU {miou:.3f}")
            shown += 1
    stop.set()
    thread.join()
    gaps_ms = 1000 * np.array(gaps)
    print(f"GUI timer: longest gap {gaps_ms.max():.0f} ms, 99th percentile {np.percentile(gaps_ms, 99):.0f} ms "
          f"over {len(gaps)} ticks")
    print(f"final held-out mIoU {held_out_miou(session.trainer, held):.3f} after {session.trainer.steps} steps")
    print(f"live uncertainty: {len(session.scores)} held-out images scored in the background; "
          f"{score_rank(session, project, held)}")
    kept: list = []
    saver = threading.Thread(target=lambda: kept.append(session.save("live-benchmark")))
    save_gaps, last = [], time.perf_counter()
    saver.start()
    while saver.is_alive():
        time.sleep(1 / 60)
        now = time.perf_counter()
        save_gaps.append(now - last - 1 / 60)
        last = now
    saver.join()
    print(f"live mode off, the model kept on a worker: GUI timer's longest gap {1000 * max(save_gaps):.0f} ms "
          f"over {len(save_gaps)} ticks ({kept[0]})")
    return 0


def score_rank(session, project, held) -> str:
    """How well the live scores rank the held-out images by their error (Spearman rho)."""
    pairs = [(session.scores[e.image_path], 1.0 - float((session.trainer.predict(rgb) == label).mean()))
             for e, (rgb, label) in zip(project.entries, held) if e.image_path in session.scores]
    if len(pairs) < 3:
        return "too few to rank"
    ranks = np.argsort(np.argsort(np.array(pairs), axis=0), axis=0).astype(float)
    return f"Spearman rho between score and pixel error {np.corrcoef(ranks.T)[0, 1]:.2f}"


def held_out_miou(trainer, held) -> float:
    matrix = ConfusionMatrix(len(CLASS_NAMES))
    for rgb, label in held:
        matrix.update(label, trainer.predict(rgb))
    return float(matrix.compute().miou)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
