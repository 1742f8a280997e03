"""Image embeddings kept on disk, in the project's ``.segstudio/sam-embeddings``: a prepared image
answers its first click in click time, in this window or the next.

One file per (image content, model): the name is a hash of both, so an edited image or another
model never reads a stale embedding. Whole images only: the crops click to segment embeds around
small objects serve one object's clicks and stay in memory. The folder is bounded by a size budget
(:data:`segstudio.core.budgets.SAM_EMBEDDING_DISK_BYTES`); the least recently used files (their
modification time, touched on each read) go first. Files are written atomically, the folder is
never reached through a link (:func:`segstudio.core.paths.own_path`), and nothing is written or
touched while ``writable()`` is False (a read-only project). A file is read by a bounded,
type-checked reader: a truncated or hostile file is ignored with one logged line and computed again.

Format: ``MAGIC``, a 4-byte little-endian header length, a JSON header ``{"height", "width",
"arrays": [[dtype, shape], ...]}``, then each array's raw little-endian bytes, nothing more.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segstudio.core.atomic import atomic_write_bytes, remove_stale_temporaries
from segstudio.core.budgets import SAM_EMBEDDING_DISK_BYTES
from segstudio.core.errors import SegStudioError
from segstudio.core.paths import STATE_FOLDER, is_regular_file, own_path

LOG = logging.getLogger(__name__)

FOLDER = "sam-embeddings"
SUFFIX = ".emb"
MAGIC = b"SEGSTUDIO-EMB1\n"
MAX_HEADER = 4096  # bytes: a few arrays' dtypes and shapes
MAX_ARRAYS = 8
MAX_FILE_BYTES = 128 * 1024 * 1024  # a file larger than this is not read (SAM 2's is 16 MB, SAM's 4 MB)
MAX_ARRAY_BYTES = MAX_FILE_BYTES
DTYPES = ("<f4", "<f2")


@dataclass(frozen=True)
class StoredEmbedding:
    """An image's embedding as numpy arrays, with the size of the image it was computed for."""

    height: int
    width: int
    arrays: list[np.ndarray]


def file_name(content: str, model: str) -> str:
    """The file of the embedding of image content ``content`` (a digest) by model ``model``."""
    return hashlib.blake2b(f"{model}\0{content}".encode(), digest_size=20).hexdigest() + SUFFIX


def encode(embedding: StoredEmbedding) -> bytes:
    """The file's bytes (see the module docstring)."""
    arrays = [np.ascontiguousarray(a, dtype=np.dtype(a.dtype).newbyteorder("<")) for a in embedding.arrays]
    header = json.dumps({"height": embedding.height, "width": embedding.width,
                         "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}).encode()
    return b"".join([MAGIC, struct.pack("<I", len(header)), header, *(a.tobytes() for a in arrays)])


def decode(data: bytes) -> StoredEmbedding:
    """The embedding in ``data``; ValueError naming what is wrong with a file of any other form."""
    start = len(MAGIC) + 4
    if len(data) < start or not data.startswith(MAGIC):
        raise ValueError("not an embedding file")
    (length,) = struct.unpack("<I", data[len(MAGIC):start])
    if length > MAX_HEADER or start + length > len(data):
        raise ValueError("header too long or cut off")
    try:
        header = json.loads(data[start:start + length])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("unreadable header") from exc
    height, width, specs = _fields(header)
    offset, arrays = start + length, []
    for dtype, shape in specs:
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if size > MAX_ARRAY_BYTES or offset + size > len(data):
            raise ValueError("array too large or cut off")
        arrays.append(np.frombuffer(data, dtype, int(np.prod(shape, dtype=np.int64)), offset).reshape(shape).copy())
        offset += size
    if offset != len(data):
        raise ValueError("bytes left over after the arrays")
    return StoredEmbedding(height, width, arrays)


def _fields(header: object) -> tuple[int, int, list[tuple[str, list[int]]]]:
    """(height, width, [(dtype, shape)]) of a header, each checked for type and range."""
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    height, width, specs = header.get("height"), header.get("width"), header.get("arrays")
    if not all(type(v) is int and 0 < v < 1 << 20 for v in (height, width)):
        raise ValueError("bad image size")
    if not isinstance(specs, list) or not 0 < len(specs) <= MAX_ARRAYS:
        raise ValueError("bad array list")
    checked = []
    for spec in specs:
        if not (isinstance(spec, list) and len(spec) == 2 and spec[0] in DTYPES and isinstance(spec[1], list)
                and 0 < len(spec[1]) <= 6 and all(type(d) is int and 0 < d < 1 << 16 for d in spec[1])):
            raise ValueError("bad array description")
        checked.append((spec[0], spec[1]))
    assert isinstance(height, int) and isinstance(width, int)
    return height, width, checked


class EmbeddingStore:
    """The embeddings of one project on disk; safe to call from worker threads (one file per call)."""

    def __init__(self, save_dir: str | os.PathLike, writable: Callable[[], bool],
                 budget: int = SAM_EMBEDDING_DISK_BYTES) -> None:
        self.save_dir = Path(save_dir)
        self.writable = writable
        self.budget = budget

    def _folder(self, create: bool) -> Path:
        return own_path(self.save_dir, STATE_FOLDER, FOLDER, create=create)

    def has(self, content: str, model: str) -> bool:
        try:
            return is_regular_file(self._folder(False) / file_name(content, model))
        except SegStudioError:
            return False

    def load(self, content: str, model: str) -> StoredEmbedding | None:
        """The stored embedding, or None (none, or a file that is not one: logged and ignored)."""
        try:
            path = self._folder(False) / file_name(content, model)
            if not is_regular_file(path):
                return None
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            embedding = decode(data)
        except (OSError, SegStudioError, ValueError) as exc:
            LOG.warning("ignored a stored image embedding (%s); it is computed again", exc)
            return None
        if self.writable():
            try:
                os.utime(path)  # most recently used
            except OSError:
                pass
        return embedding

    def save(self, content: str, model: str, embedding: StoredEmbedding) -> bool:
        """Write it (never for a read-only project), then keep the folder within the budget."""
        if not self.writable():
            return False
        data = encode(embedding)
        if len(data) > self.budget:
            return False
        try:
            folder = self._folder(True)
            atomic_write_bytes(folder / file_name(content, model), data)
            self.evict(folder)
        except (OSError, SegStudioError) as exc:
            LOG.warning("could not keep an image embedding on disk: %s", exc)
            return False
        return True

    def _files(self) -> list[Path]:
        """The embedding files: plain files named ``*.emb`` directly in the folder (never a link,
        never a folder reached through one: :func:`own_path` raises for those)."""
        folder = self._folder(False)
        if not folder.is_dir():
            return []
        return [path for path in folder.glob("*" + SUFFIX) if is_regular_file(path)]

    def usage(self) -> tuple[int, int]:
        """(files, bytes) stored now; (0, 0) when there is no folder. SegStudioError when the
        folder or the state folder is a link."""
        files = self._files()
        return len(files), sum(path.stat().st_size for path in files)

    def clear(self) -> tuple[int, int]:
        """Delete every stored embedding (Tools menu: the user asked, and was asked first); returns
        the (files, bytes) deleted. Nothing for a read-only project (PermissionError); only
        ``*.emb`` plain files inside ``.segstudio/sam-embeddings`` (and the temporaries a killed
        write left there), never through a link (SegStudioError); other files stay."""
        if not self.writable():
            raise PermissionError("the project is read-only: its stored embeddings stay")
        count = size = 0
        for path in self._files():
            size += path.stat().st_size
            path.unlink(missing_ok=True)
            count += 1
        if count:
            remove_stale_temporaries(self._folder(False))
        return count, size

    def evict(self, folder: Path) -> list[Path]:
        """Delete the least recently used files until the folder is within the budget (and the
        temporaries a crash left behind mid-write)."""
        remove_stale_temporaries(folder)
        entries: list[tuple[float, int, Path]] = []
        for path in folder.glob("*" + SUFFIX):
            if is_regular_file(path):
                info = path.stat()
                entries.append((info.st_mtime, info.st_size, path))
        entries.sort()
        total, gone = sum(size for _, size, _ in entries), []
        for _, size, path in entries:
            if total <= self.budget:
                break
            path.unlink(missing_ok=True)
            total -= size
            gone.append(path)
        return gone


def stored_arrays(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """float32 copies of an embedding's arrays, as the file keeps them."""
    return [np.ascontiguousarray(a, np.float32) for a in arrays]
