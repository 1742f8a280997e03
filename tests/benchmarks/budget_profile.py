"""Where the seconds of a ``segstudio-cli train --minutes N`` go: the command run in this process with
its phases timed (imports, model, probe, data, steps, validations, thread trials, writes).

    python tests/benchmarks/budget_profile.py SAVE --images IMG --model b0 --workers 0 --minutes 2

Every argument is the train command's. Printed at the exit (to stderr, after the command's own
output): seconds since the process started for each phase's start and end, the validations'
count and total, and the steps per thread count (the ThreadTuner's trials). The phases are the
loop's own methods wrapped here; nothing in segstudio changes.
"""

from __future__ import annotations

import atexit
import functools
import os
import runpy
import statistics
import sys
import time

MARKS: list[tuple[str, float]] = [("python main", time.time())]
STEPS: list[tuple[int, float]] = []


def mark(name: str) -> None:
    MARKS.append((name, time.time()))


def wrap(owner: object, attr: str, name: str) -> None:
    """Mark the start and the end of ``owner.attr``."""
    inner = getattr(owner, attr)

    @functools.wraps(inner)
    def timed(*args: object, **kwargs: object) -> object:
        mark(f"{name} start")
        try:
            return inner(*args, **kwargs)
        finally:
            mark(f"{name} end")
    setattr(owner, attr, timed)


def instrument() -> None:
    import torch

    from segstudio.model.training import budget_run, checkpoint_writer, cpu_threads, loop
    mark("imports (torch, training)")
    wrap(loop.Loop, "_build_model", "model")
    wrap(budget_run, "measure_steps", "probe: steps")
    wrap(budget_run, "measure_forward", "probe: forward")
    wrap(loop.Loop, "_build_data", "data and final plan")
    wrap(loop.Loop, "_steps", "steps")
    wrap(loop.Loop, "_validate", "validation")
    wrap(loop.Loop, "_save_state", "writes")
    wrap(checkpoint_writer.CheckpointWriter, "drop_state", "drop state")
    switch, observe = cpu_threads.ThreadTuner._switch, cpu_threads.ThreadTuner.observe

    def switched(self: object, threads: int) -> None:
        mark(f"thread trial: {threads}")
        switch(self, threads)

    def observed(self: object, seconds: float) -> None:
        STEPS.append((torch.get_num_threads(), seconds))
        observe(self, seconds)
    cpu_threads.ThreadTuner._switch = switched
    cpu_threads.ThreadTuner.observe = observed


def report() -> None:
    from segstudio.core import platform_io
    mark("exit")
    start = platform_io.process_start(os.getpid()) or MARKS[0][1]
    out = sys.stderr
    validations = [t for n, t in MARKS if n.startswith("validation")]
    spent = sum(validations[i + 1] - validations[i] for i in range(0, len(validations) - 1, 2))
    print(f"\nprocess start -> python main: {MARKS[0][1] - start:.2f} s", file=out)
    print(f"validations: {len(validations) // 2}, {spent:.2f} s in all", file=out)
    for threads in sorted({n for n, _ in STEPS}):
        times = [t for n, t in STEPS if n == threads]
        print(f"steps on {threads} thread(s): {len(times)}, {sum(times):.1f} s, median {statistics.median(times):.3f} s",
              file=out)
    for name, t in MARKS:
        if not name.startswith("validation"):
            print(f"{t - start:8.2f}  {name}", file=out)


def main() -> None:
    sys.argv = ["segstudio-cli", "train", *sys.argv[1:]]
    instrument()
    atexit.register(report)
    runpy.run_module("segstudio.cli.main", run_name="__main__")


if __name__ == "__main__":
    main()
