"""The instant learner: live mode's overlay in the first seconds, before the deep model has learnt.

As soon as the strokes hold two classes, a :class:`~segstudio.core.pixel_classifier.PixelClassifier`
learns them from :func:`~segstudio.core.pixel_features.pixel_features` (numpy and OpenCV: no torch to
load first) and predicts the image on screen well under a second later; each later cycle refines it
on the strokes as they are then. The deep model trains beside it, and
:class:`~.shown_model.ShownModel` decides which of the two the overlay and the file list's
uncertainty come from.

Samples are kept per image as the feature vectors of its labelled pixels (at most
:data:`MAX_PIXELS` of them, drawn evenly over its classes for a dense mask), computed again only
when the image's labels changed; the full feature maps of the last few images are cached, since the
image on screen is featured every cycle for its prediction.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from segstudio.core.palette import IGNORE_INDEX
from segstudio.core.pixel_classifier import PixelClassifier, single_threaded
from segstudio.core.pixel_features import FEATURES, pixel_features, to_work

STEPS_PER_CYCLE = 100  # about 0.1 s on one core
FIRST_STEPS = 40  # the first overlay's fit: held-out mIoU 0.40 on CamVid (0.49 after 100), in half the time
MAX_PIXELS = 6000  # per image (1.4 MB of features): a dense mask is sampled evenly over its classes,
# scribbles (3 % of a 480x360 photo: 5200 pixels) are taken about whole; 64 images hold 92 MB at most
FEATURE_MAPS = 2  # full feature maps kept (47 MB each at the work size): the image on screen, one more

Pair = tuple[np.ndarray, np.ndarray]  # (image, labels with 255 where nothing is taught)


def image_key(rgb: np.ndarray) -> tuple[int, tuple[int, ...], int]:
    """Which image this is, cheaply: the same array object with the same pixels (sampled)."""
    return id(rgb), rgb.shape, zlib.crc32(np.ascontiguousarray(rgb[::17, ::13]).tobytes())


class InstantLearner:
    """A pixel classifier trained on the painted pixels of every sample, a few steps per cycle."""

    def __init__(self, num_classes: int, seed: int = 0) -> None:
        self.num_classes = num_classes
        self.classifier = PixelClassifier(FEATURES, num_classes, seed=seed)
        self.rng = np.random.default_rng(seed)
        self._maps: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._samples: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}  # key: (labels crc, x, y)
        self._stacked: tuple[np.ndarray, np.ndarray] | None = None  # every sample's (x, y), until they change

    @property
    def steps(self) -> int:
        return self.classifier.steps

    def features(self, rgb: np.ndarray) -> np.ndarray:
        """(h, w, F) features of ``rgb`` at its work size, from the cache when it was just featured."""
        key = image_key(rgb)
        maps = self._maps.get(key)
        if maps is None:
            maps = pixel_features(rgb)
            self._maps[key] = maps
            while len(self._maps) > FEATURE_MAPS:
                self._maps.popitem(last=False)
        self._maps.move_to_end(key)
        return maps

    def update(self, pairs: Sequence[Pair]) -> tuple[np.ndarray, bool]:
        """Take the labels of ``pairs`` as they are now: the classes they hold (sorted), and whether
        anything changed since the last time."""
        keep = {}
        for rgb, label in pairs:
            key = image_key(rgb)
            crc = zlib.crc32(np.ascontiguousarray(label).tobytes())
            held = self._samples.get(key)
            keep[key] = held if held is not None and held[0] == crc else (crc, *self._sample(rgb, label))
        changed = keep.keys() != self._samples.keys() or any(
            keep[key][0] != self._samples[key][0] for key in keep)
        self._samples = keep
        if changed:
            self._stacked = None
        classes = [np.unique(y) for _, _, y in keep.values() if len(y)]
        return (np.unique(np.concatenate(classes)) if classes else np.zeros(0, np.int64)), changed

    def _sample(self, rgb: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        work = to_work(label, nearest=True)
        valid = (work != IGNORE_INDEX) & (work < self.num_classes)
        ys, xs = np.nonzero(valid)
        if len(ys) > MAX_PIXELS:
            pick = self._even_pick(work[ys, xs])
            ys, xs = ys[pick], xs[pick]
        if len(ys) == 0:
            return np.zeros((0, FEATURES), np.float32), np.zeros(0, np.int64)
        return self.features(rgb)[ys, xs], work[ys, xs].astype(np.int64)

    def _even_pick(self, classes: np.ndarray) -> np.ndarray:
        """Indices of at most MAX_PIXELS pixels, shared evenly by the classes present."""
        present = np.unique(classes)
        share = MAX_PIXELS // len(present)
        picks = [self.rng.permutation(np.flatnonzero(classes == c))[:share] for c in present]
        return np.concatenate(picks)

    def ready(self, classes: np.ndarray) -> bool:
        """Whether there is something to learn: strokes of two classes at least."""
        return len(classes) >= 2

    def train(self, steps: int = STEPS_PER_CYCLE) -> float:
        """``steps`` steps on every sample's painted pixels; the mean loss."""
        if self._stacked is None:
            held = [(x, y) for _, x, y in self._samples.values() if len(y)]
            if not held:
                return float("nan")
            self._stacked = np.concatenate([h[0] for h in held]), np.concatenate([h[1] for h in held])
        x, y = self._stacked
        with single_threaded():
            return self.classifier.fit(x, y, steps)

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """(h, w, K) class probabilities of ``rgb`` at its work size."""
        maps = self.features(rgb)
        with single_threaded():
            probs = self.classifier.proba(maps.reshape(-1, FEATURES))
        return probs.reshape(*maps.shape[:2], self.num_classes)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W) uint8 class indices of ``rgb`` at its own size."""
        labels = self.probabilities(rgb).argmax(-1).astype(np.uint8)
        return _full_size(labels, rgb.shape)

    def uncertainty(self, rgb: np.ndarray) -> float:
        """The file list's "label this next" score of ``rgb`` (the same rule as the deep model's)."""
        from segstudio.model.uncertainty import image_score

        probs = self.probabilities(rgb)
        top = np.sort(probs, axis=-1)[..., -2:]
        return image_score(top[..., 1] - top[..., 0], probs.argmax(-1).astype(np.uint8))


def _full_size(labels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if labels.shape == tuple(shape[:2]):
        return labels
    import cv2

    return cv2.resize(labels, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_NEAREST)
