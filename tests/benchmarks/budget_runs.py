"""Does a time budget end on time, and what does it learn? ``segstudio-cli train --minutes N``, timed
as a whole process, next to a run of planned steps, each scored on held-out images.

    python tests/benchmarks/budget_runs.py generated            # --minutes 2 and --steps 600, ~10 min
    python tests/benchmarks/budget_runs.py generated --minutes 3 --no-reference
    python tests/benchmarks/budget_runs.py camvid --minutes 10  # 60 CamVid photos, scored on the other 41
    python tests/benchmarks/budget_runs.py generated --also ../old  # the same budget by another checkout too

``generated``: the loop benchmark's texture set (tests/model/loop_sets.py: 32 labelled images of
160², 16 held out); the budgeted run (``--model b0 --minutes M``, every other setting at its default)
and the loop benchmark's planned run (``--model b0 --steps 600 --size 128 --batch 8``) one after the
other, so a busy machine slows both alike. ``camvid``: ../shared/datasets/camvid-val (skipped with
a reason when absent): a fixed subset of 60 photos is trained on (``--model b0 --minutes M``) and
the other 41 are scored with ``segstudio-cli evaluate``. Nothing is copied into the repository: the
projects are made in a temporary folder (links to the photos, copies of the masks).

``--also DIR`` runs the budget a second time with the segstudio of another checkout (a ``git worktree``
of an older commit), first, in the same invocation: a before/after under the same load.

Printed: planned seconds, whole-process seconds (the subprocess's wall clock, start to exit), the
plan (crop, batch, steps) from history.json, steps done, and the held-out mIoU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAMVID = ROOT.parent / "shared" / "datasets" / "camvid-val"
sys.path.insert(0, str(ROOT / "tests" / "model"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from camvid_set import budget_split, photo_stems  # noqa: E402


def cli(*args: str, root: Path = ROOT) -> tuple[int, float, str]:
    """Run ``segstudio-cli`` of the checkout ``root`` as its own process: (status, wall seconds, stderr)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "segstudio.cli.main", *args], cwd=root, capture_output=True,
                          text=True)
    return done.returncode, time.perf_counter() - started, done.stderr + done.stdout


def held_out_miou(model: Path, images: Path, masks: Path, classes: Path) -> float:
    status, _, out = cli("evaluate", str(masks), "--classes", str(classes), "--model", str(model),
                         "--images", str(images), "--json", "--no-amp")  # float32 scores, as before bf16 prediction
    if status != 0:
        raise SystemExit(f"evaluate failed: {out[-800:]}")
    return float(json.loads(out[out.index("{"):])["miou"])


def train_and_score(label: str, save: Path, images: Path, held: tuple[Path, Path], extra: list[str],
                    planned_s: float | None, root: Path = ROOT) -> dict:
    load = os.getloadavg()[0]
    status, wall, out = cli("train", str(save), "--images", str(images), "--model", "b0", "--workers", "0",
                            "--out", label, *extra, root=root)
    if status != 0:
        raise SystemExit(f"{label} failed ({status}): {out[-1500:]}")
    folder = save / "models" / label
    history = json.loads((folder / "history.json").read_text())
    plan = history.get("budget") or {}
    row = {"run": label, "planned_s": planned_s, "wall_s": round(wall, 1), "steps": history.get("step"),
           "crop": plan.get("size"), "batch": plan.get("batch"),
           "miou": round(held_out_miou(folder, held[0], held[1], save / "classes.txt"), 3),
           "load": f"{load:.1f}-{os.getloadavg()[0]:.1f}", "lr": plan.get("lr"),
           "timing": history.get("timing"), "plan": plan}
    notes = [line for line in out.splitlines() if line.startswith("note: ") and "budget" in line
             or "plan was changed" in line or "measured steps" in line]
    row["notes"] = notes
    print(json.dumps(row), flush=True)
    return row


def generated(minutes: float, steps: int, work: Path, reference: bool = True, also: Path | None = None
              ) -> list[dict]:
    from loop_sets import make_set
    images, save = make_set(work / "train", "texture", 32, 160, 0)
    held = make_set(work / "held", "texture", 16, 160, 1)
    budget = ["--minutes", f"{minutes:g}"]
    rows = [train_and_score(f"also-{minutes:g}min", save, images, held, budget, minutes * 60, also)] if also else []
    rows.append(train_and_score(f"budget-{minutes:g}min", save, images, held, budget, minutes * 60))
    if reference:
        rows.append(train_and_score(f"steps-{steps}", save, images, held,
                                    ["--steps", str(steps), "--size", "128", "--batch", "8"], None))
    return rows


def camvid(minutes: float, work: Path, also: Path | None = None) -> list[dict]:
    if not CAMVID.is_dir():
        print(f"skipped: {CAMVID} is absent (the CamVid photos live outside the repository)")
        return []
    stems = photo_stems(CAMVID)
    train = set(budget_split(stems)[0])  # 61 of 101, spread along the video
    dirs = {name: work / name for name in ("images", "labels", "held_images", "held_masks")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    for stem in stems:
        image, mask = CAMVID / "images" / f"{stem}.jpg", CAMVID / "masks" / f"{stem}.png"
        into = ("images", "labels") if stem in train else ("held_images", "held_masks")
        os.symlink(image, dirs[into[0]] / image.name)
        shutil.copyfile(mask, dirs[into[1]] / mask.name)
    shutil.copyfile(CAMVID / "masks" / "classes.txt", dirs["labels"] / "classes.txt")
    print(f"camvid: {len(train)} photos trained on, {len(stems) - len(train)} held out", flush=True)
    held, budget = (dirs["held_images"], dirs["held_masks"]), ["--minutes", f"{minutes:g}"]
    rows = [train_and_score(f"also-camvid-{minutes:g}min", dirs["labels"], dirs["images"], held, budget,
                            minutes * 60, also)] if also else []
    rows.append(train_and_score(f"camvid-{minutes:g}min", dirs["labels"], dirs["images"], held, budget,
                                minutes * 60))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", choices=("generated", "camvid"))
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--no-reference", action="store_true",
                        help="generated: the budgeted run only (the planned run's mIoU is the same at the same seed)")
    parser.add_argument("--also", type=Path, default=None,
                        help="another checkout (e.g. a git worktree of an older commit) whose budget runs first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="budget-runs-") as tmp:
        if args.set == "generated":
            rows = generated(args.minutes or 2.0, args.steps, Path(tmp), not args.no_reference, args.also)
        else:
            rows = camvid(args.minutes or 10.0, Path(tmp), args.also)
    print("\n| run | planned | whole process | crop × batch | steps | held-out mIoU | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        planned = f"{r['planned_s']:.0f} s" if r["planned_s"] else "—"
        shape = f"{r['crop']} × {r['batch']}" if r["crop"] else "128 × 8"
        print(f"| {r['run']} | {planned} | {r['wall_s']:.0f} s | {shape} | {r['steps']} | {r['miou']:.3f} | "
              f"{r['load']} |")


if __name__ == "__main__":
    main()
