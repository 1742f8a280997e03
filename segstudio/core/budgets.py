"""Every memory budget of the app, in one place.

The window keeps things in memory to be quick (an image's undo steps, the neighbours loaded ahead,
predictions, SAM embeddings, decoded training images); each of them is bounded here, in bytes (or
in images where an image's size is fixed by the model), and the module that keeps them reads its
budget from here. With the defaults, a window with an ordinary photo open stays near 300 MB and one
with a 24 MP photo under 1 GB (figures: ``python tests/benchmarks/memory_figures.py``).

No imports: every layer may read it.
"""

from __future__ import annotations

MB = 1024 * 1024

# --- labelling -----------------------------------------------------------------------------------
UNDO_BYTES = 256 * MB  # the open image's undo steps (core.document: the oldest steps go first)
KEPT_UNDO_BYTES = 64 * MB  # undo steps of the images left, together (session.undo_keeper), oldest image first:
# about 600 strokes of a 15 px brush; the open image keeps its own UNDO_BYTES
PREFETCH_BYTES = 512 * MB  # neighbours loaded ahead, together (session.controller), the next image first:
# both up to about 25 MP, the next one only up to about 50 MP (D stays instant), none above
# What one image loaded ahead holds per pixel: RGB (3), the display pyramid (about 1), the mask and
# the document's map (1 + 1) and the coloured overlay (4): 10 bytes, 240 MB for a 24 MP photo.
LOADED_BYTES_PER_PIXEL = 10

# --- review --------------------------------------------------------------------------------------
PREDICTION_BYTES = 96 * MB  # predictions kept in memory (review.prediction_service), the last one always

# --- assisted tools ------------------------------------------------------------------------------
SAM_EMBEDDING_IMAGES = 4  # image embeddings kept (model.sam.segmenter): 16 MB each for SAM 2, 4 MB for SAM
SAM_EMBEDDING_DISK_BYTES = 2048 * MB  # embeddings kept on disk per project (core.assist.embedding_store):
# about 120 images for SAM 2 (16 MB each), 500 for SAM; the least recently used go first

# --- training (a run's own process or worker) ----------------------------------------------------
TRAIN_STREAM_CACHE_BYTES = 512 * MB  # decoded images cached by a streamed training set (model.data.dataset)
TRAIN_SET_MAX_BYTES = 2 << 30  # a training set held decoded in memory: never more than 2 GiB (model.data.memory)
TRAIN_SET_RAM_SHARE = 0.25  # nor more than a quarter of the memory available when the run starts


def loaded_image_bytes(width: int, height: int) -> int:
    """About what one image loaded ahead holds (see :data:`LOADED_BYTES_PER_PIXEL`)."""
    return width * height * LOADED_BYTES_PER_PIXEL
