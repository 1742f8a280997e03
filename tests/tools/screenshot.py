"""Screenshots of the real app on a virtual X display (Xvfb), driven with xdotool.

Starts Xvfb on a free display, runs ``python -m segstudio`` with a throw-away HOME and XDG folders
(clean QSettings, the demo copied into a temporary data folder), paints with the mouse like a user
(class keys, brush stroke, polygon), and saves PNGs of the window:

    python tests/tools/screenshot.py [OUT_DIR]        # default: docs/screenshots

Needs: Xvfb, xdotool, ImageMagick (import, convert) and the xcb libraries (see segstudio.gui.window.qt_env).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1360, 860
MAX_BYTES = 300_000


def free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number")


def run(*args: str, env=None, check=True) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


class Session:
    """The Xvfb display, the app process and xdotool helpers."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.tmp = Path(tempfile.mkdtemp(prefix="segstudio-shots-"))
        self.display = f":{free_display()}"
        self.env = dict(os.environ, DISPLAY=self.display, HOME=str(self.tmp),
                        XDG_CONFIG_HOME=str(self.tmp / "config"), XDG_DATA_HOME=str(self.tmp / "data"),
                        XDG_RUNTIME_DIR=str(self.tmp / "run"))
        self.env.pop("QT_QPA_PLATFORM", None)
        self.env.pop("WAYLAND_DISPLAY", None)
        (self.tmp / "run").mkdir(mode=0o700)
        self.xvfb = subprocess.Popen(["Xvfb", self.display, "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.app = None
        self.window = None
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{self.display[1:]}").exists():
                break
            time.sleep(0.1)

    def start_app(self, *args: str) -> None:
        self.log = open(self.tmp / "app.log", "w")
        self.app = subprocess.Popen([sys.executable, "-m", "segstudio", *args], cwd=REPO, env=self.env,
                                    stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            ids = run("xdotool", "search", "--onlyvisible", "--name", "segstudio", env=self.env, check=False).split()
            if ids:
                self.window = ids[-1]
                break
            if self.app.poll() is not None:
                raise RuntimeError(f"the app exited: {(self.tmp / 'app.log').read_text()}")
            time.sleep(0.3)
        else:
            raise RuntimeError("the window did not appear")
        self.x("windowmove", self.window, "0", "0")
        self.x("windowsize", self.window, str(WIDTH), str(HEIGHT))
        self.x("windowfocus", "--sync", self.window, check=False)
        time.sleep(1.5)

    def x(self, *args: str, check=True) -> str:
        return run("xdotool", *args, env=self.env, check=check)

    def key(self, *keys: str, pause: float = 0.25) -> None:
        for key in keys:
            self.x("key", "--window", self.window, key)
            time.sleep(pause)

    def stroke(self, points, button: str = "1") -> None:
        (x0, y0), *rest = points
        self.x("mousemove", str(x0), str(y0))
        time.sleep(0.1)
        self.x("mousedown", button)
        for x, y in rest:
            self.x("mousemove", str(x), str(y))
            time.sleep(0.03)
        self.x("mouseup", button)
        time.sleep(0.3)

    def click(self, x: int, y: int) -> None:
        self.x("mousemove", str(x), str(y), "click", "1")
        time.sleep(0.15)

    def shot(self, name: str) -> Path:
        time.sleep(0.6)
        path = self.out / name
        run("import", "-window", "root", "-crop", f"{WIDTH}x{HEIGHT}+0+0", "+repage", str(path), env=self.env)
        if path.stat().st_size > MAX_BYTES:  # palette PNG: a quarter of the size, hardly visible
            run("convert", str(path), "-dither", "None", "-colors", "255", f"PNG8:{path}")
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
        return path

    def close(self) -> None:
        if self.app is not None and self.app.poll() is None:
            self.key("ctrl+q")
            try:
                self.app.wait(10)
            except subprocess.TimeoutExpired:
                self.app.kill()
        self.xvfb.terminate()
        self.xvfb.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for tool in ("Xvfb", "xdotool", "import", "convert"):
        if shutil.which(tool) is None:
            print(f"missing {tool}: apt-get install xvfb xdotool imagemagick", file=sys.stderr)
            return 1
    session = Session(out)
    try:
        session.start_app()
        session.shot("01-demo-labelled.png")
        # The labelling loop, keyboard first: next unlabelled image, class by number, paint, polygon.
        session.key("d", "d", "d")
        session.key("2")  # grass
        session.key("bracketright", "bracketright", "bracketright", "bracketright", "bracketright",
                    "bracketright", "bracketright", "bracketright", pause=0.1)
        session.stroke([(60 + 12 * i, 700 - (i % 5) * 4) for i in range(45)])
        session.stroke([(80 + 12 * i, 760 + (i % 3) * 3) for i in range(40)])
        session.key("r", "1")  # rectangle, house
        session.stroke([(170, 440), (250, 480), (310, 515)])
        session.key("p", "7")  # polygon, sun
        for point in [(345, 120), (385, 92), (425, 125), (410, 168), (360, 165)]:
            session.click(*point)
        session.x("mousemove", "352", "150")
        session.shot("02-painting-polygon.png")
        session.key("Return")
        session.key("b")
        session.x("mousemove", "700", "420")
        session.shot("03-painted-brush-cursor.png")
        session.key("F1", pause=1.0)
        session.shot("04-keyboard-shortcuts.png")
        session.key("Escape")
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
