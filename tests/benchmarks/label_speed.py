"""From 1/4-resolution logits to a full-size label map: every class score upsampled then the
argmax (transformers' ``post_process_semantic_segmentation``), against ours, which upsamples only
the pixels on the edges between predicted regions (``segstudio/model/upsampled_labels.py``).

The logits come from real photos: with ``--model DIR`` those of a trained model on the CamVid
photos (as ``predict`` computes them), else made from the CamVid ground truth, a model that is
mostly right: each class's share of every 4x4 block, scaled, plus noise (``--classes`` above the
dataset's 12 adds classes that never win, as a 150-class ADE20K head has). The photos live outside
the repository (``../shared/datasets/camvid-val``); the script says so when they are absent.

    PYTHONPATH=. python tests/benchmarks/label_speed.py                    # 480x360 and 4x that
    PYTHONPATH=. python tests/benchmarks/label_speed.py --classes 150
    PYTHONPATH=. python tests/benchmarks/label_speed.py --model /path/to/trained/model
"""

# ruff: noqa: I001 (segstudio is imported before torch on purpose)
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import segstudio  # noqa: F401 - before torch, as the app
import torch
import torch.nn.functional as F
from PIL import Image

from segstudio.model.upsampled_labels import _uniform_cells, upsampled_labels

sys.path.insert(0, str(Path(__file__).resolve().parent))
from camvid_set import camvid_or_skip, photo_stems  # noqa: E402


def truth_logits(mask: np.ndarray, classes: int, rng: np.random.Generator) -> torch.Tensor:
    """(K, h/4, w/4) logits of a mostly right model: 8 x class share of each 4x4 block + noise."""
    labels = torch.from_numpy(mask.astype(np.int64)).clamp_max(classes - 1)
    onehot = F.one_hot(labels, classes).permute(2, 0, 1).float()[None]
    share = F.avg_pool2d(onehot, 4, ceil_mode=True)[0]
    return 8 * share + torch.from_numpy(rng.normal(0, 0.5, share.shape).astype(np.float32))


def model_logits(model_dir: Path, image: np.ndarray) -> torch.Tensor:
    from segstudio.model.predictor import Predictor
    from segstudio.model.weights.checkpoints import load_model
    if not hasattr(model_logits, "predictor"):
        model, info = load_model(model_dir)
        model_logits.predictor = Predictor(model, info)  # type: ignore[attr-defined]
    p = model_logits.predictor  # type: ignore[attr-defined]
    with torch.inference_mode():
        x = F.interpolate(p._to_tensor(image), size=p.input_size(image.shape[:2]), mode="bilinear",
                          align_corners=False, antialias=True)
        return p._run(x)[0]


def every_score(logits: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """transformers' post-processing: F.interpolate of all K scores, then the argmax."""
    up = F.interpolate(logits[None], size=shape, mode="bilinear", align_corners=False)
    return up[0].argmax(0)


def timed(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--scales", default="1,4", help="output sizes as multiples of the photo's")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    camvid = camvid_or_skip()
    if camvid is None:
        return 0
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    stems = photo_stems(camvid)[::10][:args.photos]
    print(f"{len(stems)} CamVid photos, logits from {args.model or f'the ground truth, {args.classes} classes'}")
    print("| output size | logits | edge cells | every score, ms | ours, ms | speed-up | pixels differing |")
    print("|---|---|---|---|---|---|---|")
    for scale in (int(s) for s in args.scales.split(",")):
        rows = []
        for stem in stems:
            image = np.array(Image.open(camvid / "images" / f"{stem}.jpg").convert("RGB"))
            if args.model:
                logits = model_logits(args.model, image)
            else:
                logits = truth_logits(np.asarray(Image.open(camvid / "masks" / f"{stem}.png")), args.classes, rng)
            shape = (image.shape[0] * scale, image.shape[1] * scale)
            with torch.inference_mode():
                full, ours = every_score(logits, shape), upsampled_labels(logits, shape).long()
                edges = float((~_uniform_cells(logits.argmax(0))).float().mean())
                rows.append((timed(lambda: every_score(logits, shape), args.runs),
                             timed(lambda: upsampled_labels(logits, shape), args.runs),
                             int((full != ours).sum()), edges))
        full_ms, ours_ms = statistics.mean(r[0] for r in rows), statistics.mean(r[1] for r in rows)
        print(f"| {shape[1]}x{shape[0]} | {tuple(logits.shape)} | {statistics.mean(r[3] for r in rows):.3f} | "
              f"{full_ms:.1f} | {ours_ms:.1f} | {full_ms / ours_ms:.1f}x | {sum(r[2] for r in rows)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
