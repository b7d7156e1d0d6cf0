"""Prompt editor with a menu of recent prompts (Alt+Up/Down walks through them)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


class _Editor(QPlainTextEdit):
    historyStep = Signal(int)  # -1 older, +1 newer

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.modifiers() == Qt.KeyboardModifier.AltModifier and event.key() in (
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
        ):
            self.historyStep.emit(-1 if event.key() == Qt.Key.Key_Up else 1)
            return
        super().keyPressEvent(event)


class PromptBox(QWidget):
    """A few lines of text; Ctrl+Enter is a window shortcut, so it is not swallowed here."""

    textChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = _Editor(self)
        self.editor.setObjectName("promptEditor")
        self.editor.setPlaceholderText(
            'Describe an object, e.g. "a tall green cylinder" or "a yellow torus"'
        )
        self.editor.setToolTip(
            "Describe one object in a few plain words: its shape, colour and material. Short "
            "prompts work best; change the wording (or the seed) when the shape is not right. "
            "Ctrl+Enter generates."
        )
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(72)
        self.editor.textChanged.connect(self.textChanged)
        self.editor.historyStep.connect(self._walk)
        self.recent = QToolButton(self)
        self.recent.setText("Recent")
        self.recent.setToolTip("Recent prompts (Alt+Up / Alt+Down in the box)")
        self.recent.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self.recent)
        self.recent.setMenu(self._menu)
        self._history: list[str] = []
        self._pos = -1
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.recent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        layout.addLayout(row)
        self.set_history([])

    def text(self) -> str:
        return self.editor.toPlainText().strip()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.editor.setTextCursor(cursor)

    def history(self) -> list[str]:
        return list(self._history)

    def set_history(self, prompts: list[str]) -> None:
        self._history = list(prompts)
        self._pos = -1
        self._menu.clear()
        for prompt in self._history:
            label = prompt if len(prompt) <= 60 else prompt[:57] + "…"
            action = self._menu.addAction(label)
            action.triggered.connect(lambda _=False, p=prompt: self.set_text(p))
        self.recent.setEnabled(bool(self._history))

    def _walk(self, direction: int) -> None:
        if not self._history:
            return
        self._pos = max(-1, min(len(self._history) - 1, self._pos - direction))
        self.set_text("" if self._pos < 0 else self._history[self._pos])

    def setFocus(self) -> None:
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
