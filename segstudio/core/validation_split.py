"""How many labelled images a training run holds out to validate on: one rule, for the engine's
split and for the plan the training form shows before Train.

A validation split does two jobs. It draws the curve and the per-class table while a run trains,
and, once it has ``TRUSTED_VALIDATION`` images, it picks the run's best point as the model. With
fewer, the model is the run's final weights whatever the scores say (picking the best of ten
scores on six images picks noise), so each image held out only draws a curve, and costs the model
an image to learn from. On small sets that cost shows: on tests/benchmarks/loop_speed.py's
generated sets (32 labelled images, 600 steps from scratch), holding out 6 of them (20 %) scored
0.594 (texture) and 0.852 (scale) on the 16 held-out images, holding out 2 (5 %) scored 0.671
and 0.896.

So a run validates on ``TRUSTED_SHARE`` of the labelled images when that is enough to trust, and
otherwise on ``MONITOR_SHARE`` of them (at least one image): enough to watch the run, not enough
to take images from it.
"""

from __future__ import annotations

TRUSTED_VALIDATION = 20     # validation images needed to pick the best point over the last
TRUSTED_SHARE = 0.2         # the share held out once it gives that many
MONITOR_SHARE = 0.05        # the share held out below that: a curve to watch, not a judge


def validation_count(labelled: int, share: float | None = None) -> int:
    """Images of ``labelled`` ones that validate, at ``share`` when given, else by the rule above.

    At least one when there are two or more, and never all of them; a single labelled image both
    trains and validates (1), none validates none (0).
    """
    if labelled <= 1:
        return max(labelled, 0)
    if share is None:
        trusted = int(round(labelled * TRUSTED_SHARE))
        share = TRUSTED_SHARE if trusted >= TRUSTED_VALIDATION else MONITOR_SHARE
    return min(max(1, int(round(labelled * share))), labelled - 1)


def trusted(validation_images: int) -> bool:
    """Whether a split of this many images picks the run's best point (else the last is kept)."""
    return validation_images >= TRUSTED_VALIDATION
