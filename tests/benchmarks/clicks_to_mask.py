"""Clicks to a mask: how many clicks a person needs with each assisted tool, on real CamVid objects.

Plain script (not collected by pytest):
    python tests/benchmarks/clicks_to_mask.py [--objects 40] [--seed 0] [--tools wand,grabcut,sam]
                                              [--sam-model FOLDER] [--random-sam-objects 8] [--jitter 3]

Objects: the cars, pedestrians, bicyclists and signs of ``../shared/datasets/camvid-val/`` (class
ids read from its ``masks/classes.txt``); an object is an 8-connected part of one of those classes
with at least 150 pixels (so a row of touching parked cars is one object), and CamVid's void pixels
(255) count neither way. A seeded sample of ``--objects`` of them, spread evenly over the four
classes; small objects cover under 1 % of the image (1,728 px of a 480×360 photo), large ones the
rest.

The simulated person (tests/benchmarks/click_sim.py): first click at the object's centre (its
interior point farthest from the edge), then at the centre of the largest error region, positive or
negative, each with a few pixels of seeded jitter; up to 20 clicks, stopping early only once
IoU 90 % is reached and 5 clicks are in. GrabCut's first gesture is a box instead of a click.
How each tool takes the clicks: tests/benchmarks/click_tools.py. Every tool sees the same jitter.
Click to segment looks closer at small objects on a crop as the window does; ``--tools`` also takes
``sam-nocrop``, the same without the crop, to see what the crop brings.

Prints a markdown table: NoC@85 and NoC@90 (mean clicks to reach IoU 85 % / 90 %, an object that
never does counting 20), how many never did (failures), the mean IoU after 1, 3 and 5 clicks, and
the seconds per object; per tool, per class, by size and overall. Click to segment runs the default
model's checkpoint when it is in the Hugging Face cache (or ``--sam-model``), exactly as the window
loads it; otherwise random weights of its real configuration, marked as such: those rows time the
harness and say nothing of quality, so they run on the first ``--random-sam-objects`` of the sample
only (the same seed picks them first: 2 per class by default; on the shared 2-core machine a random
model's object takes about 20 s, an embedding and 20 eager decodes). Skips with a message when the
CamVid folder is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# this checkout's segstudio (not another one installed editable), and the benchmark helpers beside this file
sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from camvid_set import camvid_root, class_names
from click_sim import MAX_CLICKS, clicks_to, iou, iou_after, next_click

CLASSES = ("car", "pedestrian", "bicyclist", "sign")
MIN_PIXELS = 150
SMALL_SHARE = 0.01  # of the image's pixels
THRESHOLDS = (0.85, 0.90)
AFTER = (1, 3, 5)


@dataclass
class CamvidObject:
    stem: str
    name: str  # class name
    truth: np.ndarray  # (H, W) bool
    valid: np.ndarray  # (H, W) bool: not void

    @property
    def small(self) -> bool:
        return self.truth.sum() < SMALL_SHARE * self.truth.size


@dataclass
class Outcome:
    ious: list[float] = field(default_factory=list)
    seconds: float = 0.0


def all_objects(root: Path) -> list[CamvidObject]:
    """Every object of the four classes in every scene, in a fixed order (scene, class, part)."""
    names = class_names(root)
    ids = {name: names.index(name) for name in CLASSES}
    found = []
    for path in sorted((root / "masks").glob("*.png")):
        label = np.array(Image.open(path))
        for name, value in ids.items():
            count, parts, stats, _ = cv2.connectedComponentsWithStats((label == value).astype(np.uint8), connectivity=8)
            for part in range(1, count):
                if stats[part, cv2.CC_STAT_AREA] >= MIN_PIXELS:
                    found.append(CamvidObject(path.stem, name, parts == part, label != 255))
    return found


def sample(objects: list[CamvidObject], count: int, seed: int) -> list[CamvidObject]:
    """``count`` objects, as evenly over the classes as they allow, grouped by scene."""
    rng = np.random.default_rng(seed)
    pools = {name: [o for o in objects if o.name == name] for name in CLASSES}
    for name in CLASSES:
        pools[name] = [pools[name][i] for i in rng.permutation(len(pools[name]))]
    picked: list[CamvidObject] = []
    while len(picked) < count and any(pools.values()):
        for name in CLASSES:
            if pools[name] and len(picked) < count:
                picked.append(pools[name].pop())
    return sorted(picked, key=lambda o: (o.stem, CLASSES.index(o.name)))


def simulate(tool, image: np.ndarray, obj: CamvidObject, rng: np.random.Generator, sigma: float) -> Outcome:
    """One object with one tool: the IoU after every click."""
    outcome = Outcome()
    start = time.perf_counter()
    mask = tool.begin(image, obj.stem, obj.truth, rng)
    if mask is not None:  # GrabCut's box: the first gesture
        outcome.ious.append(iou(obj.truth, mask, obj.valid))
    else:
        mask = np.zeros(obj.truth.shape, bool)
    while len(outcome.ious) < MAX_CLICKS:
        if len(outcome.ious) >= max(AFTER) and max(outcome.ious) >= max(THRESHOLDS):
            break
        click = next_click(obj.truth, mask, obj.valid, rng, sigma)
        if click is None:
            break
        mask = tool.click(click)
        outcome.ious.append(iou(obj.truth, mask, obj.valid))
    outcome.seconds = time.perf_counter() - start
    return outcome


def make_tools(names: list[str], sam_model: Path | None) -> list:
    from click_tools import GrabCutTool, SamTool, WandTool

    makers = {"wand": WandTool, "grabcut": GrabCutTool, "sam": lambda: SamTool(sam_model),
              "sam-nocrop": lambda: SamTool(sam_model, crop=False)}
    tools = []
    for name in names:
        try:
            tools.append(makers[name]())
        except Exception as error:  # one line, the other tools go on
            print(f"{name}: skipped ({type(error).__name__}: {error})")
    return tools


def row(tool_name: str, group: str, outcomes: list[Outcome]) -> str:
    nocs = {t: [clicks_to(o.ious, t) for o in outcomes] for t in THRESHOLDS}
    fails = {t: sum(not any(v >= t for v in o.ious[:MAX_CLICKS]) for o in outcomes) for t in THRESHOLDS}
    after = [np.mean([iou_after(o.ious, k) for o in outcomes]) for k in AFTER]
    seconds = np.mean([o.seconds for o in outcomes])
    cells = [tool_name, group, str(len(outcomes)),
             *(f"{np.mean(nocs[t]):.2f}" for t in THRESHOLDS), *(str(fails[t]) for t in THRESHOLDS),
             *(f"{v:.3f}" for v in after), f"{seconds:.2f}"]
    return "| " + " | ".join(cells) + " |"


def table(results: dict) -> list[str]:
    head = ["tool", "objects", "n", "NoC@85", "NoC@90", "fail@85", "fail@90", "IoU@1", "IoU@3", "IoU@5", "s/object"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    groups = [(name, lambda o, n=name: o.name == n) for name in CLASSES]
    groups += [("small (<1 % of image)", lambda o: o.small), ("large", lambda o: not o.small), ("all", lambda o: True)]
    for tool_name, (objects, outcomes) in results.items():
        for group, keep in groups:
            chosen = [outcome for obj, outcome in zip(objects, outcomes) if keep(obj)]
            if chosen:
                lines.append(row(tool_name, group, chosen))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jitter", type=float, default=3.0, help="px, standard deviation of a click's offset")
    parser.add_argument("--tools", default="wand,grabcut,sam", help="any of wand, grabcut, sam, sam-nocrop")
    parser.add_argument("--sam-model", type=Path, default=None, help="a SAM model folder instead of the cached default")
    parser.add_argument("--random-sam-objects", type=int, default=8,
                        help="objects for click to segment when it has random weights (its numbers mean nothing)")
    args = parser.parse_args()
    root, why = camvid_root()
    if root is None:
        print(f"clicks_to_mask: skipped: {why}")
        return
    every = all_objects(root)
    objects = sample(every, args.objects, args.seed)
    load_before = os.getloadavg()
    tools = make_tools(args.tools.split(","), args.sam_model)
    results = {}
    images: dict[str, np.ndarray] = {}
    position = {id(obj): index for index, obj in enumerate(every)}
    for tool in tools:
        chosen = sample(every, min(args.objects, args.random_sam_objects), args.seed) if tool.random else objects
        outcomes = []
        for obj in chosen:
            if obj.stem not in images:
                images[obj.stem] = np.array(Image.open(root / "images" / f"{obj.stem}.jpg").convert("RGB"))
            rng = np.random.default_rng([args.seed, position[id(obj)]])  # the same jitter for every tool
            outcomes.append(simulate(tool, images[obj.stem], obj, rng, args.jitter))
        results[tool.name] = (chosen, outcomes)
    counts = ", ".join(f"{sum(o.name == n for o in objects)} {n}" for n in CLASSES)
    print(f"CamVid val: {len(every)} objects of ≥{MIN_PIXELS} px in {len({o.stem for o in every})} scenes; "
          f"sample of {len(objects)} (seed {args.seed}: {counts}; {sum(o.small for o in objects)} small) "
          f"from {len({o.stem for o in objects})} scenes")
    print(f"Clicks: ≤{MAX_CLICKS}, jitter σ {args.jitter:g} px; {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    for tool in tools:
        if tool.note:
            print(f"{tool.name}: {tool.note}")
    print()
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
