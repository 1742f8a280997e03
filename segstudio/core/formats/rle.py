"""COCO run-length encoding (RLE), written and read without pycocotools.

A mask is flattened column by column (Fortran order); ``counts`` alternates runs of 0 and 1,
starting with 0. The compressed form is pycocotools' string: each count, after the first two,
is stored as the difference to the count two places before, in 5-bit groups with a continuation
bit, offset by 48 into printable ASCII.
"""

from __future__ import annotations

import numpy as np

from ..errors import AnnotationFormatError

_MAX_DIGITS = 13  # 5-bit groups of one count: 65 bits, more than any image can need


def run_lengths(mask: np.ndarray) -> list[int]:
    """Column-major run lengths of a bool (H, W) mask, starting with a (possibly empty) run of 0."""
    flat = np.asarray(mask, bool).reshape(-1, order="F")
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    return [0] + counts if flat[0] else counts


def encode_counts(counts: list[int]) -> str:
    """pycocotools' compressed string of ``counts`` (``rleToString``)."""
    out = []
    for i, count in enumerate(counts):
        x = int(count) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def decode_counts(text: str, source: str = "RLE") -> list[int]:
    """The counts of a compressed string (``rleFrString``); malformed strings raise."""
    counts: list[int] = []
    position, length = 0, len(text)
    while position < length:
        x, k, more = 0, 0, True
        while more:
            if position >= length:
                raise AnnotationFormatError(f"{source}: compressed RLE ends in the middle of a count")
            c = ord(text[position]) - 48
            if not 0 <= c < 64:
                raise AnnotationFormatError(f"{source}: character {text[position]!r} is not RLE")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            position += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
            if k > _MAX_DIGITS:
                raise AnnotationFormatError(f"{source}: an RLE count is too large")
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def encode(mask: np.ndarray) -> dict:
    """``{"size": [h, w], "counts": "<compressed>"}`` of a bool mask."""
    height, width = np.asarray(mask).shape
    return {"size": [int(height), int(width)], "counts": encode_counts(run_lengths(mask))}


def decode(rle: dict, source: str = "RLE", shape: tuple[int, int] | None = None) -> np.ndarray:
    """The bool (H, W) mask of an RLE dict, compressed (string) or not (list of counts).

    ``shape`` is the (H, W) the mask must have; a different ``size`` is refused before anything
    is allocated (a hostile file could otherwise ask for any amount of memory).
    """
    try:
        height, width = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise AnnotationFormatError(f"{source}: RLE needs 'size' [h, w] and 'counts'") from exc
    if shape is not None and (height, width) != tuple(shape):
        raise AnnotationFormatError(f"{source}: RLE size [{height}, {width}] is not the image's {list(shape)}")
    if isinstance(counts, (bytes, str, list)) and len(counts) > _MAX_DIGITS * (max(height * width, 0) + 1):
        # more counts than pixels (13 characters at most each): refused before a long decode
        raise AnnotationFormatError(f"{source}: RLE counts are longer than a {width}×{height} image can need")
    if isinstance(counts, (bytes, str)):
        counts = decode_counts(counts.decode("ascii", "replace") if isinstance(counts, bytes) else counts, source)
    elif not isinstance(counts, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        raise AnnotationFormatError(f"{source}: RLE counts must be a string or a list of integers")
    if height < 0 or width < 0 or any(c < 0 for c in counts) or sum(counts) != height * width:
        raise AnnotationFormatError(f"{source}: RLE counts do not cover a {width}×{height} image")
    values = np.zeros(len(counts), bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((height, width), order="F")


def area_and_box(mask: np.ndarray) -> tuple[int, list[int]]:
    """Pixel count and COCO's ``[x, y, width, height]`` box of a bool mask (zeros when empty)."""
    mask = np.asarray(mask, bool)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 0, [0, 0, 0, 0]
    box = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    return int(mask.sum()), box
