"""Log panel: a read-only text view fed by a logging handler that is safe from any thread."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPlainTextEdit, QWidget

MAX_LINES = 2000


class _Bridge(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """Formats records and hands them to the GUI thread through a queued signal."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.bridge = _Bridge()
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the panel is gone (app closing)
            self.bridge.line.emit(self.format(record))


class LogPanel(QPlainTextEdit):
    """Attaches a handler to the root logger while it lives; detach() on close."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setObjectName("logPanel")
        self.handler = QtLogHandler()
        self.handler.bridge.line.connect(self.appendPlainText)
        root = logging.getLogger()
        root.addHandler(self.handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self.handler)
