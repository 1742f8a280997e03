"""Click to segment (S): points and boxes become a proposal from a Segment-Anything-family model.

A click adds an object point, Shift+click a background point, a drag gives a box; every prompt
re-runs the model's small prompt decoder on the image embedding, which is computed once per image
on the "segment" worker as soon as the tool is in use (it takes seconds on a CPU, a click then
takes a fraction of a second). N shows the next candidate mask (the model proposes three, best
first). The proposal is shown and accepted like GrabCut's (:class:`AssistTools`): Enter writes it
into the current class as one undo step (Shift+Enter: only into unpainted pixels), Esc drops it.

Before the first click, once the image is embedded, the mask under the resting cursor is decoded
and outlined (the hover preview; its debounce and latest-only rule are
:mod:`segstudio.application.hover_preview`), and a click on that pixel takes it as its proposal.

Small objects: when a click's mask, or a box, covers fewer than
:data:`~segstudio.core.assist.small_objects.SMALL_OBJECT_CELLS` of the model's feature cells, the
whole-image answer is shown at once and the tool looks closer: a padded crop around the object is
embedded on the same worker (seconds, the busy cursor and a status line say so) and the prompts are
decoded on it, the mask pasted back at its exact pixels. The following clicks on the object use
that crop's embedding while they fall on it (a prompt off it goes back to the whole image); it is
dropped when the object is accepted or dropped, or the image changes. Crops are never stored on
disk. The hover preview always decodes on the whole image: it runs on every resting of the cursor
and must answer in a decoder's time, and a crop costs an embedding; the click that takes a hover
answer looks closer like any click.

While the encoder runs, the status bar names the image (or the crop) and how long an embedding
usually takes on this machine (:mod:`segstudio.application.embed_times`).

The model is a local folder (``config.json`` + ``model.safetensors``): the one chosen in
*Tools > Click-to-segment model…*, else SAM 2.1 Hiera-tiny when it is in the Hugging Face cache
(``segstudio-cli fetch-model facebook/sam2.1-hiera-tiny``). The runtime is the optional extra
``pip install segstudio[assist]``; without it the tool says so in one line.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from segstudio.application.embed_times import EmbedTimes
from segstudio.application.hover_preview import HoverPreview
from segstudio.application.runtime import import_torch
from segstudio.core.assist.preview import proposal_map
from segstudio.core.assist.small_objects import CropBox, prompt_box, small_object_crop
from segstudio.gui.workers.background import qt_timer

DRAG_PIXELS = 4.0  # image pixels: a press and release further apart than this is a box
AHEAD = 1  # images loaded ahead whose embedding is computed once the current one is ready
AHEAD_IDLE_MS = 1200  # a click stops the embedding ahead; it starts again once clicks pause this long


def image_key(image: np.ndarray) -> tuple:
    """What the embedding cache knows an image by: its shape and a hash of its pixels.

    Not ``id(image)``: a freed image's address is handed to the next image of the same size (large
    numpy buffers are mapped and unmapped whole), and the old embedding would answer for another
    photo. Hashing 12 MP takes about 40 ms, on the worker, next to seconds of embedding."""
    data = np.ascontiguousarray(image)
    return data.shape, hashlib.blake2b(data.data, digest_size=16).hexdigest()


@dataclass
class Prompts:
    """The prompts of the object being segmented (image pixel coordinates)."""

    points: list[tuple[float, float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)  # 1 object, 0 background
    box: tuple[float, float, float, float] | None = None

    @property
    def empty(self) -> bool:
        return not self.points and self.box is None

    def on(self, crop: CropBox) -> bool:
        """Whether every prompt lies on ``crop`` (its embedding can answer them)."""
        if self.points and not crop.holds(np.asarray(self.points)):
            return False
        if self.box is None:
            return True
        x0, y0, x1, y1 = self.box
        return crop.x0 <= x0 and crop.y0 <= y0 and x1 <= crop.x1 and y1 <= crop.y1


@dataclass
class Answer:
    """The worker's answer to the prompts: the proposal, its best mask, the crop to look closer on
    when it found a small object on the whole image, and the seconds a crop's embedding took."""

    proposal: object  # segstudio.model.sam.Proposal
    best: np.ndarray
    wanted: CropBox | None = None
    seconds: float | None = None


class SegmentTool(QObject):
    """The click-to-segment gestures of one window; proposals go to ``show`` (AssistTools' preview)."""

    message = Signal(str)
    working = Signal(int)  # 1 while the image on screen is being embedded, then 0 (never Signal(bool))

    def __init__(self, pool, show, parent: QObject | None = None, ahead_pool=None, outline=None,
                 hover_picture=None) -> None:
        super().__init__(parent)
        self._pool = pool  # one worker: the model runs one thing at a time
        self._ahead_pool = ahead_pool  # embeddings of the images loaded ahead (None: none)
        self._show = show  # callable(bool mask or None): the proposal layer
        self._outline = outline or (lambda picture: None)  # callable(hover picture or None): the hover preview
        self._hover_picture = hover_picture or proposal_map  # worker: bool mask -> what ``outline`` shows
        # hover decodes run on the model's own worker: behind an embedding or a click, never beside them
        self.hover_preview = HoverPreview(pool, qt_timer(self), self._decode_hover, self._hovered)
        self.images_ahead: Callable[[], list[np.ndarray]] = list  # the window's neighbours, next first
        self.embedding_store: Callable[[], object] = lambda: None  # the project's EmbeddingStore, or None
        self.on_busy: Callable[[], None] = lambda: None  # the model works for the image on screen
        self.image_name: Callable[[], str] = lambda: "the image"  # what the status bar calls the image on screen
        self.times: Callable[[str], EmbedTimes] = memory_times()  # a model's measured embeddings (the window's
        # keeps them in the user settings)
        self._load_lock = threading.Lock()  # the "segment" worker and a folder's preparation both load
        self.model_folder: Path | None = None
        self._segmenter = None
        self._image = None
        self._key = None  # image_key of the image on screen, known once its embedding is
        self._embedded: Future | None = None
        self._ahead: list[Future] = []
        self._interrupt = None  # segstudio.model.sam.interrupt.Interrupt of the embeddings ahead
        self._resume = QTimer(self)
        self._resume.setSingleShot(True)
        self._resume.setInterval(AHEAD_IDLE_MS)
        self._resume.timeout.connect(self.embed_ahead)
        self._prompts = Prompts()
        self._press: tuple[float, float] | None = None
        self._proposal = None  # segstudio.model.sam.Proposal
        self._candidate = 0
        self._job = 0
        self._waiting = False
        self._name = "the image"  # the image_name() of the image being embedded
        self._crop: CropBox | None = None  # the object's crop, while its prompts lie on it
        self._closer = False  # a crop's embedding and decode are on their way (the busy cursor is on)

    def use_model(self, folder: Path | None) -> None:
        """Use the model in ``folder`` from the next prompt on (None: the default from the cache)."""
        self.model_folder = Path(folder) if folder else None
        self._segmenter = None
        self.set_image(self._image)

    @property
    def prompts(self) -> Prompts:
        """The prompts given so far for the object being segmented."""
        return self._prompts

    @property
    def pending(self) -> bool:
        """True while a prediction for the latest prompts is on its way."""
        return self._waiting

    # --- image -----------------------------------------------------------------------------------
    def set_image(self, image) -> None:
        """The image on screen (None: none); its embedding starts when the tool is used."""
        self.reset()
        self.hover_preview.set_ready(False)
        if self._embedded is not None and not self._embedded.done():
            self.working.emit(0)  # that image's embedding is no longer waited for
        self._image = image
        self._key = None
        self._embedded = None

    def prepare(self) -> bool:
        """Start loading the model and embedding this image in the background (tool chosen)."""
        if self._image is None:
            return False
        if self._embedded is None:
            self._name = self.image_name()
            self.message.emit(f"Click to segment: loading the model for {self._name}…")
            self.on_busy()
            self._embedded = self._pool.submit(self._embed, self._image, self.embedding_store(), self._name,
                                               on_done=self._ready)
            self.working.emit(1)
        return True

    def _embed(self, image, disk, name: str) -> tuple:  # worker: at once when it was embedded ahead (or is being)
        key = image_key(image)
        segmenter = self.segmenter()
        segmenter.disk = disk  # the open project's embeddings on disk (None: memory only)
        if not segmenter.is_embedded(key):
            self._pool.call_soon(self._encoding, f"embedding {name}")
        return key, segmenter.embed(key, image)

    def embed_times(self) -> EmbedTimes:
        """This machine's measured embedding times with the model in use."""
        segmenter = self._segmenter
        return self.times(getattr(segmenter, "model_id", None) or "model")

    def _encoding(self, what: str) -> None:
        """The encoder starts on the image on screen, or a crop of it: say so, and for how long."""
        if self._embedded is not None and (self._key is None or self._closer):  # still wanted
            self.message.emit(f"Click to segment: {what} ({self.embed_times().phrase()})…")

    def segmenter(self):
        """The model, loaded on first use (on a worker: seconds)."""
        self._load()
        return self._segmenter

    def embed_ahead(self) -> None:
        """Embed the images the window has loaded ahead, on a pool of their own, so that the next
        image answers clicks at once too (the segmenter keeps a few; one being computed is waited
        for, not computed twice). A click stops it (:meth:`_pause_ahead`): the click's preview
        comes first, and this runs again once the clicks pause."""
        if self._key is None or self._resume.isActive():
            return  # the image on screen first (its embedding's end calls this again), or clicks
        for future in self._ahead:
            future.cancel()  # those not started: the user has moved on
        segmenter = self._segmenter
        if self._ahead_pool is None or segmenter is None:
            self._ahead = []
            return
        from segstudio.model.sam.interrupt import Interrupt  # loaded with the segmenter already

        if self._interrupt is None:
            self._interrupt = Interrupt()
        self._ahead = [self._ahead_pool.submit(_embed_quietly, segmenter, image, self._interrupt)
                       for image in self.images_ahead()[:AHEAD]]

    def _pause_ahead(self) -> None:
        """A click: stop the embeddings ahead (ONNX Runtime ends the run within an operator), and
        start them again once the clicks pause."""
        if self._interrupt is not None:
            self._interrupt.set()
            self._interrupt = None
        for future in self._ahead:
            future.cancel()
        self._resume.start()

    def _load(self) -> None:  # worker
        with self._load_lock:
            self._load_once()

    def _load_once(self) -> None:
        if self._segmenter is None:
            import_torch()  # transformers and the model load torch: without freezing the window
            from segstudio.model.sam import PromptableSegmenter

            self._segmenter = PromptableSegmenter.from_folder(
                self._folder(), announce=lambda text: self._pool.call_soon(self.message.emit, text))

    def model_path(self) -> Path:
        """The model folder in use (the chosen one, else the default from the cache); CheckpointError
        naming how to get one when there is none."""
        return self._folder()

    def _folder(self) -> Path:
        from segstudio.core.errors import CheckpointError
        from segstudio.model.sam import DEFAULT
        from segstudio.model.weights import hub_cache

        if self.model_folder is not None:
            return self.model_folder
        cached = hub_cache.cached_snapshot(DEFAULT.hub_id)
        if cached is None:
            raise CheckpointError(f"click to segment needs a model: run 'segstudio-cli fetch-model "
                                  f"{DEFAULT.hub_id}' once, or choose a model folder in the Tools menu")
        return cached

    def _ready(self, future: Future) -> None:
        if future is not self._embedded or future.cancelled():
            return
        self.working.emit(0)
        if future.exception() is not None:
            self._embedded = None  # the next use tries again (e.g. after a model was chosen)
            self.message.emit(f"Click to segment: {future.exception()}")
        else:
            self._key, seconds = future.result()
            if seconds is not None:
                self.embed_times().add(seconds)
            self.message.emit("Click to segment: rest the cursor on an object to see its mask, click to take it "
                              "(Shift+click: not this), or drag a box")
            self.hover_preview.set_ready(True)
            if not self._prompts.empty:
                self._predict()
            self.embed_ahead()

    # --- gestures --------------------------------------------------------------------------------
    def press(self, x: float, y: float, shift: bool) -> None:
        if self.prepare():
            self._press = (x, y)
            self._shift = shift

    def release(self, x: float, y: float) -> None:
        if self._press is None:
            return
        (x0, y0), self._press = self._press, None
        drag = abs(x - x0) > DRAG_PIXELS or abs(y - y0) > DRAG_PIXELS
        taken = None if drag or self._shift or not self._prompts.empty else self.hover_preview.take(x, y)
        self.hover_preview.stop()
        if taken is not None:  # the mask shown under the cursor: the click's own answer, not decoded again
            (hx, hy), (answer, _) = taken
            self._prompts.points.append((hx, hy))
            self._prompts.labels.append(1)
            self._job += 1  # an answer on its way for older prompts no longer matters
            self._waiting = False
            self._answered(answer)
            return
        if drag:
            self._prompts.box = (min(x0, x), min(y0, y), max(x0, x), max(y0, y))
        else:
            self._prompts.points.append((x, y))
            self._prompts.labels.append(0 if self._shift else 1)
        self._predict()

    # --- hover preview -----------------------------------------------------------------------------
    def hover(self, x: float, y: float) -> None:
        """The cursor moved to image point (x, y): preview the object under it (before any prompt)."""
        image = self._image
        inside = image is not None and 0 <= x < image.shape[1] and 0 <= y < image.shape[0]
        if self._press is not None:
            return  # a click's own jitter, or a box being dragged: the preview stays until the release
        if self.hover_preview.ready:
            self.on_busy()  # a hover decode may follow: the folder's preparation steps aside
        if not inside or not self._prompts.empty or self._proposal is not None:
            self.leave()
            return
        self.hover_preview.hover(x, y)

    def leave(self) -> None:
        """The cursor left the image: hide the hover preview."""
        self.hover_preview.stop()

    def _decode_hover(self, point: tuple[float, float]) -> tuple:  # worker: what a click there would give
        answer = self._run(self._key, self._image, Prompts([point], [1]), None)  # the whole image, always
        return answer, self._hover_picture(answer.best)

    def _hovered(self, point, answer) -> None:
        self._outline(None if answer is None else answer[1])

    def next_candidate(self) -> bool:
        """Show the model's next candidate mask; False when there is none."""
        if self._proposal is None or len(self._proposal) < 2:
            return False
        self._candidate = (self._candidate + 1) % len(self._proposal)
        self._job += 1
        job, proposal, index = self._job, self._proposal, self._candidate
        self._pool.submit(proposal.mask, index, on_done=lambda future: self._shown(job, future, (
            f"Candidate {index + 1} of {len(proposal)} (score {proposal.scores[index]:.2f}); Enter accepts")))
        return True

    def _shown(self, job: int, future: Future, text: str) -> None:
        if job == self._job and not future.cancelled() and future.exception() is None:
            self._show(future.result())
            self.message.emit(text)

    def reset(self) -> None:
        """Forget the prompts and the proposal (after accept, Esc, another image), and the object's crop."""
        self._job += 1
        self._drop_crop()
        self._prompts = Prompts()
        self._proposal = None
        self._candidate = 0
        self._press = None
        self._waiting = False
        self.hover_preview.stop()

    # --- the model -------------------------------------------------------------------------------
    def _predict(self) -> None:
        if self._embedded is None or not self._embedded.done() or self._embedded.exception() is not None:
            return  # _ready predicts once the embedding is there
        self._job += 1
        job, prompts = self._job, Prompts(list(self._prompts.points), list(self._prompts.labels), self._prompts.box)
        crop = self._crop if self._crop is not None and prompts.on(self._crop) else None
        self._waiting = True
        self.on_busy()
        self._pause_ahead()  # the click's preview first
        self._pool.submit(self._run, self._key, self._image, prompts, crop,
                          on_done=lambda future: self._predicted(job, future))

    def _run(self, key: tuple, image: np.ndarray, prompts: Prompts, crop: CropBox | None) -> Answer:
        """Worker: the decoder on the object's crop (embedded first, once) or on the whole image,
        and the best mask at full size; on the whole image, the crop a small object would want."""
        segmenter = self._segmenter
        if crop is not None:
            seconds = segmenter.embed_crop(key, image, crop)
            proposal = segmenter.predict_crop(key, crop, image.shape[:2], prompts.points, prompts.labels, prompts.box)
            return Answer(proposal, proposal.mask(0), None, seconds)
        proposal = segmenter.predict(key, prompts.points, prompts.labels, prompts.box)
        best = proposal.mask(0)
        objects = np.asarray([p for p, label in zip(prompts.points, prompts.labels, strict=True) if label == 1])
        found = prompt_box(objects, prompts.box, best)
        height, width = best.shape
        return Answer(proposal, best, small_object_crop(found, width, height, segmenter.family.letterbox))

    def _predicted(self, job: int, future: Future) -> None:
        if job != self._job or future.cancelled():
            return
        self._waiting = False
        self._closer_done()
        if future.exception() is not None:
            self.message.emit(f"Click to segment failed: {future.exception()}")
            return
        self._answered(future.result())

    def _answered(self, answer: Answer) -> None:
        """Show the answer; look closer when it found a small object on the whole image."""
        if answer.seconds is not None:
            self.embed_times().add(answer.seconds)
        self._take(answer.proposal, answer.best)
        if answer.wanted is not None and answer.wanted != self._crop:
            self._look_closer(answer.wanted)

    def _look_closer(self, crop: CropBox) -> None:
        """A small object: decode the prompts again on a crop around it (embedded first, on the worker)."""
        self._crop = crop
        self._closer = True
        self.working.emit(1)
        self._predict()
        segmenter, key = self._segmenter, self._key
        if segmenter is not None and not segmenter.is_embedded(_crop_key(key, crop)):
            self._encoding(f"a small object: embedding a {crop.width}×{crop.height} crop of {self._name}")

    def _closer_done(self) -> None:
        if self._closer:
            self._closer = False
            self.working.emit(0)

    def _drop_crop(self) -> None:
        """The user moved on: the crop's embedding is no longer needed."""
        self._closer_done()
        segmenter, self._crop = self._segmenter, None
        if segmenter is not None and self._key is not None:
            segmenter.forget_crops(self._key)

    def _take(self, proposal, best: np.ndarray) -> None:
        """Show ``proposal`` (its ``best`` mask) as the proposal of the prompts given."""
        self._proposal, self._candidate = proposal, 0
        self._show(best)
        more = " (N: next candidate)" if len(self._proposal) > 1 else ""
        crop = getattr(proposal, "crop", None)
        closer = f" on a {crop.width}×{crop.height} crop" if crop is not None else ""
        self.message.emit(f"{len(self._prompts.points)} point(s){' and a box' if self._prompts.box else ''}{closer}: "
                          f"score {self._proposal.scores[0]:.2f}{more}; Enter accepts (Shift+Enter: only unpainted "
                          "pixels), Esc drops")


def _crop_key(key, crop: CropBox):
    from segstudio.model.sam.segmenter import CropKey  # loaded with the segmenter already

    return CropKey(key, crop)


def memory_times() -> Callable[[str], EmbedTimes]:
    """Embedding times kept in memory only, one list per model (the window keeps them in its settings)."""
    kept: dict[str, str] = {}

    def times(model: str) -> EmbedTimes:
        return EmbedTimes(lambda: kept.get(model, ""), lambda text: kept.__setitem__(model, text))

    return times


def _embed_quietly(segmenter, image: np.ndarray, interrupt) -> None:  # worker: errors show when on screen
    segmenter.embed(image_key(image), image, interrupt)
