"""The training dock's question after a run that scored lower than the active model: keep the
better one, or use the new one (the rule and the answer are the training controller's)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from segstudio.application.training.active_choice import ActiveChoice


class ActiveQuestion(QFrame):
    """Hidden until :meth:`ask`; a click answers through ``answer`` and says what it did."""

    answered = Signal(str)  # what the window should say now

    def __init__(self, answer: Callable[[bool], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("active_question")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._answer = answer
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        self.keep_button = QPushButton("Keep")
        self.use_button = QPushButton("Use the new one")
        for button in (self.keep_button, self.use_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.keep_button.clicked.connect(lambda: self._clicked(False))
        self.use_button.clicked.connect(lambda: self._clicked(True))
        self.setVisible(False)

    def ask(self, choice: ActiveChoice | None) -> None:
        """Show ``choice``'s question (None: no question, hide)."""
        if choice is None:
            self.setVisible(False)
            return
        self.label.setText(choice.question)
        self.keep_button.setText(choice.keep_text)
        self.keep_button.setDefault(True)  # the better one, unless the user says otherwise
        self.use_button.setText(choice.use_text)
        self.setVisible(True)

    def _clicked(self, use_new: bool) -> None:
        self.setVisible(False)
        self.answered.emit(self._answer(use_new))
