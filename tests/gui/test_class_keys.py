"""Number keys beyond 9: digits typed quickly form one class number."""

from __future__ import annotations

from gui_project import make_project

from segstudio.core.classes import ClassList, save_class_file
from segstudio.gui.window.class_keys import TYPE_WINDOW_S, ClassKeys


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_digits_typed_quickly_form_a_number():
    clock = Clock()
    keys = ClassKeys(clock)
    assert keys.press(1, 15) == 1
    clock.now += 0.2
    assert keys.press(2, 15) == 12
    clock.now += TYPE_WINDOW_S + 0.1
    assert keys.press(2, 15) == 2  # too late: a new number
    clock.now += 0.1
    assert keys.press(7, 15) == 7  # 27 is no class: the last digit alone
    clock.now += 0.1
    assert keys.press(0, 15) == 0  # 70 is none either: background
    assert keys.press(9, 5) is None  # no class 9 in a 5-class project


def test_window_selects_class_twelve_with_two_keys(make_window, tmp_path):
    folder = make_project(tmp_path / "images")
    names = ["background"] + [f"c{i}" for i in range(1, 14)]
    save_class_file(folder / "classes.txt", ClassList(names))
    window = make_window(folder)
    clock = Clock()  # key presses at chosen times, whatever the load on the machine
    window.class_keys = ClassKeys(clock)
    # The actions behind the keys 1 and 2 (key delivery itself depends on window focus, which the
    # offscreen platform grants late at times).
    window.actions["class_1"].trigger()
    clock.now += 0.3
    window.actions["class_2"].trigger()
    assert window.tools.current_class == 12
    clock.now += 10  # a pause
    window.actions["class_3"].trigger()
    assert window.tools.current_class == 3
