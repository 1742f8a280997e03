"""The label → model loop: our `segstudio-cli train` with defaults next to a plain transformers loop.

    python tests/benchmarks/loop_speed.py                  # 4 kinds of set, 600 steps (~15+ min on 2 cores)
    python tests/benchmarks/loop_speed.py --quick          # texture + colour, 150 steps
    python tests/benchmarks/loop_speed.py --kinds texture --steps 300
    python tests/benchmarks/loop_speed.py --set camvid     # real road photos (../shared), 600 steps
    python tests/benchmarks/loop_speed.py --also=--no-amp  # and ours again with these arguments

``--set camvid`` reads ../shared/datasets/camvid-val/ (101 CamVid frames of one drive, 480×360, 11
classes; never copied into the repository), resizes each photo to a long side of --image (default
192 for this set, labels nearest) and trains on the first --count frames in time order (default
64); the last 37, later stretches of the same street, are held out. It exits with a clear reason
where ../shared is absent.

For each generated set (tests/model/loop_sets.py: 32 labelled images of 160², 4 classes told apart
by colour, texture, shape or scale, plus 16 held-out images) it runs, one after the other in the
same session so a busy machine slows both alike:

* **plain**: a separate process with transformers' SegformerForSemanticSegmentation (B0, random
  init), all 32 images as tensors in memory, random 128 crops and flips, AdamW 1e-3 with 5 %
  warmup and poly decay, cross-entropy, batch 8; it scores the held-out set every 10 % of the run
  (scoring time is not counted);
* **ours**: ``segstudio-cli train SAVE --images IMG --model b0 --steps N --size 128 --batch 8``
  with every other setting at its default; its best model is then scored on the held-out set
  with our Predictor (the way the app predicts).

Printed per set: seconds to 0.8 (plain: held-out mIoU; ours: its own validation split's mIoU, the
number it sees while training), final held-out mIoU, whole-process seconds, and where our time
goes (setup, data, steps, validation, checkpoints; from history.json's "timing").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "model"))
sys.path.insert(0, str(ROOT))

import segstudio  # noqa: E402, F401 - sets GOMP_SPINCOUNT before torch loads (both loops' processes inherit it)


def score(pred: np.ndarray, gt: np.ndarray, k: int) -> float:
    from segstudio.core.metrics import compute_metrics
    valid = gt != 255
    matrix = np.bincount(gt[valid].astype(np.int64) * k + pred[valid], minlength=k * k).reshape(k, k)
    return float(compute_metrics(matrix).miou)


# ------------------------------------------------------------------------------ the plain loop


def plain_loop(image_dir: str, save_dir: str, held_images: str, held_labels: str, steps: int,
               crop: int, batch: int, lr: float) -> None:
    """Child process: prints JSON lines {"step", "miou", "t"} (t excludes scoring time)."""
    import torch
    import torch.nn.functional as F
    from loop_sets import load_set
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    from segstudio.model.segformer import config_for
    start = time.perf_counter()
    k = class_count(save_dir)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255

    def tensors(images, labels):
        x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() - mean) / std
        return x, torch.from_numpy(labels).long()

    x, y = tensors(*load_set(Path(image_dir), Path(save_dir)))
    hx, hy = tensors(*load_set(Path(held_images), Path(held_labels)))
    torch.manual_seed(0)
    c = config_for("b0", k)
    model = SegformerForSemanticSegmentation(SegformerConfig(
        hidden_sizes=list(c.hidden_sizes), depths=list(c.depths), num_attention_heads=list(c.num_heads),
        sr_ratios=list(c.sr_ratios), decoder_hidden_size=c.decoder_hidden_size, num_labels=k))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps))
    gen = torch.Generator().manual_seed(0)
    scoring = 0.0

    def evaluate(step: int) -> None:
        nonlocal scoring
        t = time.perf_counter()
        model.eval()
        with torch.no_grad():
            logits = model(pixel_values=hx).logits
            pred = F.interpolate(logits, size=hy.shape[-2:], mode="bilinear").argmax(1)
        model.train()
        miou = score(pred.numpy().astype(np.int64), hy.numpy(), k)
        scoring += time.perf_counter() - t
        print(json.dumps({"step": step, "miou": miou, "t": time.perf_counter() - start - scoring}),
              flush=True)

    n, h, w = y.shape
    for step in range(steps):
        idx = torch.randint(0, n, (batch,), generator=gen)
        tops = torch.randint(0, h - crop + 1, (batch,), generator=gen)
        lefts = torch.randint(0, w - crop + 1, (batch,), generator=gen)
        flips = torch.rand(batch, generator=gen) < 0.5
        xb = torch.stack([x[i, :, t:t + crop, l:l + crop] for i, t, l in zip(idx, tops, lefts)])
        yb = torch.stack([y[i, t:t + crop, l:l + crop] for i, t, l in zip(idx, tops, lefts)])
        xb[flips], yb[flips] = xb[flips].flip(-1), yb[flips].flip(-1)
        logits = model(pixel_values=xb).logits
        loss = F.cross_entropy(F.interpolate(logits, size=(crop, crop), mode="bilinear"), yb,
                               ignore_index=255)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(1, steps // 10) == 0 or step + 1 == steps:
            evaluate(step + 1)


# ------------------------------------------------------------------------------ runs


def run_plain(sets: dict, args) -> dict:
    started = time.perf_counter()
    cmd = [sys.executable, __file__, "--child-plain", sets["images"], sets["labels"], sets["held_images"],
           sets["held_labels"], str(args.steps), str(args.size), str(args.batch)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    wall = time.perf_counter() - started
    points = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    to_08 = next((p["t"] for p in points if p["miou"] >= 0.8), None)
    return {"wall": wall, "final": points[-1]["miou"], "to_08": to_08}


def run_ours(sets: dict, args, name: str, extra: list[str] | None = None) -> dict:
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "segstudio.cli.main", "train", sets["labels"], "--images", sets["images"],
           "--model", "b0", "--steps", str(args.steps), "--size", str(args.size), "--batch",
           str(args.batch), "--out", name, "--json", *(extra or [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    to_08 = None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "epoch" and to_08 is None and (event["val_miou"] or 0) >= 0.8:
            to_08 = time.perf_counter() - started
    proc.wait()
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"ours failed: {proc.stderr.read()[-2000:]}")
    folder = Path(sets["labels"]) / "models" / name
    timing = json.loads((folder / "history.json").read_text())["timing"]
    return {"wall": wall, "final": held_out_ours(folder, sets), "to_08": to_08, "timing": timing}


def held_out_ours(folder: Path, sets: dict) -> float:
    from loop_sets import load_set

    from segstudio.model.predictor import Predictor
    from segstudio.model.weights.checkpoints import load_model
    model, info = load_model(folder)
    predictor = Predictor(model, info, device="cpu", amp=False)  # float32: the recipe is compared, not the precision
    images, labels = load_set(Path(sets["held_images"]), Path(sets["held_labels"]))
    preds = np.stack([predictor.predict(img).labels for img in images]).astype(np.int64)
    return score(preds, labels, class_count(sets["labels"]))


def class_count(save_dir: str | Path) -> int:
    """Classes of a set (its classes.txt, background included)."""
    return len((Path(save_dir) / "classes.txt").read_text(encoding="utf-8").split("\n")) - 1


CAMVID = ROOT.parent / "shared" / "datasets" / "camvid-val"


def camvid_missing() -> str | None:
    """Why the CamVid set cannot be used here, or None."""
    if not any((CAMVID / "images").glob("*.jpg")) or not (CAMVID / "masks" / "classes.txt").is_file():
        return (f"skipped: the CamVid set is not at {CAMVID} (it lives in ../shared, outside the "
                "repository, and is absent on this machine)")
    return None


def make_camvid(root: Path, long_side: int, count: int) -> dict:
    """Train on the first ``count`` frames of the drive (time order), hold out the rest, all resized
    to ``long_side`` (photos area-averaged, masks nearest), laid out as loop_sets writes its sets."""
    import cv2
    from PIL import Image

    from segstudio.core.masks import read_mask, write_mask
    photos = sorted((CAMVID / "images").glob("*.jpg"))
    if not 0 < count < len(photos):
        raise SystemExit(f"--count must be 1 to {len(photos) - 1} for camvid ({len(photos)} photos)")
    names = (CAMVID / "masks" / "classes.txt").read_text(encoding="utf-8").split()
    out = {}
    for part, chunk in (("train", photos[:count]), ("held", photos[count:])):
        images, labels = root / "camvid" / part / "images", root / "camvid" / part / "labels"
        images.mkdir(parents=True)
        labels.mkdir(parents=True)
        for i, path in enumerate(chunk):
            image = np.asarray(Image.open(path).convert("RGB"))
            scale = long_side / max(image.shape[:2])
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            Image.fromarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA)).save(images / f"img_{i:03d}.png")
            mask = read_mask(CAMVID / "masks" / f"{path.stem}.png")
            write_mask(labels / f"img_{i:03d}.png", cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST))
        (labels / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
        key = "" if part == "train" else "held_"
        out[f"{key}images"], out[f"{key}labels"] = str(images), str(labels)
    return out


def make_sets(root: Path, kind: str, args) -> dict:
    from loop_sets import make_set
    if kind == "camvid":
        return make_camvid(root, args.image, args.count)
    images, labels = make_set(root / kind / "train", kind, args.count, args.image, seed=0)
    held_images, held_labels = make_set(root / kind / "held", kind, args.held, args.image, seed=1)
    return {"images": str(images), "labels": str(labels), "held_images": str(held_images),
            "held_labels": str(held_labels)}


def fmt(v, spec=".1f") -> str:
    return "—" if v is None else format(v, spec)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kinds", default="texture,colour,shape,scale")
    p.add_argument("--set", choices=["generated", "camvid"], default="generated",
                   help="camvid: real road photos from ../shared/datasets/camvid-val (see above)")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--count", type=int, default=None, help="training images (32; camvid 64)")
    p.add_argument("--held", type=int, default=16)
    p.add_argument("--image", type=int, default=None, help="image long side (160; camvid 192)")
    p.add_argument("--quick", action="store_true", help="texture and colour, 150 steps")
    p.add_argument("--also", default=None, help="run ours a second time with these extra arguments "
                   "(one string, e.g. --also=--no-amp), in the same invocation")
    p.add_argument("--child-plain", nargs=7, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_plain:
        a = args.child_plain
        plain_loop(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]), 1e-3)
        return
    if args.quick:
        args.kinds, args.steps = "texture,colour", 150
    camvid = args.set == "camvid"
    if camvid:
        args.kinds = "camvid"
        if camvid_missing():
            print(camvid_missing())
            return
    args.count = args.count or (64 if camvid else 32)
    args.image = args.image or (192 if camvid else 160)
    import torch
    what = (f"CamVid: the first {args.count} frames resized to a long side of {args.image}, the rest held out"
            if camvid else f"{args.count} images of {args.image}², {args.held} held out")
    print(f"{args.steps} steps, batch {args.batch}, crop {args.size}, {what}; torch threads "
          f"{torch.get_num_threads()}", flush=True)
    header = (f"{'set':8} {'who':6} {'to 0.8 s':>8} {'held-out mIoU':>13} {'whole s':>8}   "
              "ours: setup / data / steps / validation / checkpoints s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            sets = make_sets(Path(tmp), kind, args)
            plain = run_plain(sets, args)
            runs = {"ours": run_ours(sets, args, "bench")}
            if args.also:
                runs["ours+"] = run_ours(sets, args, "bench-also", args.also.split())
            rows.append(f"{kind:8} {'plain':6} {fmt(plain['to_08']):>8} {plain['final']:>13.3f} "
                        f"{plain['wall']:>8.1f}")
            for who, ours in runs.items():
                t = ours["timing"]
                rows.append(f"{kind:8} {who:6} {fmt(ours['to_08']):>8} {ours['final']:>13.3f} "
                            f"{ours['wall']:>8.1f}   {t['setup_s']:.1f} / {t['data_s']:.1f} / {t['steps_s']:.1f}"
                            f" / {t['validation_s']:.1f} / {t['checkpoints_s']:.1f}"
                            f"   (time ratio {ours['wall'] / plain['wall']:.2f}, "
                            f"mIoU {ours['final'] - plain['final']:+.3f})")
            print("\n".join(rows[-1 - len(runs):]), flush=True)
    print("\n" + header)
    print("\n".join(rows))
    if args.also:
        print(f"ours+ = ours with {args.also}")


if __name__ == "__main__":
    main()
