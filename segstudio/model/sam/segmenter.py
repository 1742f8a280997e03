"""Click to segment: points and boxes in image pixels → candidate masks at full resolution.

The image encoder is the slow part (seconds), the prompt decoder the fast one, so the embedding of
each image is computed once by :meth:`PromptableSegmenter.embed` (the window calls it from a worker
when an image opens, and for the next image) and kept in a small LRU; :meth:`predict` (another
worker, on every click) runs only the decoder. Both may run at the same time on different threads:
the cache is guarded by a lock, a second caller of ``embed`` for an image being embedded waits for
that result instead of computing it again, and no lock is held while the model runs.

With a :attr:`PromptableSegmenter.disk` store (the project's
:class:`segstudio.core.assist.embedding_store.EmbeddingStore`) an embedding is also read from disk,
keyed by the image's content and :attr:`PromptableSegmenter.model_id`. Only
:meth:`PromptableSegmenter.prepare` writes there ("Prepare the whole folder", which the user
chooses: 16 MB an image), without touching the in-memory cache of the images being labelled;
ordinary use never fills the disk, except to rewrite a prepared file that could not be read.

Small objects (:mod:`segstudio.core.assist.small_objects` says when and which crop):
:meth:`PromptableSegmenter.embed_crop` embeds a crop of an image into the same memory cache under
a :class:`CropKey` (never on disk: a crop is the work of one object, for its corrective clicks),
:meth:`PromptableSegmenter.predict_crop` decodes prompts given in image pixels on it and gives a
:class:`Proposal` whose masks are the image's size, the crop's mask pasted at its exact pixels and
nothing outside it; :meth:`PromptableSegmenter.forget_crops` drops them when the user moves on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from segstudio.core.assist.embedding_store import StoredEmbedding, stored_arrays
from segstudio.core.assist.small_objects import CropBox, paste
from segstudio.core.budgets import SAM_EMBEDDING_IMAGES
from segstudio.model.weights.hub_cache import file_digest

from .frame import Frame, rgb_image
from .interrupt import Interrupt, Interrupted
from .loader import Family, input_size, load_model
from .onnx_encoder import folder_runtime

LOG = logging.getLogger(__name__)

CACHE_IMAGES = SAM_EMBEDDING_IMAGES  # embeddings kept (core.budgets); SAM 2 holds 16 MB per image, SAM 4 MB


class Proposal:
    """All candidate masks for one prompt, best first by the model's predicted IoU.

    A mask is brought to full resolution only when asked for (and then kept): on a 4000×3000
    photo that step costs more than the decoder, and the preview shows one candidate at a time.
    A proposal made on a ``crop`` of an image of ``image_shape`` (height, width) gives masks of
    the image's size, the crop's pasted at its pixels (``frame`` is then the crop's).
    """

    def __init__(self, frame: Frame, low_res: torch.Tensor, scores: np.ndarray, crop: CropBox | None = None,
                 image_shape: tuple[int, int] | None = None) -> None:
        self.frame = frame
        self.scores = scores  # (N,) float32, descending
        self.crop = crop
        self.image_shape = (frame.height, frame.width) if image_shape is None else image_shape
        self._low_res = low_res  # (N, h, w) logits in the same order
        self._masks: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.scores)

    def mask(self, index: int) -> np.ndarray:
        """Candidate ``index`` (0 = best) as an (H, W) bool mask of the image."""
        if index not in self._masks:
            mask = self.frame.mask(self._low_res[index])
            self._masks[index] = mask if self.crop is None else paste(mask, self.crop, *self.image_shape)
        return self._masks[index]

    @property
    def best(self) -> np.ndarray:
        return self.mask(0)

    @property
    def masks(self) -> np.ndarray:
        """(N, H, W) bool: every candidate."""
        return np.stack([self.mask(i) for i in range(len(self))])


@dataclass(frozen=True)
class CropKey:
    """The cache key of a crop's embedding: the image's key and the crop."""

    image: Hashable
    crop: CropBox


@dataclass
class _Entry:
    """One image's embedding, or the promise of it while a worker computes it."""

    ready: threading.Event = field(default_factory=threading.Event)
    frame: Frame | None = None
    embeddings: object = None
    error: BaseException | None = None


class PromptableSegmenter:
    """A SAM-family model with per-image embedding cache; thread-safe.

    ``encoder`` ((pixels, interrupt or None) → what ``model.get_image_embeddings`` returns, as a
    list) replaces the model's own image encoder, e.g. :class:`.onnx_encoder.OrtEncoder`;
    ``decoder`` (embeddings, points, labels → pred_masks, iou_scores) replaces the model for
    prompts (a box goes as two corner points: :func:`_as_points`), e.g.
    :class:`.onnx_decoder.OrtPointDecoder`. None runs eager PyTorch, the reference. ``note`` says
    why the faster runtime is not in use, when it was asked for.
    """

    def __init__(self, model, family: Family, cache_images: int = CACHE_IMAGES,
                 encoder=None, note: str | None = None, decoder=None) -> None:
        self.model = model.eval()
        self.family = family
        self.size = input_size(model.config)
        self.cache_images = max(1, cache_images)
        self.encoder = encoder
        self.decoder = decoder
        self.runtime = "PyTorch" if encoder is None else "ONNX Runtime"
        self.note = note
        self.model_id: str | None = None  # weights, input size and runtime: what an embedding on disk is for
        self.disk = None  # an EmbeddingStore (the project's), or None: memory only
        self._cache: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: str | Path, cache_images: int = CACHE_IMAGES, runtime: str | None = None,
                    announce: Callable[[str], None] | None = None) -> PromptableSegmenter:
        """Load ``folder`` (config.json + model.safetensors of a SAM or SAM 2 model).

        ``runtime`` (default ``$SEGSTUDIO_SAM_RUNTIME``, else ``auto``): ``auto`` runs the image
        encoder under ONNX Runtime, exported into the user's cache on first use (seconds, once per
        model), and falls back to PyTorch with one logged note; ``onnx`` raises instead; ``torch``
        is eager PyTorch. ``announce(text)`` hears of a first export before it starts (tens of seconds).
        """
        model, family = load_model(folder)
        weights = file_digest(Path(folder) / "model.safetensors", "sha256")  # once: graphs and embeddings
        encoder, decoder, note = folder_runtime(model, weights, input_size(model.config), runtime,
                                                point_decoder=family.model_type == "sam2", announce=announce)
        if note:
            LOG.warning("%s", note)
        segmenter = cls(model, family, cache_images, encoder, note, decoder)
        kind = "torch" if encoder is None else "ort-int8"  # the runtimes' embeddings differ slightly
        segmenter.model_id = f"{weights[:32]}-{segmenter.size}-{kind}"
        return segmenter

    def _encode(self, pixels: torch.Tensor, interrupt: Interrupt | None = None):
        """The image embeddings in the form the model's decoder takes."""
        if interrupt is not None:
            interrupt.check()
        if self.encoder is None:
            return self.model.get_image_embeddings(pixels)
        outputs = self.encoder(pixels, interrupt)
        return outputs if self.family.model_type == "sam2" else outputs[0]

    # --- embeddings ------------------------------------------------------------------------------
    def embed(self, key: Hashable, image: np.ndarray, interrupt: Interrupt | None = None, *,
              disk: bool = True) -> float | None:
        """Compute and cache the embedding of ``image`` (H, W[, 3|4] uint8) under ``key``; the
        seconds the encoder took, or None when this call did not run it (cached, waited for another
        thread's, or read from the disk store; ``disk=False`` leaves the store alone).

        Returns at once when it is cached for an image of this size; waits when another thread is
        computing it, and computes it itself when that one is interrupted. A cached key whose size
        differs (the file changed) is computed again; a key that also changes with the pixels
        (path and modification time) keeps every edit apart. ``interrupt`` may stop this call's
        own computation (:class:`.interrupt.Interrupted`, nothing cached).
        """
        rgb = rgb_image(image)
        with self._lock:
            entry = self._cache.get(key)
            stale = entry is not None and entry.ready.is_set() and (
                entry.frame is None or (entry.frame.height, entry.frame.width) != rgb.shape[:2]
            )
            owner = entry is None or stale
            if owner:
                entry = self._cache[key] = _Entry()
                self._evict()
            self._cache.move_to_end(key)
        if not owner:
            entry.ready.wait()
            if isinstance(entry.error, Interrupted):  # the one computing it was stopped: compute it here
                return self.embed(key, rgb, interrupt, disk=disk)
            self._wait(entry)
            if (entry.frame.height, entry.frame.width) != rgb.shape[:2]:
                return self.embed(key, rgb, interrupt, disk=disk)  # computed for the file as it was before: again
            return None
        seconds = None
        try:
            frame = Frame(rgb.shape[0], rgb.shape[1], self.size, self.family.letterbox)
            prepared = disk and self._prepared(key)
            entry.embeddings = self._stored(key, rgb) if disk else None
            if entry.embeddings is None:
                start = time.perf_counter()
                with torch.inference_mode():
                    entry.embeddings = self._encode(frame.pixels(rgb), interrupt)
                seconds = time.perf_counter() - start
                if prepared:  # a prepared file that could not be used: written whole again
                    self._keep(key, rgb, entry.embeddings)
            entry.frame = frame
        except BaseException as error:
            entry.error = error
            with self._lock:
                if self._cache.get(key) is entry:
                    del self._cache[key]
            raise
        finally:
            entry.ready.set()
        return seconds

    # --- crops around small objects --------------------------------------------------------------
    def embed_crop(self, key: Hashable, image: np.ndarray, crop: CropBox,
                   interrupt: Interrupt | None = None) -> float | None:
        """Embed ``crop`` of ``image`` (the image known as ``key``) into the memory cache, never on
        disk; the seconds it took, as :meth:`embed` says. As long as a whole image's: the encoder's
        input is the same square."""
        rgb = rgb_image(image)
        return self.embed(CropKey(key, crop), np.ascontiguousarray(rgb[crop.slices]), interrupt, disk=False)

    def predict_crop(
        self,
        key: Hashable,
        crop: CropBox,
        image_shape: tuple[int, int],
        points: Sequence[Sequence[float]] | np.ndarray = (),
        labels: Sequence[int] | np.ndarray = (),
        box: Sequence[float] | None = None,
    ) -> Proposal:
        """:meth:`predict` on the crop embedded by :meth:`embed_crop`, prompts in the image's pixels
        (every point on the crop, ValueError otherwise); masks of ``image_shape`` (height, width)."""
        if len(points) and not crop.holds(np.asarray(points, np.float64)):
            raise ValueError(f"a point lies outside the crop {crop}")
        shifted = crop.to_crop(np.asarray(points, np.float64).reshape(-1, 2))
        corners = None if box is None else crop.to_crop(np.asarray(box, np.float64).reshape(2, 2)).reshape(4)
        on_crop = self.predict(CropKey(key, crop), shifted, labels, corners)
        return Proposal(on_crop.frame, on_crop._low_res, on_crop.scores, crop, image_shape)

    def forget_crops(self, key: Hashable | None = None) -> None:
        """Drop the crops' embeddings of one image (None: of every image)."""
        with self._lock:
            for old in [k for k in self._cache if isinstance(k, CropKey) and (key is None or k.image == key)]:
                del self._cache[old]

    # --- embeddings on disk ----------------------------------------------------------------------
    def prepare(self, key: Hashable, image: np.ndarray, interrupt: Interrupt | None = None) -> bool:
        """Compute the embedding of ``image`` into the disk store only (the memory cache, which
        holds the images being labelled, is left alone); False when it was there already."""
        if self.disk is None or self.model_id is None:
            raise RuntimeError("no embedding store to prepare into")
        if self.is_embedded(key) or self.disk.has(_content(key), self.model_id):
            return False
        rgb = rgb_image(image)
        frame = Frame(rgb.shape[0], rgb.shape[1], self.size, self.family.letterbox)
        with torch.inference_mode():
            embeddings = self._encode(frame.pixels(rgb), interrupt)
        self._keep(key, rgb, embeddings)
        return True

    def _prepared(self, key: Hashable) -> bool:
        """Whether the folder's preparation left a file for this image and model (usable or not)."""
        return self.disk is not None and self.model_id is not None and self.disk.has(_content(key), self.model_id)

    def _stored(self, key: Hashable, rgb: np.ndarray):
        """The embedding of this image read from disk, in the decoder's form, or None."""
        if self.disk is None or self.model_id is None:
            return None
        stored = self.disk.load(_content(key), self.model_id)
        if stored is None or (stored.height, stored.width) != rgb.shape[:2]:
            return None
        tensors = [torch.from_numpy(array) for array in stored.arrays]
        return tensors if self.family.model_type == "sam2" else tensors[0]

    def _keep(self, key: Hashable, rgb: np.ndarray, embeddings) -> None:
        if self.disk is None or self.model_id is None:
            return
        tensors = embeddings if isinstance(embeddings, list | tuple) else [embeddings]
        arrays = stored_arrays([t.detach().float().cpu().numpy() for t in tensors])
        self.disk.save(_content(key), self.model_id, StoredEmbedding(rgb.shape[0], rgb.shape[1], arrays))

    def is_embedded(self, key: Hashable) -> bool:
        with self._lock:
            entry = self._cache.get(key)
        return entry is not None and entry.ready.is_set() and entry.error is None

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one image's embedding, or all of them."""
        with self._lock:
            if key is None:
                self._cache.clear()
            else:
                self._cache.pop(key, None)

    def _evict(self) -> None:
        """Drop the least recently used finished embeddings beyond the cache size (lock held)."""
        for old in list(self._cache):
            if len(self._cache) <= self.cache_images:
                return
            if self._cache[old].ready.is_set():
                del self._cache[old]

    @staticmethod
    def _wait(entry: _Entry) -> None:
        entry.ready.wait()
        if entry.error is not None:
            raise RuntimeError(f"the image embedding failed: {entry.error}") from entry.error

    def _entry(self, key: Hashable) -> _Entry:
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
        if entry is None:
            raise KeyError(f"no embedding for {key!r}: call embed() first")
        self._wait(entry)
        return entry

    # --- prompts ---------------------------------------------------------------------------------
    def predict(
        self,
        key: Hashable,
        points: Sequence[Sequence[float]] | np.ndarray = (),
        labels: Sequence[int] | np.ndarray = (),
        box: Sequence[float] | None = None,
    ) -> Proposal:
        """Candidate masks for points (x, y in image pixels; label 1 object, 0 background) and/or a
        box (x0, y0, x1, y1) on the image embedded under ``key``."""
        entry = self._entry(key)
        frame = entry.frame
        prompt = _prompt_tensors(frame, points, labels, box)
        if self.decoder is not None:
            pred_masks, iou_scores = self.decoder(entry.embeddings, *_as_points(prompt))
        else:
            with torch.inference_mode():
                out = self.model(image_embeddings=entry.embeddings, multimask_output=True, **prompt)
            pred_masks, iou_scores = out.pred_masks, out.iou_scores
        scores = iou_scores[0, 0].float().numpy()
        order = np.argsort(-scores, kind="stable")
        return Proposal(frame, pred_masks[0, 0][torch.from_numpy(order)], scores[order].astype(np.float32))


def _content(key: Hashable) -> str:
    """The image content a cache key stands for, as a file-name-safe digest (the window's keys hold
    the image's shape and a hash of its pixels, so the same picture finds its embedding again)."""
    return hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


BOX_CORNER_LABELS = (2, 3)  # SAM 2's prompt encoder: a box is its two corners with these labels


def _as_points(prompt: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(points, labels) of a prompt with the box, if any, as two corner points after the clicks.

    SAM 2 embeds a box exactly so (corner embeddings 2 and 3, then one padding point, which the
    points-only path adds too), so the one point graph serves boxes as well; its masks equal
    ``Sam2Model``'s with ``input_boxes`` (tests/model/test_sam_onnx.py)."""
    points = [prompt["input_points"]] if "input_points" in prompt else []
    labels = [prompt["input_labels"]] if "input_labels" in prompt else []
    if "input_boxes" in prompt:
        points.append(prompt["input_boxes"].reshape(1, 1, 2, 2))
        labels.append(torch.tensor([[BOX_CORNER_LABELS]], dtype=torch.long))
    return torch.cat(points, dim=2), torch.cat(labels, dim=2)


def _prompt_tensors(frame: Frame, points, labels, box) -> dict[str, torch.Tensor]:
    """The model's prompt arguments (one image, one prompt set) in its input frame."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    labels = np.asarray(labels, np.int64).reshape(-1)
    if len(points) != len(labels):
        raise ValueError(f"{len(points)} points but {len(labels)} labels")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("point labels are 1 (object) or 0 (background)")
    if not np.isfinite(points).all():
        raise ValueError("point coordinates must be finite numbers")
    prompt: dict[str, torch.Tensor] = {}
    if len(points):
        prompt["input_points"] = torch.from_numpy(frame.to_input(points))[None, None]
        prompt["input_labels"] = torch.from_numpy(labels)[None, None]
    if box is not None:
        corners = np.asarray(box, np.float64).reshape(2, 2)
        if not np.isfinite(corners).all():
            raise ValueError("box coordinates must be finite numbers")
        corners = np.sort(corners, axis=0)  # x0 <= x1, y0 <= y1 whichever way it was dragged
        prompt["input_boxes"] = torch.from_numpy(frame.to_input(corners).reshape(4))[None, None]
    if not prompt:
        raise ValueError("give at least one point or a box")
    return prompt
