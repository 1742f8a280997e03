"""Hostile files for the core robustness tests, made small (a bomb is a patched header, not pixels)."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (FIFOs and links are not read)."""
    sums = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            sums[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def png_claiming(width: int, height: int, mode: str = "L") -> bytes:
    """A tiny valid PNG whose IHDR claims ``width``×``height`` (CRC fixed): a decompression bomb."""
    buffer = io.BytesIO()
    Image.new(mode, (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR data starts at byte 16
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def png_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **params)
    return buffer.getvalue()


def call_with_timeout(fn: Callable[[], object], fifo: Path | None = None, timeout: float = 10.0):
    """Run ``fn`` in a thread; returns ("ok", result) or ("error", exception).

    Fails the test if ``fn`` is still running after ``timeout`` (it blocked on a FIFO): the FIFO
    is then opened for writing to release the blocked reader, so the test run itself never hangs.
    """
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(("ok", fn()))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome.append(("error", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        if fifo is not None:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        thread.join(5)
        raise AssertionError(f"blocked for more than {timeout} s (reading a FIFO?)")
    return outcome[0]
