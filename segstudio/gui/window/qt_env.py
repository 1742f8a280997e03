"""Checks made before QApplication exists, so that a missing display or missing xcb libraries give
a readable message and exit status 1 instead of Qt's abort ("could not load the Qt platform plugin").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# Libraries the xcb platform plugin of Qt 6 loads beyond plain libxcb; all four are commonly absent
# from minimal Linux installs and containers (the soname -> find_library name without "lib"/".so").
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "xcb-cursor",
    "libxcb-icccm.so.4": "xcb-icccm",
    "libxcb-keysyms.so.1": "xcb-keysyms",
    "libxkbcommon-x11.so.0": "xkbcommon-x11",
}
APT_HINT = "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0"


def missing_xcb_libraries(find=ctypes.util.find_library) -> list[str]:
    """Sonames of the xcb plugin's libraries that the dynamic loader cannot find."""
    return [soname for soname, name in XCB_LIBRARIES.items() if not find(name)]


def platform_problem(environ: dict | None = None, platform: str | None = None,
                     find=ctypes.util.find_library) -> str | None:
    """A message explaining why Qt would fail to start here, or None when it should start.

    Only Linux with no explicit ``QT_QPA_PLATFORM`` is checked: a user who picked a platform
    (offscreen, wayland, vnc) knows what they are doing.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return (
            "segstudio needs a display, but neither DISPLAY nor WAYLAND_DISPLAY is set.\n"
            "On a server, run it inside a virtual display (xvfb-run segstudio ...) or headless "
            "with QT_QPA_PLATFORM=offscreen; for scripts use segstudio-cli."
        )
    if environ.get("WAYLAND_DISPLAY") and not environ.get("DISPLAY"):
        return None  # Qt will use its wayland plugin; xcb libraries are not needed
    missing = missing_xcb_libraries(find)
    if missing:
        return (
            "Qt's xcb platform plugin needs system libraries that are missing: "
            + ", ".join(missing)
            + "\ninstall them with: "
            + APT_HINT
        )
    return None


def pyside_refcount_problem() -> str | None:
    """A message when this Python + PySide6 pair corrupts reference counts, else None.

    PySide6 6.12.0 on CPython 3.11 drops a reference to ``True`` on every ``Signal.emit()`` (its
    return value) and one to ``None`` on every void Qt call (``update()``, ``setText()``...). On
    Python < 3.12 those singletons are not immortal, so a painting session aborts with
    ``Fatal Python error: bool_dealloc`` or ``none_dealloc`` after a few thousand calls. The
    dependency pin excludes the release we know; this probe also catches one we do not, before the
    user paints anything. Needs PySide6 importable, not a QApplication.
    """
    if sys.version_info >= (3, 12):
        return None  # immortal singletons: a dropped reference is harmless there
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QObject, QTimer, Signal

    class _Probe(QObject):
        ping = Signal(int)

    probe, timer, calls = _Probe(), QTimer(), 32
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(calls):
        probe.ping.emit(1)
        timer.setInterval(1)
    after = sys.getrefcount(True), sys.getrefcount(None)
    lost = [b - a for b, a in zip(before, after)]
    for singleton, count in zip((True, None), lost):
        for _ in range(max(count, 0)):  # give back what the probe took, so exiting is clean
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(singleton))
    if max(lost) < calls // 2:
        return None
    return (
        f"PySide6 {pyside_version} on Python {sys.version_info.major}.{sys.version_info.minor} "
        "has a reference-count bug that crashes the window after a few thousand edits; install "
        "another release (python -m pip install \"PySide6!=6.12.0\") or use Python 3.12 or newer."
    )
