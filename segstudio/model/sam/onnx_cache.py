"""The cache of exported ONNX graphs and the CPU session that runs one: shared by the SAM encoder and
decoder.

Both graphs are exported once per model, input size, exporter and runtime version, into a per-user
folder (:func:`onnx_cache_dir`) under a name built from the weights' sha256 (:func:`export_name`),
and written atomically, so a changed model is exported again and a crash never leaves half a graph.
Kept apart from :mod:`.onnx_encoder` and :mod:`.onnx_decoder` so that the dependency between them
runs one way: the encoder's :func:`.onnx_encoder.folder_runtime` uses the decoder, and the decoder
needs only this module. onnxruntime is imported when a name is made or a session opened.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from segstudio.core.atomic import atomic_write_bytes
from segstudio.core.platform_io import home_folder

OPSET = 17
FORMAT = "enc1"  # bump when a wrapper's inputs or outputs change: old exports are then ignored


def onnx_cache_dir() -> Path:
    """``$SEGSTUDIO_CACHE``, else ``$XDG_CACHE_HOME/segstudio``, else ``~/.cache/segstudio``; then
    ``sam-onnx``. A per-user folder, never inside a project. Without a home folder (``HOME`` unset
    and no account entry) the graphs go to a temporary folder of this process: exported again by
    the next one, but click-to-segment works."""
    root = os.environ.get("SEGSTUDIO_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        home = home_folder()
        if xdg:
            root = str(Path(xdg) / "segstudio")
        elif home is not None:
            root = str(home / ".cache" / "segstudio")
        else:
            root = _process_cache()
    return Path(os.path.expanduser(root)) / "sam-onnx"


@functools.cache
def _process_cache() -> str:
    """A private temporary folder (mode 0700), the same for the whole process."""
    return tempfile.mkdtemp(prefix="segstudio-cache-")


def export_name(digest: str, size: int, kind: str) -> str:
    """The cache file name: weights, input size, graph (``int8``/``fp32`` encoder, ``decoder``),
    exporter and runtime versions."""
    import onnxruntime as ort

    torch_version = torch.__version__.split("+")[0]
    return f"{digest[:32]}-{size}-{kind}-{FORMAT}-op{OPSET}-torch{torch_version}-ort{ort.__version__}.onnx"


def cached_graph(name: str, make, cache: Path | None = None, before_make: Callable[[], None] | None = None) -> Path:
    """``cache/name``, made by ``make()`` (the graph's bytes) and written atomically when missing;
    ``before_make()`` is called first then (an export takes seconds)."""
    folder = cache or onnx_cache_dir()
    path = folder / name
    if not path.is_file():
        if before_make is not None:
            before_make()
        data = make()
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    return path


def cpu_session(source: bytes | str | Path, threads: int | None = None):
    """An ONNX Runtime CPU session of a graph (bytes or a file) for one image at a time, quiet.

    ``threads`` None (the window's choice) is ONNX Runtime's own default, one per physical core: an
    embedding is a burst of seconds while the window waits for it, and a click a burst of
    milliseconds. On the project's 2-core CPU, quiet, two threads embed in 2.8–3.3 s against one
    thread's 5.4–5.7 s, and decode a click in 87 ms against 114 ms
    (tests/benchmarks/sam_runtime_speed.py). Torch's thread count is not followed: a training run
    in the window lowers it to leave the GUI a core, and an embedding is over before it matters."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # not the lenient shape-merge warnings of the traced graph
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    source = str(source) if isinstance(source, Path) else source
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
