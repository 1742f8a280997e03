"""Several annotators on one folder, long: the soak of issue 31's "Done when".

Plain script (not collected by pytest):  python tests/benchmarks/team_soak.py [--people 3]
[--seconds 180] [--images 12] [--kill-after 60]

Starts the workers of tests/tools/team_driver.py (each one a ProjectSession without Qt, in its own
process) on one new folder for ``--seconds``: random images, one-pixel strokes that never share a
pixel, saves, heartbeats, class additions, steps away; the last worker is killed with -9 after
``--kill-after`` seconds. Then prints the counts: strokes saved and found on disk, strokes in
conflict files, strokes lost (must be 0), overlapping editors of one image (must be 0), class
additions done and refused, the claims the killed worker left and how many a fresh window still
sees as live (must be 0: a dead process's claims are stale at once on its own host).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "tools")]

from team_driver import run_team  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--kill-after", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="FOLDER", help="run in FOLDER and keep it (logs, masks) to look at")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        findings, counts = run_team(root, args.people, args.seconds, args.images, args.kill_after, args.seed)
        took = time.monotonic() - started
    print(f"{args.people} processes, {args.images} images, {args.seconds:.0f} s, the last killed -9 after "
          f"{args.kill_after:.0f} s (wall {took:.0f} s)")
    print(f"{'count':<32} value")
    for name, value in counts.items():
        print(f"{name:<32} {value}")
    for line in findings.lost[:10] + findings.overlaps[:10] + findings.classes_missing[:10]:
        print("  " + line)
    bad = findings.lost or findings.overlaps or findings.classes_missing or counts["claims live after the run"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
