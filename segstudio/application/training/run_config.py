"""The training form as a run: its values become a :class:`TrainConfig` by one rule (no Qt).

The form gives the options table's form options (``init`` may be "@active": continue the active
model); a name left blank becomes ``<start>-<date>``. A value that cannot make a run is a
ValueError whose message the dock shows as it is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from segstudio.model.training.types import TrainConfig

CONTINUE_ACTIVE = "@active"


def build_config(values: Mapping[str, Any], name: str, active: Path | None) -> TrainConfig:
    """The TrainConfig of the form ``values`` (``TrainConfig`` fields) named ``name``."""
    fields = dict(values)
    if fields.get("init") == CONTINUE_ACTIVE:
        if active is None:
            raise ValueError("there is no active model to continue: choose a variant or a checkpoint")
        fields["init"] = str(active)
    source = str(fields.get("init", "auto"))
    base = Path(source).stem if Path(source).exists() else source
    name = name.strip() or f"{base}-{time.strftime('%Y%m%d-%H%M%S')}"
    if fields.get("minutes"):
        fields["budget_start"] = time.time()  # the budget counts from the click on Train
    try:
        return TrainConfig(**fields, name=name)
    except TypeError as exc:  # a field the table does not have: a bug of the form, said plainly
        raise ValueError(f"the training settings are not valid: {exc}") from None
