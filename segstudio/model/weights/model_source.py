"""From a MODEL argument to what the loader reads, and where a training run starts from.

Every place that accepts a MODEL (``predict``, ``evaluate --model``, ``model-info``,
``export-onnx``, ``train --model``, the window) goes through :func:`local_source`: a bare
variant ``b0``..``b5`` stays a variant (random weights), anything else is resolved by
:mod:`segstudio.model.weights.hub` (a path, the project's models, the Hugging Face cache, a download).

A training run with no starting model (``auto``, the default) starts from the ImageNet encoder
of B0 when it is in the cache, because fine-tuning a pretrained encoder learns far more from a
few images than training from scratch; otherwise it starts from scratch and says how to get the
encoder. ``segstudio-cli train`` fetches the encoder first when the network allows; the window's
Train button never starts a download (its Models dock has one).
"""

from __future__ import annotations

import os

from segstudio.model.weights import hub, hub_cache

AUTO = "auto"
BARE_VARIANTS = tuple(f"b{i}" for i in range(6))
DEFAULT_ENCODER = "mit-b0"


def is_variant(name: str | os.PathLike) -> bool:
    """True for ``b0``..``b5``: an architecture with random weights, not a file to find."""
    return str(name).strip().lower() in BARE_VARIANTS


def local_source(name: str | os.PathLike, save_dir: str | os.PathLike | None = None, *,
                 download: bool = True, **progress) -> str:
    """What :func:`segstudio.model.weights.checkpoints.load_model` reads for MODEL ``name``.

    ``progress`` is passed to :func:`hub.resolve` (``on_start``, ``on_progress``, ``should_stop``,
    ``on_remote``).
    """
    if is_variant(name):
        return str(name).strip().lower()
    return str(hub.resolve(name, save_dir, download=download, **progress).path)


def training_start(init: str, save_dir: str | os.PathLike | None = None) -> tuple[str, str | None]:
    """(starting model, note for the run's notes) for a run whose ``init`` is ``init``.

    ``auto`` becomes the B0 ImageNet encoder when it is cached, else ``b0`` from scratch; any
    other value is kept (and must resolve without downloading: the command line fetches first).
    """
    if str(init).strip().lower() != AUTO:
        return str(init), None
    hub_id, _ = hub.hub_id_of(DEFAULT_ENCODER)
    if hub_cache.cached_snapshot(hub_id) is not None:
        return DEFAULT_ENCODER, f"started from the ImageNet encoder {hub_id} (in the Hugging Face cache)"
    return "b0", (f"started from scratch: the ImageNet encoder {hub_id} is not downloaded "
                  f"(segstudio-cli fetch-model {DEFAULT_ENCODER} fetches it once; later runs start from it)")
