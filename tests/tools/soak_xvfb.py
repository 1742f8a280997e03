"""A long labelling session in the real app on a virtual display: hundreds of strokes with the
mouse, class keys, undo/redo, saves, verifies and image switches, then a report.

    python tests/tools/soak_xvfb.py [--strokes 300] [--shots OUT_DIR]

Prints strokes, dabs (mouse moves with the button down), the app's resident memory at the end, and
whether it is still alive; exits 1 if the app died (for example a reference-count abort) or if the
masks on disk do not hold the painted classes. Needs what tests/tools/screenshot.py needs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot import Session  # noqa: E402

CANVAS = (80, 90, 1000, 800)  # a box inside the canvas at the window's 1360x860 size


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stroke_args(rng: random.Random, moves: int) -> list[str]:
    """One xdotool command line: press, ``moves`` moves, release (one process per stroke)."""
    x0, y0, x1, y1 = CANVAS
    x, y = rng.randint(x0, x1), rng.randint(y0, y1)
    args = ["mousemove", str(x), str(y), "mousedown", "1"]
    for _ in range(moves):
        x = min(max(x + rng.randint(-25, 25), x0), x1)
        y = min(max(y + rng.randint(-25, 25), y0), y1)
        args += ["mousemove", str(x), str(y), "sleep", "0.005"]
    return args + ["mouseup", "1"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=300)
    parser.add_argument("--moves", type=int, default=12, help="mouse moves per stroke")
    parser.add_argument("--shots", type=Path, help="folder for a screenshot at the end")
    args = parser.parse_args(argv)
    out = args.shots or Path("/tmp")
    out.mkdir(parents=True, exist_ok=True)
    session = Session(out)
    rng = random.Random(0)
    dabs = 0
    try:
        session.start_app()
        started = time.perf_counter()
        start_mib = resident_mib(session.app.pid)
        for i in range(args.strokes):
            if i % 10 == 0:
                session.key(str(1 + (i // 10) % 7), pause=0.05)
            session.x(*stroke_args(rng, args.moves))
            dabs += args.moves
            if i % 9 == 8:
                session.key("ctrl+z", "ctrl+y", pause=0.05)
            if i % 40 == 39:
                session.key("ctrl+s", "space", pause=0.2)
            if i % 50 == 49:
                session.key("d", pause=1.0)
            if session.app.poll() is not None:
                break
        alive = session.app.poll() is None
        seconds = time.perf_counter() - started
        end_mib = resident_mib(session.app.pid) if alive else float("nan")
        if alive and args.shots:
            session.shot("soak-end.png")
        data = session.tmp / "data"
        masks = [p for p in data.rglob("*.png") if ".segstudio" not in str(p) and "recovery" not in str(p)]
        print(f"strokes {i + 1}, dabs {dabs}, {seconds:.0f} s, memory {start_mib:.0f} -> {end_mib:.0f} MiB, "
              f"app {'alive' if alive else 'DIED: ' + (session.tmp / 'app.log').read_text()[-400:]}, "
              f"mask files under the data folder: {len(masks)}")
        return 0 if alive else 1
    finally:
        session.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
