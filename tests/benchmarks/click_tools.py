"""The assisted tools as the simulated person of the clicks benchmark uses them, through the product's
own functions, unchanged, each taking a click the way the window's tool takes it.

Not a test module. Each tool has ``begin(image, key, truth, rng)`` (a new object: the first gesture
when it is not a click, else None) and ``click(click)`` (the mask the tool proposes after it):

- click to segment (:class:`SamTool`): every click adds a point to the object's prompts (positive:
  label 1, negative: 0, as Shift+click), and the proposal is the best candidate of
  ``PromptableSegmenter.predict`` over all the points so far; when that mask shows a small object
  (``core.assist.small_objects.small_object_crop``) the prompts are decoded again on a crop around
  it (``embed_crop``/``predict_crop``), and the next clicks use that crop while they all fall on it,
  as ``SegmentTool._run``/``_answered`` do in gui/canvas/segment_tool.py (``crop=False``: never).
- GrabCut (:class:`GrabCutTool`): first a box (the object's box, jittered), then each click is a
  dot stroke, object or background (Shift), fed to ``grabcut_refine`` with the strokes before it
  (gui/canvas/assist_tools.py). The window's brush is 15 px wide; the person narrows it to fit the
  error region aimed at (radius at most the click's distance from that region's edge), as one does
  on a small object.
- the magic wand (:class:`WandTool`): each click proposes the region within the tolerance of the
  clicked colour (the window's default tolerance, no sideways drag), and the person accepts it into
  the object's class (a positive click) or into the background class (a negative one): each
  acceptance paints over the mask, so positive clicks add regions and negative ones remove them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click_sim import Click, jittered_box

from segstudio.core.assist.grabcut import GrabCutResult, grabcut_box, grabcut_refine
from segstudio.core.assist.preview import stroke_mask
from segstudio.core.assist.small_objects import CropBox, prompt_box, small_object_crop
from segstudio.core.assist.wand import WandSession
from segstudio.gui.canvas.assist_tools import DEFAULT_TOLERANCE

WINDOW_BRUSH = 15  # px: AssistTools.brush_size and the saved brush size's default (window_state)


class WandTool:
    name = f"magic wand (tolerance {DEFAULT_TOLERANCE})"
    note = ""
    random = False

    def __init__(self, tolerance: int = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance

    def begin(self, image: np.ndarray, key: str, truth: np.ndarray, rng: np.random.Generator) -> None:
        self.image = image
        self.mask = np.zeros(truth.shape, bool)

    def click(self, click: Click) -> np.ndarray:
        region = WandSession(self.image, (click.x, click.y)).region(self.tolerance)
        self.mask = (self.mask | region) if click.positive else (self.mask & ~region)
        return self.mask


class GrabCutTool:
    name = "GrabCut (box, then strokes)"
    note = ""
    random = False

    def begin(self, image: np.ndarray, key: str, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        self.image = image
        self.result: GrabCutResult = grabcut_box(image, jittered_box(truth, rng))
        return self.result.mask

    def click(self, click: Click) -> np.ndarray:
        height, width = self.image.shape[:2]
        radius = int(np.clip(np.floor(click.depth), 1, WINDOW_BRUSH // 2))
        marks = stroke_mask(height, width, [(click.x, click.y)], radius)
        fg, bg = (marks, None) if click.positive else (None, marks)
        self.result = grabcut_refine(self.image, self.result, fg, bg)
        return self.result.mask


class SamTool:
    """Click to segment with the model the window would use; ``note`` says which weights."""

    name = "click to segment (SAM 2.1 Hiera-T)"

    def __init__(self, folder: Path | None = None, crop: bool = True) -> None:
        from segstudio.model.sam import DEFAULT, PromptableSegmenter
        from segstudio.model.sam.loader import build_random
        from segstudio.model.weights import hub_cache

        if folder is not None:
            self.name = f"click to segment ({Path(folder).name})"
        folder = folder or hub_cache.cached_snapshot(DEFAULT.hub_id)
        self.random = folder is None  # random weights: the rows time the harness, nothing more
        if folder is not None:  # the window's own path: the checkpoint's folder, its default runtime
            self.segmenter = PromptableSegmenter.from_folder(folder)
            self.note = f"weights from {folder} ({self.segmenter.runtime})"
        else:  # as the tests build it: nothing in the cache, so nothing to measure quality with
            model, family = build_random(DEFAULT.config)
            self.segmenter = PromptableSegmenter(model, family)
            self.note = (f"RANDOM WEIGHTS ({DEFAULT.hub_id} is not in the Hugging Face cache): its numbers say "
                         "nothing of quality")
            self.name += " [RANDOM WEIGHTS]"
        self.crop = crop
        if not crop:
            self.name += " without the small-object crop"
        self._key: str | None = None

    def begin(self, image: np.ndarray, key: str, truth: np.ndarray, rng: np.random.Generator) -> None:
        if key != self._key:  # objects come grouped by image: one embedding each
            if self._key is not None:
                self.segmenter.forget(self._key)
            self.segmenter.embed(key, image)
            self._key = key
        self.segmenter.forget_crops(key)  # the window drops an object's crop when it is accepted
        self.image = image
        self.points: list[tuple[float, float]] = []
        self.labels: list[int] = []
        self.object_crop: CropBox | None = None

    def click(self, click: Click) -> np.ndarray:
        self.points.append((click.x + 0.5, click.y + 0.5))  # the pixel's centre, as a mouse click there
        self.labels.append(1 if click.positive else 0)
        mask, wanted = self._decode()
        if wanted is not None and wanted != self.object_crop:  # a small object: look closer
            self.object_crop = wanted
            mask, _ = self._decode()
        return mask

    def _decode(self) -> tuple[np.ndarray, CropBox | None]:
        """The best mask for the prompts (on the object's crop while they all lie on it), and, on the
        whole image, the crop a small object wants."""
        crop = self.object_crop
        if crop is not None and crop.holds(np.asarray(self.points)):
            self.segmenter.embed_crop(self._key, self.image, crop)
            proposal = self.segmenter.predict_crop(self._key, crop, self.image.shape[:2], self.points, self.labels)
            return proposal.mask(0), None
        best = self.segmenter.predict(self._key, self.points, self.labels).mask(0)
        if not self.crop:
            return best, None
        objects = np.asarray([p for p, label in zip(self.points, self.labels) if label == 1])
        height, width = best.shape
        found = prompt_box(objects, None, best)
        return best, small_object_crop(found, width, height, self.segmenter.family.letterbox)
