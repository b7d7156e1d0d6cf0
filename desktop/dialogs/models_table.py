"""The Models window's table columns and its one-line status label (elided, never wrapped)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QWidget,
)

COLUMNS = ("Model", "Purpose", "Size", "Memory", "Licence", "Status", "Progress")
NAME_COL, PURPOSE_COL, SIZE_COL, MEMORY_COL, LICENCE_COL, STATUS_COL, PROGRESS_COL = range(7)
#: Widths (pixels) of the columns that do not stretch; Purpose takes what is left.
WIDTHS = {
    NAME_COL: 125,
    SIZE_COL: 75,
    MEMORY_COL: 85,
    LICENCE_COL: 150,
    STATUS_COL: 250,
    PROGRESS_COL: 80,
}
COLUMN_TIPS = {
    SIZE_COL: "How much disk space the model takes",
    MEMORY_COL: "Rough memory (RAM or graphics memory) needed to run it",
    LICENCE_COL: "Licence of the model's weights",
}


def human_size(n: float) -> str:
    from engine.checkpoints.download import human_size as engine_human_size

    return engine_human_size(n)


def setup_table(table: QTableWidget) -> None:
    """Fixed widths for the short columns, Purpose stretches; long cells are elided with the
    full text in their tooltip, so the table reads well at the dialog's default size."""
    table.setColumnCount(len(COLUMNS))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setHorizontalHeaderLabels(COLUMNS)
    for col, tip in COLUMN_TIPS.items():
        table.horizontalHeaderItem(col).setToolTip(tip)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    header = table.horizontalHeader()
    header.setMinimumSectionSize(60)
    for col, width in WIDTHS.items():
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        table.setColumnWidth(col, width)
    header.setSectionResizeMode(PURPOSE_COL, QHeaderView.ResizeMode.Stretch)


def row_cells(entry, size: int) -> list[tuple[str, str]]:
    """(text, tooltip) for the Model..Licence columns of one catalogue entry."""
    params = f"{entry.params / 1e6:,.1f} million parameters" if entry.params else ""
    size_text = human_size(size) if size else "?"
    return [
        (entry.name, f"{entry.name}\n{params}".strip()),
        (entry.purpose, entry.purpose),
        (size_text, f"{size_text} on disk"),
        (entry.vram_hint, f"Needs about {entry.vram_hint} of memory to run"),
        (entry.licence, f"Licence: {entry.licence}"),
    ]


class ElidedLabel(QLabel):
    """One line that never grows: long text ends in "…" and the whole text is the tooltip.

    text() returns the full text, so callers and tests see what was set."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if self._elided(text) != text else "")
        super().setText(self._elided(text))

    def text(self) -> str:
        return self._full

    def _elided(self, text: str) -> str:
        one_line = " · ".join(part for part in text.splitlines() if part.strip())
        width = max(self.width(), 40)
        return self.fontMetrics().elidedText(one_line, Qt.TextElideMode.ElideRight, width)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        super().setText(self._elided(self._full))
