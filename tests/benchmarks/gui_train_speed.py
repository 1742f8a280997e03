"""The window trains as fast as the command line: the train dock's images/s next to the CLI's.

    python tests/benchmarks/gui_train_speed.py                 # 150 steps each (~3 min on 2 cores)
    python tests/benchmarks/gui_train_speed.py --steps 300 --kind colour

One generated set (tests/model/loop_sets.py: 32 images of 160², 4 classes), the same settings
(defaults, 128 px crops, batch 8, B0 from scratch: the hub cache is an empty folder and offline),
run one after the other in the same session so a busy machine slows both alike:

* **cli**: ``segstudio-cli train`` with ``--json``; images/s from its last progress line;
* **gui**: the real window (offscreen), the project opened, the Training dock's form filled the
  way a user would and Start pressed; images/s from the dock's last progress report, and the
  longest gaps of a 16 ms GUI-thread timer while the run went on (what a user would feel).

Each process is a fresh interpreter, so neither pays for the other's imports or warm caches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "model"))
sys.path.insert(0, str(ROOT / "tests" / "gui"))  # gui_helpers: waiting is the script's, never the window's


def gui_child(images: str, labels: str, steps: int, size: int, batch: int) -> None:
    """Child process: the window trains; prints one JSON line."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui_helpers import wait_loaded
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from segstudio.gui.window.app_window import MainWindow
    from segstudio.gui.window.settings import Settings
    app = QApplication([])
    settings = Settings(QSettings(str(Path(labels).parent / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings)
    window.resize(1280, 820)
    window.show()
    assert window.open_project(Path(images), save_dir=Path(labels)) and wait_loaded(window)
    dock = window.model_features.train_dock
    dock.size_box.setValue(size)
    dock.batch_box.setValue(batch)
    dock.length_box.setValue(steps)
    dock.unit_box.setCurrentText("steps")
    dock.name_edit.setText("gui")
    reports, gaps, result = [], [], {}
    clock, timer = QElapsedTimer(), QTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer.timeout.connect(tick)
    timer.start(16)
    dock.training.progress.connect(reports.append)  # what the dock shows, recorded as it arrives
    dock.run_finished.connect(lambda r: (result.update(status=r.status, message=r.message), app.quit()))
    started = time.perf_counter()
    assert dock.start(), dock.message.text()
    app.exec()
    wall = time.perf_counter() - started
    timer.stop()
    gaps.sort()
    print(json.dumps({"images_per_s": reports[-1].images_per_s if reports else None, "wall": wall,
                      "status": result.get("status"), "longest_gap_ms": gaps[-1] if gaps else None,
                      "p99_gap_ms": gaps[int(len(gaps) * 0.99)] if gaps else None}), flush=True)
    window.close()


def run_cli(images: str, labels: str, args) -> dict:
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "segstudio.cli.main", "train", labels, "--images", images, "--steps",
           str(args.steps), "--size", str(args.size), "--batch", str(args.batch), "--out", "cli", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT, env=_env()).stdout
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    progress = [e for e in events if e["event"] == "progress"]
    return {"images_per_s": progress[-1]["images_per_s"], "wall": time.perf_counter() - started}


def run_gui(images: str, labels: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child-gui", images, labels, str(args.steps), str(args.size),
           str(args.batch)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env())
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise SystemExit(f"the window's run failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def _env() -> dict:
    """Both runs see the same empty, offline model cache (B0 from scratch) and this checkout."""
    home = Path(tempfile.gettempdir()) / "segstudio-bench-hf"
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(home), "HF_HUB_OFFLINE": "1",
            "QT_QPA_PLATFORM": "offscreen"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--kind", default="texture")
    p.add_argument("--child-gui", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_gui:
        a = args.child_gui
        gui_child(a[0], a[1], int(a[2]), int(a[3]), int(a[4]))
        return
    from loop_sets import make_set
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = make_set(Path(tmp) / args.kind, args.kind, 32, 160, seed=0)
        cli = run_cli(str(images), str(labels), args)
        gui = run_gui(str(images), str(labels), args)
    print(f"{args.steps} steps, batch {args.batch}, crop {args.size}, 32 images of 160² ({args.kind}), "
          f"{os.cpu_count()} cores")
    print(f"{'who':4} {'images/s':>9} {'whole s':>8}   GUI timer: longest / 99th pct gap")
    print(f"{'cli':4} {cli['images_per_s']:>9.1f} {cli['wall']:>8.1f}")
    print(f"{'gui':4} {gui['images_per_s']:>9.1f} {gui['wall']:>8.1f}   {gui['longest_gap_ms']} ms / "
          f"{gui['p99_gap_ms']} ms   ({gui['status']}; images/s ratio {gui['images_per_s'] / cli['images_per_s']:.2f})")


if __name__ == "__main__":
    main()
