"""Class labels of bilinearly upsampled logits, without upsampling every class score.

A prediction is the argmax over K classes of logits bilinearly upsampled from the 1/4 grid to the
image. Done literally that is K full-size maps: for 150 classes at 512² it took 190 ms on two CPU
threads, four times the network itself, and for a 24-megapixel photo it has to go in bands.

Most of that work is not needed. Bilinear upsampling (``align_corners=False``) gives each output
pixel a convex combination of the logit vectors of the (at most) four grid cells around it. When
those four vectors have the same argmax class ``c``, ``c`` beats every other class in each of
them, hence in any weighted sum of them with non-negative weights: the pixel's label is ``c``,
read without touching the K scores. Only pixels whose four cells disagree (the edges between
predicted regions, usually a few per cent of the image) need their scores interpolated, and those
are computed with the same two ``torch.lerp`` steps (columns, then rows) as the full upsampling.
The labels are those of the full upsampling (tested on random and blocky logits); they could
differ only where two class scores tie to the last bit, where either label is as right.
"""

from __future__ import annotations

import torch

_CHUNK_BYTES = 64 << 20  # float32 working memory for the interpolated scores of edge pixels
_BAND_PIXELS = 1 << 22  # output pixels per band: bounds the masks and indices of a huge photo


def source_index(n_out: int, n_in: int, full_out: int, device: torch.device
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """i0, i1, frac of bilinear align_corners=False sampling (PyTorch's formula) for the first
    ``n_out`` of ``full_out`` output positions over ``n_in`` inputs, on ``device``. Computed in
    float64 on the CPU (Apple's MPS has no float64), then moved."""
    scale = n_in / full_out
    src = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * scale - 0.5).clamp_min(0)
    i0 = src.floor().long().clamp_max(n_in - 1)
    i1 = (i0 + 1).clamp_max(n_in - 1)
    return i0.to(device), i1.to(device), (src - i0).float().to(device)


def upsampled_labels(logits: torch.Tensor, shape: tuple[int, int],
                     full: tuple[int, int] | None = None) -> torch.Tensor:
    """(H, W) argmax of ``logits`` (K, h, w) bilinearly upsampled to ``full`` (default ``shape``),
    restricted to its top-left ``shape``; uint8 when K <= 256, else int64."""
    logits = logits.float()  # the interpolation weights are float32 (bf16 logits: a copy)
    k, hin, win = logits.shape
    h, w = shape
    full = full or shape
    dtype = torch.uint8 if k <= 256 else torch.int64
    r0, r1, rf = source_index(h, hin, full[0], logits.device)
    c0, c1, cf = source_index(w, win, full[1], logits.device)
    scores = logits.permute(1, 2, 0).reshape(hin * win, k)  # a free view of channels_last logits
    low = scores.argmax(1).view(hin, win)
    cells, mixed = low.to(dtype), ~_uniform_cells(low)
    labels = torch.empty((h, w), dtype=dtype, device=logits.device)
    per = max(1, _CHUNK_BYTES // (24 * k))  # six (n, K) float32 temporaries per chunk of edge pixels
    rows = max(1, _BAND_PIXELS // max(1, w))
    for first in range(0, h, rows):
        band = slice(first, min(h, first + rows))
        labels[band] = cells[r0[band]][:, c0]
        ys, xs = mixed[r0[band]][:, c0].nonzero(as_tuple=True)
        ys = ys + first
        for start in range(0, ys.numel(), per):
            y, x = ys[start:start + per], xs[start:start + per]
            top, bottom, fx = r0[y] * win, r1[y] * win, cf[x, None]
            upper = torch.lerp(scores[top + c0[x]], scores[top + c1[x]], fx)
            lower = torch.lerp(scores[bottom + c0[x]], scores[bottom + c1[x]], fx)
            labels[y, x] = torch.lerp(upper, lower, rf[y, None]).argmax(1).to(dtype)
    return labels


def _uniform_cells(low: torch.Tensor) -> torch.Tensor:
    """(h, w) bool: cell (i, j) and its neighbours below, right and below-right (clamped at the
    border, as the upsampling clamps) all hold the same label."""
    below = torch.cat((low[1:], low[-1:]))
    same_right = low == torch.cat((low[:, 1:], low[:, -1:]), 1)
    same_right_below = torch.cat((same_right[1:], same_right[-1:]))
    return (low == below) & same_right & same_right_below
