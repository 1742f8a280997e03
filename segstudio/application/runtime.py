"""Load torch on a worker without freezing the window (the start-up tricks, in one module).

Python imports an extension module while holding the GIL, and torch's first import maps libtorch
(libtorch_cpu alone is hundreds of MB with thousands of static initialisers; the CUDA build adds
more): on the project's 2-core CPU the window's thread stood still for 0.4-0.5 s of that, however
the worker was scheduled. A foreign call through ctypes releases the GIL, so
:func:`import_torch` first has the C library's ``dlopen`` map those libraries (the window keeps
running meanwhile), and the import that follows finds them mapped. The rest of the import is Python
code, which lets the window's thread in every few milliseconds, except for the full garbage
collections that thousands of new modules set off (100-200 ms each, the GIL held throughout); so
collection is deferred until the import ends (:func:`collections_deferred`).

Measured by tests/benchmarks/torch_import_gap.py (a 1 ms timer on the main thread, a worker
importing torch, four fresh processes each way, alternating, numpy imported first as in the
window): longest main-thread gap 418-535 ms for a plain import, 37-47 ms this way. What is left is
mostly the Python extension's own initialisation (``torch._C``), which needs the GIL.

Only torch's own libraries are mapped early (``libtorch_global_deps`` globally, as torch itself
does first, then ``libtorch`` and what it links), never its Python extension, whose initialisers
may need the GIL. Where that is not possible (Windows, an unusual layout, a library that fails to
map) the import simply does the work itself, as before.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_lock = threading.Lock()


@contextmanager
def collections_deferred() -> Iterator[None]:
    """No cyclic garbage collection inside the block; freeze what exists when it ends.

    Building the first optimiser imports torch._dynamo and sympy (thousands of modules) on a
    worker. The import itself lets the window's thread run, but the full collections it triggers
    scan every object of the process while holding the GIL: 130-200 ms each, several of them --
    the longest stutters of a training or live run started from the window. Collection is off
    while such code runs and what it loaded is frozen afterwards (gc.freeze), so the long-lived
    modules stay out of later collections' way too. Reference counting still frees memory
    meanwhile; the window of deferral is a few seconds, once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def torch_library_files() -> list[tuple[Path, int]]:
    """(library, dlopen flags) that torch's import maps first, in its order; found without
    importing torch. Empty where torch is missing or its layout is not the one known here."""
    if not sys.platform.startswith(("linux", "darwin")):
        return []
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    wanted = [(lib / f"libtorch_global_deps{suffix}", os.RTLD_NOW | os.RTLD_GLOBAL),
              (lib / f"libtorch{suffix}", os.RTLD_NOW | os.RTLD_LOCAL)]
    return [(path, flags) for path, flags in wanted if path.is_file()]


def map_torch_libraries() -> list[Path]:
    """``dlopen`` torch's libraries through ctypes (the GIL released); the ones that mapped.

    A library that does not map is left to the import, which then reports its own error."""
    files = torch_library_files()
    if not files:
        return []
    dlopen = ctypes.CDLL(None).dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    mapped = []
    for path, flags in files:
        if dlopen(os.fsencode(path), flags):  # the handle stays open: the import reuses the mapping
            mapped.append(path)
    return mapped


def import_torch() -> None:
    """Import torch (once; any thread but the window's) so that the window's thread never waits
    long for the GIL meanwhile. Threads calling it together wait here, without the GIL, for the
    first one; an ImportError of torch itself is raised as usual."""
    if _loaded():
        return
    with _lock:
        if _loaded():
            return
        map_torch_libraries()
        with collections_deferred():
            import torch  # noqa: F401


def _loaded() -> bool:
    """torch is imported and finished (a module still initialising lacks ``__version__``)."""
    module = sys.modules.get("torch")
    return module is not None and hasattr(module, "__version__") and hasattr(module, "Tensor")


def load_optimiser_machinery() -> None:
    """Import torch as :func:`import_torch` does, then build a throwaway AdamW (which imports
    torch._dynamo and sympy, thousands of modules) with collections deferred; call it on the worker
    before a run, so the run's own set-up sets off no collection pauses."""
    import_torch()
    with collections_deferred():
        import torch

        torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
