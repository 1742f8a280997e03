"""Where the image lies in the model's input square, both ways: pixels and prompts in, masks out.

SAM resizes the longer side to the input size (1024) keeping the aspect ratio and pads the bottom
and right with zeros (a letterbox); SAM 2 stretches the image to the square. A prompt in image
pixels is scaled into that frame, and a mask comes back through the same steps undone, exactly as
transformers' ``SamProcessor``/``Sam2Processor`` do it (tests/model/test_sam_parity.py compares),
so a click lands on the pixel the user clicked on any image size or shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Frame:
    """An image of ``height``×``width`` seen by a model whose input is ``size``×``size``."""

    height: int
    width: int
    size: int
    letterbox: bool  # True: SAM (keep aspect, pad bottom/right); False: SAM 2 (stretch)

    @property
    def resized(self) -> tuple[int, int]:
        """(height, width) of the image inside the input square (the processors' rounding)."""
        if not self.letterbox:
            return self.size, self.size
        scale = self.size / max(self.height, self.width)
        return int(self.height * scale + 0.5), int(self.width * scale + 0.5)

    def to_input(self, xy: np.ndarray) -> np.ndarray:
        """Points (..., 2) as x, y in image pixels → the model's input frame (float32)."""
        new_h, new_w = self.resized
        out = np.array(xy, np.float64)
        out[..., 0] *= new_w / self.width
        out[..., 1] *= new_h / self.height
        return out.astype(np.float32)

    def pixels(self, rgb: np.ndarray) -> torch.Tensor:
        """(1, 3, size, size) float32 normalised input of an (H, W, 3) uint8 RGB image."""
        if rgb.shape[:2] != (self.height, self.width):
            raise ValueError(f"image is {rgb.shape[1]}×{rgb.shape[0]}, frame is {self.width}×{self.height}")
        new_h, new_w = self.resized
        if self.letterbox:  # SamImageProcessor: PIL bilinear
            small = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.Resampling.BILINEAR))
            chw = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None]
        else:  # Sam2ImageProcessor: torchvision's resize, i.e. antialiased bilinear on uint8
            # an (H, W, 3) array seen as (1, 3, H, W) is channels-last: torch's vectorised uint8 path,
            # the same pixels as a contiguous copy gives, 21 ms instead of 167 ms for 4000×3000
            chw = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
            chw = F.interpolate(chw, (new_h, new_w), mode="bilinear", antialias=True, align_corners=False)
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        pixels = (chw.float() / 255.0 - mean) / std
        return F.pad(pixels, (0, self.size - new_w, 0, self.size - new_h))

    def mask_logits(self, low_res: torch.Tensor) -> torch.Tensor:
        """(N, h, w) low-resolution logits → (N, H, W) logits on the image's own pixels."""
        logits = low_res[None].float()
        if self.letterbox:  # up to the padded square, cut the padding off, then to the image
            new_h, new_w = self.resized
            logits = F.interpolate(logits, (self.size, self.size), mode="bilinear", align_corners=False)
            logits = logits[..., :new_h, :new_w]
        return F.interpolate(logits, (self.height, self.width), mode="bilinear", align_corners=False)[0]

    def mask(self, low_res: torch.Tensor) -> np.ndarray:
        """One (h, w) low-resolution logit map → the (H, W) bool mask of the image.

        The same steps as :meth:`mask_logits` then ``> 0`` (its reference), done by OpenCV, which
        samples bilinearly with half-pixel centres and the edge repeated exactly as
        ``F.interpolate(..., align_corners=False)`` does, at a fraction of the cost on a large photo.
        """
        logits = np.ascontiguousarray(low_res.detach().float().cpu().numpy())
        if self.letterbox:  # up to the padded square, cut the padding off
            new_h, new_w = self.resized
            logits = cv2.resize(logits, (self.size, self.size), interpolation=cv2.INTER_LINEAR)[:new_h, :new_w]
        return cv2.resize(logits, (self.width, self.height), interpolation=cv2.INTER_LINEAR) > 0


def rgb_image(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 RGB view of a grey, RGB or RGBA image (alpha dropped)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit image, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {image.shape}")
    return np.ascontiguousarray(image[:, :, :3])
