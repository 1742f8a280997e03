"""What reduced precision changes in a prediction: the predictor as it runs by default (bf16 on a
CPU with native bf16, autocast on CUDA) against float32 (``--no-amp``), on real photos.

Needs a trained model, since random weights put every class near every other and say nothing about
real labels; train one on the CamVid photos first, for example:

    segstudio-cli train LABELS --images IMAGES --model b0 --minutes 6
    PYTHONPATH=. python tests/benchmarks/predict_precision.py --model LABELS/models/<run>

The photos (``../shared/datasets/camvid-val``, outside the repository) are scored against their
masks: ``--held`` picks the ones a run of ``budget_runs.py camvid`` holds out (every 5th photo
from the 2nd and 4th), else all. Printed: the share of pixels whose label differs, mIoU of both,
the largest difference of the review score ("label this next"), and the time per photo of each.
"""

# ruff: noqa: I001 (segstudio is imported before torch on purpose)
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import segstudio  # noqa: F401 - before torch, as the app
import torch
from PIL import Image

from segstudio.core.metrics import compute_metrics
from segstudio.model.predictor import Predictor
from segstudio.model.weights.checkpoints import load_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from camvid_set import budget_split, camvid_or_skip, photo_stems  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--held", action="store_true", help="only the photos budget_runs.py holds out")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    camvid = camvid_or_skip()
    if camvid is None:
        return 0
    torch.set_num_threads(args.threads)
    model, info = load_model(args.model)
    k = len(info.class_names)
    runs = {"default": Predictor(model, info), "float32": Predictor(model, info, amp=False)}
    print(f"default precision: {runs['default'].amp_dtype or 'float32'} on {runs['default'].device}")
    stems = photo_stems(camvid)
    if args.held:
        stems = budget_split(stems)[1]
    matrices = {name: np.zeros((k, k), np.int64) for name in runs}
    seconds = dict.fromkeys(runs, 0.0)
    differ = pixels = 0
    score_gap = 0.0
    for stem in stems:
        image = np.array(Image.open(camvid / "images" / f"{stem}.jpg").convert("RGB"))
        truth = np.array(Image.open(camvid / "masks" / f"{stem}.png")).astype(np.int64)
        out = {}
        for name, predictor in runs.items():
            predictor.predict(image)  # warm
            start = time.perf_counter()
            out[name] = predictor.predict(image, uncertainty=True)
            seconds[name] += time.perf_counter() - start
            valid = truth < k
            matrices[name] += np.bincount(truth[valid] * k + out[name].labels[valid], minlength=k * k).reshape(k, k)
        differ += int((out["default"].labels != out["float32"].labels).sum())
        pixels += out["float32"].labels.size
        score_gap = max(score_gap, abs(out["default"].score - out["float32"].score))
    miou = {name: compute_metrics(m).miou for name, m in matrices.items()}
    print(f"{len(stems)} photos: {differ} of {pixels} pixels labelled otherwise ({100 * differ / pixels:.3f} %); "
          f"mIoU default {miou['default']:.4f}, float32 {miou['float32']:.4f}; review score differs by at most "
          f"{score_gap:.4f}; ms per photo (labels + review score) default "
          f"{1000 * seconds['default'] / len(stems):.1f}, float32 {1000 * seconds['float32'] / len(stems):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
