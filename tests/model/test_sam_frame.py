"""SAM 2's input pixels: the antialiased uint8 resize read as channels-last (torch's vectorised
path) gives exactly the pixels of the contiguous (1, 3, H, W) copy that torchvision's resize in
``Sam2ImageProcessor`` works on; the processor parity itself (tests/model/test_sam_parity.py) needs
torchvision, which this check does not."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segstudio.model.sam.frame import IMAGENET_MEAN, IMAGENET_STD, Frame


def _reference(rgb: np.ndarray, size: int) -> torch.Tensor:
    chw = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    small = F.interpolate(chw, (size, size), mode="bilinear", antialias=True, align_corners=False)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (small.float() / 255.0 - mean) / std


@pytest.mark.parametrize("height,width", [(3000, 4000), (333, 801), (1024, 1024), (60, 80), (1500, 7)])
def test_sam2_pixels_equal_the_contiguous_resize(height, width) -> None:
    rgb = np.random.default_rng(height * width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rgb[: height // 2] //= 3  # some structure for the filter, not only noise
    got = Frame(height, width, 1024, letterbox=False).pixels(rgb)
    assert got.shape == (1, 3, 1024, 1024)
    assert torch.equal(got, _reference(rgb, 1024))
