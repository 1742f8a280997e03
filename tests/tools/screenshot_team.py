"""Two real windows on one shared folder, side by side on a virtual X display: who is on what.

    python tests/tools/screenshot_team.py [OUT_DIR] [--display :35]   # default: docs/screenshots

Copies the bundled demo project (our own generated scenes: a screenshot that goes into the
repository must not show photos under another licence) into a temporary folder, starts two windows as two people (``SEGSTUDIO_PERSON`` alice and bob, each with
its own throw-away HOME), alice first on the first image, bob then opens the same folder: the first
image is alice's, so bob sees it read-only ("taken by alice since ...") and presses D, which passes
to the next image. After a heartbeat alice's file list shows bob's name on that image. Saves
``team-two-windows.png``. Needs Xvfb, xdotool and ImageMagick, as tests/tools/screenshot.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenshot  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "resources" / "demo"
HALF = screenshot.WIDTH // 2


def make_folder(folder: Path) -> Path:
    shutil.copytree(DEMO, folder)
    return folder


def start_window(session: screenshot.Session, folder: Path, person: str, x: int, known: set[str]) -> str:
    """Start ``python -m segstudio folder`` as ``person``; its window id, moved to ``x``."""
    home = session.tmp / person
    (home / "run").mkdir(parents=True, mode=0o700)
    env = dict(session.env, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(home / "run"), SEGSTUDIO_PERSON=person)
    log = open(session.tmp / f"{person}.log", "w")  # noqa: SIM115 - the app writes it while it runs
    app = subprocess.Popen([sys.executable, "-m", "segstudio", str(folder)], cwd=REPO, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    session.apps.append(app)
    deadline = time.time() + 60
    while time.time() < deadline:
        ids = set(session.x("search", "--onlyvisible", "--name", "segstudio", check=False).split()) - known
        if ids:
            window = sorted(ids)[-1]
            session.x("windowmove", window, str(x), "0")
            session.x("windowsize", window, str(HALF), str(screenshot.HEIGHT))
            time.sleep(2.0)
            return window
        if app.poll() is not None:
            raise RuntimeError(f"the app exited: {(session.tmp / f'{person}.log').read_text()}")
        time.sleep(0.3)
    raise RuntimeError("the window did not appear")


def main(argv: list[str]) -> int:
    display = argv[argv.index("--display") + 1] if "--display" in argv else None
    args = [a for i, a in enumerate(argv) if a != "--display" and (i == 0 or argv[i - 1] != "--display")]
    out = Path(args[0]) if args else REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    if display is not None:
        screenshot.free_display = lambda: int(display.lstrip(":"))
    session = screenshot.Session(out)
    session.apps = []
    folder = make_folder(Path(tempfile.mkdtemp(prefix="segstudio-team-")) / "shared")
    try:
        alice = start_window(session, folder, "alice", 0, set())
        bob = start_window(session, folder, "bob", HALF, {alice})
        session.x("windowfocus", "--sync", bob, check=False)
        session.window = bob
        time.sleep(1.0)
        session.shot("team-bob-sees-alices-image.png")
        session.key("d")  # D passes to the next image nobody edits
        time.sleep(12.0)  # one heartbeat (10 s): alice's file list learns who is on what
        session.x("windowfocus", "--sync", alice, check=False)
        time.sleep(1.0)
        session.shot("team-two-windows.png")
    finally:
        for app in session.apps:
            app.terminate()
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()
        session.close()
        shutil.rmtree(folder.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
