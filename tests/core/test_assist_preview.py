"""The proposal map, refining strokes and change counts behind the assisted tools' previews."""

from __future__ import annotations

import numpy as np

from segstudio.core.assist.preview import OUTLINE, bounding_rect, changes, proposal_map, stroke_mask


def test_proposal_map_marks_inside_and_a_one_pixel_outline() -> None:
    region = np.zeros((10, 12), bool)
    region[2:7, 3:9] = True
    out = proposal_map(region)
    assert out[4, 5] == 1 and out[2, 3] == OUTLINE and out[6, 8] == OUTLINE and out[0, 0] == 0
    assert int((out == OUTLINE).sum()) == 2 * 6 + 2 * 3


def test_stroke_mask_covers_the_line_with_the_radius() -> None:
    mask = stroke_mask(20, 30, [(5.5, 10.5), (20.5, 10.5)], radius=2)
    assert mask[8:13, 5:21].all()  # the line, the radius on both sides
    assert not mask[:6].any() and not mask[15:].any() and not mask[:, :2].any() and not mask[:, 24:].any()


def test_bounding_rect_and_changes() -> None:
    region = np.zeros((8, 8), bool)
    assert bounding_rect(region) is None
    region[2, 3] = region[5, 6] = True
    rect = bounding_rect(region)
    assert (rect.x, rect.y, rect.w, rect.h) == (3, 2, 4, 4)
    changed, count = changes(np.zeros((4, 4), np.uint8), np.eye(4, dtype=np.uint8))
    assert count == 4 and changed[2, 2]
