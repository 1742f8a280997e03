"""How well does an uncertainty score rank images by the model's real error? (not a test module)

    python tests/benchmarks/uncertainty_rank.py            # 30 and 140 training steps, 3 x 36 images
    python tests/benchmarks/uncertainty_rank.py --quick    # 20 and 120 steps, 3 x 20 images
    python tests/benchmarks/uncertainty_rank.py --work DIR # keep the set and models; reruns only score

Measured on 2 CPU cores shared with other jobs (load ~15): 18 min, --quick 15 min; most of it is
training, so a rerun with --work on the same folder takes ~7 min there.

The script draws its own labelled scenes (5 classes told apart by colour, texture and shape) whose
difficulty varies per image: noise level, object size, clutter (background blobs in class-like
colours), and, in the held-out sets only, unseen styles (swapped colour channels, blurred textures,
low contrast). It trains a tiny SegFormer with the project's engine (``segstudio.model.training.train``) at
two lengths -- under-trained and trained, because the window shows scores of models at every
stage -- predicts three held-out sets with ``Predictor(..., return_probs=True, uncertainty=True)``
and compares candidate image scores with the true per-image error (1 - pixel accuracy and
1 - mIoU over the classes present in the mask or the prediction).

Printed per model: candidate | Spearman rho vs error per set and mean | spread (p90 - p10 of the
scores over all held-out images). A good score ranks well (rho high) and spreads (the file list
shows visibly different numbers).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLASS_NAMES = ["background", "disc", "square", "triangle", "bar"]
COLOURS = {1: (210, 50, 40), 2: (40, 180, 60), 3: (50, 70, 220), 4: (220, 200, 40)}
UNSEEN_STYLES = ("swap", "blur", "dim")

# ---------------------------------------------------------------------------------- generator


def _pattern(kind: int, size: int) -> np.ndarray:
    """Class texture in [0, 1]: stripes, checks, dots, none."""
    yy, xx = np.mgrid[0:size, 0:size]
    if kind == 1:
        return (((xx + yy) // 3) % 2).astype(np.float32)
    if kind == 2:
        return (((xx // 4) + (yy // 4)) % 2).astype(np.float32)
    if kind == 3:
        return ((xx % 5 < 2) & (yy % 5 < 2)).astype(np.float32)
    return np.zeros((size, size), np.float32)


def _draw_shape(kind: int, size: int, r: int, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    cx, cy = (int(v) for v in rng.integers(0, size, size=2))
    if kind == 1:
        cv2.circle(m, (cx, cy), r, 1, -1)
    elif kind == 2:
        cv2.rectangle(m, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
    elif kind == 3:
        cv2.fillPoly(m, [np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)], 1)
    else:
        angle = float(rng.uniform(0, 180))
        box = cv2.boxPoints(((cx, cy), (2.4 * r, 0.7 * r), angle)).astype(np.int32)
        cv2.fillPoly(m, [box], 1)
    return m.astype(bool)


def make_scene(size: int, rng: np.random.Generator, unseen: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One (H, W, 3) uint8 image and its (H, W) label; difficulty drawn per image."""
    noise = float(rng.choice([4, 10, 20, 35, 55]))
    small, large = sorted(rng.uniform(size / 14, size / 3.5, size=2))
    clutter = int(rng.integers(0, 6))
    image = np.empty((size, size, 3), np.float32)
    image[:] = rng.uniform(70, 170) + rng.uniform(-15, 15, size=3)
    for _ in range(clutter):  # background blobs in class-like colours, no class texture
        blob = _draw_shape(int(rng.integers(1, 5)), size, int(rng.integers(3, size // 6)), rng)
        image[blob] = np.array(COLOURS[int(rng.integers(1, 5))], np.float32) * rng.uniform(0.6, 0.9)
    label = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(1, 6))):
        kind = int(rng.integers(1, 5))
        m = _draw_shape(kind, size, int(rng.uniform(small, large + 1)), rng)
        colour = np.array(COLOURS[kind], np.float32) + rng.uniform(-20, 20, size=3)
        image[m] = colour + _pattern(kind, size)[m][:, None] * rng.uniform(25, 45)
        label[m] = kind
    image += rng.normal(0, noise, size=image.shape)
    if rng.random() < unseen:
        image = _restyle(image, str(rng.choice(UNSEEN_STYLES)))
    return np.clip(image, 0, 255).astype(np.uint8), label


def _restyle(image: np.ndarray, style: str) -> np.ndarray:
    if style == "swap":
        return image[:, :, [1, 2, 0]]
    if style == "blur":
        return cv2.GaussianBlur(image, (0, 0), 1.6)
    return 0.45 * image + 60  # "dim": low contrast


def write_project(root: Path, count: int, size: int, seed: int) -> tuple[Path, Path]:
    from segstudio.core.masks import write_mask
    rng = np.random.default_rng(seed)
    image_dir, save_dir = root / "images", root / "labels"
    image_dir.mkdir(parents=True, exist_ok=True)
    save_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image, label = make_scene(size, rng)
        Image.fromarray(image).save(image_dir / f"img_{i:03d}.png")
        write_mask(save_dir / f"img_{i:03d}.png", label)
    (save_dir / "classes.txt").write_text("\n".join(CLASS_NAMES) + "\n", encoding="utf-8")
    return image_dir, save_dir


HELD_OUT = {"mixed": (3, 0.0), "unseen": (4, 0.5), "mixed2": (5, 0.15)}  # name: (seed, unseen share)

# ---------------------------------------------------------------------------------- training


def tiny_config():
    from segstudio.model.segformer import SegFormerConfig
    return SegFormerConfig(hidden_sizes=(24, 48, 64, 96), depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4),
                           sr_ratios=(4, 2, 1, 1), decoder_hidden_size=64, num_labels=len(CLASS_NAMES),
                           drop_path_rate=0.0, classifier_dropout=0.0)


def train_model(root: Path, steps: int, size: int, name: str) -> Path:
    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train
    project = Project(root / "images", root / "labels")
    config = TrainConfig(model_config=tiny_config(), steps=steps, size=size, batch=8, seed=0,
                         name=name, scale_range=(0.8, 1.25), val_every=max(1, steps // 8 // 4))
    result = train(project, config)
    if result.status != "finished":
        raise SystemExit(f"training failed: {result.message}")
    print(f"  {name}: {steps} steps, best val mIoU {result.best_miou:.3f}", flush=True)
    return result.model_dir  # type: ignore[return-value]


# ---------------------------------------------------------------------------------- error & scores


def image_errors(pred: np.ndarray, gt: np.ndarray, k: int) -> tuple[float, float]:
    """(1 - pixel accuracy, 1 - mIoU over classes present in gt or pred)."""
    acc = float((pred == gt).mean())
    ious = []
    for c in range(k):
        p, g = pred == c, gt == c
        union = int((p | g).sum())
        if union:
            ious.append(int((p & g).sum()) / union)
    return 1.0 - acc, 1.0 - float(np.mean(ious))


def _boundary(labels: np.ndarray, radius: int = 2) -> np.ndarray:
    """Pixels within ``radius`` of a change of predicted class."""
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.dilate(edge.astype(np.uint8), kernel).astype(bool)


def _top_mean(values: np.ndarray, q: float) -> float:
    flat = values.ravel()
    n = max(1, int(round(q * flat.size)))
    return float(np.partition(flat, flat.size - n)[flat.size - n:].mean())


def _class_mean(values: np.ndarray, labels: np.ndarray) -> float:
    sums = np.bincount(labels.ravel(), weights=values.ravel().astype(np.float64))
    counts = np.bincount(labels.ravel())
    present = counts > 0
    return float((sums[present] / counts[present]).mean())


def _class_mean_shrunk(values: np.ndarray, labels: np.ndarray, share: float = 0.01) -> float:
    """Class mean where each class's mean is pulled to the image mean by share * pixels."""
    sums = np.bincount(labels.ravel(), weights=values.ravel().astype(np.float64))
    counts = np.bincount(labels.ravel())
    prior = share * labels.size
    present = counts > 0
    means = (sums[present] + prior * values.mean()) / (counts[present] + prior)
    return float(means.mean())


def candidates() -> dict[str, Callable]:
    """name -> f(entropy, margin, confidence, labels) -> score (higher = less sure)."""
    c: dict[str, Callable] = {
        "mean entropy (old)": lambda e, m, p, l: float(e.mean()),
        "mean 1-margin": lambda e, m, p, l: float((1 - m).mean()),
        "mean 1-confidence": lambda e, m, p, l: float((1 - p).mean()),
    }
    for t in (0.1, 0.3, 0.5):
        c[f"frac margin<{t}"] = lambda e, m, p, l, t=t: float((m < t).mean())
    for q in (0.05, 0.1, 0.2):
        c[f"top {int(q * 100)}% entropy"] = lambda e, m, p, l, q=q: _top_mean(e, q)
        c[f"top {int(q * 100)}% 1-margin"] = lambda e, m, p, l, q=q: _top_mean(1 - m, q)
    c["entropy off boundary"] = lambda e, m, p, l: float(e[~_boundary(l)].mean()) if (~_boundary(l)).any() else float(e.mean())
    c["frac margin<0.3 off bnd"] = lambda e, m, p, l: float((m[~_boundary(l)] < 0.3).mean()) if (~_boundary(l)).any() else float((m < 0.3).mean())
    c["class-mean entropy"] = lambda e, m, p, l: _class_mean(e, l)
    c["class-mean 1-margin"] = lambda e, m, p, l: _class_mean(1 - m, l)
    c["class-mean margin<0.3"] = lambda e, m, p, l: _class_mean((m < 0.3).astype(np.float32), l)
    c["class-mean entropy shrunk"] = lambda e, m, p, l: _class_mean_shrunk(e, l)
    c["class-mean 1-margin shrunk"] = lambda e, m, p, l: _class_mean_shrunk(1 - m, l)
    c["class-mean top20% entropy"] = lambda e, m, p, l: float(np.mean(
        [_top_mean(e[l == k], 0.2) for k in np.unique(l)]))
    c["class-mean 1-confidence"] = lambda e, m, p, l: _class_mean(1 - p, l)
    c["class-max 1-margin"] = lambda e, m, p, l: float(max(
        (1 - m)[l == k].mean() for k in np.unique(l)))
    try:  # the score the predictor uses, once it exists
        from segstudio.model.uncertainty import image_score
        c["* Prediction.score"] = lambda e, m, p, l: image_score(m, l)
    except ImportError:
        pass
    return c


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho: Pearson correlation of average ranks (ties share their mean rank)."""
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = float(np.sqrt((ra ** 2).sum() * (rb ** 2).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), float)
    ranks[order] = np.arange(len(x), dtype=float)
    values, inverse = np.unique(x, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / np.bincount(inverse))[inverse]


# ---------------------------------------------------------------------------------- evaluation


def score_sets(model_dir: Path, sets: dict[str, list[tuple[np.ndarray, np.ndarray]]]
               ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """Per set: candidate scores and the two errors (arrays over its images)."""
    from segstudio.model.predictor import Predictor
    from segstudio.model.weights.checkpoints import load_model
    model, info = load_model(model_dir)
    predictor = Predictor(model, info, device="cpu")
    cands = candidates()
    scores, errors = {}, {}
    for name, samples in sets.items():
        s = {c: [] for c in cands}
        e = {"1-acc": [], "1-mIoU": []}
        for image, gt in samples:
            pred = predictor.predict(image, uncertainty=True)
            acc_err, iou_err = image_errors(pred.labels, gt, len(CLASS_NAMES))
            e["1-acc"].append(acc_err)
            e["1-mIoU"].append(iou_err)
            for c, fn in cands.items():
                s[c].append(fn(pred.entropy, pred.margin, pred.confidence, pred.labels))
        scores[name] = {c: np.array(v) for c, v in s.items()}
        errors[name] = {k: np.array(v) for k, v in e.items()}
    return scores, errors


def print_table(title: str, scores, errors) -> None:
    sets = list(scores)
    print(f"\n{title}")
    err_line = "  ".join(f"{n}: 1-acc {errors[n]['1-acc'].mean():.3f}, 1-mIoU {errors[n]['1-mIoU'].mean():.3f}"
                         for n in sets)
    print(f"  mean error  {err_line}")
    head = f"| {'candidate':26s} | " + " | ".join(f"{n[:7]:>7s}" for n in sets)
    print(head + " | mean rho (1-acc) | mean rho (1-mIoU) | spread p90-p10 | range |")
    print("|" + "-" * 28 + "|" + "---------|" * len(sets) + "------------------|-------------------|----------------|-------|")
    for c in scores[sets[0]]:
        rho_acc = [spearman(scores[n][c], errors[n]["1-acc"]) for n in sets]
        rho_iou = [spearman(scores[n][c], errors[n]["1-mIoU"]) for n in sets]
        every = np.concatenate([scores[n][c] for n in sets])
        p10, p90 = np.percentile(every, [10, 90])
        cells = " | ".join(f"{a:+.2f}/{b:+.2f}" for a, b in zip(rho_acc, rho_iou))
        print(f"| {c:26s} | {cells} | {np.mean(rho_acc):+16.3f} | {np.mean(rho_iou):+17.3f} "
              f"| {p90 - p10:14.3f} | {every.min():.2f}-{every.max():.2f} |")
    print("  per-set cells: rho vs (1-acc) / rho vs (1-mIoU)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sets and shorter training")
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--steps", default=None, help="comma-separated training lengths (default 30,140)")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep the generated project and models here; a model already there is reused")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(2)
    train_count, test_count = (32, 20) if args.quick else (48, 36)
    steps = [int(s) for s in (args.steps or ("20,120" if args.quick else "30,140")).split(",")]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work.resolve() if args.work else Path(tmp)
        if not (root / "images").is_dir():
            write_project(root, train_count, args.size, seed=1)
        sets = {}
        for name, (seed, unseen) in HELD_OUT.items():
            rng = np.random.default_rng(seed)
            sets[name] = [make_scene(args.size, rng, unseen) for _ in range(test_count)]
        print(f"train {train_count} images, held-out sets {list(sets)} x {test_count}, {args.size} px",
              flush=True)
        for n in steps:
            model_dir = root / "labels" / "models" / f"s{n}"
            if not (model_dir / "model.safetensors").is_file():
                model_dir = train_model(root, n, args.size, f"s{n}")
            scores, errors = score_sets(model_dir, sets)
            print_table(f"model after {n} steps", scores, errors)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
