"""Keep the garbage collector's long pauses away from the window while torch's machinery loads.

Building the first optimiser imports torch._dynamo and sympy (thousands of modules) on a worker.
The import itself lets the window's thread run, but the full collections it triggers scan every
object of the process while holding the GIL: 130-200 ms each, several of them -- the longest
stutters of a training or live run started from the window. :func:`collections_deferred` turns
collection off while such code runs and freezes what it loaded afterwards (gc.freeze), so the
long-lived modules stay out of later collections' way too. Reference counting still frees memory
meanwhile; the window of deferral is a few seconds, once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collections_deferred() -> Iterator[None]:
    """No cyclic garbage collection inside the block; freeze what exists when it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()

