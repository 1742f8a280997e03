"""Live mode's deep model at equal training steps on CamVid scribbles: what helps it learn from few strokes.

Plain script (not collected by pytest):

    python tests/benchmarks/live_steps.py [--pseudo] [--size 128] [--seed 0] [--lr 3e-3]

The same 8 scribbled and 8 held-out scenes as ``live_speed.py --set camvid`` (tests/benchmarks/
camvid_set.py; strokes minus the share live mode keeps aside), a LiveTrainer from scratch trained in
bursts of 8 steps with nothing else on the thread, and the held-out mIoU every 80 steps. Steps, not
seconds: a time budget on a shared machine measures the load as much as the recipe. ``--pseudo``
first trains the instant learner 600 steps and lets its confident labels fill the unpainted pixels
(application/live/pseudo_labels.py), as live mode does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from camvid_set import camvid_root, class_names, load_split, scribbles_of  # noqa: E402

from segstudio.core.metrics import ConfusionMatrix  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pseudo", action="store_true")
    parser.add_argument("--size", type=int, default=None, help="crop size (default: live mode's own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args(argv)
    root, why = camvid_root()
    if root is None:
        print(why, file=sys.stderr)
        return 1
    import torch

    from segstudio.application.live.instant import InstantLearner
    from segstudio.application.live.pseudo_labels import PseudoLabels
    from segstudio.application.live.shown_model import split_aside
    from segstudio.model.training.live import LiveTrainer

    torch.set_num_threads(1)
    train, held = load_split(root)
    names = class_names(root)
    rng = np.random.default_rng(0)
    pairs = [(rgb, split_aside(scribbles_of(label, rng))[0]) for rgb, label in train]
    taught = pairs
    if args.pseudo:
        instant = InstantLearner(len(names))
        instant.update(pairs)
        instant.train(600)
        pseudo = PseudoLabels()
        while pseudo.refresh(instant, pairs):
            pass
        taught = pseudo.merged(pairs)
    trainer = LiveTrainer(names, init="auto", seed=args.seed, size=args.size, lr=args.lr)
    started, row = time.perf_counter(), []
    for target in range(80, args.steps + 1, 80):
        while trainer.steps < target:
            trainer.train(taught, 8)
        matrix = ConfusionMatrix(len(names))
        for rgb, label in held:
            matrix.update(label, trainer.predict(rgb))
        row.append(f"{target}: {matrix.compute().miou:.3f}")
    print(f"pseudo {args.pseudo}, crops {trainer.size}, seed {args.seed}: held-out mIoU after " + ", ".join(row)
          + f" steps ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
