"""The one place errors reach the user: a clear dialog, with the traceback in the log."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("desktop.errors")

BUG_TEXT = (
    "Something went wrong inside Point-E Studio. The details are in the log panel "
    "(View → Log); please include them if you report the problem."
)


def user_message(exc: BaseException) -> tuple[str, str]:
    """(title, text) for an exception: engine errors speak for themselves, the rest is a bug."""
    from engine.errors import ModelNotInstalled, StudioError, UserInputError

    if isinstance(exc, ModelNotInstalled):
        return "Model not installed", str(exc)
    if isinstance(exc, UserInputError):
        return "Please check your input", str(exc)
    if isinstance(exc, StudioError):
        return "Could not generate", str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return "Out of memory", (
            "The model ran out of memory. Try fewer points (turn off upsampling), a smaller "
            "model, float16 on a GPU, or the CPU device."
        )
    return "Unexpected error", f"{BUG_TEXT}\n\n{type(exc).__name__}: {exc}"


class ErrorBox(QMessageBox):
    """Non-modal (open(), not exec()) so background work and tests keep running."""

    modelsRequested = Signal(list)

    def __init__(self, parent: QWidget | None, exc: BaseException, tb: str = "") -> None:
        super().__init__(parent)
        from engine.errors import ModelNotInstalled, StudioError

        title, text = user_message(exc)
        if tb and not isinstance(exc, StudioError):
            log.error("%s: %s\n%s", type(exc).__name__, exc, tb)
        else:
            log.warning("%s: %s", title, exc)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(title)
        self.setText(text)
        if tb and not isinstance(exc, StudioError):
            self.setDetailedText(tb)
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        if isinstance(exc, ModelNotInstalled):
            names = list(exc.names)
            button = self.addButton("Open Models…", QMessageBox.ButtonRole.AcceptRole)
            button.clicked.connect(lambda: self.modelsRequested.emit(names))
