"""The dialog that maps a model's classes onto the project's: *Model > Map model classes…*.

One row per model class (background aside) with the project class it counts as: the class of the
same name by default, another one chosen by the user (ADE20K's "building" as "house"), or none.
The result is kept in the project's settings (``application.review_rules.set_project_aliases``)
and used by the prediction overlay, the review and accept.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

NONE = "(no class)"


def ask_class_aliases(parent: QWidget | None, model_names: list[str], project_names: list[str],
                      aliases: dict[str, str]) -> dict[str, str] | None:
    """{model class: project class or ""} for every model class, or None when cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Map model classes")
    dialog.resize(520, 560)
    table = QTableWidget(len(model_names) - 1, 2, dialog)
    table.setHorizontalHeaderLabels(["Model class", "counts as project class"])
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    boxes = []
    folded = {name.strip().casefold(): name for name in project_names[1:]}
    for row, name in enumerate(model_names[1:]):
        table.setItem(row, 0, QTableWidgetItem(name))
        box = QComboBox(table)
        box.addItems([NONE] + list(project_names[1:]))
        target = aliases.get(name, folded.get(name.strip().casefold(), ""))
        box.setCurrentText(target if target in project_names[1:] else NONE)
        table.setCellWidget(row, 1, box)
        boxes.append(box)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel("Each class the model predicts becomes this project class when shown, reviewed or "
                            "accepted; \"(no class)\" pixels are left as they are."))
    layout.addWidget(table)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return {name: ("" if box.currentText() == NONE else box.currentText())
            for name, box in zip(model_names[1:], boxes)}
