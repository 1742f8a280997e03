"""Real photos for the live benchmark: CamVid scenes and the scribbles a person would paint on them.

Not a test module. Reads ``../shared/datasets/camvid-val/`` (101 road scenes, 480x360, masks 1..11,
255 void); :func:`camvid_root` says why when it is absent. The scenes are a video, so neighbouring
frames look alike: the 8 training and the 8 held-out scenes are taken spread over the sequence and
interleaved, never neighbours of each other.

:func:`scribbles_of` paints short strokes the way a person does: inside objects, a few pixels away
from their edges, each a short wobbly line drawn with a 5-pixel brush, every class present getting
at least one, larger regions more (by the square root of their area), until about ``share`` of the
pixels are painted. Seeded: the same strokes every run.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from segstudio.core.palette import IGNORE_INDEX

ROOT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "camvid-val"
MARGIN = 6  # px kept from an object's edge (less for thin objects: poles, signs)
BRUSH = 2  # brush radius: a 5-pixel stroke


def camvid_root() -> tuple[Path | None, str]:
    """The folder (None when absent) and, when absent, why."""
    for root in (ROOT, Path.cwd().parent / "shared" / "datasets" / "camvid-val"):
        if (root / "images").is_dir() and (root / "masks").is_dir():
            return root, ""
    return None, f"the CamVid photos are not in {ROOT} (see the benchmark's docstring)"


def camvid_or_skip() -> Path | None:
    """The folder, or None after printing "skipped: <why>" (a benchmark then exits 0)."""
    root, why = camvid_root()
    if root is None:
        print(f"skipped: {why}")
    return root


def photo_stems(root: Path) -> list[str]:
    """The photos' names, in the video's order."""
    return sorted(p.stem for p in (root / "images").glob("*.jpg"))


def budget_split(stems: list[str]) -> tuple[list[str], list[str]]:
    """(trained on, held out) as ``budget_runs.py camvid`` splits the photos: three in five
    trained (61 of 101), spread along the video, the other two held out."""
    return ([s for i, s in enumerate(stems) if i % 5 in (0, 2, 4)],
            [s for i, s in enumerate(stems) if i % 5 in (1, 3)])


def class_names(root: Path) -> list[str]:
    return [line.strip() for line in (root / "masks" / "classes.txt").read_text().splitlines() if line.strip()]


def load_split(root: Path, count: int = 8) -> tuple[list, list]:
    """(training, held-out) lists of (rgb, mask): scenes spread over the sequence, interleaved."""
    stems = photo_stems(root)
    step = len(stems) // (2 * count)
    picked = [stems[i * step] for i in range(2 * count)]

    def read(stem: str) -> tuple[np.ndarray, np.ndarray]:
        rgb = np.array(Image.open(root / "images" / f"{stem}.jpg").convert("RGB"))
        return rgb, np.array(Image.open(root / "masks" / f"{stem}.png"))

    return [read(s) for s in picked[0::2]], [read(s) for s in picked[1::2]]


def scribbles_of(label: np.ndarray, rng: np.random.Generator, share: float = 0.03) -> np.ndarray:
    """Short strokes inside the objects of ``label``, about ``share`` of the pixels (255 elsewhere)."""
    out = np.full(label.shape, IGNORE_INDEX, np.uint8)
    inner = {}
    for value in np.unique(label):
        if value == IGNORE_INDEX:
            continue
        dist = cv2.distanceTransform((label == value).astype(np.uint8), cv2.DIST_L2, 5)
        margin = min(MARGIN, 0.5 * float(dist.max()))
        if margin >= 1.5:
            inner[int(value)] = dist >= margin
    if not inner:
        return out
    weights = {v: np.sqrt(m.sum()) for v, m in inner.items()}
    total = sum(weights.values())
    budget = share * label.size
    for value, mask in inner.items():
        target = max(1, int(budget * weights[value] / total))
        _paint_class(out, mask, value, target, rng)
    return out


def _paint_class(out: np.ndarray, inside: np.ndarray, value: int, target: int, rng: np.random.Generator) -> None:
    """Strokes of ``value`` inside ``inside`` until ``target`` pixels are painted (at most 40 strokes)."""
    ys, xs = np.nonzero(inside)
    painted = np.zeros(out.shape, np.uint8)
    for _ in range(40):
        if painted.sum() >= target:
            break
        i = int(rng.integers(len(ys)))
        y, x = float(ys[i]), float(xs[i])
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(8, 25))):  # 3-px steps: strokes of 24-75 px
            cv2.circle(painted, (int(x), int(y)), BRUSH, 1, -1)
            angle += rng.normal(0, 0.25)
            ny, nx = y + 3 * np.sin(angle), x + 3 * np.cos(angle)
            if not (0 <= ny < out.shape[0] and 0 <= nx < out.shape[1]) or not inside[int(ny), int(nx)]:
                break
            y, x = ny, nx
    out[(painted > 0) & inside] = value
