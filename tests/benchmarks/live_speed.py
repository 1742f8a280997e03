"""Live training from scribbles: first overlay, held-out mIoU over time, longest GUI-thread block.

Plain script (not collected by pytest):

    python tests/benchmarks/live_speed.py [--kind colour] [--seconds 120] [--init auto]
    python tests/benchmarks/live_speed.py --set camvid   # real photos (../shared/datasets/camvid-val/)

Drives the session layer without a screen, the way the window does: a worker thread runs
``LiveSession`` cycles (a burst of training on the scribbled images, then a prediction of the
image "on screen"), while the main thread plays the GUI: a 60 Hz timer that also paints a stroke
into the on-screen scribbles now and then. It prints when the first overlay arrived, the held-out
mIoU every 15 s, and the longest and 99th-percentile gap of the GUI timer (what a user feels); each
cycle also scores one held-out image's uncertainty, as live mode does with the other images. At the
end the model is kept as turning live mode off does, written on a worker, and the GUI timer's
longest gap meanwhile is printed (written on the GUI thread, a B0 held the window 135-153 ms).

The generated set is the loop benchmark's generator (tests/model/loop_sets.py): 8 training images
whose scribbles are thin strokes through each object and the background (at most 5 % of the
pixels), and 8 held-out images scored on every pixel.

``--set camvid`` takes real road scenes instead (tests/benchmarks/camvid_set.py: 8 photos with the
short strokes a person paints inside objects, about 3 % of their pixels, seeded; 8 other scenes
held out, 11 classes, void ignored), and first runs the reference on the same strokes in the same
process: scikit-image's trainable segmentation (``multiscale_basic_features`` and a 50-tree random
forest, what ilastik, QuPath, Labkit and napari-convpaint do). It needs scikit-image and
scikit-learn (``pip install -e .[bench]``). The table gives live mode's held-out mIoU (the learner
shown: the instant learner or the deep model, see application/live/shown_model.py) and each
learner's own.
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
from camvid_set import camvid_root, class_names, load_split  # noqa: E402
from camvid_set import scribbles_of as camvid_scribbles  # noqa: E402
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


def load_set(args, rng: np.random.Generator) -> tuple[list[str], list, list]:
    """(class names, scribbled training pairs, held-out pairs) of the set asked for."""
    if args.set == "camvid":
        root, why = camvid_root()
        if root is None:
            raise SystemExit(f"--set camvid: {why}")
        train, held = load_split(root)
        return class_names(root), [(rgb, camvid_scribbles(label, rng)) for rgb, label in train], held
    train = [make_sample(args.kind, 160, rng) for _ in range(8)]
    held = [make_sample(args.kind, 160, rng) for _ in range(8)]
    return CLASS_NAMES, [(rgb, scribbles_of(label, rng)) for rgb, label in train], held


def forest_reference(names: list[str], scribbled: list, held: list) -> float:
    """scikit-image's trainable segmentation on the same strokes (its documented settings); prints
    its times; the held-out mIoU."""
    from functools import partial

    from skimage.feature import multiscale_basic_features
    from skimage.future import fit_segmenter, predict_segmenter
    from sklearn.ensemble import RandomForestClassifier

    features = partial(multiscale_basic_features, intensity=True, edges=False, texture=True,
                       sigma_min=1, sigma_max=16, channel_axis=-1)
    started = time.perf_counter()
    stacked = np.concatenate([features(rgb) for rgb, _ in scribbled], axis=0)
    strokes = np.concatenate([s for _, s in scribbled], axis=0).astype(np.int64)
    strokes = np.where(strokes == IGNORE_INDEX, 0, strokes + 1)  # fit_segmenter: 0 is "not labelled"
    forest = RandomForestClassifier(n_estimators=50, n_jobs=-1, max_depth=10, max_samples=0.05, random_state=0)
    forest = fit_segmenter(strokes, stacked, forest)
    fitted = time.perf_counter() - started
    matrix = ConfusionMatrix(len(names))
    for rgb, label in held:
        matrix.update(label, (predict_segmenter(features(rgb), forest) - 1).astype(np.uint8))
    predicted = time.perf_counter() - started - fitted
    miou = float(matrix.compute().miou)
    print(f"reference: scikit-image random forest (50 trees, n_jobs=-1): features + fit {fitted:.1f} s, "
          f"8 held-out predicted in {predicted:.1f} s: held-out mIoU {miou:.3f}")
    return miou


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="generated", choices=("generated", "camvid"))
    parser.add_argument("--kind", default="colour", help="the generated set's kind")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--init", default="auto", help="auto, b0, a model folder…")
    parser.add_argument("--size", type=int, default=None, help="crop size (128 generated; camvid: live mode's own)")
    parser.add_argument("--lr", type=float, default=None, help="the trainer's rate (default: live mode's own)")
    parser.add_argument("--balanced", action="store_true", help="crops centred on a painted pixel of a uniform class")
    parser.add_argument("--pseudo", type=int, default=None, help="1/0: the instant learner's confident labels teach the deep model")
    parser.add_argument("--half-life", type=float, default=None, help="the live lr's half-life in steps")
    parser.add_argument("--no-reference", action="store_true", help="camvid: skip the random forest")
    args = parser.parse_args(argv)
    size = args.size or (None if args.set == "camvid" else 128)
    names, scribbled, held = load_set(args, np.random.default_rng(0))
    if args.set == "camvid" and not args.no_reference:
        forest_reference(names, scribbled, held)
    import torch

    from segstudio.application.live.live_session import LiveSession
    from segstudio.model.training.live import LiveTrainer

    torch.set_num_threads(1)
    share = np.mean([(s != IGNORE_INDEX).mean() for _, s in scribbled])
    project = FakeProject([rgb for rgb, _ in held])
    session = LiveSession(project, lambda: LiveTrainer(names, init=args.init, size=size,
                                                       save_dir=tempfile.mkdtemp(), lr=args.lr,
                                                       balanced=args.balanced),
                          num_classes=len(names), **({} if args.pseudo is None else {"pseudo": bool(args.pseudo)}))
    if args.half_life:
        from functools import partial

        import segstudio.model.training.live as live_module

        live_module.live_lr_factor = partial(live_module.live_lr_factor, half_life=args.half_life)
    session.samples = lambda current, rgb, label: [(rgb, label)] + scribbled[1:]  # all on "screen"
    stop = threading.Event()
    log: list[tuple[float, str, float]] = []
    started = time.perf_counter()

    scores: list[tuple[float, int, int, str, tuple[float, float, float]]] = []

    def worker() -> None:  # cycles, and a held-out score every 15 s (between bursts: one model user)
        next_score = 15.0
        while not stop.is_set():
            result = session.cycle(None, scribbled[0][0], scribbled[0][1], stop.is_set)
            if result.labels is not None:
                log.append((time.perf_counter() - started, result.shown, result.loss))
            if time.perf_counter() - started >= next_score:
                at = time.perf_counter() - started
                steps = session.trainer.steps if session.trainer is not None else 0
                scores.append((at, steps, session.instant.steps, session.rule.shown,
                               held_out_mious(session, held, len(names))))
                next_score += 15.0

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    gaps, last, shown = [], time.perf_counter(), 0
    what = "camvid" if args.set == "camvid" else args.kind
    print(f"{what} set: 8 training images, scribbles on {100 * share:.1f} % of their pixels; "
          f"start {args.init}, crops {size or 'live mode own'}, lr {args.lr or 'default'}")
    first_overlay = None
    while time.perf_counter() - started < args.seconds:
        time.sleep(1 / 60)
        now = time.perf_counter()
        gaps.append(now - last - 1 / 60)
        last = now
        if first_overlay is None and log:
            first_overlay = log[0][0]
            print(f"first overlay after {first_overlay:.1f} s (by the {log[0][1]} learner)")
        while shown < len(scores):
            at, steps, instant_steps, which, (ours, instant, deep) = scores[shown]
            print(f"{at:5.0f} s  held-out mIoU live mode {ours:.3f} (shows {which:7s})  instant {instant:.3f} "
                  f"({instant_steps:4d} steps)  deep {deep:.3f} ({steps:4d} steps)")
            shown += 1
    stop.set()
    thread.join()
    gaps_ms = 1000 * np.array(gaps)
    print(f"GUI timer: longest gap {gaps_ms.max():.0f} ms, 99th percentile {np.percentile(gaps_ms, 99):.0f} ms "
          f"over {len(gaps)} ticks")
    ours, instant, deep = held_out_mious(session, held, len(names))
    print(f"final held-out mIoU live mode {ours:.3f}, instant {instant:.3f}, deep {deep:.3f} after "
          f"{session.trainer.steps} deep steps; the rule's aside scores (instant, deep, pixels) {session.rule.scores()}")
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
    pairs = [(session.scores[e.image_path], 1.0 - float((session.predict(rgb) == label).mean()))
             for e, (rgb, label) in zip(project.entries, held) if e.image_path in session.scores]
    if len(pairs) < 3:
        return "too few to rank"
    ranks = np.argsort(np.argsort(np.array(pairs), axis=0), axis=0).astype(float)
    return f"Spearman rho between score and pixel error {np.corrcoef(ranks.T)[0, 1]:.2f}"


def held_out_mious(session, held, classes: int) -> tuple[float, float, float]:
    """Held-out mIoU of the learner shown, of the instant learner and of the deep model (NaN: none yet)."""
    def miou(predict) -> float:
        matrix = ConfusionMatrix(classes)
        for rgb, label in held:
            matrix.update(label, predict(rgb))
        return float(matrix.compute().miou)

    instant = miou(session.instant.predict) if session.instant.steps else float("nan")
    deep = miou(session.trainer.predict) if session.trainer is not None else float("nan")
    return (deep if session.rule.shown == "deep" else instant), instant, deep


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
