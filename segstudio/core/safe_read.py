"""Reading a user's file without blocking, without running out of memory, without a traceback.

Every text, JSON or XML file that a user (or another tool) hands us goes through
:func:`read_limited`. A path can name something that is not a file at all: ``/dev/zero`` never
ends, a FIFO blocks ``open`` until some other process writes to it (the window would freeze), a
folder cannot be read. And a real file can be far larger than any genuine class list or annotation.
So the path is checked with ``stat`` before it is opened (regular files only), opened with
``O_NONBLOCK`` in case it was swapped meanwhile (checked again with ``fstat``), and read up to a
limit per kind of file. Each failure is one clear error of the caller's type, naming the file.

Images are not read here (Pillow and OpenCV open them), but :func:`check_regular_file` gives them
the same "regular files only" rule before they are opened.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import SegStudioError

MIB = 1024 * 1024
# Generous limits: far above any genuine file of the kind, far below what would hurt.
CLASS_FILE_LIMIT = 1 * MIB  # 255 names at most
LABELME_JSON_LIMIT = 256 * MIB  # the image itself may be embedded (base64 imageData)
XML_LIMIT = 16 * MIB  # thousands of boxes
SETTINGS_LIMIT = 16 * MIB  # project.json: colours, model mappings

_CHUNK = 4 * MIB


def _kind(mode: int) -> str:
    """A name for what a non-regular path is, for the error message."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def check_regular_file(
    path: str | os.PathLike,
    error: type[SegStudioError],
    what: str = "file",
    follow_symlinks: bool = True,
) -> os.stat_result:
    """``stat`` of ``path``, or ``error`` when it is missing or not a regular file.

    Opening a FIFO blocks and reading a device never ends, so this runs before any ``open``.
    """
    path = Path(path)
    try:
        info = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError as exc:
        raise error(f"{what} not found: {path}") from exc
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {path} is {_kind(info.st_mode)}, not a regular file")
    return info


def _too_large(path: Path, what: str, limit: int) -> str:
    return f"{what} {path} is larger than {limit // MIB} MiB: too large to be genuine, not read"


def read_limited(
    path: str | os.PathLike,
    limit: int,
    error: type[SegStudioError],
    what: str = "file",
    follow_symlinks: bool = True,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, else ``error``.

    ``what`` names the kind of file in messages ("class file", "labelme file"...).
    ``follow_symlinks=False`` refuses a symbolic link (the app's own state is never read
    through one).
    """
    path = Path(path)
    info = check_regular_file(path, error, what, follow_symlinks)
    if info.st_size > limit:
        raise error(_too_large(path, what, limit))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between stat and open
            raise error(f"{what} {path} is not a regular file")
        return _read_fd(fd, path, limit, error, what)
    finally:
        os.close(fd)


def _read_fd(fd: int, path: Path, limit: int, error: type[SegStudioError], what: str) -> bytes:
    """Read ``fd`` to its end in chunks, refusing to go past ``limit`` (a file may grow)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise error(_too_large(path, what, limit))


JSON_LIMIT = 64 * MIB  # a COCO file of a large dataset; a model's config or history is far smaller
SMALL_JSON_LIMIT = 4 * MIB  # configs, id2label, histories, lock files: a few KiB when genuine
IMAGE_LIST_LIMIT = 64 * MIB  # ImageSets/Segmentation/*.txt: one stem a line, a million images fit
WEIGHTS_LIMIT = 4096 * MIB  # checkpoints and training states: SAM ViT-H, the largest we load, is 2.5 GB


def check_bounded_file(
    path: str | os.PathLike,
    limit: int,
    error: type[SegStudioError],
    what: str = "file",
) -> os.stat_result:
    """:func:`check_regular_file` and at most ``limit`` bytes, for files a library opens by path
    itself (``torch.load``, safetensors, transformers): a pipe would block it, a device or a sparse
    file of terabytes would exhaust memory."""
    info = check_regular_file(path, error, what)
    if info.st_size > limit:
        raise error(_too_large(Path(path), what, limit))
    return info


def read_text(
    path: str | os.PathLike,
    limit: int,
    error: type[SegStudioError],
    what: str = "file",
    follow_symlinks: bool = True,
) -> str:
    """The UTF-8 text (BOM accepted) of the regular file ``path``, bounded as :func:`read_limited`."""
    path = Path(path)
    data = read_limited(path, limit, error, what, follow_symlinks)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (byte {exc.start})") from exc


def read_json(
    path: str | os.PathLike,
    limit: int,
    error: type[SegStudioError],
    what: str = "file",
    expect: type = dict,
    follow_symlinks: bool = True,
) -> Any:  # noqa: ANN401 (a JSON value: any of dict, list, str, number...)
    """The JSON value of the regular file ``path`` (bounded as :func:`read_limited`), checked to be
    an ``expect`` (``dict`` or ``list``; ``object`` accepts any); ``error`` with one line naming the
    file for everything else: not UTF-8, not JSON, nested too deep, the wrong type."""
    path = Path(path)
    text = read_text(path, limit, error, what, follow_symlinks)
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise error(f"{what} {path} is nested too deeply to be genuine JSON") from exc
    except ValueError as exc:
        raise error(f"{what} {path} is not valid JSON ({exc})") from exc
    if expect is not object and not isinstance(value, expect):
        kinds: dict[type, str] = {dict: "a JSON object", list: "a JSON list"}
        kind = kinds.get(expect, expect.__name__)
        raise error(f"{what} {path} is not {kind}")
    return value


def read_yaml(
    path: str | os.PathLike,
    limit: int,
    error: type[SegStudioError],
    what: str = "file",
) -> Any:  # noqa: ANN401 (a YAML value, as for JSON)
    """The YAML value of the regular file ``path`` (bounded), parsed with PyYAML's safe loader, which
    builds plain values only (no Python objects) and refuses aliases that would multiply memory."""
    import yaml  # PyYAML: installed with huggingface_hub; imported here as only data.yaml needs it

    path = Path(path)
    text = read_text(path, limit, error, what)
    loader = _no_alias_loader()(text)
    try:
        return loader.get_single_data()
    except RecursionError as exc:
        raise error(f"{what} {path} is nested too deeply to be genuine YAML") from exc
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML ({' '.join(str(exc).split())})") from exc
    finally:
        loader.dispose()


@functools.cache
def _no_alias_loader() -> type:
    """PyYAML's safe loader (plain values only, never Python objects) that also refuses aliases
    (``*name``): a "billion laughs" file expands a few KiB of aliases into gigabytes of lists, and
    no genuine dataset file needs one."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
            if self.check_event(yaml.events.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted", mark)
            return super().compose_node(parent, index)

    return NoAliasLoader
