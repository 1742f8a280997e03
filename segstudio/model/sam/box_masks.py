"""Boxes to masks with SAM: each box is the prompt, its best mask the object inside it.

The same contract as the GrabCut refinement of ``core.formats.boxes``: boxes are
(x0, y0, x1, y1) pixel boxes, 0-based with x1/y1 exclusive (``core.assist.grabcut.Box``), one
(H, W) bool mask per box, never reaching outside its (clipped) box, and the whole box where the
model finds nothing, so a box is never lost. The image is embedded once for all its boxes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence

import numpy as np

from segstudio.core.assist.grabcut import clip_box

from .frame import rgb_image
from .segmenter import PromptableSegmenter


def image_key(rgb: np.ndarray) -> str:
    """A cache key from the pixels themselves (boxes-to-masks has no file identity at hand)."""
    digest = hashlib.blake2b(np.ascontiguousarray(rgb).data, digest_size=16).hexdigest()
    return f"pixels:{rgb.shape[1]}x{rgb.shape[0]}:{digest}"


def sam_box_masks(
    segmenter: PromptableSegmenter,
    rgb: np.ndarray,
    boxes: Sequence[Sequence[float]],
    key: Hashable | None = None,
) -> list[np.ndarray]:
    """One (H, W) bool mask per box of ``rgb``, in the order given (empty boxes stay empty)."""
    rgb = rgb_image(rgb)
    height, width = rgb.shape[:2]
    key = image_key(rgb) if key is None else key
    masks: list[np.ndarray] = []
    embedded = False
    for box in boxes:
        x0, y0, x1, y1 = clip_box(tuple(box), width, height)
        mask = np.zeros((height, width), bool)
        if x1 > x0 and y1 > y0:
            if not embedded:
                segmenter.embed(key, rgb)
                embedded = True
            # the prompt box spans the pixels' outer edges, as labelImg draws it
            proposal = segmenter.predict(key, box=(x0, y0, x1, y1))
            inside = proposal.best[y0:y1, x0:x1]
            mask[y0:y1, x0:x1] = inside if inside.any() else True
        masks.append(mask)
    return masks


def sam_refiner(folder):
    """The boxes-to-masks refiner (``core.voc_xml.BoxRefiner``) of the SAM / SAM 2 model in ``folder``:
    every box of an image as a prompt, one embedding per image."""
    segmenter = PromptableSegmenter.from_folder(folder)
    return lambda rgb, boxes: sam_box_masks(segmenter, rgb, boxes)
