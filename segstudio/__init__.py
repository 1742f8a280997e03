"""segstudio: paint semantic-segmentation masks, fine-tune SegFormer on them, review predictions.

Layers (imports point down only): ``gui`` -> ``application`` -> ``model`` -> ``core``, and ``cli``
beside ``gui``. ``core`` and ``application`` load neither Qt nor torch on import; ``model`` and
``cli`` never import Qt. ``lint-imports`` checks the import graph (contracts in pyproject.toml);
``tests/test_layers.py`` checks what each layer loads, torch included.

Importing the package sets ``GOMP_SPINCOUNT`` (unless it is set already) before anything loads
torch, whose OpenMP runtime (libgomp) reads it once: how long a thread that finished its share
of an operator spins before it sleeps. libgomp's default, 300000 spins (milliseconds), lets the
waiting threads take the cores from the one still working whenever other processes share the
machine (the GUI thread, a second run, anything else). B0 inference at 512² on 2 threads with
other work keeping the cores busy (load 9-10): median 1.2-3.9 s by default, 0.28-0.44 s with
1000 spins (about 30 µs, still longer than the gap between two operators of a forward pass).
Child processes (data workers, benchmarks) inherit it. ``SEGSTUDIO_PLAIN_IMPORTS=1`` (the switch
that turns off the start-up tricks of ``application.runtime``) leaves it unset.
"""

import os as _os
import sys as _sys

__version__ = "0.1.0"

OPENMP_SPIN = "1000"

if "torch" not in _sys.modules and _os.environ.get("SEGSTUDIO_PLAIN_IMPORTS") != "1":  # too late once torch is loaded
    _os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN)
