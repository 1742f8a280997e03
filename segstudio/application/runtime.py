"""The start-up tricks that keep the window responsive while torch loads, in one place, with one switch.

The window must never stand still while torch comes in (about a second of work, most of it with
the GIL held). Three things see to it, all here:

1. **torch's libraries are mapped with the GIL released.** Python imports an extension module while
   holding the GIL, and torch's first import maps libtorch (libtorch_cpu alone is hundreds of MB
   with thousands of static initialisers; the CUDA build adds more): on the project's 2-core CPU
   the window's thread stood still for 0.4-0.5 s of that, however the worker was scheduled. A
   foreign call through ctypes releases the GIL, so :func:`import_torch` first has the C library's
   ``dlopen`` map those libraries (the window keeps running meanwhile), and the import that follows
   finds them mapped. Only torch's own libraries are mapped early (``libtorch_global_deps``
   globally, as torch itself does first, then ``libtorch`` and what it links), never its Python
   extension, whose initialisers may need the GIL. Where that is not possible (Windows, an unusual
   layout, a library that fails to map) the import simply does the work itself.
2. **Garbage collection is deferred while torch's machinery loads** (:func:`collections_deferred`).
   The rest of the import is Python code, which lets the window's thread in every few
   milliseconds, except for the full collections that thousands of new modules set off (the first
   optimiser imports torch._dynamo and sympy too): 100-200 ms each, the GIL held throughout, the
   longest stutters of a training or live run started from the window. Collection is off while
   such code runs, and what it loaded is frozen afterwards (``gc.freeze``, once per load: torch,
   the optimiser machinery, a live trainer; never again per training start, which froze each run's
   leftovers too), so the long-lived modules stay out of later collections' way. Reference
   counting still frees memory meanwhile; the deferral lasts a few seconds.
3. **The device is described without torch** (:data:`DEVICE_PROBE`): until torch is loaded anyway,
   the window asks a short child process which device a training choice means
   (gui/workers/device_info.py runs it); once torch is in, :func:`describe_device_here` answers.

Measured by tests/benchmarks/torch_import_gap.py (a 1 ms timer on the main thread, a worker
importing torch, four fresh processes each way, alternating, numpy imported first as in the
window): longest main-thread gap 418-535 ms for a plain import, 37-47 ms this way. What is left is
mostly the Python extension's own initialisation (``torch._C``), which needs the GIL.

**The switch:** ``SEGSTUDIO_PLAIN_IMPORTS=1`` in the environment turns 1 and 2 off -- torch is
imported plainly, collection is never deferred or anything frozen, no optimiser is built ahead --
to tell whether a problem comes from these tricks (the window may then stutter while torch loads).
The device probe (3) stays: it only moves work to a child process.
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

PLAIN_IMPORTS_ENV = "SEGSTUDIO_PLAIN_IMPORTS"

_lock = threading.Lock()
_optimiser_machinery = threading.Event()  # set once the throwaway optimiser has been built


def plain_imports() -> bool:
    """Whether the tricks are off (``SEGSTUDIO_PLAIN_IMPORTS`` set to anything but empty or 0)."""
    return os.environ.get(PLAIN_IMPORTS_ENV, "").strip() not in ("", "0")


# ------------------------------------------------------------------------------ garbage collection


@contextmanager
def collections_deferred() -> Iterator[None]:
    """No cyclic garbage collection inside the block; freeze what exists when it ends (nothing at
    all with ``SEGSTUDIO_PLAIN_IMPORTS``)."""
    if plain_imports():
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # the one freeze: what a deferred load brought in is long-lived
        if enabled:
            gc.enable()


# ----------------------------------------------------------------------------------- loading torch


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
    if _torch_loaded():
        return
    with _lock:
        if _torch_loaded():
            return
        if plain_imports():
            import torch  # noqa: F401
            return
        map_torch_libraries()
        with collections_deferred():
            import torch  # noqa: F401


def load_optimiser_machinery() -> None:
    """Import torch as :func:`import_torch` does and build a throwaway AdamW (which imports
    torch._dynamo and sympy, thousands of modules), all with collections deferred and one freeze at
    the end; call it on the worker before a run, so the run's own set-up sets off no collection
    pauses. Only the first call does anything (later runs find it all loaded)."""
    if _optimiser_machinery.is_set():
        return
    if plain_imports():
        import_torch()
        return
    with _lock:
        if _optimiser_machinery.is_set():
            return
        if not _torch_loaded():
            map_torch_libraries()
        with collections_deferred():
            import torch

            torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
        _optimiser_machinery.set()


def _torch_loaded() -> bool:
    """torch is imported and finished (a module still initialising lacks ``__version__``)."""
    module = sys.modules.get("torch")
    return module is not None and hasattr(module, "__version__") and hasattr(module, "Tensor")


# ---------------------------------------------------------------------------------- device probing

DEVICE_PROBE = (
    "import sys\n"
    "from segstudio.model.device import describe_device, pick_device\n"
    "try:\n"
    "    d = pick_device(sys.argv[1]); print(d.type + '|' + describe_device(d))\n"
    "except Exception as e:\n"
    "    print('error|' + str(e).split(' (available')[0])\n"
)
"""A child process's script: ``python -c DEVICE_PROBE CHOICE`` prints ``kind|description`` (kind
``cuda``, ``mps``, ``cpu``, or ``error`` with the reason) as its last line."""


def probe_arguments(choice: str) -> list[str]:
    """The child's arguments after the interpreter (``sys.executable``)."""
    return ["-c", DEVICE_PROBE, choice]


def probe_answer(output: str) -> str:
    """The ``kind|description`` a probe printed (its last line), or an error when it printed none."""
    lines = output.strip().splitlines()
    return lines[-1] if lines else "error|could not detect the device"


def describe_device_here(choice: str) -> str | None:
    """The probe's ``kind|description`` answered in this process when torch is loaded already;
    None otherwise (importing torch here could freeze the window: ask a child instead)."""
    if "torch" not in sys.modules:
        return None
    from segstudio.model.device import describe_device, pick_device
    try:
        device = pick_device(choice)
    except ValueError as exc:
        return "error|" + str(exc).split(" (available")[0]
    return f"{device.type}|{describe_device(device)}"
