"""Every question and message the window shows, as plain functions.

Keeping them here (called as ``dialogs.confirm(...)``) gives one place to change their wording and
lets tests replace them with monkeypatch instead of leaving a modal box blocking the run.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import segstudio
from segstudio.core.mask_repair import REPAIR_TEXT

# Canvas keys that are not QActions (they depend on the tool in use).
CANVAS_KEYS = [
    ("Alt+click", "Pick the class under the cursor (eyedropper)"),
    ("Shift+click", "Brush: straight line from the last point"),
    ("Ctrl+wheel", "Zoom around the cursor"),
    ("Middle drag / Space+drag", "Pan"),
    ("Enter / double-click", "Polygon: close and fill"),
    ("Backspace", "Polygon: remove the last vertex"),
    ("Esc", "Polygon / rectangle: cancel"),
    ("1 then 2 (quickly)", "Select class 12: digits typed within a moment form one number"),
    ("GrabCut: drag / Shift+drag", "After the box: mark object / background, GrabCut runs again"),
    ("Wand: drag sideways", "Raise or lower the colour tolerance while the button is down"),
    ("Enter / Esc", "GrabCut, wand, clean-up: accept the proposal / drop it"),
    ("Shift+Enter", "GrabCut, wand, click to segment: accept the proposal only into unpainted pixels"),
]


def error(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def info(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_unsaved(parent: QWidget | None, name: str) -> str:
    """'save', 'discard' or 'cancel' for an image with unsaved changes (autosave off)."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Unsaved changes", f"Save the changes to {name}?", buttons.Save | buttons.Discard | buttons.Cancel
    )
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")


def ask_restore(parent: QWidget | None, name: str) -> bool:
    return confirm(
        parent,
        "Restore unsaved work?",
        f"{name} has edits that were not saved when segstudio last stopped.\n"
        "Restore them? (No discards the recovery copy.)",
    )


def ask_choice(parent: QWidget | None, title: str, text: str, choices: list[tuple[str, str]]) -> str | None:
    """One button per (key, label) plus Cancel; returns the key pressed, None for Cancel/Esc."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, parent)
    buttons = {box.addButton(label, QMessageBox.ButtonRole.AcceptRole): key for key, label in choices}
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return buttons.get(box.clickedButton())


def ask_mask_repair(parent: QWidget | None, name: str, problem: str, repairs: tuple[str, ...]) -> str | None:
    """Which repair to apply to a mask that did not load (a key of ``core.mask_repair``), or None:
    the image then stays read-only for its mask, and the file is not touched."""
    text = (f"The mask of {name} cannot be used as it is:\n{problem}\n\n"
            "Nothing is written over it until you choose a repair. Cancel keeps the image read-only.")
    return ask_choice(parent, "Mask not loaded", text, [(key, REPAIR_TEXT[key]) for key in repairs])


def ask_class_mismatch(parent: QWidget | None, problem: str) -> str | None:
    """'remap' (renumber the masks to the new list by name) or 'recorded' (keep the list the masks
    were written with, rewriting classes.txt); None keeps the recorded list for this session only."""
    text = (f"{problem}\n\nThe masks of this project were written with the recorded list. "
            "Remapping renumbers every mask so each pixel keeps its class name (classes no longer "
            "listed become ignore, 255).")
    return ask_choice(parent, "Class list changed", text, [
        ("remap", "Remap the masks to the new list"),
        ("recorded", "Use the recorded list (rewrite classes.txt)"),
    ])


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """The text typed, as typed (None when cancelled or blank): the caller validates it, so a stray
    space or control character is refused with a message rather than silently changed."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok and value.strip() else None


def ask_colour(parent: QWidget | None, colour: tuple[int, int, int], title: str) -> tuple[int, int, int] | None:
    chosen = QColorDialog.getColor(QColor(*colour), parent, title)
    return (chosen.red(), chosen.green(), chosen.blue()) if chosen.isValid() else None


def ask_folder(parent: QWidget | None, title: str, start: str = "") -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, title, start)
    return folder or None


def ask_class_file(parent: QWidget | None, start: str = "") -> str | None:
    return ask_file(parent, "Open class file", start, "Class files (*.txt);;All files (*)")


def ask_file(parent: QWidget | None, title: str, start: str = "", filters: str = "All files (*)") -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
    return path or None


def ask_number(parent: QWidget | None, title: str, label: str, value: int, low: int, high: int) -> int | None:
    number, ok = QInputDialog.getInt(parent, title, label, value, low, high)
    return number if ok else None


def ask_export(parent: QWidget | None, title: str, can_rle: bool) -> tuple[float, bool] | None:
    """(validation share, RLE) for an export, or None when cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    form = QFormLayout(dialog)
    share = QDoubleSpinBox(dialog)
    share.setRange(0.0, 0.9)
    share.setSingleStep(0.05)
    share.setToolTip("Share of the images that go to the validation split (0: all in train)")
    form.addRow("Validation share", share)
    rle = QCheckBox("Masks as RLE (exact) instead of polygons", dialog)
    if can_rle:
        form.addRow(rle)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return share.value(), rle.isChecked()


def about(parent: QWidget | None) -> None:
    QMessageBox.about(
        parent,
        "About segstudio",
        f"<b>segstudio {segstudio.__version__}</b><br>"
        "Paint semantic-segmentation masks, fine-tune SegFormer on them, review predictions.<br>"
        "Masks are palette PNGs with labelImg-compatible VOC XML next to them.",
    )


class ShortcutsDialog(QDialog):
    """A table of every action with its shortcut, plus the canvas gestures."""

    def __init__(self, actions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(520, 600)
        rows = [
            (
                ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()),
                action.text().replace("&", ""),
            )
            for action in actions
            if action.shortcuts()
        ] + CANVAS_KEYS
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, text) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The labelling loop: 0–9 choose a class, paint, D next image."))
        layout.addWidget(table)
        layout.addWidget(buttons, alignment=Qt.AlignmentFlag.AlignRight)


def show_shortcuts(parent: QWidget | None, actions) -> None:
    ShortcutsDialog(actions, parent).exec()
