"""The file list refreshed after every (live) prediction: only what changed is touched, so a big
project's list costs milliseconds, not a stutter; order, marks, filter and selection survive."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from PySide6.QtWidgets import QListWidgetItem

from segstudio.gui.docks.file_dock import FileDock
from segstudio.gui.workers.uncertainty import apply_to_file_dock


def _project(count: int) -> SimpleNamespace:
    entries = [SimpleNamespace(image_path=Path(f"/p/img{i:04d}.jpg"), stem=f"img{i:04d}") for i in range(count)]
    return SimpleNamespace(entries=entries, is_verified=lambda e: False, is_labelled=lambda e: e.stem.endswith("1"))


def _texts(dock: FileDock) -> list[str]:
    return [dock.list.item(row).text() for row in range(dock.list.count())]


def test_new_scores_in_the_same_order_change_only_the_texts(qtbot) -> None:
    dock = FileDock()
    qtbot.addWidget(dock)
    project = _project(4)
    dock.set_project(project)
    dock.state_box.setCurrentText("Labelled")  # img0001 only
    dock.set_current(1)
    apply_to_file_dock(dock, project, None, True, {1: 0.9, 2: 0.5})
    assert dock.displayed_indices() == [1] and _texts(dock)[:2] == ["img0001.jpg   (0.90)", "img0002.jpg   (0.50)"]
    apply_to_file_dock(dock, project, None, True, {1: 0.8, 2: 0.4})  # same order, new numbers
    assert _texts(dock)[:2] == ["img0001.jpg   (0.80)", "img0002.jpg   (0.40)"]
    apply_to_file_dock(dock, project, None, True, {1: 0.1, 2: 0.4})  # the order changes
    assert _texts(dock)[:3] == ["img0002.jpg   (0.40)", "img0001.jpg   (0.10)", "img0000.jpg"]
    assert dock.displayed_indices() == [1] and dock.list.currentItem().text().startswith("img0001")
    dock.state_box.setCurrentText("All")
    apply_to_file_dock(dock, project, None, False, {1: 0.1})  # unsorted: file order, scores still shown
    assert _texts(dock) == ["img0000.jpg", "img0001.jpg   (0.10)", "img0002.jpg", "img0003.jpg"]


def test_a_refresh_of_a_big_list_touches_only_what_changed(qtbot, monkeypatch) -> None:
    """One image of 4000 rescored, as a live cycle does: one text changes, and the rows are taken
    out from the end (taken from the front, every removal shifted the rows after it: 0.5 s for this
    list, now about 0.05 s; the time is measured by tests/benchmarks/gui_speed.py)."""
    dock = FileDock()
    qtbot.addWidget(dock)
    project = _project(4000)
    dock.set_project(project)
    scores = {i: (i % 97) / 97 for i in range(0, 4000, 2)}
    apply_to_file_dock(dock, project, None, True, scores)
    texts_set: list[str] = []
    rows_taken: list[tuple[int, int]] = []  # (row taken, rows in the list then)
    real_set_text, real_take = QListWidgetItem.setText, dock.list.takeItem
    monkeypatch.setattr(QListWidgetItem, "setText", lambda item, text: (texts_set.append(text),
                                                                       real_set_text(item, text))[1])
    dock.list.takeItem = lambda row: (rows_taken.append((row, dock.list.count())), real_take(row))[1]
    apply_to_file_dock(dock, project, None, True, scores)  # nothing changed: nothing touched
    assert texts_set == [] and rows_taken == []
    scores[10] = 0.999  # it moves to the top
    apply_to_file_dock(dock, project, None, True, scores)
    assert dock.displayed_indices()[0] == 10 and _texts(dock)[0] == "img0010.jpg   (1.00)"
    assert texts_set == ["img0010.jpg   (1.00)"]
    assert len(rows_taken) == 4000 and all(row == count - 1 for row, count in rows_taken)


def test_a_reorder_keeps_the_current_row_where_it_was_seen_and_selected(qtbot) -> None:
    """Scores arriving reorder the list under the user: the current row stays selected, in view,
    at the same height in the list; its position is the one the title shows."""
    dock = FileDock()
    qtbot.addWidget(dock)
    dock.resize(250, 260)
    dock.show()
    project = _project(60)
    dock.set_project(project)
    dock.set_current(30)
    qtbot.waitUntil(lambda: dock.list.visualItemRect(dock.list.currentItem()).top() >= 0)
    before = dock.list.visualItemRect(dock.list.currentItem()).top()
    moved = []
    dock.order_changed.connect(lambda: moved.append(1))
    scores = {i: (i * 37 % 60) / 60 for i in range(60)}  # a shuffle: entry 30 moves to another row
    apply_to_file_dock(dock, project, None, True, scores)
    item = dock.list.currentItem()
    assert item.text().startswith("img0030") and item.isSelected() and moved
    assert dock.list.row(item) != 30 and dock.position_of(30) == dock.list.row(item) + 1
    rect = dock.list.visualItemRect(item)
    assert 0 <= rect.top() and rect.bottom() <= dock.list.viewport().height()
    assert abs(rect.top() - before) <= rect.height()  # where the user saw it
