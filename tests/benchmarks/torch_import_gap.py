"""How long the window's thread waits while a worker imports torch for the first time.

Plain script (not collected by pytest):  python tests/benchmarks/torch_import_gap.py [--rounds 3]

Each measurement is a fresh Python process (torch's first import happens once per process): the
main thread plays the window (numpy already imported, as the window has it), a timer that sleeps
1 ms and notes how long each tick really took,
while a worker thread imports torch either plainly (``import torch``, as the window's workers did)
or through :func:`segstudio.application.runtime.import_torch` (libraries mapped with the GIL
released, collections deferred). The two ways alternate, so a change of the machine's load touches
both alike. With ``SEGSTUDIO_PLAIN_IMPORTS=1`` in the environment the second way is plain too (the
switch that turns the tricks off), which this measures as well. Printed per way: the longest tick (what a user feels as a freeze), the 99th-percentile
tick, and how long the import took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, threading, time
import numpy  # noqa: F401 - the window has it long before torch (its own import holds the GIL ~50 ms)
way = sys.argv[1]
done = threading.Event()
took = []

def worker():
    start = time.perf_counter()
    if way == "quiet":
        from segstudio.application.runtime import import_torch
        import_torch()
    else:
        import torch  # noqa: F401
    took.append(time.perf_counter() - start)
    done.set()

thread = threading.Thread(target=worker)
ticks = []
last = time.perf_counter()
thread.start()
while not done.is_set():
    time.sleep(0.001)
    now = time.perf_counter()
    ticks.append(now - last)
    last = now
thread.join()
ticks.sort()
print(json.dumps({"longest": ticks[-1], "p99": ticks[int(len(ticks) * 0.99)], "import": took[0]}))
"""


def measure(way: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, way], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"plain": [], "quiet": []}
    for _ in range(args.rounds):
        for way in results:
            results[way].append(measure(way))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}; {args.rounds} fresh processes per way, alternating")
    print(f"{'way':<8} {'longest tick ms (each run)':<30} {'median':>7} {'p99 ms':>7} {'import s':>9}")
    for way, runs in results.items():
        longest = [r["longest"] * 1000 for r in runs]
        print(f"{way:<8} {', '.join(f'{v:.0f}' for v in longest):<30} {statistics.median(longest):>7.0f} "
              f"{statistics.median(r['p99'] * 1000 for r in runs):>7.1f} "
              f"{statistics.median(r['import'] for r in runs):>9.2f}")


if __name__ == "__main__":
    main()
