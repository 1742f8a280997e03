"""Integer rectangles in label-map pixels.

Every edit reports the rectangle it changed so that the canvas repaints, and the history saves,
only that part of an 8000×6000 map. ``x, y`` is the top-left pixel; ``w, h`` the size, so
``right``/``bottom`` are exclusive, like Python slices.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """A rectangle of pixels ``[x, x + w) × [y, y + h)``; empty when ``w`` or ``h`` is not positive."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.x + self.w

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.y + self.h

    @property
    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    @property
    def area(self) -> int:
        return 0 if self.is_empty else self.w * self.h

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` to index a (H, W, ...) array: ``label[rect.slices]``."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    @classmethod
    def empty(cls) -> Rect:
        return cls(0, 0, 0, 0)

    @classmethod
    def from_points(cls, x0: int, y0: int, x1: int, y1: int) -> Rect:
        """The rectangle from corner ``(x0, y0)`` (inclusive) to ``(x1, y1)`` (exclusive), any order."""
        left, right = sorted((int(x0), int(x1)))
        top, bottom = sorted((int(y0), int(y1)))
        return cls(left, top, right - left, bottom - top)

    def union(self, other: Rect | None) -> Rect:
        """Smallest rectangle holding both; an empty (or None) side does not count."""
        if other is None or other.is_empty:
            return self
        if self.is_empty:
            return other
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def intersect(self, other: Rect) -> Rect:
        """The overlap of both rectangles, :meth:`empty` when they do not overlap."""
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        if right <= x or bottom <= y:
            return Rect.empty()
        return Rect(x, y, right - x, bottom - y)

    def clip(self, width: int, height: int) -> Rect:
        """The part inside an image of ``width × height``."""
        return self.intersect(Rect(0, 0, width, height))

    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom
