"""The training form's plan, shown before the click on Train: what the run will do on this machine
and how long it will take; on a CPU, a warning when it is long and one click to a time budget.

The plan is the training controller's (application/training/plan_preview.py, run_plan.py): this
view only shows it and turns the offer into a signal the form answers.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from segstudio.application.training.run_plan import FormPlan


class TrainPlanView(QFrame):
    """The plan text, and under it the warning with its offer (hidden when there is none)."""

    use_budget = Signal(int)  # minutes: the user took the offered budget

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("train_plan")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #9a5b00;")
        self.offer = QPushButton("")
        self.offer.setToolTip("Switch the length to a time budget: crop, batch and steps are chosen to end on time")
        for widget in (self.text, self.warning, self.offer):
            layout.addWidget(widget)
        self._minutes = 0
        self.offer.clicked.connect(lambda: self.use_budget.emit(self._minutes))
        self.show_plan(FormPlan(""))

    def show_plan(self, plan: FormPlan) -> None:
        self.text.setText(plan.refusal or plan.text)
        self.text.setStyleSheet("color: #b00020;" if plan.refusal else "")
        self.warning.setText(plan.warning)
        self.warning.setVisible(bool(plan.warning))
        self._minutes = int(plan.offer_minutes or 0)
        self.offer.setText(f"Use a {self._minutes}-minute time budget")
        self.offer.setVisible(bool(self._minutes))
